"""Fixtures for the tests in this folder (defined in fixtures.py, which other test folders can import)."""

from .fixtures import binance, binance_server, purpleflea, trading, trading_anon, trading_api  # noqa: F401 - fixtures

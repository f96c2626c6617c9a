from .fixtures import binance, binance_server, purpleflea  # noqa: F401 - fixtures for the tests in this folder

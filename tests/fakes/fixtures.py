"""Pytest fixtures and the ccxt wiring for the fakes.

Tests under tests/fakes get these through conftest.py; any other test module imports what it
needs: ``from fakes.fixtures import binance_server, make_ccxt_binance`` (pytest puts tests/ on
sys.path, so the package is ``fakes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from .binance_spot import API_KEY, SECRET, BinanceSpotFake
from .purpleflea import PurpleFleaServers, running_purpleflea
from .purpleflea_trading import TRADING_KEY


def make_ccxt_binance(url: str, api_key: str = API_KEY, secret: str = SECRET, **config: Any):
    """A real ``ccxt.binance`` whose every ``urls["api"]`` entry points at ``url``, path kept.

    Spot only (``options.fetchMarkets.types = ["spot"]``) and no currencies call, so
    ``load_markets`` asks for /api/v3/exchangeInfo (plus, with keys, the two margin-pair lists the
    fake answers empty). ``config`` is merged into ccxt's config, e.g. ``enableRateLimit=False``
    or ``timeout=500`` (ms); ``options`` given there are merged into the spot options.
    """
    import ccxt

    options = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, **config.pop("options", {})}
    exchange = ccxt.binance({"apiKey": api_key, "secret": secret, "options": options, **config})
    exchange.urls["api"] = {name: url.rstrip("/") + urlsplit(original).path
                            for name, original in exchange.urls["api"].items()}
    return exchange


@pytest.fixture
def binance_server() -> Iterator[BinanceSpotFake]:
    """A fresh fake Binance spot server on 127.0.0.1 (default markets and balances)."""
    with BinanceSpotFake() as server:
        yield server


@pytest.fixture
def binance(binance_server: BinanceSpotFake):
    """Real ccxt pointed at ``binance_server``, its limiter off so tests run fast."""
    return make_ccxt_binance(binance_server.url, enableRateLimit=False)


@pytest.fixture
def purpleflea() -> Iterator[PurpleFleaServers]:
    """Both Purple Flea fakes on 127.0.0.1 (``.trading.url``, ``.wallet.url``) sharing ``.clock``."""
    with running_purpleflea() as servers:
        yield servers


@pytest.fixture
def trading(purpleflea):
    """The Purple Flea trading fake of ``purpleflea``."""
    return purpleflea.trading


@pytest.fixture
def trading_anon(trading):
    """An httpx client on the trading fake without a key."""
    import httpx
    with httpx.Client(base_url=trading.url, timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def trading_api(trading):
    """An httpx client on the trading fake with the default account's key."""
    import httpx
    headers = {"Authorization": f"Bearer {TRADING_KEY}"}
    with httpx.Client(base_url=trading.url, headers=headers, timeout=5, verify=False) as client:
        yield client

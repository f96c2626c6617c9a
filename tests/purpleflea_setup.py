"""Helpers that build the Purple Flea trading venue on the fakes of ``fakes.purpleflea``."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from fakes.purpleflea_trading import TRADING_KEY
from trimtab.core.plan import Side
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_trading import PurpleFleaTradingVenue


def trading_venue(trading, tmp_path: Path, *, key: str = TRADING_KEY) -> PurpleFleaTradingVenue:
    api = PurpleFleaClient(trading.url, SecretStr(key), timeout=3, backoff=0.01)
    hyperliquid = PurpleFleaClient(trading.url, None, timeout=3, backoff=0.01)
    return PurpleFleaTradingVenue(api, hyperliquid, Ledger(tmp_path / "purpleflea.db"), assets=["BTC", "ETH", "SOL"])


def seed_positions(venue: PurpleFleaTradingVenue) -> None:
    """Longs worth about 4,000 USDC of BTC and 2,000 of ETH, out of the fake's 10,000 USDC."""
    venue.place_order("BTC", Side.BUY, quote_amount=4000.0, client_order_id="seed-btc")
    venue.place_order("ETH", Side.BUY, quote_amount=2000.0, client_order_id="seed-eth")

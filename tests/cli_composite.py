"""A paper portfolio across three venues for the subprocess tests: a wallet on three chains, a perps
account that can neither send nor receive (as Purple Flea trading's Hyperliquid margin), and an
exchange that trades BTC only, so the buy of BTC needs quote moved from the wallet to the exchange."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

from trimtab.core.assets import Targets
from trimtab.paper_setup import init_paper_venues

PRICES = {"BTC": 65000.0, "ETH": 2000.0, "SOL": 150.0}
TARGETS = Targets.of({"BTC": 0.5, "ETH": 0.2, "SOL": 0.2, "USDC": 0.1})
VALUE_BEFORE = 11400.0
NAMES = ("wallet", "perps", "exchange")


def venues(order_latency: float = 0.0) -> list[dict]:
    common = {"prices": PRICES, "order_latency": order_latency, "move_minutes": (3.0, 3.5),
              "bridge_minutes": (3.0, 3.5)}
    return [
        {**common, "name": "wallet", "holdings": {"ETH": {"ethereum": 3.0}, "SOL": {"solana": 20.0},
                                                 "USDC": {"base": 500.0}},
         "markets": {"ETH": "ethereum", "SOL": "solana"}, "move_fee": 0.001},
        {**common, "name": "perps", "holdings": {"BTC": {"hyperliquid": 0.02}, "USDC": {"hyperliquid": 500.0}},
         "markets": {"BTC": "hyperliquid"}, "fee": 0.00055, "can_send": False, "can_receive": False},
        {**common, "name": "exchange", "holdings": {"USDC": {"spot": 100.0}}, "markets": {"BTC": "spot"},
         "fee": 0.001, "move_fee": 0.0005},
    ]


def make_portfolio(directory: Path, *, order_latency: float = 0.0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    init_paper_venues(directory / "trimtab.toml", TARGETS, venues(order_latency), clock_speed=900.0)
    return directory


def rows(directory: Path, name: str, query: str) -> list[tuple]:
    with sqlite3.connect(directory / f"paper-{name}.db", timeout=5) as db:
        return db.execute(query).fetchall()


def balances(directory: Path) -> dict[tuple[str, str, str], float]:
    """``{(venue, asset, chain): quantity}`` read from each account file."""
    return {(name, a, c): q for name in NAMES for a, c, q in rows(directory, name, "SELECT asset, chain, quantity FROM balances")
            if q > 1e-12}


def costs(directory: Path) -> float:
    """Every fee and slippage the venues charged, from their own ledgers (orders, bridges, moves)."""
    total = 0.0
    for name in NAMES:
        total += math.fsum(fee + quantity * abs(price - mid) for fee, quantity, price, mid in
                           rows(directory, name, "SELECT fee, quantity, price, mid_price FROM orders"))
        total += math.fsum(fee * PRICES.get(asset, 1.0) for asset, fee in
                           rows(directory, name, "SELECT asset, fee FROM transfers UNION ALL SELECT asset, fee FROM sends"))
    return total


def value(held: dict[tuple[str, str, str], float]) -> float:
    return math.fsum(q * PRICES.get(asset, 1.0) for (_, asset, _), q in held.items())

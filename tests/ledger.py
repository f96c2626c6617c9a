"""The paper venue's own ledger, read from its SQLite file (never through trimtab's account code):
what the account holds, what is still travelling, and what every fill and bridge cost."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path


def venue_value(account: Path) -> float:
    """Balances plus bridges not yet credited (at what will arrive), at the venue's prices."""
    with sqlite3.connect(account, timeout=5) as db:
        prices = dict(db.execute("SELECT asset, price FROM prices"))
        held = db.execute("SELECT asset, quantity FROM balances").fetchall()
        travelling = db.execute("SELECT asset, amount - fee FROM transfers WHERE settled = 0").fetchall()
    return math.fsum(q * prices.get(a, 1.0) for a, q in held + travelling)


def venue_costs(account: Path) -> float:
    """Every cost the venue charged, in the quote: order fees, slippage against the mid price, and
    bridge fees at the asset's price."""
    with sqlite3.connect(account, timeout=5) as db:
        prices = dict(db.execute("SELECT asset, price FROM prices"))
        orders = db.execute("SELECT fee, quantity * ABS(price - mid_price) FROM orders").fetchall()
        bridges = db.execute("SELECT asset, fee FROM transfers").fetchall()
    return math.fsum(fee + slip for fee, slip in orders) + math.fsum(fee * prices.get(a, 1.0) for a, fee in bridges)


def assert_value_conserved(account: Path, start_value: float, costs_before: float = 0.0) -> None:
    """The venue's own balances add up to ``start_value`` minus what the venue charged since, to the
    cent (``costs_before``: what it had charged when ``start_value`` was read, e.g. at a price change)."""
    value, costs = venue_value(account), venue_costs(account) - costs_before
    assert abs(start_value - costs - value) < 0.005, (start_value, costs, value)

"""The soak's books: the owner's deposits and withdrawals, and the audit of the paper venue's ledger.

The paper account (one SQLite file) is the truth: its ``orders`` and ``transfers`` tables and its
``balances``. The owner's own moves are written to ``soak_owner_changes`` in the same file, in the
same transaction as the balance they change. ``audit`` replays that ledger from the starting
holdings at the history's prices and checks

    starting value + market moves + owner's flows - fees == final value (to the cent),

where the final value is read from the ``balances`` table (plus bridges still in flight), and it
compares the venue's orders with the journal's legs (duplicates, orphans, refusals that were fills,
runs that completed past a refused leg).
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trimtab.venues import paper_store
from trimtab.venues.faulty import REFUND_PREFIX
from trimtab.venues.paper_history import HistoryPrices

OWNER_TABLE = """CREATE TABLE IF NOT EXISTS soak_owner_changes (at REAL NOT NULL, asset TEXT NOT NULL,
    chain TEXT NOT NULL, delta REAL NOT NULL)"""
CENT = 0.005


def paper_owner(path: Path, home: dict[str, str]):  # type: ignore[no-untyped-def]
    """The account's owner: ``owner(rng)`` takes 5-20% of one holding out where it trades, or puts as
    much in on the asset's ``home`` chain (so that later runs must bridge it), and records it."""
    db = paper_store.connect(path)
    db.execute(OWNER_TABLE)

    def owner(rng: random.Random) -> str | None:
        with paper_store.write(db):
            rows = db.execute("SELECT asset, chain, quantity FROM balances WHERE quantity > 0 "
                              "ORDER BY asset, chain").fetchall()
            rows = [r for r in rows if home.get(r[0]) != r[1]] or rows
            if not rows:
                return None
            asset, chain, quantity = rng.choice(rows)
            delta = -quantity * rng.uniform(0.05, 0.20)
            if rng.random() < 0.5:
                delta, chain = -delta, home.get(asset, chain)
            (at,) = db.execute("SELECT sim_anchor FROM clock").fetchone()  # the clock is frozen (speed 0)
            db.execute("INSERT INTO balances VALUES (?, ?, ?) ON CONFLICT (asset, chain) DO UPDATE "
                       "SET quantity = quantity + ?", (asset, chain, delta, delta))
            db.execute("INSERT INTO soak_owner_changes VALUES (?, ?, ?, ?)", (at, asset, chain, delta))
        return f"{'deposit' if delta > 0 else 'withdrawal'} of {abs(delta):.8g} {asset} on {chain}"

    return owner


def _rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path, timeout=60) as db:
        db.execute(OWNER_TABLE)
        return db.execute(query).fetchall()


def audit(paper: Path, journal: Path, start_holdings: dict[str, float], start: datetime, quote: str = "USDC") -> dict[str, Any]:
    """Reconcile the paper ledger (see the module docstring) and compare it with the journal."""
    history = HistoryPrices.load()
    cache: dict[float, dict[str, float]] = {}

    def price(at: float) -> dict[str, float]:
        if at not in cache:
            moment = datetime.fromtimestamp(at, tz=UTC)
            assets = [a for a in held if a != quote]
            cache[at] = {a: q.price for a, q in history.at(moment, assets).items()} | {quote: 1.0}
        return cache[at]

    orders = _rows(paper, "SELECT client_order_id, asset, side, quantity, price, mid_price, fee, at FROM orders")
    transfers = _rows(paper, "SELECT client_id, asset, amount, fee, started_at, settled FROM transfers")
    owner = _rows(paper, "SELECT at, asset, delta FROM soak_owner_changes")
    (end,) = _rows(paper, "SELECT sim_anchor FROM clock")[0]
    events = ([(at, 0, ("order", row)) for *row, at in orders] + [(t[4], 1, ("transfer", t)) for t in transfers]
              + [(at, 2, ("owner", (asset, delta))) for at, asset, delta in owner])
    events.sort(key=lambda e: (e[0], e[1]))

    held = defaultdict(float, start_holdings)  # every asset, consolidated, bridges in flight included
    for _, _, (kind, row) in events:
        held.setdefault(row[1] if kind != "owner" else row[0], 0.0)
    t0 = start.timestamp()
    start_value = math.fsum(q * price(t0)[a] for a, q in held.items())
    moves, flows, trading_fees, slippage, bridge_fees = [], [], [], [], []
    previous = t0
    for at, _, (kind, row) in events:
        before, now = price(previous), price(at)
        moves.extend(q * (now[a] - before[a]) for a, q in held.items())
        previous = at
        if kind == "order":
            _, asset, side, quantity, fill, mid, fee = row
            value = quantity * fill
            held[asset] += quantity if side == "buy" else -quantity
            held[quote] += -(value + fee) if side == "buy" else value - fee
            trading_fees.append(fee)
            slippage.append(quantity * abs(fill - mid))
            moves.append(quantity * (now[asset] - mid) * (1 if side == "buy" else -1))  # a fill off the bar's price
        elif kind == "transfer":
            _, asset, amount, fee, _, _ = row
            held[asset] -= fee
            bridge_fees.append(fee * now[asset])
        else:
            asset, delta = row
            held[asset] += delta
            flows.append(delta * now[asset])
    final_prices = price(end)
    moves.extend(q * (final_prices[a] - price(previous)[a]) for a, q in held.items())

    actual = defaultdict(float)
    for asset, quantity in _rows(paper, "SELECT asset, quantity FROM balances"):
        actual[asset] += quantity
    for _, asset, amount, fee, _, settled in transfers:
        if not settled:  # in flight (or due and not yet settled): it belongs to the portfolio
            actual[asset] += amount - fee
    final_value = math.fsum(q * final_prices.get(a, 0.0) for a, q in actual.items())
    fees = math.fsum(trading_fees) + math.fsum(slippage) + math.fsum(bridge_fees)
    expected = start_value + math.fsum(moves) + math.fsum(flows) - fees
    return {
        "start_value": start_value, "market_moves": math.fsum(moves), "owner_flows": math.fsum(flows),
        "fees": fees, "trading_fees": math.fsum(trading_fees), "slippage": math.fsum(slippage),
        "bridge_fees": math.fsum(bridge_fees), "final_value": final_value, "expected_final_value": expected,
        "difference": final_value - expected, "reconciled": abs(final_value - expected) < CENT,
        "quantities_match": all(math.isclose(held[a], actual[a], rel_tol=1e-9, abs_tol=1e-9) for a in held | actual),
        "owner_changes": len(owner), "venue_orders": len(orders),
        "venue_transfers": sum(1 for t in transfers if not t[0].startswith(REFUND_PREFIX)),
        "refunds": sum(1 for t in transfers if t[0].startswith(REFUND_PREFIX)),
        "in_flight_at_end": sum(1 for t in transfers if not t[5]),
        **compare_with_journal(paper, journal, orders, transfers),
    }


def compare_with_journal(paper: Path, journal: Path, orders: list[tuple], transfers: list[tuple]) -> dict[str, Any]:
    """Duplicates and mismatches between the venue's writes and the journal's legs."""
    legs = {cid: (kind, state, quantity) for cid, kind, state, quantity in
            _journal_rows(journal, "SELECT client_id, kind, state, filled_quantity FROM legs")}
    per_id = _rows(paper, "SELECT client_order_id, COUNT(*) FROM orders GROUP BY client_order_id HAVING COUNT(*) > 1")
    per_id += _rows(paper, "SELECT client_id, COUNT(*) FROM transfers GROUP BY client_id HAVING COUNT(*) > 1")
    writes = [(o[0], o[3]) for o in orders] + [(t[0], t[2]) for t in transfers if not t[0].startswith(REFUND_PREFIX)]
    orphans = [cid for cid, _ in writes if cid not in legs]
    refused_but_done = [cid for cid, _ in writes if cid in legs and legs[cid][1] in ("rejected", "cancelled", "planned")]
    wrong_quantity = [cid for cid, quantity in writes if cid in legs and legs[cid][1] in ("filled", "in_transit", "arrived")
                      and not math.isclose(legs[cid][2] or 0.0, quantity, rel_tol=1e-12)]
    written = {cid for cid, _ in writes}
    lost = [cid for cid, (_, state, _) in legs.items() if state in ("filled", "in_transit", "arrived") and cid not in written]
    runs = dict(_journal_rows(journal, "SELECT state, COUNT(*) FROM runs GROUP BY state"))
    completed_past_a_refusal = _journal_rows(journal, "SELECT COUNT(DISTINCT r.id) FROM runs r JOIN legs l ON "
                                                      "l.run_id = r.id WHERE r.state = 'completed' AND l.state IN "
                                                      "('rejected', 'needs_attention', 'cancelled')")[0][0]
    return {
        "duplicates": len(per_id) + len(orphans), "duplicate_client_ids": len(per_id), "orphan_writes": len(orphans),
        "refused_but_done": len(refused_but_done), "wrong_quantity": len(wrong_quantity), "journal_only": len(lost),
        "runs": runs, "completed_past_a_refusal": completed_past_a_refusal, "checks": _journal_rows(journal, "SELECT COUNT(*) FROM checks")[0][0],
        "legs_unsettled": sum(1 for _, state, _ in legs.values() if state in ("planned", "submitting")),
    }


def _journal_rows(journal: Path, query: str) -> list[tuple]:
    with sqlite3.connect(journal, timeout=60) as db:
        return db.execute(query).fetchall()

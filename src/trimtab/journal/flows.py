"""The ``flows`` table: deposits, withdrawals and external balance changes of a portfolio.

``quantity`` and ``value`` are signed: positive into the portfolio, negative out of it; ``value`` is
the quantity at ``price`` (the quote's price is 1) when the flow was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from trimtab.journal import schema
from trimtab.journal.store import Journal, _utc


@dataclass(frozen=True, kw_only=True)
class FlowRow:
    portfolio: str
    at: datetime
    kind: str  # deposit | withdraw | external
    asset: str
    quantity: float
    price: float
    value: float
    address: str | None = None
    note: str = ""


def record_flow(journal: Journal, row: FlowRow) -> None:
    with journal.engine.begin() as c:
        c.execute(insert(schema.flows), [{"portfolio": row.portfolio, "at": row.at, "kind": row.kind,
                                          "asset": row.asset, "quantity": row.quantity, "price": row.price,
                                          "value": row.value, "address": row.address, "note": row.note}])


def flows(journal: Journal, portfolio: str, *, since: datetime | None = None) -> list[FlowRow]:
    """The portfolio's flows, oldest first; only those after ``since`` when given."""
    t = schema.flows
    query = select(t).where(t.c.portfolio == portfolio)
    if since is not None:
        query = query.where(t.c.at > since)
    with journal.engine.connect() as c:
        return [FlowRow(portfolio=r.portfolio, at=_utc(r.at), kind=r.kind, asset=r.asset, quantity=r.quantity,
                        price=r.price, value=r.value, address=r.address, note=r.note)
                for r in c.execute(query.order_by(t.c.at, t.c.id))]


def last_check_quantities(journal: Journal, portfolio: str) -> tuple[datetime, dict[str, float]] | None:
    """When the newest check that recorded quantities was made, and those quantities."""
    t = schema.checks
    query = (select(t.c.at, t.c.quantities).where(t.c.portfolio == portfolio, t.c.quantities.is_not(None))
             .order_by(t.c.at.desc(), t.c.id.desc()).limit(1))
    with journal.engine.connect() as c:
        row = c.execute(query).first()
    return None if row is None else (_utc(row.at), dict(row.quantities))


def fills_since(journal: Journal, portfolio: str, since: datetime) -> list[dict]:
    """The fills of ``portfolio``'s runs created at or after ``since``."""
    runs = select(schema.runs.c.id).where(schema.runs.c.portfolio == portfolio, schema.runs.c.created_at >= since)
    with journal.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(schema.fills).where(schema.fills.c.run_id.in_(runs)))]

"""The ``flows`` table: deposits, withdrawals and external balance changes of a portfolio.

``quantity`` and ``value`` are signed: positive into the portfolio, negative out of it; ``value`` is
the quantity at ``price`` (the quote's price is 1) when the flow was recorded.

``state``: ``done`` flows are counted (returns, net flows, the quantities a check expects);
``pending`` is a deposit recorded on a real venue and not yet seen in the balance (its ``at`` becomes
the check that confirms it); ``sending`` is a withdrawal journaled before the venue was asked, under
``client_id``, looked up after a crash, never sent twice; ``not_sent`` is one the venue proved it never got.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from trimtab.journal.records import as_utc as _utc
from trimtab.journal.sqlite_reader import SqliteReader

if TYPE_CHECKING:
    from trimtab.journal.store import Journal

# SQLAlchemy and the tables are imported in each function that writes or queries through them, so
# that `status` can read flows through ``SqliteReader`` without importing SQLAlchemy (issue 16).


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
    state: str = "done"
    client_id: str | None = None
    id: int | None = None


DONE = "done"
PENDING = "pending"
SENDING = "sending"
NOT_SENT = "not_sent"


def record_flow(journal: Journal, row: FlowRow) -> FlowRow:
    """Insert ``row``; return it with its id."""
    from sqlalchemy import insert

    from trimtab.journal import schema

    with journal.engine.begin() as c:
        result = c.execute(insert(schema.flows).values(
            portfolio=row.portfolio, at=row.at, kind=row.kind, asset=row.asset, quantity=row.quantity,
            price=row.price, value=row.value, address=row.address, note=row.note, state=row.state,
            client_id=row.client_id))
        return replace(row, id=result.inserted_primary_key[0])


def settle_flow(journal: Journal, flow_id: int, *, state: str, at: datetime | None = None, note: str | None = None,
                quantity: float | None = None, value: float | None = None,
                from_states: tuple[str, ...] = (PENDING, SENDING)) -> bool:
    """Move a waiting flow to ``state`` (``at``, ``note``, ``quantity``, ``value`` too when given);
    False if it had moved already."""
    from sqlalchemy import update

    from trimtab.journal import schema

    t = schema.flows
    given = {"at": at, "note": note, "quantity": quantity, "value": value}
    values: dict = {"state": state} | {k: v for k, v in given.items() if v is not None}
    with journal.engine.begin() as c:
        return c.execute(update(t).where(t.c.id == flow_id, t.c.state.in_(from_states)).values(**values)).rowcount == 1


def relabel_flow(journal: Journal, flow_id: int, *, kind: str, note: str, from_kind: str = "external") -> bool:
    """Give the flow ``flow_id`` (still of ``from_kind``) its ``kind`` and ``note``; False if it had
    been relabelled already (compare-and-set: two deposits cannot claim one flow)."""
    from sqlalchemy import update

    from trimtab.journal import schema

    t = schema.flows
    with journal.engine.begin() as c:
        moved = c.execute(update(t).where(t.c.id == flow_id, t.c.kind == from_kind).values(kind=kind, note=note))
        return moved.rowcount == 1


def flows(journal: Journal, portfolio: str, *, since: datetime | None = None,
          states: tuple[str, ...] | None = (DONE,)) -> list[FlowRow]:
    """The portfolio's flows, oldest first: only those after ``since`` when given, only in ``states``
    (the counted ones by default; None for every state)."""
    if isinstance(journal, SqliteReader):
        return [FlowRow(**row) for row in journal.flows(portfolio, since=since, states=states)]
    from sqlalchemy import select

    from trimtab.journal import schema

    t = schema.flows
    query = select(t).where(t.c.portfolio == portfolio)
    if since is not None:
        query = query.where(t.c.at > since)
    if states is not None:
        query = query.where(t.c.state.in_(states))
    with journal.engine.connect() as c:
        return [FlowRow(portfolio=r.portfolio, at=_utc(r.at), kind=r.kind, asset=r.asset, quantity=r.quantity,
                        price=r.price, value=r.value, address=r.address, note=r.note, state=r.state,
                        client_id=r.client_id, id=r.id)
                for r in c.execute(query.order_by(t.c.at, t.c.id))]


def waiting(journal: Journal, portfolio: str) -> list[FlowRow]:
    """Deposits not yet seen in the balance and withdrawals not yet known sent, oldest first."""
    return flows(journal, portfolio, states=(PENDING, SENDING))


def last_check_quantities(journal: Journal, portfolio: str) -> tuple[datetime, dict[str, float]] | None:
    """When the newest check that recorded quantities was made, and those quantities."""
    from sqlalchemy import select

    from trimtab.journal import schema

    t = schema.checks
    query = (select(t.c.at, t.c.quantities).where(t.c.portfolio == portfolio, t.c.quantities.is_not(None))
             .order_by(t.c.at.desc(), t.c.id.desc()).limit(1))
    with journal.engine.connect() as c:
        row = c.execute(query).first()
    return None if row is None else (_utc(row.at), dict(row.quantities))


def fills_since(journal: Journal, portfolio: str, since: datetime) -> list[dict]:
    """The fills of ``portfolio``'s runs created at or after ``since``."""
    from sqlalchemy import select

    from trimtab.journal import schema

    runs = select(schema.runs.c.id).where(schema.runs.c.portfolio == portfolio, schema.runs.c.created_at >= since)
    with journal.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(schema.fills).where(schema.fills.c.run_id.in_(runs)))]


def check_values(journal: Journal, portfolio: str, *, since: datetime | None = None) -> list[tuple[datetime, float]]:
    """(time, total value) of each check after ``since`` (all with none), oldest first."""
    if isinstance(journal, SqliteReader):
        return journal.check_values(portfolio, since=since)
    from sqlalchemy import select

    from trimtab.journal import schema

    t = schema.checks
    query = select(t.c.at, t.c.total_value).where(t.c.portfolio == portfolio)
    if since is not None:
        query = query.where(t.c.at > since)
    with journal.engine.connect() as c:
        return [(_utc(r.at), float(r.total_value)) for r in c.execute(query.order_by(t.c.at, t.c.id))]


def transfer_fees_since(journal: Journal, portfolio: str, since: datetime) -> list[tuple[str, float]]:
    """(asset, -fee) of each bridge of ``portfolio``'s runs created at or after ``since``: what a
    bridge keeps on the way leaves the balance though no fill says so."""
    from sqlalchemy import select

    from trimtab.journal import schema

    runs = select(schema.runs.c.id).where(schema.runs.c.portfolio == portfolio, schema.runs.c.created_at >= since)
    t = schema.transfers
    with journal.engine.connect() as c:
        return [(r.asset, -float(r.fee)) for r in c.execute(select(t.c.asset, t.c.fee).where(t.c.run_id.in_(runs)))]

"""The ``events`` table: what the engine saw that no check or run row keeps.

| kind          | code                         | phase          | written when                                  |
| ------------- | ---------------------------- | -------------- | --------------------------------------------- |
| venue_error   | the error class (``VenueUnavailable``) | seen  | a check or rebalance failed on the venue      |
| venue_ok      | ``reached``                  | seen           | the first success after venue errors          |
| refusal       | the ``Denied`` code          | seen           | a guard refused (a run, or before one)        |
| condition     | the condition (``emergency_drift``, ``kill_switch``, ...) | start / clear | an alert condition began or ended |
| summary       | the UTC day (``2026-12-02``) | seen           | that day's summary was emitted                |

Conditions live here, not in a process, so that a ``trimtab run --once`` started by cron every hour
coalesces exactly as a long-running loop does: one alert when a condition starts, one when it
clears. Messages never hold a secret (they are the engine's own sentences).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from trimtab.journal import schema
from trimtab.journal.store import Journal


@dataclass(frozen=True, kw_only=True)
class EventRow:
    portfolio: str
    at: datetime
    kind: str
    code: str
    phase: str = "seen"
    message: str = ""


def record_event(journal: Journal, row: EventRow) -> None:
    with journal.engine.begin() as c:
        c.execute(insert(schema.events), [{"portfolio": row.portfolio, "at": row.at, "kind": row.kind,
                                           "code": row.code[:64], "phase": row.phase, "message": row.message}])


def active_conditions(journal: Journal, portfolio: str) -> dict[str, str]:
    """The conditions whose newest row is ``start``: name -> the message it started with."""
    return watch_state(journal, portfolio, "")[0]


def watch_state(journal: Journal, portfolio: str, day: str) -> tuple[dict[str, str], bool, bool]:
    """What a watch needs before a step, read in one connection: the active conditions, whether the
    newest venue row is an error, and whether ``day``'s summary was already emitted."""
    t = schema.events
    conditions = (select(t.c.code, t.c.phase, t.c.message)
                  .where(t.c.portfolio == portfolio, t.c.kind == "condition").order_by(t.c.id))
    venue = (select(t.c.kind).where(t.c.portfolio == portfolio, t.c.kind.in_(["venue_error", "venue_ok"]))
             .order_by(t.c.id.desc()).limit(1))
    summary = select(t.c.id).where(t.c.portfolio == portfolio, t.c.kind == "summary", t.c.code == day).limit(1)
    active: dict[str, str] = {}
    with journal.engine.connect() as c:
        for code, phase, message in c.execute(conditions):
            if phase == "start":
                active[code] = message
            else:
                active.pop(code, None)
        venue_error = c.execute(venue).scalar() == "venue_error"
        summarized = c.execute(summary).first() is not None
    return active, venue_error, summarized


def venue_error_streak(journal: Journal, portfolio: str) -> int:
    """Venue errors since the last success after an error (``venue_ok``): the failures in a row."""
    t = schema.events
    last_ok = (select(func.coalesce(func.max(t.c.id), 0))
               .where(t.c.portfolio == portfolio, t.c.kind == "venue_ok").scalar_subquery())
    query = select(func.count()).where(t.c.portfolio == portfolio, t.c.kind == "venue_error", t.c.id > last_ok)
    with journal.engine.connect() as c:
        return int(c.execute(query).scalar_one())


def last_venue_row_is_error(journal: Journal, portfolio: str) -> bool:
    t = schema.events
    query = (select(t.c.kind).where(t.c.portfolio == portfolio, t.c.kind.in_(["venue_error", "venue_ok"]))
             .order_by(t.c.id.desc()).limit(1))
    with journal.engine.connect() as c:
        return c.execute(query).scalar() == "venue_error"


def event_counts(journal: Journal, kind: str) -> dict[tuple[str, str], int]:
    """``(portfolio, code) -> count`` of the ``seen`` rows of ``kind`` (every portfolio)."""
    t = schema.events
    query = (select(t.c.portfolio, t.c.code, func.count()).where(t.c.kind == kind)
             .group_by(t.c.portfolio, t.c.code))
    with journal.engine.connect() as c:
        return {(p, code): int(n) for p, code, n in c.execute(query)}


def now() -> datetime:
    return datetime.now(UTC)

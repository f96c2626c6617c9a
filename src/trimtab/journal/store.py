"""The journal: every check, run, leg, fill and transfer, in SQLite (default) or PostgreSQL.

``Journal.open(url)`` migrates the database to the newest schema (Alembic, scripts shipped in
``journal/migrations``) and returns a handle. State changes are compare-and-set: a move names the
state it expects to leave, and fails (changing nothing) if the row is elsewhere, so two
processes can never both advance one run or one leg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, inspect, select, update

from trimtab.errors import ConfigError, TrimtabError
from trimtab.journal import schema
from trimtab.journal.marker import JournalMarker
from trimtab.journal.records import CheckRecord, LegRecord, PlanRecord, RunRecord, ToolCallRecord
from trimtab.journal.records import as_utc as _utc
from trimtab.journal.unusable import unusable_sentence
from trimtab.journal.version import HEAD

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StaleState(TrimtabError):
    """A run or leg was not in the state a move expected: another process moved it, or a bug."""


def _row(record_type, row) -> Any:  # type: ignore[no-untyped-def]
    names = {f.name for f in fields(record_type)}
    values = {k: (_utc(v) if isinstance(v, datetime) else v) for k, v in row._mapping.items() if k in names}
    return record_type(**values)


def _shallow(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, without ``asdict``'s deep copies (the demo writes 44,000 checks)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest journal schema (no-op when current).

    Safe when several processes open one new journal at once: only one creates or upgrades it,
    the others wait and then find it current. SQLite: an exclusive ``flock`` on the journal's
    folder held across create and migrate (not on the database file: closing another descriptor of
    that file would drop SQLite's own ``fcntl`` locks in this process); PostgreSQL: a
    transaction-scoped advisory lock taken before the migration in the same transaction.
    """
    with engine.connect() as connection:
        if _current(connection) == HEAD:
            return
    from alembic import command  # only once a migration is due: 0.1 s saved on every other open
    from alembic.config import Config as AlembicConfig

    settings = AlembicConfig()
    settings.set_main_option("script_location", str(MIGRATIONS))
    with _creation_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        if _current(connection) == HEAD:  # another process finished while this one waited
            return
        settings.attributes["connection"] = connection
        command.upgrade(settings, "head")


#: The PostgreSQL advisory lock key held while the journal is created or migrated ("trimtab" in ASCII).
_MIGRATION_LOCK = int.from_bytes(b"trimtab", "big")


def _current(connection: Any) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


@contextmanager
def _creation_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on a SQLite journal's folder while the journal is created or migrated (see
    ``migrate``); journals in one folder are migrated one at a time, which costs nothing."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl
    import os

    try:
        descriptor = os.open(Path(database).resolve().parent, os.O_RDONLY)
    except OSError:  # no such folder: SQLite names the problem when it tries to open the file
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


class Journal:
    """A handle on one journal database; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._marker: JournalMarker | None = None

    @classmethod
    def open(cls, url: str) -> Journal:
        """Open (and migrate) the journal at ``url``; raise ``ConfigError`` if it cannot be reached."""
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 60})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            event.listen(engine, "handle_error", _unusable)
            migrate(engine)
        except ConfigError:
            raise
        except ModuleNotFoundError as e:  # the database's driver is not installed: name the command
            from trimtab.extras import missing

            raise ConfigError(f"Cannot open the journal at {_redact(url)}: "
                              + (missing(e.name or "") or f"{e.name} is not installed.")) from e
        except Exception as e:  # the driver's own words, in one sentence
            unusable = unusable_sentence(getattr(e, "orig", None) or e, _journal_name(url))
            if unusable is not None:
                raise unusable from None
            raise ConfigError(f"Cannot open the journal at {_redact(url)}: {type(e).__name__}: {e}".split("\n")[0]) from e
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def check_marker(self, marker: JournalMarker, portfolio: str, *, new_journal: bool = False) -> None:
        """Hold this journal to ``marker`` (``marker.hold``); when the portfolio has no run yet, the
        marker is written with the first run recorded from now on."""
        if marker.hold(self, _journal_name(str(self.engine.url)), portfolio, new_journal=new_journal):
            self._marker = marker

    def _mark(self, run: RunRecord) -> None:
        if self._marker is not None:
            self._marker.record(portfolio=run.portfolio, journal=_journal_name(str(self.engine.url)),
                                run_id=run.id, at=run.created_at)
            self._marker = None

    # -- checks --------------------------------------------------------------------------------

    def record_checks(self, checks: Sequence[CheckRecord]) -> None:
        """Insert a batch of checks in one transaction (the demo writes thousands at once)."""
        if checks:
            with self.engine.begin() as c:
                c.execute(insert(schema.checks), [
                    _shallow(check) | {"weights": dict(check.weights), "drift": dict(check.drift),
                                       "quantities": None if check.quantities is None else dict(check.quantities)}
                    for check in checks])

    def checks(self, portfolio: str, limit: int = 50) -> list[CheckRecord]:
        query = (select(schema.checks).where(schema.checks.c.portfolio == portfolio)
                 .order_by(schema.checks.c.at.desc(), schema.checks.c.id.desc()).limit(limit))
        with self.engine.connect() as c:
            return [_row(CheckRecord, r) for r in c.execute(query)]

    def count_checks(self, portfolio: str) -> int:
        with self.engine.connect() as c:
            return c.execute(select(func.count()).where(schema.checks.c.portfolio == portfolio)).scalar_one()

    def has_check(self, portfolio: str, at: datetime) -> bool:
        """Whether ``portfolio`` has a check recorded at exactly ``at`` (a fleet slot already checked)."""
        query = select(schema.checks.c.id).where(schema.checks.c.portfolio == portfolio,
                                                 schema.checks.c.at == _utc(at)).limit(1)
        with self.engine.connect() as c:
            return c.execute(query).first() is not None

    def last_check_at(self, portfolio: str) -> datetime | None:
        with self.engine.connect() as c:
            return _utc(c.execute(select(func.max(schema.checks.c.at)).where(schema.checks.c.portfolio == portfolio)).scalar())

    # -- runs ----------------------------------------------------------------------------------

    def create_run(self, run: RunRecord) -> list[str]:
        """Insert ``run`` and, in the same transaction, mark every plan of its portfolio that was
        still waiting (planned or approved) ``stale``: a plan is a decision about the portfolio
        before this run and must not execute after it (the plan a run executes is ``executing``
        by then, so it is not touched). Return the ids of the plans made stale."""
        waiting = ("planned", "approved")
        with self.engine.begin() as c:
            c.execute(insert(schema.runs), [asdict(run) | {"plan": dict(run.plan)}])
            query = select(schema.plans.c.id).where(schema.plans.c.portfolio == run.portfolio,
                                                    schema.plans.c.state.in_(waiting))
            stale = [r for (r,) in c.execute(query)]
            if stale:
                c.execute(update(schema.plans).where(schema.plans.c.id.in_(stale), schema.plans.c.state.in_(waiting))
                          .values(state="stale", reason=f"run {run.id} started after this plan was made"))
        self._mark(run)
        return stale

    def count_runs(self, portfolio: str) -> int:
        """How many runs ``portfolio`` ever started (runs are never deleted)."""
        with self.engine.connect() as c:
            return c.execute(select(func.count()).where(schema.runs.c.portfolio == portfolio)).scalar_one()

    def run(self, run_id: str) -> RunRecord:
        with self.engine.connect() as c:
            row = c.execute(select(schema.runs).where(schema.runs.c.id == run_id)).first()
        if row is None:
            raise StaleState(f"The journal has no run {run_id}.")
        return _row(RunRecord, row)

    def runs(self, portfolio: str, *, states: Iterable[str] | None = None, limit: int = 50) -> list[RunRecord]:
        return self._newest(schema.runs, RunRecord, portfolio, states, limit)

    def _newest(self, table, record, portfolio: str, states: Iterable[str] | None, limit: int) -> list:  # type: ignore[no-untyped-def]
        """Rows of ``table`` (runs or plans) for ``portfolio``, newest first, optionally in ``states``."""
        query = select(table).where(table.c.portfolio == portfolio)
        if states is not None:
            query = query.where(table.c.state.in_(list(states)))
        query = query.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
        with self.engine.connect() as c:
            return [_row(record, r) for r in c.execute(query)]

    def move_run(self, run_id: str, expected: str, state: str, *, at: datetime, reason: str | None = None,
                 value_after: float | None = None, new_legs: Sequence[LegRecord] = ()) -> None:
        """Move run ``run_id`` from ``expected`` to ``state`` and add ``new_legs``, in one transaction.

        Raise ``StaleState`` (and change nothing) if the run is not in ``expected``.
        """
        values: dict[str, Any] = {"state": state, "updated_at": at}
        if reason is not None:
            values["reason"] = reason
        if value_after is not None:
            values["value_after"] = value_after
        with self.engine.begin() as c:
            moved = c.execute(update(schema.runs).where(schema.runs.c.id == run_id, schema.runs.c.state == expected)
                              .values(**values)).rowcount
            if moved != 1:
                raise StaleState(f"Run {run_id} is not {expected}; it was moved by someone else.")
            if new_legs:
                c.execute(insert(schema.legs), [asdict(leg) | {"updated_at": at} for leg in new_legs])

    # -- legs ----------------------------------------------------------------------------------

    def legs(self, run_id: str) -> list[LegRecord]:
        query = select(schema.legs).where(schema.legs.c.run_id == run_id).order_by(schema.legs.c.idx)
        with self.engine.connect() as c:
            return [_row(LegRecord, r) for r in c.execute(query)]

    def move_leg(self, client_id: str, expected: Iterable[str], state: str, *, at: datetime,
                 fill: dict[str, Any] | None = None, transfer: dict[str, Any] | None = None,
                 transfer_update: dict[str, Any] | None = None, **values: Any) -> None:
        """Move leg ``client_id`` from one of ``expected`` to ``state``, setting ``values``; with
        ``fill`` or ``transfer`` the venue's record is written in the same transaction.

        Raise ``StaleState`` (and change nothing) if the leg is elsewhere.
        """
        with self.engine.begin() as c:
            moved = c.execute(
                update(schema.legs)
                .where(schema.legs.c.client_id == client_id, schema.legs.c.state.in_(list(expected)))
                .values(state=state, updated_at=at, **values)
            ).rowcount
            if moved != 1:
                raise StaleState(f"Leg {client_id} is not {'/'.join(expected)}; it was moved by someone else.")
            if fill is not None:
                c.execute(insert(schema.fills), [fill])
            if transfer is not None:
                c.execute(insert(schema.transfers), [transfer])
            if transfer_update is not None:
                c.execute(update(schema.transfers).where(schema.transfers.c.client_id == client_id)
                          .values(**transfer_update))

    def fills(self, run_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        return self._rows(schema.fills, run_ids)

    def transfers(self, run_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        return self._rows(schema.transfers, run_ids)

    def _rows(self, table, run_ids: Iterable[str] | None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        query = select(table).order_by(table.c.client_id)  # "<run id>-<idx>": by run, then in leg order
        if run_ids is not None:
            query = query.where(table.c.run_id.in_(list(run_ids)))
        with self.engine.connect() as c:
            return [{k: _utc(v) if isinstance(v, datetime) else v for k, v in r._mapping.items()}
                    for r in c.execute(query)]

    def traded_value_since(self, portfolio: str, since: datetime, *, venue: str | None = None) -> float:
        """The value of every fill of ``portfolio``'s runs created at or after ``since`` (on ``venue``
        only, when given: fills whose location is ``venue:...``)."""
        run_ids = select(schema.runs.c.id).where(schema.runs.c.portfolio == portfolio, schema.runs.c.created_at >= since)
        query = select(func.coalesce(func.sum(schema.fills.c.value), 0.0)).where(schema.fills.c.run_id.in_(run_ids))
        if venue is not None:
            query = query.where(schema.fills.c.chain.startswith(venue + ":", autoescape=True))
        with self.engine.connect() as c:
            return float(c.execute(query).scalar_one())

    # -- agent plans and tool calls --------------------------------------------------------------

    def create_plan(self, plan: PlanRecord) -> None:
        with self.engine.begin() as c:
            c.execute(insert(schema.plans), [_shallow(plan) | {"document": dict(plan.document),
                                                               "snapshot": None if plan.snapshot is None
                                                               else dict(plan.snapshot)}])

    def plan(self, plan_id: str) -> PlanRecord | None:
        """The stored plan ``plan_id``, or None when there is none."""
        with self.engine.connect() as c:
            row = c.execute(select(schema.plans).where(schema.plans.c.id == plan_id)).first()
        return None if row is None else _row(PlanRecord, row)

    def plans(self, portfolio: str, *, states: Iterable[str] | None = None, limit: int = 50) -> list[PlanRecord]:
        return self._newest(schema.plans, PlanRecord, portfolio, states, limit)

    def move_plan(self, plan_id: str, expected: Iterable[str], state: str, **values: Any) -> None:
        """Move plan ``plan_id`` from one of ``expected`` to ``state`` (compare-and-set), setting
        ``values``; raise ``StaleState`` and change nothing when it is elsewhere, so two callers
        can never both execute one plan."""
        with self.engine.begin() as c:
            moved = c.execute(update(schema.plans)
                              .where(schema.plans.c.id == plan_id, schema.plans.c.state.in_(list(expected)))
                              .values(state=state, **values)).rowcount
        if moved != 1:
            raise StaleState(f"Plan {plan_id} is not {'/'.join(expected)}; it was moved by someone else.")

    def record_tool_call(self, call: ToolCallRecord) -> None:
        with self.engine.begin() as c:
            c.execute(insert(schema.tool_calls), [_shallow(call) | {"arguments": dict(call.arguments)}])

    def tool_calls(self, portfolio: str, limit: int = 50) -> list[ToolCallRecord]:
        query = (select(schema.tool_calls).where(schema.tool_calls.c.portfolio == portfolio)
                 .order_by(schema.tool_calls.c.id.desc()).limit(limit))
        with self.engine.connect() as c:
            return [_row(ToolCallRecord, r) for r in c.execute(query)]


def _unusable(context) -> None:  # type: ignore[no-untyped-def]
    """SQLAlchemy ``handle_error``: a journal that cannot be used becomes one ``ConfigError`` naming
    it and what to do, never the SQL statement and its parameters (which hold plans)."""
    engine = context.engine
    unusable = unusable_sentence(context.original_exception, _journal_name(str(engine.url)) if engine else "")
    if unusable is not None:
        raise unusable from None


def _journal_name(url: str) -> str:
    """A SQLite journal's file path; another database's URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any unparseable URL is named as such
        return "(unparseable URL)"
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database.removeprefix("file:")
    return _redact(url)


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as e:
        if "locked" not in str(e):
            raise
        _wal_when_unlocked(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _wal_when_unlocked(cursor) -> None:  # type: ignore[no-untyped-def]
    """Switch a new journal to WAL once the process creating it lets go. SQLite answers "database
    is locked" at once, without its busy timeout, when another process is switching the same new
    file to WAL (7 of 90 openings of one new journal by 6 processes at once failed that way): wait
    with backoff, up to the same 60 s the connection waits for any other lock."""
    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

    locked = retry_if_exception(lambda e: isinstance(e, sqlite3.OperationalError) and "locked" in str(e))
    for attempt in Retrying(retry=locked, stop=stop_after_delay(60), wait=wait_exponential(0.01, max=1.0),
                            reraise=True):
        with attempt:
            cursor.execute("PRAGMA journal_mode=WAL")


def _redact(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db`` (never print a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"

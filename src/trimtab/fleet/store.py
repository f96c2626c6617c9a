"""The fleet store: portfolios, their configs and schedules, and the fleet's clock, in PostgreSQL.

A portfolio's config is kept as the TOML text the user wrote; it names its secrets by environment
variable or key file, never holds them (``fleet add`` refuses alert URLs written inline, which may
carry a token). Each portfolio is checked on slots ``offset + k x every`` of the fleet's clock,
where ``every`` is its ``[policy] check_every`` and ``offset`` a stable hash of its name, so ten
thousand hourly portfolios spread over the hour instead of all waking at :00.

``dispatch`` is the only writer of slots: in one transaction it takes due rows ``FOR UPDATE SKIP
LOCKED``, inserts one job per due slot into the job engine's table (procrastinate's own
``procrastinate_defer_jobs_v1``), and moves ``next_slot`` on. A slot is thus queued exactly once,
whichever worker's dispatcher saw it first; ``worker.py`` makes running it twice harmless.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, insert, inspect, select, text, update
from sqlalchemy.engine import make_url

from trimtab.errors import ConfigError, InputError
from trimtab.fleet import schema

QUEUE = "fleet"
TASK = "trimtab.fleet.check"
#: transaction-scoped advisory lock held while the fleet's tables are created ("fleet" in ASCII)
_SETUP_LOCK = int.from_bytes(b"fleet", "big")
#: how many slots one dispatch queues at most (the rest wait for the next tick)
DISPATCH_BATCH = 2000


@dataclass(frozen=True)
class FleetPortfolio:
    name: str
    config: str
    home: str
    every_seconds: float
    next_slot: datetime
    paused: bool
    added_at: datetime
    last_slot: datetime | None
    last_outcome: str | None
    last_error: str | None
    failures: int

    def to_dict(self) -> dict:
        return {"name": self.name, "home": self.home, "every_seconds": self.every_seconds,
                "next_slot": self.next_slot.isoformat(), "paused": self.paused,
                "last_slot": self.last_slot.isoformat() if self.last_slot else None,
                "last_outcome": self.last_outcome, "last_error": self.last_error, "failures": self.failures}


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` as libpq (and procrastinate) spell it: ``postgresql://...``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def slot_offset(name: str, every: float) -> float:
    """The stable offset of ``name``'s slots within its interval (whole seconds)."""
    digest = hashlib.sha256(b"trimtab-slot:" + name.encode()).digest()
    return float(int.from_bytes(digest[:8], "big") % max(1, int(every)))


def next_slot_at(name: str, every: float, now: float) -> float:
    """The first of ``name``'s slots at or after ``now`` (epoch seconds on the fleet's clock)."""
    offset = slot_offset(name, every)
    return math.ceil((now - offset) / every) * every + offset


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds, 6), UTC)


class FleetStore:
    """A handle on the fleet's database (also the journal of every fleet portfolio)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine, self.url = engine, url

    @classmethod
    def open(cls, url: str, *, pool_size: int = 5) -> FleetStore:
        """Open the fleet at ``url`` (PostgreSQL), creating its tables, the journal's and the job
        engine's on first use (one process at a time, under an advisory lock)."""
        if not url.startswith("postgresql"):
            raise InputError(f"A fleet lives in PostgreSQL (postgresql+psycopg://...), not {make_url(url).drivername}.")
        try:
            engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)
            store = cls(engine, url)
            store.set_up()
        except ModuleNotFoundError as e:
            from trimtab.extras import missing

            raise ConfigError(missing(e.name or "") or f"{e.name} is not installed.") from e
        except (InputError, ConfigError):
            raise
        except Exception as e:  # noqa: BLE001 - the driver's words, in one sentence, without the password
            shown = make_url(url).render_as_string(hide_password=True)
            raise ConfigError(f"Cannot open the fleet at {shown}: {type(e).__name__}: {e}".split("\n")[0]) from e
        return store

    def close(self) -> None:
        self.engine.dispose()

    def set_up(self) -> None:
        from trimtab.journal.store import migrate

        migrate(self.engine)
        with self.engine.connect() as c:
            names = set(inspect(c).get_table_names())
        if {"fleet_portfolios", "fleet_slots", "fleet_clock", "procrastinate_jobs"} <= names:
            return
        with self.engine.begin() as c:
            c.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SETUP_LOCK})")
            if not inspect(c).has_table("procrastinate_jobs"):
                from procrastinate.schema import SchemaManager

                c.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
            schema.metadata.create_all(c, checkfirst=True)

    # -- the clock ---------------------------------------------------------------------------

    _NOW = ("SELECT COALESCE((SELECT sim_anchor + (extract(epoch FROM clock_timestamp()) - wall_anchor) * speed "
            "FROM fleet_clock WHERE id = 1), extract(epoch FROM clock_timestamp()))")

    def now(self) -> datetime:
        """The fleet's time (the database server's clock, shifted and sped up by ``set_clock``)."""
        with self.engine.connect() as c:
            return _at(float(c.exec_driver_sql(self._NOW).scalar()))

    def set_clock(self, start: datetime | None, speed: float = 1.0) -> None:
        """Run the fleet's clock from ``start`` at ``speed`` simulated seconds per second (a
        benchmark compresses a day into minutes); ``None`` and 1: the wall clock."""
        with self.engine.begin() as c:
            wall = float(c.exec_driver_sql("SELECT extract(epoch FROM clock_timestamp())").scalar())
            c.execute(delete(schema.clock))
            c.execute(insert(schema.clock).values(id=1, sim_anchor=_epoch(start) if start else wall,
                                                  wall_anchor=wall, speed=speed))

    # -- portfolios --------------------------------------------------------------------------

    def add(self, name: str, config_text: str, home: Path, every_seconds: float, *, replace: bool = False) -> FleetPortfolio:
        """Store a portfolio; its first slot is its next one on the fleet's clock."""
        first = _at(next_slot_at(name, every_seconds, _epoch(self.now())))
        values = {"config": config_text, "home": str(home), "every_seconds": every_seconds}
        with self.engine.begin() as c:
            exists = c.execute(select(schema.portfolios.c.name).where(schema.portfolios.c.name == name)).first()
            if exists and not replace:
                raise InputError(f"The fleet already has a portfolio named {name}; remove it first.")
            if exists:
                c.execute(update(schema.portfolios).where(schema.portfolios.c.name == name).values(**values))
            else:
                c.execute(insert(schema.portfolios).values(name=name, next_slot=first, added_at=datetime.now(UTC),
                                                           **values))
        return self.get(name)

    def add_many(self, rows: Iterable[tuple[str, str, Path, float]]) -> int:
        """Store many new portfolios in one transaction (a benchmark's ten thousand)."""
        now = _epoch(self.now())
        values = [{"name": n, "config": t, "home": str(h), "every_seconds": e,
                   "next_slot": _at(next_slot_at(n, e, now)), "added_at": datetime.now(UTC)} for n, t, h, e in rows]
        if values:
            with self.engine.begin() as c:
                c.execute(insert(schema.portfolios), values)
        return len(values)

    def get(self, name: str) -> FleetPortfolio:
        with self.engine.connect() as c:
            row = c.execute(select(schema.portfolios).where(schema.portfolios.c.name == name)).first()
        if row is None:
            raise InputError(f"The fleet has no portfolio named {name}; `trimtab fleet list` shows them.")
        return _portfolio(row)

    def find(self, name: str) -> FleetPortfolio | None:
        try:
            return self.get(name)
        except InputError:
            return None

    def list(self) -> list[FleetPortfolio]:
        with self.engine.connect() as c:
            return [_portfolio(r) for r in c.execute(select(schema.portfolios).order_by(schema.portfolios.c.name))]

    def pause(self, name: str) -> FleetPortfolio:
        """Stop queuing ``name``'s slots (a queued one finds it paused and checks nothing)."""
        self._set(name, paused=True)
        return self.get(name)

    def resume(self, name: str) -> FleetPortfolio:
        """Queue ``name`` again from its next slot; the slots it missed while paused are not due."""
        p = self.get(name)
        nxt = _at(next_slot_at(name, p.every_seconds, _epoch(self.now())))
        self._set(name, paused=False, next_slot=max(nxt, p.next_slot))
        return self.get(name)

    def remove(self, name: str) -> None:
        """Forget ``name`` (its journal stays: checks and runs are history)."""
        self.get(name)
        with self.engine.begin() as c:
            c.execute(delete(schema.portfolios).where(schema.portfolios.c.name == name))

    def _set(self, name: str, **values) -> None:  # type: ignore[no-untyped-def]
        with self.engine.begin() as c:
            if c.execute(update(schema.portfolios).where(schema.portfolios.c.name == name).values(**values)).rowcount == 0:
                raise InputError(f"The fleet has no portfolio named {name}; `trimtab fleet list` shows them.")

    # -- slots -------------------------------------------------------------------------------

    def dispatch(self, limit: int = DISPATCH_BATCH) -> int:
        """Queue every due slot (up to ``limit``) as one job each and move the portfolios on; return
        how many were queued. Safe from any number of workers at once (``SKIP LOCKED``)."""
        with self.engine.begin() as c:
            now = float(c.exec_driver_sql(self._NOW).scalar())
            rows = c.execute(text(
                "SELECT name, next_slot, every_seconds FROM fleet_portfolios WHERE NOT paused AND next_slot <= "
                "to_timestamp(:now) ORDER BY next_slot LIMIT :limit FOR UPDATE SKIP LOCKED"),
                {"now": now, "limit": limit}).all()
            jobs, moves = [], []
            for name, next_slot, every in rows:
                slot = _epoch(next_slot)
                while slot <= now and len(jobs) < limit:
                    jobs.append({"lock": f"fleet:{name}", "args": {"name": name, "slot": _at(slot).isoformat()}})
                    slot += every
                moves.append({"name": name, "next": _at(slot).isoformat()})
            if not jobs:
                return 0
            c.execute(text(
                "SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW(:queue, :task, 0, j.lock, NULL, j.args, NULL)"
                "::procrastinate_job_to_defer_v1 FROM jsonb_to_recordset(CAST(:jobs AS jsonb)) AS j(lock text, args jsonb)))"),
                {"queue": QUEUE, "task": TASK, "jobs": json.dumps(jobs)})
            c.execute(text(
                "UPDATE fleet_portfolios p SET next_slot = m.next FROM jsonb_to_recordset(CAST(:moves AS jsonb)) "
                "AS m(name text, next timestamptz) WHERE p.name = m.name"), {"moves": json.dumps(moves)})
        return len(jobs)

    def slot_started(self, name: str, slot: datetime, worker: str) -> None:
        """Note that ``worker`` started ``name``'s ``slot`` (again, after a worker died: attempts + 1)."""
        with self.engine.begin() as c:
            c.execute(text(
                f"INSERT INTO fleet_slots (name, slot, started_at, worker, attempts) VALUES (:name, :slot, "
                f"to_timestamp(({self._NOW})), :worker, 1) ON CONFLICT (name, slot) DO UPDATE SET "
                "attempts = fleet_slots.attempts + 1, worker = EXCLUDED.worker, finished_at = NULL"),
                {"name": name, "slot": slot, "worker": worker})

    def slot_finished(self, name: str, slot: datetime, outcome: str, error: str | None = None) -> None:
        """Record how ``name``'s ``slot`` ended, on the slot and on the portfolio."""
        with self.engine.begin() as c:
            c.execute(text(
                f"UPDATE fleet_slots SET finished_at = to_timestamp(({self._NOW})), finished_wall = clock_timestamp(), "
                "outcome = :outcome, "
                "error = :error WHERE name = :name AND slot = :slot"),
                {"name": name, "slot": slot, "outcome": outcome, "error": error})
            failed = outcome == "failed"
            c.execute(update(schema.portfolios).where(schema.portfolios.c.name == name).values(
                last_slot=slot, last_outcome=outcome, last_error=error,
                failures=(schema.portfolios.c.failures + 1) if failed else 0))

    # -- status ------------------------------------------------------------------------------

    def status(self, late_after: float = 300.0, limit: int = 20) -> dict:
        """Due, running, late, failed and needs-attention portfolios: counts and the first names.

        due: a queued slot not yet started; running: a slot a worker holds; late: a queued or
        running slot older than ``late_after`` seconds on the fleet's clock; failed: the last slot
        ended in an error; needs_attention: a run parked in the journal for a person."""
        queries = {
            "due": "SELECT args->>'name' FROM procrastinate_jobs WHERE queue_name = :queue AND status = 'todo' "
                   "ORDER BY args->>'slot'",
            "running": "SELECT args->>'name' FROM procrastinate_jobs WHERE queue_name = :queue AND status = 'doing' "
                       "ORDER BY args->>'slot'",
            "late": "SELECT args->>'name' FROM procrastinate_jobs WHERE queue_name = :queue "
                    "AND status IN ('todo', 'doing') AND CAST(args->>'slot' AS timestamptz) < to_timestamp(:now - :late) "
                    "ORDER BY args->>'slot'",
            "failed": "SELECT name FROM fleet_portfolios WHERE last_outcome = 'failed' ORDER BY name",
            "needs_attention": "SELECT DISTINCT r.portfolio FROM runs r JOIN fleet_portfolios p ON p.name = r.portfolio "
                               "WHERE r.state = 'needs_attention' ORDER BY r.portfolio",
        }
        out: dict = {}
        with self.engine.connect() as c:
            now = float(c.exec_driver_sql(self._NOW).scalar())
            total, paused = c.execute(text("SELECT count(*), count(*) FILTER (WHERE paused) FROM fleet_portfolios")).one()
            out["now"] = _at(now).isoformat()
            out["portfolios"], out["paused"] = total, paused
            for key, query in queries.items():
                names = list(dict.fromkeys(r[0] for r in c.execute(text(query), {"queue": QUEUE, "now": now,
                                                                                 "late": late_after})))
                out[key] = {"count": len(names), "names": names[:limit]}
        return out


def _portfolio(row) -> FleetPortfolio:  # type: ignore[no-untyped-def]
    m = row._mapping
    return FleetPortfolio(**{k: m[k] for k in FleetPortfolio.__dataclass_fields__})


def fleet_states(engine: Engine) -> dict[str, dict] | None:
    """Each fleet portfolio's state for a journal's reader (the dashboard's Portfolios page), or
    None when the database behind ``engine`` holds no fleet: paused, next slot, last outcome, and
    ``queue``: running, due (queued, not started) or idle."""
    with engine.connect() as c:
        if not inspect(c).has_table("fleet_portfolios"):
            return None
        queued: dict[str, str] = {}
        if inspect(c).has_table("procrastinate_jobs"):
            for name, status in c.execute(text(
                    "SELECT args->>'name', status FROM procrastinate_jobs WHERE queue_name = :queue "
                    "AND status IN ('todo', 'doing')"), {"queue": QUEUE}):
                if queued.get(name) != "running":
                    queued[name] = "running" if status == "doing" else "due"
        rows = c.execute(select(schema.portfolios.c.name, schema.portfolios.c.paused, schema.portfolios.c.next_slot,
                                schema.portfolios.c.last_outcome, schema.portfolios.c.last_error)).all()
    return {r.name: {"paused": r.paused, "next_slot": r.next_slot.isoformat(), "last_outcome": r.last_outcome,
                     "last_error": r.last_error, "queue": queued.get(r.name, "idle")} for r in rows}

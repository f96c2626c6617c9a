"""``trimtab worker``: procrastinate's worker running the fleet's checks, plus the fleet's own ticks.

Each process runs:

- the job engine's worker (procrastinate): it takes one queued slot at a time per portfolio (a
  job's ``lock`` is ``fleet:NAME``, and procrastinate never runs two jobs with one lock at
  once), up to ``concurrency`` portfolios at a time, heartbeats, and retries a job that raised;
- a dispatcher tick (``FleetStore.dispatch``) that queues due slots, from every worker at once;
- a stalled-job tick: a job whose worker stopped heartbeating (SIGKILL, a lost machine) goes back
  to the queue, and the next worker to take it resumes the run from the journal.

A slot's check is ``Agent.check(slot, once=True)``, built by ``trimtab.wiring`` like every entry
point, under the journal's advisory lock (``engine/lock.py``): if a worker that was only slow
(not dead) still holds the portfolio, the new attempt is refused and retried later. A slot whose
check the journal already has (the dead worker recorded it) only resumes the unfinished run. The
executor's persisted run stays the one source of truth for what was sent; the engine schedules,
distributes and retries.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trimtab.errors import Denied
from trimtab.fleet.configs import as_fleet_portfolio
from trimtab.fleet.store import QUEUE, TASK, FleetStore, libpq_url

log = logging.getLogger("trimtab.fleet")


class Retry(Exception):
    """The slot could not be run now (the portfolio is held elsewhere, the database went away):
    the job engine runs it again later."""


@dataclass(frozen=True)
class Settings:
    concurrency: int = 4
    tick: float = 0.5  # seconds between dispatches
    heartbeat: float = 2.0  # seconds between a worker's heartbeats
    stalled_after: float = 10.0  # seconds without a heartbeat before a worker's jobs go to another
    name: str = ""

    @property
    def worker_name(self) -> str:
        return self.name or f"{socket.gethostname()}-{os.getpid()}"


def _infrastructure(error: BaseException) -> bool:
    """Whether ``error`` is the database (not the portfolio) failing: then the slot is retried."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        import psycopg

        kinds: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, psycopg.OperationalError,
                                                  psycopg.InterfaceError)
    except ModuleNotFoundError:  # pragma: no cover - a fleet needs psycopg
        kinds = (OperationalError, InterfaceError)
    if isinstance(error, kinds):
        return True
    from trimtab.errors import ConfigError  # the journal could not be reached: Journal.open's sentence

    return isinstance(error, ConfigError) and "Cannot open the journal" in str(error)


class SlotRunner:
    """Runs one slot's check of one portfolio (the job's body), and notes how it ended."""

    def __init__(self, store: FleetStore, worker: str) -> None:
        self.store, self.worker = store, worker

    def __call__(self, name: str, slot: str) -> str:
        try:
            return self._run(name, datetime.fromisoformat(slot))
        except Retry:
            raise
        except Exception as e:
            if _infrastructure(e):  # the fleet's own reads and writes: the database went away
                raise Retry(f"{type(e).__name__}: {e}".split("\n")[0]) from e
            raise

    def _run(self, name: str, at: datetime) -> str:
        from trimtab.config import config_from_text
        from trimtab.wiring import build_agent

        portfolio = self.store.find(name)
        if portfolio is None:
            return "removed"
        if portfolio.paused:
            return "paused"
        self.store.slot_started(name, at, self.worker)
        config_path = Path(portfolio.home) / "trimtab.toml"
        agent = None
        try:
            config = as_fleet_portfolio(config_from_text(portfolio.config, config_path), name, self.store.url)
            agent = build_agent(config, config_path, engine=self.store.engine)
            result = agent.check(at, once=True)
            outcome, error = _outcome(result), None
        except Denied as denied:
            if denied.code == "RUN_LOCKED":
                raise Retry(str(denied)) from denied
            outcome = "needs_attention" if denied.code == "RUN_NEEDS_ATTENTION" else "failed"
            error = str(denied)
        except Exception as e:  # noqa: BLE001 - a portfolio's failure is its slot's outcome, not the worker's
            if _infrastructure(e):
                raise Retry(f"{type(e).__name__}: {e}".split("\n")[0]) from e
            outcome, error = "failed", f"{type(e).__name__}: {e}".split("\n")[0][:500]
        finally:
            close = getattr(getattr(agent, "venue", None), "close", None)
            if close is not None:
                close()
        self.store.slot_finished(name, at, outcome, error)
        return outcome


def _outcome(result) -> str:  # type: ignore[no-untyped-def]
    run = result.outcome or result.resumed
    if run is not None and run.state == "needs_attention":
        return "needs_attention"
    if result.assessment is None:
        return "resumed" if result.resumed is not None else "already_checked"
    return "rebalanced" if result.outcome is not None else "checked"


def make_app(store: FleetStore, runner: SlotRunner, concurrency: int):  # type: ignore[no-untyped-def]
    """The procrastinate app with the fleet's one task."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(store.url),
                                               kwargs={"application_name": "trimtab-worker"},
                                               min_size=1, max_size=concurrency + 4)
    app = procrastinate.App(connector=connector)

    # Linear back-off: 1 s, 2 s, ... ; 40 attempts wait about 13 minutes in all, long enough for a
    # PostgreSQL restart or a slow worker that still holds the portfolio.
    @app.task(name=TASK, queue=QUEUE, retry=procrastinate.RetryStrategy(max_attempts=40, linear_wait=1,
                                                                       retry_exceptions={Retry}))
    def check(name: str, slot: str) -> str:
        return runner(name, slot)

    return app


async def _ticks(app, store: FleetStore, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Queue due slots every ``tick``; hand stalled workers' jobs back every ``stalled_after / 2``."""
    last_stalled = 0.0
    while True:
        queued = 0
        try:
            queued = await asyncio.to_thread(store.dispatch)
            if time.monotonic() - last_stalled >= settings.stalled_after / 2:
                last_stalled = time.monotonic()
                await app.job_manager.prune_stalled_workers(settings.stalled_after)
                for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after,
                                                                  queue=QUEUE):
                    try:
                        await app.job_manager.retry_job(job)
                        log.warning("slot %s of %s goes back to the queue: its worker stopped",
                                    job.task_kwargs.get("slot"), job.task_kwargs.get("name"))
                    except Exception:  # noqa: BLE001 - another worker handed it back first
                        pass
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the database may be restarting: try again next tick
            log.warning("fleet tick failed: %s", f"{type(e).__name__}: {e}".split("\n")[0])
        await asyncio.sleep(0 if queued >= 2000 else settings.tick)


async def serve(url: str, settings: Settings) -> None:
    """Run one worker until it is told to stop (SIGINT/SIGTERM finish the jobs in hand first)."""
    store = await asyncio.to_thread(FleetStore.open, url, pool_size=settings.concurrency + 1)
    try:
        runner = SlotRunner(store, settings.worker_name)
        app = make_app(store, runner, settings.concurrency)
        async with app.open_async():
            ticks = asyncio.create_task(_ticks(app, store, settings))
            try:
                await app.run_worker_async(queues=[QUEUE], concurrency=settings.concurrency,
                                           name=settings.worker_name, delete_jobs="successful",
                                           update_heartbeat_interval=settings.heartbeat,
                                           stalled_worker_timeout=settings.stalled_after,
                                           fetch_job_polling_interval=max(settings.tick, 0.2),
                                           install_signal_handlers=True)
            finally:
                ticks.cancel()
    finally:
        store.close()


def run_worker(url: str, settings: Settings, *, on_retry=None) -> None:  # type: ignore[no-untyped-def]
    """``serve`` again and again while the database is away (a restart, a failover); return when
    the worker was told to stop."""
    import signal

    stopping = False

    def stop(*_) -> None:  # type: ignore[no-untyped-def]
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    delay = 0.5
    while True:
        started = time.monotonic()
        try:
            asyncio.run(serve(url, settings))
            return
        except KeyboardInterrupt:
            return
        except Exception as e:  # noqa: BLE001 - the database went away: wait, then start again
            if stopping:
                return
            if time.monotonic() - started > 30:
                delay = 0.5
            message = f"{type(e).__name__}: {e}".split("\n")[0]
            log.warning("worker stopped (%s); starting again in %.1f s", message, delay)
            if on_retry is not None:
                on_retry(message, delay)
            previous = signal.signal(signal.SIGTERM, stop)
            try:
                time.sleep(delay)
            except KeyboardInterrupt:
                return
            finally:
                signal.signal(signal.SIGTERM, previous)
            delay = min(delay * 2, 10.0)

"""The fleet at scale: N paper portfolios, hourly checks on a compressed clock, W workers on one
PostgreSQL, with faults (SIGKILL a random worker every K seconds and restart it; restart
PostgreSQL once), then the audit: every slot checked exactly once, no duplicate order, no run
left unfinished.

    python benchmarks/fleet_scale.py --portfolios 10000 --workers 1 2 4 --sim-hours 4 --speed 240

Prints one JSON document per worker count (and a table). Figures go into docs/FLEET.md.
``tests/test_fleet.py`` runs the same code at 200 portfolios, 2 workers, one kill.

Each worker is a real ``trimtab worker`` process (``python -m trimtab worker``), so the
figures include everything a deployment pays: config parsing, the composition root, the paper
account (one SQLite file per portfolio), the journal's advisory lock, procrastinate's queue.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ASSETS = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK"]
PRICES = {"BTC": 65000.0, "ETH": 3000.0, "SOL": 150.0, "BNB": 600.0, "XRP": 0.5, "ADA": 0.4, "DOGE": 0.1,
          "AVAX": 30.0, "DOT": 6.0, "LINK": 15.0}
START = datetime(2026, 1, 5, tzinfo=UTC)


# -- the portfolios ----------------------------------------------------------------------------

def make_portfolios(root: Path, count: int, *, seed: int = 7, order_latency: float = 0.0) -> list[tuple[str, str, Path, float]]:
    """``count`` paper portfolios under ``root`` (one folder each: config + paper account): 2 to 10
    assets, random targets, bands from 1% to 10%, hourly checks. A third start all in the quote
    asset (their first check rebalances), the rest on target. Returns fleet rows (name, config
    text, home, every seconds)."""
    from trimtab.config import config_from_text
    from trimtab.config_template import render_config
    from trimtab.core.assets import Targets
    from trimtab.core.rules import MarketRules
    from trimtab.venues.base import Market
    from trimtab.venues.paper import PaperVenue
    from trimtab.wiring import paper_settings

    rng = random.Random(seed)
    rows = []
    for i in range(count):
        name = f"p{i:05d}"
        home = root / name
        home.mkdir(parents=True, exist_ok=True)
        assets = rng.sample(ASSETS, rng.randint(2, 10) - 1)
        raw = [rng.uniform(0.5, 2.0) for _ in range(len(assets) + 1)]
        weights = {a: round(w / sum(raw), 4) for a, w in zip([*assets, "USDC"], raw, strict=True)}
        weights["USDC"] = round(1 - sum(v for k, v in weights.items() if k != "USDC"), 4)
        targets = Targets.of(weights, quote="USDC")
        value = rng.uniform(5_000, 100_000)
        off = i % 3 == 0
        holdings = {"USDC": value} if off else {a: value * w / PRICES.get(a, 1.0) for a, w in weights.items()}
        paper = dict(account="trimtab-paper.db", order_latency=order_latency, slippage_bps=5.0, bridge_fee=0.0005,
                     bridge_minutes=(2.0, 15.0), clock_speed=60.0, price_source="fixed", min_notional=10.0)
        text = render_config(targets, holdings={}, prices={}, venue="paper", fee=0.001, min_trade=10.0, paper=paper,
                             markets={a: "ethereum" for a in assets})
        band = rng.choice([0.01, 0.02, 0.03, 0.05, 0.08, 0.10])
        text = _set_band(text, band)
        (home / "trimtab.toml").write_text(text, encoding="utf-8")
        config = config_from_text(text, home / "trimtab.toml")
        rules = {a: Market(asset=a, chain="ethereum", rules=MarketRules(amount_step=1e-6, min_notional=10.0))
                 for a in assets}
        PaperVenue.create(home / "trimtab-paper.db", holdings={a: {"ethereum": q} for a, q in holdings.items()},
                          prices={a: PRICES[a] for a in assets}, markets=rules,
                          settings=paper_settings(config.venue, 0.001, "USDC")).close()
        rows.append((name, text, home, config.check_every.total_seconds()))
    return rows


def _set_band(text: str, band: float) -> str:
    lines = text.splitlines()
    out, in_policy = [], False
    for line in lines:
        if line.startswith("["):
            in_policy = line.strip() == "[policy]"
        if in_policy and line.startswith("band ="):
            line = f"band = {band}"
        if in_policy and line.startswith("kind ="):
            line = 'kind = "threshold"'
        out.append(line)
    return "\n".join(out) + "\n"


# -- the run -----------------------------------------------------------------------------------

@dataclass
class Workers:
    """``trimtab worker`` processes, killed and restarted on demand."""

    url: str
    concurrency: int
    env: dict
    log: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    started: int = 0
    kills: int = 0

    def start(self) -> str:
        self.started += 1
        name = f"w{self.started}"
        with open(self.log, "a") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "trimtab", "worker", "--concurrency", str(self.concurrency), "--name", name,
                 "--database", self.url], env=self.env, stdout=log, stderr=log)
        return name

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def _cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its reaped children, plus its live children's (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int, reaped: bool) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        values = [int(x) for x in fields[11:15]]  # utime, stime, cutime, cstime
        return sum(values if reaped else values[:2]) / tick

    total = own(pid, True)
    for child in Path("/proc").iterdir():
        if child.name.isdigit():
            try:
                if int(Path(f"/proc/{child.name}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    total += own(int(child.name), True)
            except (OSError, ValueError, IndexError):
                pass
    return total


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def run_scale(url: str, root: Path, *, portfolios: int, workers: int, concurrency: int = 4, sim_hours: float = 2.0,
              speed: float = 120.0, kill_every: float | None = None, kill_mid_run: bool = False,
              restart_postgres=None, postmaster=None, order_latency: float = 0.0, seed: int = 7,
              catch_up_timeout: float = 1800.0, template: Path | None = None, say=print) -> dict:  # type: ignore[no-untyped-def]
    """One run: ``portfolios`` paper portfolios checked hourly for ``sim_hours`` of a clock running
    ``speed`` times real time, by ``workers`` worker processes; then the audit. ``kill_every``:
    SIGKILL a random worker every so many real seconds and start another; ``kill_mid_run``: kill
    (once) the worker holding a run in flight; ``restart_postgres``: called once, half-way."""
    from trimtab.fleet.store import FleetStore

    fresh_database(url)
    t0 = time.monotonic()
    if template is not None:  # the same portfolios again, fresh: copy them (10,000 take minutes to make)
        import shutil

        if not (template / "rows.json").exists():
            made_rows = make_portfolios(template, portfolios, seed=seed, order_latency=order_latency)
            (template / "rows.json").write_text(json.dumps([[n, t, h.name, e] for n, t, h, e in made_rows]))
        shutil.copytree(template, root, dirs_exist_ok=True)
        rows = [(n, t, root / h, e) for n, t, h, e in json.loads((template / "rows.json").read_text())]
    else:
        rows = make_portfolios(root, portfolios, seed=seed, order_latency=order_latency)
    made = time.monotonic() - t0
    store = FleetStore.open(url)
    store.set_clock(START, speed=0.0)  # stopped while 10,000 rows go in
    store.add_many(rows)
    store.set_clock(START, speed=speed)
    with store.engine.connect() as c:
        anchors = c.exec_driver_sql("SELECT sim_anchor, wall_anchor FROM fleet_clock").one()
    firsts = {p.name: p.next_slot for p in store.list()}
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    pool = Workers(url, concurrency, env, root / "workers.log")
    duration = sim_hours * 3600 / speed
    say(f"{portfolios} portfolios made in {made:.1f} s; {workers} workers for {duration:.0f} s "
        f"({sim_hours:g} simulated hours at {speed:g}x)")
    pg_cpu = [0.0, _cpu_seconds(postmaster()) if postmaster else 0.0]  # spent before a restart, baseline
    usage0 = os.times()
    started = time.monotonic()
    for _ in range(workers):
        pool.start()
    next_kill = started + kill_every if kill_every else None
    restarted = None
    killed_mid_run = False
    frozen = None

    def faults(now: float) -> None:
        nonlocal next_kill, killed_mid_run, restarted
        if next_kill and now >= next_kill:
            pool.kill(random.choice(sorted(pool.processes)))
            pool.start()
            next_kill = now + kill_every
        if kill_mid_run and not killed_mid_run:
            holder = _worker_in_a_run(store)
            if holder in pool.processes:
                pool.kill(holder)
                pool.start()
                killed_mid_run = True
        if restart_postgres and restarted is None and now - started >= duration / 2:
            t = time.monotonic()
            if postmaster:
                pg_cpu[0] += _cpu_seconds(postmaster()) - pg_cpu[1]
            restart_postgres()
            if postmaster:
                pg_cpu[1] = _cpu_seconds(postmaster())
            restarted = time.monotonic() - t
            say(f"PostgreSQL restarted (down {restarted:.1f} s)")

    while time.monotonic() - started < duration:
        time.sleep(0.2)
        faults(time.monotonic())
    frozen = store.now()
    store.set_clock(frozen, speed=0.0)  # no slot after this one: the workers catch up, still being killed
    ran_for = time.monotonic() - started
    while _open_jobs(store) and time.monotonic() - started < duration + catch_up_timeout:
        time.sleep(0.5)
        faults(time.monotonic())
    finished = time.monotonic() - started
    pool.stop()
    usage1 = os.times()
    worker_cpu = (usage1.children_user + usage1.children_system) - (usage0.children_user + usage0.children_system)
    pg_cpu = pg_cpu[0] + _cpu_seconds(postmaster()) - pg_cpu[1] if postmaster else None
    audit = audit_fleet(store, firsts, frozen)
    lateness = _lateness(store, speed, anchors)
    size = _size(store)
    store.close()
    days = portfolios * sim_hours / 24
    checks = audit["checks"]
    return {
        "portfolios": portfolios, "workers": workers, "concurrency": concurrency, "speed": speed,
        "sim_hours": sim_hours, "run_seconds": round(ran_for, 1), "until_caught_up_seconds": round(finished, 1),
        "checks": checks, "checks_per_second": round(checks / finished, 1),
        "worker_cpu_seconds": round(worker_cpu, 1), "checks_per_worker_cpu_second": round(checks / max(worker_cpu, 1e-9), 1),
        "postgres_cpu_seconds": round(pg_cpu, 1) if pg_cpu is not None else None,
        "checks_per_postgres_cpu_second": round(checks / pg_cpu, 1) if pg_cpu else None,
        "lateness_seconds": lateness, "kills": pool.kills, "killed_mid_run": killed_mid_run,
        "postgres_restart_seconds": round(restarted, 1) if restarted is not None else None,
        "rows_per_portfolio_day": {k: round(v["rows"] / days, 2) for k, v in size.items()},
        "bytes_per_portfolio_day": round(sum(v["bytes"] for v in size.values()) / days),
        "tables": size,
        "audit": audit,
    }


def _worker_in_a_run(store) -> str | None:  # type: ignore[no-untyped-def]
    with store.engine.connect() as c:
        row = c.exec_driver_sql(
            "SELECT s.worker FROM runs r JOIN fleet_slots s ON s.name = r.portfolio AND s.finished_at IS NULL "
            "WHERE r.state NOT IN ('completed', 'failed', 'needs_attention') LIMIT 1").first()
    return row[0] if row else None


def _open_jobs(store) -> int:  # type: ignore[no-untyped-def]
    """Slots queued or running, plus portfolios with a slot due not yet queued."""
    with store.engine.connect() as c:
        queued = c.exec_driver_sql("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')").scalar()
        due = c.exec_driver_sql("SELECT count(*) FROM fleet_portfolios WHERE NOT paused AND next_slot <= "
                                f"to_timestamp(({store._NOW}))").scalar()
    return queued + due


def audit_fleet(store, firsts: dict, frozen: datetime) -> dict:  # type: ignore[no-untyped-def]
    """Every slot from each portfolio's first to the frozen clock checked exactly once; orders on
    the venues against legs in the journal; runs left unfinished."""
    from trimtab.engine.states import FINAL_RUN_STATES
    from trimtab.venues.paper_store import connect

    expected: dict[tuple[str, float], int] = {}
    homes = {}
    for p in store.list():
        homes[p.name] = p.home
        slot = firsts[p.name].timestamp()
        while slot <= frozen.timestamp():
            expected[(p.name, round(slot, 3))] = 0
            slot += p.every_seconds
    unexpected = 0
    with store.engine.connect() as c:
        for name, at in c.exec_driver_sql("SELECT portfolio, at FROM checks"):
            key = (name, round(at.timestamp(), 3))
            if key in expected:
                expected[key] += 1
            else:
                unexpected += 1
        legs = {(r[0], r[1]) for r in c.exec_driver_sql(
            "SELECT r.portfolio, l.client_id FROM legs l JOIN runs r ON r.id = l.run_id WHERE l.kind = 'order'")}
        states = dict(c.exec_driver_sql("SELECT state, count(*) FROM runs GROUP BY state").all())
        retried = c.exec_driver_sql("SELECT count(*) FROM fleet_slots WHERE attempts > 1").scalar()
    orders = 0
    orphans = 0
    for name, home in homes.items():
        db = connect(Path(home) / "trimtab-paper.db")
        for (cid,) in db.execute("SELECT client_order_id FROM orders"):
            orders += 1
            orphans += (name, cid) not in legs
        db.close()
    counts = list(expected.values())
    return {
        "slots": len(counts), "checked_exactly_once": sum(1 for n in counts if n == 1),
        "never_checked": sum(1 for n in counts if n == 0), "checked_twice_or_more": sum(1 for n in counts if n > 1),
        "checks_outside_slots": unexpected, "checks": sum(counts) + unexpected,
        "orders": orders, "order_legs_in_journal": len(legs), "duplicate_orders": orphans + max(0, orders - len(legs)),
        "runs": states, "unfinished_runs": sum(n for s, n in states.items() if s not in FINAL_RUN_STATES),
        "slots_retried_after_a_worker_died": retried,
    }


def _lateness(store, speed: float, anchors) -> dict:  # type: ignore[no-untyped-def]
    """Seconds (real) from the moment a slot fell due on the compressed clock to the end of its
    check, over every slot checked; and the same in simulated seconds (x speed)."""
    from sqlalchemy import text

    sim_anchor, wall_anchor = anchors
    with store.engine.connect() as c:
        late = [float(r[0]) for r in c.execute(text(
            "SELECT extract(epoch FROM finished_wall) - (:wall + (extract(epoch FROM slot) - :sim) / :speed) "
            "FROM fleet_slots WHERE finished_wall IS NOT NULL"), {"wall": wall_anchor, "sim": sim_anchor, "speed": speed})]
    if not late:
        return {}
    late.sort()
    q = statistics.quantiles(late, n=100) if len(late) > 1 else [late[0]] * 99
    return {"real_p50": round(q[49], 3), "real_p99": round(q[98], 3), "real_max": round(late[-1], 3),
            "sim_p50": round(q[49] * speed, 1), "sim_p99": round(q[98] * speed, 1)}


def _size(store) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    with store.engine.connect() as c:
        for (table,) in c.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            rows = c.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
            size = c.exec_driver_sql(f"SELECT pg_total_relation_size('\"{table}\"')").scalar()
            if rows:
                out[table] = {"rows": rows, "bytes": size}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sim-hours", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=120.0, help="simulated seconds per real second")
    parser.add_argument("--kill-every", type=float, default=20.0, help="real seconds between SIGKILLs (0: none)")
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--order-latency", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=None, help="write the JSON results here too")
    parser.add_argument("--template", type=Path, default=None,
                        help="a folder of pristine portfolios made by an earlier run (made there if empty)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import tempfile

    from postgres_server import postgres_server, postmaster_pid, restart_postgres

    results = []
    template = args.template or Path(tempfile.mkdtemp(prefix="fleet-template-"))
    template.mkdir(parents=True, exist_ok=True)
    with postgres_server("-c fsync=on -c max_connections=300") as url:
        for count in args.workers:
            with tempfile.TemporaryDirectory(prefix="fleet-scale-") as root:
                result = run_scale(url, Path(root), portfolios=args.portfolios, workers=count, template=template,
                                   concurrency=args.concurrency, sim_hours=args.sim_hours, speed=args.speed,
                                   kill_every=args.kill_every or None, order_latency=args.order_latency,
                                   restart_postgres=None if args.no_postgres_restart else (lambda: restart_postgres(url)),
                                   postmaster=lambda: postmaster_pid(url), say=lambda m: print(m, file=sys.stderr))
            print(json.dumps(result), flush=True)
            results.append(result)
            if args.out:
                args.out.write_text(json.dumps(results, indent=1))
    base = results[0]["checks_per_second"]
    print("\nworkers  checks/s  x1   chk/worker-cpu-s  chk/pg-cpu-s  p50 late s  p99 late s  exactly-once  dup orders  unfinished")
    for r in results:
        a = r["audit"]
        print(f"{r['workers']:>7}  {r['checks_per_second']:>8}  {r['checks_per_second'] / base:>4.2f}  "
              f"{r['checks_per_worker_cpu_second']:>16}  {r['checks_per_postgres_cpu_second']!s:>12}  "
              f"{r['lateness_seconds'].get('real_p50')!s:>10}  {r['lateness_seconds'].get('real_p99')!s:>10}  "
              f"{a['checked_exactly_once']}/{a['slots']:<6}  {a['duplicate_orders']:>10}  {a['unfinished_runs']:>10}")


if __name__ == "__main__":
    main()

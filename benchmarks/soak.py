"""Soak: the production loop over a simulated year of hourly checks, with venue faults and SIGKILLs.

    python benchmarks/soak.py [--days 365] [--seed 1] [--fault-rate 0.01] [--kill-every 20] [--json]

A paper portfolio (BTC/ETH/USDC 50/30/20 over four chains; the owner deposits off the market
chains, so runs bridge) replays the shipped hourly history on the paper venue's simulated clock. A
child process runs the loop `trimtab run` runs (``Agent.check`` once an hour, a check the venue
fails retried at the next one; venue, journal, guards and strategy built from the config by
``interfaces/wiring``) on the venue wrapped in ``FaultyVenue``: ``--fault-rate`` of the calls fail
with a timeout, 5xx or 429, and each order or bridge meets ``--write-fault-rate`` of each fault
only writes have (a lost answer after the effect, a partial fill, a stalled, refused or refunded
bridge); prices come 10x off and the owner moves money at a quarter of ``--fault-rate``. The
executor waits for bridges by advancing the simulated clock; a run parked for a person is
acknowledged (the soak plays the operator). The parent SIGKILLs the child at random moments (a
share ``--aim`` of them while a run is in flight) and starts it again; it must resume from the
journal. At the end it prints the faults injected by kind, runs, orders, duplicates (must be 0)
and the value reconciled against the paper venue's own ledger to the cent (see soak_ledger.py);
it exits 1 on a duplicate, a mismatch between venue and journal, a crash of the loop, or books
that do not reconcile.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGETS = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
START_VALUE = 10_000.0
PLACEMENT = {"BTC": {"bitcoin": 0.6, "ethereum": 0.4}, "ETH": {"arbitrum": 0.5, "ethereum": 0.5},
             "USDC": {"ethereum": 0.5, "base": 0.5}}
MARKETS = {"BTC": "ethereum", "ETH": "arbitrum"}
#: Where the owner puts money in: never where it trades, so runs must bridge it first.
HOME = {"BTC": "bitcoin", "ETH": "ethereum", "USDC": "base"}
STEPS = {"BTC": 1e-5, "ETH": 1e-4}
#: A run in flight, and how far it got (its state and the legs that moved past submitting).
UNFINISHED = ("SELECT r.id, r.state, (SELECT COUNT(*) FROM legs l WHERE l.run_id = r.id AND l.state NOT IN "
              "('planned', 'submitting')) FROM runs r WHERE r.state NOT IN ('completed', 'failed', 'needs_attention') "
              "LIMIT 1")

CONFIG = """\
[portfolio]
name = "soak"
quote = "USDC"
targets = {{ BTC = 0.5, ETH = 0.3, USDC = 0.2 }}

[policy]
kind = "combined"
band = 0.03
emergency_band = 0.10
schedule = "weekly"
check_every = "1h"

[trading]
fee = 0.001
min_trade = 10.0

[venue]
kind = "paper"
account = "paper.db"
price_source = "history"
clock_speed = 0.0
order_latency = {latency}
slippage_bps = 5.0
bridge_fee = 0.0005
bridge_minutes = [2.0, 15.0]
markets = {{ BTC = "ethereum", ETH = "arbitrum" }}

[execution]
max_price_age = "2h"
max_price_move = 0.1
transfer_timeout = "2h"
"""


# -- set-up --------------------------------------------------------------------------------------

def set_up(directory: Path, *, start: datetime, end: datetime, seed: int, rate: float, write_rate: float,
           latency: float) -> dict:
    """A fresh paper account and config in ``directory``; return the soak's parameters (soak.json)."""
    from trimtab.core.rules import MarketRules
    from trimtab.venues.base import Market
    from trimtab.venues.paper import PaperVenue
    from trimtab.venues.paper_history import HistoryPrices
    from trimtab.venues.paper_store import PaperSettings

    directory.mkdir(parents=True, exist_ok=True)
    first = {a: q.price for a, q in HistoryPrices.load(["BTC", "ETH"]).at(start, ["BTC", "ETH"]).items()}
    quantities = {a: START_VALUE * w / first.get(a, 1.0) for a, w in TARGETS.items()}
    holdings = {a: {c: quantities[a] * share for c, share in PLACEMENT[a].items()} for a in quantities}
    markets = {a: Market(asset=a, chain=c, rules=MarketRules(amount_step=STEPS[a], min_notional=10.0))
               for a, c in MARKETS.items()}
    settings = PaperSettings(fee=0.001, slippage_bps=5, clock_speed=0, price_source="history", order_latency=latency)
    PaperVenue.create(directory / "paper.db", holdings=holdings, prices=first, markets=markets, settings=settings,
                      start=start).close()
    (directory / "trimtab.toml").write_text(CONFIG.format(latency=latency))
    params = {"start": start.isoformat(), "end": end.isoformat(), "seed": seed, "rate": rate, "write_rate": write_rate,
              "holdings": {a: math.fsum(c.values()) for a, c in holdings.items()}}
    (directory / "soak.json").write_text(json.dumps(params))
    return params


# -- the child: the production loop --------------------------------------------------------------

def child(directory: Path, incarnation: int) -> int:
    """Run the hourly loop from wherever the venue's clock and the journal stand, until the end."""
    from soak_ledger import paper_owner

    from trimtab.config import load_config
    from trimtab.core.durations import parse_duration
    from trimtab.engine.agent import Agent
    from trimtab.engine.executor import Executor
    from trimtab.errors import Denied, VenueError
    from trimtab.wiring import beside, guards, journal_url, open_venue, strategy
    from trimtab.journal import Journal
    from trimtab.venues.faulty import FaultyVenue, spread_rates

    params = json.loads((directory / "soak.json").read_text())
    end = datetime.fromisoformat(params["end"])
    config, path = load_config(directory / "trimtab.toml")
    paper = open_venue(config, path)
    log = (directory / "events.log").open("a", buffering=1)

    def on_fault(kind, call, detail):  # type: ignore[no-untyped-def]
        log.write(f"fault\t{kind}\t{call}\t{detail}\n")

    venue = FaultyVenue(paper, rates=spread_rates(params["rate"], params["write_rate"]),
                        seed=params["seed"] * 100_003 + incarnation, owner=paper_owner(paper.path, HOME),
                        on_fault=on_fault)
    journal = Journal.open(journal_url(config, path))
    executor = Executor(venue, journal, portfolio=config.portfolio.name, quote=config.portfolio.quote,
                        guards=guards(config, path), wait=paper.advance,
                        transfer_timeout=parse_duration(config.execution.transfer_timeout))
    agent = Agent(venue, journal, strategy(config), executor, beside(path, "trimtab.lock"))
    (directory / "child.up").write_text(str(incarnation))
    while (now := paper.now()) < end:
        calls = sum(venue.calls.values())
        try:
            agent.check()
        except VenueError as e:  # a failed check is not news: try again at the next one
            if not e.retryable:
                raise
            log.write(f"check_failed\t{type(e).__name__}\t{e}\n")
        except Denied as denied:
            if denied.code != "RUN_NEEDS_ATTENTION":
                raise
            parked = journal.runs(config.portfolio.name, states=["needs_attention"], limit=1)[0]
            agent.acknowledge(parked.id)  # the operator looked at the venue and closed it
            log.write(f"acknowledged\t{parked.id}\t{parked.reason}\n")
        log.write(f"calls\t{sum(venue.calls.values()) - calls}\n")
        paper.set_time(max(now, paper.now()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
    return 0


# -- the parent: start, kill, restart ------------------------------------------------------------

def drive(directory: Path, *, seed: int, kill_every: float, max_kills: int | None, aim: float) -> dict:
    """Run children until one reaches the end; SIGKILL them at random moments. Return the tallies.

    A kill comes a random time (mean ``kill_every`` s) after the child is up; an aimed one then
    waits for a run in flight, one that moved since the last aimed kill (so that a run killed
    while it resumes is not killed there forever)."""
    rng = random.Random(seed)
    kills = aimed = crashes = 0
    errors: list[str] = []
    incarnation = 0
    last_aimed: tuple | None = None
    up = directory / "child.up"
    while True:
        incarnation += 1
        up.unlink(missing_ok=True)
        with (directory / "child.err").open("w") as err:
            process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(directory),
                                        str(incarnation)], stderr=err)
            killed = False
            if max_kills is None or kills < max_kills:
                _wait(process, 120, up.exists)
                _wait(process, rng.expovariate(1 / kill_every), lambda: False)
                if rng.random() < aim:
                    seen = _wait_for_a_run(directory / "trimtab.db", process, kill_every, last_aimed)
                    if seen is not None:
                        time.sleep(rng.uniform(0, 0.03))
                        aimed, last_aimed = aimed + 1, seen
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    killed = True
                    kills += 1
            process.wait()
        if killed:
            continue
        if process.returncode == 0:
            break
        crashes += 1
        lines = (directory / "child.err").read_text().strip().splitlines()
        errors.append(lines[-1] if lines else f"exit {process.returncode}")
        if crashes > 5:
            break
    return {"kills": kills, "kills_during_a_run": aimed, "crashes": crashes, "crash_errors": errors,
            "processes": incarnation}


def _wait(process: subprocess.Popen, seconds: float, done) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline and not done():
        time.sleep(0.01)


def _wait_for_a_run(journal: Path, process: subprocess.Popen, seconds: float, last: tuple | None) -> tuple | None:
    """Poll the journal until a run is in flight and not where it was at the last aimed kill (return
    where it is), the child ends, or ``seconds`` pass (None)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute(UNFINISHED).fetchone()
            if row is not None and tuple(row) != last:
                return tuple(row)
        except sqlite3.Error:
            pass
        time.sleep(0.005)
    return None


def tally_events(directory: Path) -> dict:
    faults: Counter[str] = Counter()
    other: Counter[str] = Counter()
    path = directory / "events.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        kind, *rest = line.split("\t")
        if kind == "fault" and rest:
            faults[rest[0]] += 1
        elif kind == "calls" and rest:
            other["calls"] += int(rest[0])
        else:
            other[kind] += 1
    return {"faults": dict(sorted(faults.items())), "faults_total": sum(faults.values()),
            "venue_calls": other["calls"],
            "checks_failed": other["check_failed"], "acknowledged": other["acknowledged"]}


# -- main ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        return child(Path(args.child[0]), int(args.child[1]))
    from soak_ledger import audit

    from trimtab.data import load_prices

    last = load_prices("hourly", ["BTC"]).index[-1].to_pydatetime()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC) if args.start else last - timedelta(days=args.days)
    end = start + timedelta(days=args.days)
    directory = Path(args.dir or tempfile.mkdtemp(prefix="trimtab-soak-"))
    params = set_up(directory, start=start, end=end, seed=args.seed, rate=args.fault_rate,
                    write_rate=args.write_fault_rate, latency=args.order_latency)
    began = time.perf_counter()
    processes = drive(directory, seed=args.seed, kill_every=args.kill_every, max_kills=args.kills,
                      aim=args.aim)
    seconds = time.perf_counter() - began
    books = audit(directory / "paper.db", directory / "trimtab.db", params["holdings"], start)
    result = {"days": args.days, "start": start.isoformat(), "end": end.isoformat(), "seed": args.seed,
              "fault_rate": args.fault_rate,
              "write_fault_rate": args.write_fault_rate, "wall_seconds": seconds, "directory": str(directory),
              **processes, **tally_events(directory), **books}
    ok = (result["duplicates"] == 0 and result["reconciled"] and result["quantities_match"]
          and result["refused_but_done"] == 0 and result["wrong_quantity"] == 0 and result["journal_only"] == 0
          and result["crashes"] == 0 and result["completed_past_a_refusal"] == 0)
    result["ok"] = ok
    print(json.dumps(result, indent=2) if args.json else _text(result))
    return 0 if ok else 1


def _text(r: dict) -> str:
    faults = ", ".join(f"{k} {v}" for k, v in r["faults"].items()) or "none"
    share = r["faults_total"] / max(r["venue_calls"], 1)
    runs = ", ".join(f"{k} {v}" for k, v in sorted(r["runs"].items())) or "none"
    return "\n".join([
        (f"soak: {r['days']} days of hourly checks from {r['start'][:10]}, seed {r['seed']}, "
        f"in {r['wall_seconds']:.0f} s"),
        (f"processes: {r['processes']} ({r['kills']} SIGKILLs, {r['kills_during_a_run']} of them during a run; "
        f"{r['crashes']} crashes{': ' + '; '.join(r['crash_errors']) if r['crash_errors'] else ''})"),
        (f"faults injected: {r['faults_total']} in {r['venue_calls']} venue calls ({share:.2%}; rates: "
        f"{r['fault_rate']:.1%} of calls, {r['write_fault_rate']:.0%} per write-only kind): {faults}"),
        f"checks: {r['checks']} journaled, {r['checks_failed']} failed on a venue error and were retried next hour",
        (f"runs: {runs}; {r['acknowledged']} parked runs acknowledged; "
         f"{r['completed_past_a_refusal']} completed past a refused leg"),
        (f"orders sent: {r['venue_orders']}; bridges: {r['venue_transfers']} (+{r['refunds']} refunds); "
        f"owner changes: {r['owner_changes']}"),
        (f"duplicates: {r['duplicates']} (client ids filled twice {r['duplicate_client_ids']}, venue writes "
        f"missing from the journal {r['orphan_writes']}); refusals that were fills: {r['refused_but_done']}; "
        f"quantities differing: {r['wrong_quantity']}; journal fills the venue lacks: {r['journal_only']}"),
        (f"value: start {r['start_value']:,.2f} + market {r['market_moves']:,.2f} + owner {r['owner_flows']:,.2f} "
        f"- fees {r['fees']:,.2f} = {r['expected_final_value']:,.2f}; venue ledger {r['final_value']:,.2f} "
        f"(difference {r['difference']:+.6f}): {'reconciled to the cent' if r['reconciled'] else 'NOT RECONCILED'}"),
        "OK" if r["ok"] else "FAILED",
    ])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=365, help="simulated days of hourly checks (default 365)")
    parser.add_argument("--start", help="first day (default: the history's last DAYS days)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.01, help="share of venue calls failing with a timeout, 5xx or 429 (default 0.01)")
    parser.add_argument("--write-fault-rate", type=float, default=0.05,
                        help="rate of each write-only fault per order or bridge (default 0.05)")
    parser.add_argument("--kill-every", type=float, default=20.0, help="mean real seconds between SIGKILLs")
    parser.add_argument("--aim", type=float, default=0.5,
                        help="share of the kills that wait for a run in flight (default 0.5)")
    parser.add_argument("--kills", type=int, default=None, help="stop killing after this many")
    parser.add_argument("--order-latency", type=float, default=0.005, help="real seconds per paper order")
    parser.add_argument("--dir", help="working directory (default: a new temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    sys.exit(main())

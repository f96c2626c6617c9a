"""``trimtab demo``: the production policy over five years of real hourly prices, on a simulated clock.

A paper account (BTC/ETH/USDC 50/30/20, spread over bitcoin, ethereum, arbitrum and base, so that
bridges happen) is checked every hour with the pure core. Checks that hold are kept in memory and
journaled in batches; every rebalance goes through the real agent, executor, paper venue and
journal, with the venue's clock set to the bar and advanced while bridges travel.
"""

from __future__ import annotations

import math
import shutil
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from trimtab.core.assets import Targets
from trimtab.core.drift import measure_drift
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Moment, Period
from trimtab.core.valuation import value_portfolio
from trimtab.engine.agent import Agent, Strategy, check_record
from trimtab.engine.executor import Executor
from trimtab.engine.guards import Guards
from trimtab.journal import CheckRecord, Journal
from trimtab.venues.base import Market, consolidate
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

TARGETS = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
START_VALUE = 10_000.0
#: Where the demo's holdings sit (shares per asset) and the chain each asset trades on.
PLACEMENT = {"BTC": {"bitcoin": 0.6, "ethereum": 0.4}, "ETH": {"arbitrum": 0.5, "ethereum": 0.5},
             "USDC": {"ethereum": 0.5, "base": 0.5}}
MARKET_CHAINS = {"BTC": "ethereum", "ETH": "arbitrum"}
POLICY = PolicySpec(kind=PolicyKind.COMBINED, band=0.05, emergency_band=0.15, schedule=Period.MONTHLY,
                    check_every=timedelta(hours=1))
#: Hourly bars: a quote is up to an hour old, and a bridge may carry a run into the next bar.
GUARDS = Guards(max_price_age=timedelta(hours=2), max_price_move=0.10)
_FLUSH_EVERY = 5_000


def run_demo(directory: str | Path, *, start: str | None = None, end: str | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Run the demo into ``directory`` (replaced if it holds an earlier demo); return its summary."""
    from trimtab.data import load_prices

    began = time.perf_counter()
    directory = _fresh(Path(directory))
    closes = load_prices("hourly", ["BTC", "ETH"], start=start, end=end)
    if start is None:
        closes = closes.loc[closes.index[-1] - timedelta(days=5 * 365):]
    times = closes.index.to_pydatetime()
    prices = {a: closes[a].to_numpy() for a in ("BTC", "ETH")}
    targets = Targets.of(TARGETS)
    agent = _agent(directory, targets, times[0], {a: float(prices[a][0]) for a in prices})
    held = consolidate(agent.venue.balances())
    initial = dict(held)

    weights = np.zeros((len(times), 3))
    drift = np.zeros(len(times))
    marks: list[tuple[int, str]] = []
    pending: list[CheckRecord] = []
    last_rebalance = previous = None
    trigger = POLICY.trigger()
    bar = _progress(len(times)) if progress else None
    for i, now in enumerate(times):
        bar_prices = {"BTC": float(prices["BTC"][i]), "ETH": float(prices["ETH"][i])}
        valuation = value_portfolio(held, bar_prices, quote="USDC", assets=targets.assets)
        report = measure_drift(valuation, targets)
        decision = trigger.decide(report, Moment(now=now, previous_check_at=previous, last_rebalance_at=last_rebalance))
        drift[i] = report.max_drift  # what the check saw, before any rebalance
        if decision.rebalance:
            agent.journal.record_checks(pending)
            pending = []
            agent.venue.set_time(now)
            assessment = agent.assess(now)
            agent.journal.record_checks([check_record(agent.portfolio, assessment, now)])
            if not assessment.plan.is_empty:
                run_id = agent.executor.start(assessment.plan, value_before=assessment.valuation.total_value)
                outcome = agent.executor.execute(run_id)
                marks.append((i, decision.trigger))
                last_rebalance = now
                held = consolidate(agent.venue.balances())
                if outcome.state != "completed":
                    raise RuntimeError(f"demo run {run_id} ended {outcome.state}: {outcome.reason}")
                valuation = value_portfolio(held, bar_prices, quote="USDC", assets=targets.assets)
                report = measure_drift(valuation, targets)
        else:
            pending.append(quiet_check(agent.portfolio, now, valuation, report, decision))
            if len(pending) >= _FLUSH_EVERY:
                agent.journal.record_checks(pending)
                pending = []
        weights[i] = [valuation.weights[a] for a in ("BTC", "ETH", "USDC")]
        previous = now
        if bar is not None and (i % 500 == 0 or i == len(times) - 1):
            bar[0].update(bar[1], completed=i + 1)
    chart = finish(agent, pending, bar, directory / "demo.png", times, weights, drift, marks, TARGETS)
    return _summary(agent, directory, times, prices, held, initial, drift, marks, chart, time.perf_counter() - began)


def finish(agent: Agent, pending: list[CheckRecord], bar, chart: Path, times, weights, drift,  # type: ignore[no-untyped-def]
           marks, targets: dict[str, float]) -> Path:
    """A demo's end: the last batched checks written, the progress bar stopped, the chart drawn."""
    from trimtab.demo.chart import draw_chart

    agent.journal.record_checks(pending)
    if bar is not None:
        bar[0].stop()
    draw_chart(chart, times, weights, drift, marks, targets, bands=(0.05, 0.15))
    return chart


def quiet_check(portfolio: str, now, valuation, report, decision) -> CheckRecord:  # type: ignore[no-untyped-def]
    """The journal's record of a check that did not rebalance (batched: most hours are quiet)."""
    return CheckRecord(portfolio=portfolio, at=now, total_value=valuation.total_value, weights=dict(valuation.weights),
                       drift={d.asset: d.drift for d in report.assets}, max_drift=report.max_drift, rebalance=False,
                       trigger=decision.trigger, reason=decision.reason)


def _agent(directory: Path, targets: Targets, start, first_prices: dict[str, float]) -> Agent:  # type: ignore[no-untyped-def]
    values = {a: START_VALUE * w for a, w in TARGETS.items()}
    quantities = {a: values[a] / first_prices.get(a, 1.0) for a in values}
    holdings = {a: {c: quantities[a] * share for c, share in PLACEMENT[a].items()} for a in quantities}
    markets = {a: Market(asset=a, chain=c, rules=MarketRules(amount_step=10.0 ** -math.ceil(math.log10(first_prices[a])) / 100,
                                                             min_notional=10.0))
               for a, c in MARKET_CHAINS.items()}
    venue = PaperVenue.create(directory / "demo-paper.db", holdings=holdings, prices=first_prices, markets=markets,
                              settings=PaperSettings(fee=0.001, slippage_bps=5, clock_speed=0, price_source="history"),
                              start=start)
    journal = Journal.open(f"sqlite:///{directory / 'demo-journal.db'}")
    executor = Executor(venue, journal, portfolio="demo", guards=GUARDS, wait=venue.advance)
    strategy = Strategy(targets=targets, policy=POLICY, fee=0.001, min_trade=10.0)
    return Agent(venue, journal, strategy, executor, directory / "demo.lock")


def _fresh(directory: Path) -> Path:
    for name in ("demo-paper.db", "demo-paper.db-wal", "demo-paper.db-shm", "demo-journal.db",
                 "demo-journal.db-wal", "demo-journal.db-shm", "demo.png", "demo.lock"):
        (directory / name).unlink(missing_ok=True)
    if directory.exists() and not directory.is_dir():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _progress(total: int):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rich.console import Console

    bar = Progress(TextColumn("hourly checks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True, markup=False), transient=True)
    bar.start()
    return bar, bar.add_task("demo", total=total)


def _summary(agent: Agent, directory: Path, times, prices, held, initial, drift, marks, chart, seconds) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    final_prices = {"BTC": float(prices["BTC"][-1]), "ETH": float(prices["ETH"][-1]), "USDC": 1.0}
    value = lambda q: math.fsum(q.get(a, 0.0) * p for a, p in final_prices.items())
    runs = agent.journal.runs("demo", limit=1_000_000)
    run_ids = [r.id for r in runs]
    fills = agent.journal.fills(run_ids)
    transfers = agent.journal.transfers(run_ids)
    bridge_fees = math.fsum(leg.fee or 0.0 for r in run_ids for leg in agent.journal.legs(r) if leg.kind == "transfer")
    months = max((times[-1] - times[0]).days / 30.4375, 1e-9)
    return {
        "start": times[0].isoformat(), "end": times[-1].isoformat(), "checks": len(times),
        "wall_seconds": seconds, "quote": "USDC",
        "rebalances": len(marks), "rebalances_per_month": len(marks) / months,
        "triggers": dict(Counter(trigger for _, trigger in marks)),
        "rebalances_by_month": dict(Counter(f"{times[i]:%Y-%m}" for i, _ in marks)),
        "runs_completed": sum(1 for r in runs if r.state == "completed"),
        "bridges": len(transfers), "orders": len(fills),
        "max_drift": float(np.max(drift)),
        "fees": math.fsum(f["fee"] + f["slippage"] for f in fills) + bridge_fees,
        "trading_fees": math.fsum(f["fee"] for f in fills), "slippage": math.fsum(f["slippage"] for f in fills),
        "bridge_fees": bridge_fees,
        "final_value": value(held), "buy_and_hold_value": value(initial), "start_value": START_VALUE,
        "chart": str(chart), "journal": str(directory / "demo-journal.db"),
        "journal_checks": agent.journal.count_checks("demo"),
    }

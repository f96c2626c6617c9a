"""``trimtab demo --multi-venue``: one portfolio across three paper venues over the shipped history.

* ``wallet``: a wallet on ethereum, base and solana (ETH trades on ethereum, SOL on solana; USDC on
  base and ethereum); it can send to and receive from the exchange.
* ``perps``: BTC exposure as a perp with USDC margin, which, like Purple Flea trading's Hyperliquid
  margin, can neither send nor receive: its capital stays its own.
* ``exchange``: a spot account trading BTC, ETH and SOL at a lower fee; moves to and from the wallet
  cost 0.05 % and take 10-30 minutes.

Every hour the consolidated portfolio (BTC/ETH/SOL/USDC 40/25/15/20) is checked with the production
policy; every rebalance goes through the real agent, router, executor, composite venue and journal,
each venue's clock set to the bar and advanced together while bridges and moves travel. The summary
counts the cross-venue moves the policy caused and what they cost.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from trimtab.core.assets import Targets
from trimtab.core.drift import measure_drift
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Moment
from trimtab.core.valuation import value_portfolio
from trimtab.demo.simulation import GUARDS, POLICY, _fresh, _progress, finish, quiet_check
from trimtab.engine.agent import Agent, Strategy, check_record
from trimtab.engine.executor import Executor
from trimtab.journal import CheckRecord, Journal
from trimtab.venues.base import Market, consolidate
from trimtab.venues.composite import CompositeVenue
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

TARGETS = {"BTC": 0.4, "ETH": 0.25, "SOL": 0.15, "USDC": 0.2}
ASSETS = ("BTC", "ETH", "SOL")
START_VALUE = 10_000.0
#: value at the start per venue, asset and chain (sums to START_VALUE, on target in total)
LAYOUT = {
    "wallet": {"ETH": {"ethereum": 2500.0}, "SOL": {"solana": 1500.0}, "USDC": {"base": 500.0, "ethereum": 500.0}},
    "perps": {"BTC": {"hyperliquid": 2000.0}, "USDC": {"hyperliquid": 500.0}},
    "exchange": {"BTC": {"spot": 2000.0}, "USDC": {"spot": 500.0}},
}
MARKETS = {"wallet": {"ETH": ("ethereum", 0.003), "SOL": ("solana", 0.003)},
           "perps": {"BTC": ("hyperliquid", 0.00055)},
           "exchange": {"BTC": ("spot", 0.001), "ETH": ("spot", 0.001), "SOL": ("spot", 0.001)}}
MOVES = {"wallet": dict(move_fee=0.0005, move_minutes=(10.0, 30.0)),
         "perps": dict(can_send=False, can_receive=False),
         "exchange": dict(move_fee=0.0005, move_minutes=(10.0, 30.0))}
FILES = [f"demo-{n}.db{s}" for n in LAYOUT for s in ("", "-wal", "-shm")] + [
    "demo-journal.db", "demo-journal.db-wal", "demo-journal.db-shm", "demo.png", "demo.lock"]


def run_multi_venue_demo(directory: str | Path, *, start: str | None = None, end: str | None = None,
                         progress: bool = True) -> dict[str, Any]:
    """Run the demo across venues into ``directory``; return its summary."""
    from trimtab.data import load_prices

    began = time.perf_counter()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (directory / name).unlink(missing_ok=True)
    _fresh(directory)
    closes = load_prices("hourly", list(ASSETS), start=start, end=end)
    if start is None:
        closes = closes.loc[closes.index[-1] - timedelta(days=5 * 365):]
    times = closes.index.to_pydatetime()
    prices = {a: closes[a].to_numpy() for a in ASSETS}
    targets = Targets.of(TARGETS)
    agent = _agent(directory, times[0], {a: float(prices[a][0]) for a in ASSETS})
    venue: CompositeVenue = agent.venue  # type: ignore[assignment]
    held = consolidate(venue.balances())
    initial = dict(held)
    weights = np.zeros((len(times), len(TARGETS)))
    drift = np.zeros(len(times))
    marks: list[tuple[int, str]] = []
    notes: Counter[str] = Counter()
    pending: list[CheckRecord] = []
    last_rebalance = previous = None
    trigger = POLICY.trigger()
    bar = _progress(len(times)) if progress else None
    for i, now in enumerate(times):
        bar_prices = {a: float(prices[a][i]) for a in ASSETS}
        valuation = value_portfolio(held, bar_prices, quote="USDC", assets=targets.assets)
        report = measure_drift(valuation, targets)
        decision = trigger.decide(report, Moment(now=now, previous_check_at=previous, last_rebalance_at=last_rebalance))
        drift[i] = report.max_drift
        if decision.rebalance:
            agent.journal.record_checks(pending)
            pending = []
            for member in venue.members.values():
                member.set_time(now)  # type: ignore[attr-defined]
            assessment = agent.assess(now)
            agent.journal.record_checks([check_record(agent.portfolio, assessment, now)])
            if assessment.note:
                notes[re.sub(r"about [0-9,.]+ ", "", assessment.note)] += 1
            if not assessment.plan.is_empty:
                run_id = agent.executor.start(assessment.plan, value_before=assessment.valuation.total_value)
                outcome = agent.executor.execute(run_id)
                marks.append((i, decision.trigger))
                last_rebalance = now
                held = consolidate(venue.balances())
                if outcome.state != "completed":
                    raise RuntimeError(f"demo run {run_id} ended {outcome.state}: {outcome.reason}")
                valuation = value_portfolio(held, bar_prices, quote="USDC", assets=targets.assets)
                report = measure_drift(valuation, targets)
        else:
            pending.append(quiet_check(agent.portfolio, now, valuation, report, decision))
        weights[i] = [valuation.weights.get(a, 0.0) for a in TARGETS]
        previous = now
        if bar is not None and (i % 500 == 0 or i == len(times) - 1):
            bar[0].update(bar[1], completed=i + 1)
    chart = finish(agent, pending, bar, directory / "demo.png", times, weights, drift, marks, TARGETS)
    return _summary(agent, directory, times, prices, held, initial, drift, marks, notes, chart,
                    time.perf_counter() - began)


def _agent(directory: Path, start, first: dict[str, float]) -> Agent:  # type: ignore[no-untyped-def]
    members = {}
    for name, layout in LAYOUT.items():
        holdings = {a: {c: v / first.get(a, 1.0) for c, v in chains.items()} for a, chains in layout.items()}
        markets = {a: Market(asset=a, chain=c, rules=MarketRules(
            amount_step=10.0 ** -math.ceil(math.log10(first[a])) / 100, min_notional=10.0, taker_fee=fee))
            for a, (c, fee) in MARKETS[name].items()}
        settings = PaperSettings(fee=0.001, slippage_bps=5, clock_speed=0, price_source="history", **MOVES[name])
        members[name] = PaperVenue.create(directory / f"demo-{name}.db", holdings=holdings, prices=first,
                                          markets=markets, settings=settings, start=start)
    venue = CompositeVenue(members, quote="USDC", kinds={n: "paper" for n in members})
    journal = Journal.open(f"sqlite:///{directory / 'demo-journal.db'}")

    def wait(seconds: float) -> None:
        for member in members.values():
            member.advance(seconds)

    executor = Executor(venue, journal, portfolio="demo", guards=GUARDS, wait=wait)
    strategy = Strategy(targets=Targets.of(TARGETS), policy=POLICY, fee=0.001, min_trade=10.0, direct_pairs=False)
    return Agent(venue, journal, strategy, executor, directory / "demo.lock")


def _summary(agent: Agent, directory: Path, times, prices, held, initial, drift, marks, notes, chart,  # type: ignore[no-untyped-def]
             seconds) -> dict[str, Any]:
    final = {**{a: float(prices[a][-1]) for a in ASSETS}, "USDC": 1.0}
    value = lambda q: math.fsum(q.get(a, 0.0) * p for a, p in final.items())  # noqa: E731
    runs = agent.journal.runs("demo", limit=1_000_000)
    run_ids = [r.id for r in runs]
    fills = agent.journal.fills(run_ids)
    legs = [leg for r in run_ids for leg in agent.journal.legs(r) if leg.kind == "transfer"]
    moves = [leg for leg in legs if leg.chain.split(":")[0] != (leg.to_chain or "").split(":")[0]]
    bridges = [leg for leg in legs if leg not in moves]
    transfers = {t["client_id"]: t for t in agent.journal.transfers(run_ids)}
    minutes = [((transfers[m.client_id]["arrived_at"] - transfers[m.client_id]["started_at"]).total_seconds() / 60)
               for m in moves if transfers.get(m.client_id, {}).get("arrived_at")]
    pairs = Counter(f"{m.chain.split(':')[0]} -> {(m.to_chain or '').split(':')[0]}" for m in moves)
    months = max((times[-1] - times[0]).days / 30.4375, 1e-9)
    return {
        "start": times[0].isoformat(), "end": times[-1].isoformat(), "checks": len(times), "wall_seconds": seconds,
        "quote": "USDC", "venues": list(LAYOUT), "rebalances": len(marks), "rebalances_per_month": len(marks) / months,
        "triggers": dict(Counter(trigger for _, trigger in marks)),
        "runs_completed": sum(1 for r in runs if r.state == "completed"), "orders": len(fills),
        "orders_by_venue": dict(Counter(f["chain"].split(":")[0] for f in fills)),
        "bridges": len(bridges), "bridge_fees": math.fsum(b.fee or 0.0 for b in bridges),
        "moves": len(moves), "moves_by_pair": dict(pairs), "move_fees": math.fsum(m.fee or 0.0 for m in moves),
        "moved_value": math.fsum(m.value or 0.0 for m in moves),
        "runs_with_a_move": len({m.run_id for m in moves}),
        "move_minutes_mean": (math.fsum(minutes) / len(minutes)) if minutes else 0.0,
        "unreachable_notes": dict(notes),
        "max_drift": float(np.max(drift)),
        "trading_fees": math.fsum(f["fee"] for f in fills), "slippage": math.fsum(f["slippage"] for f in fills),
        "fees": math.fsum(f["fee"] + f["slippage"] for f in fills) + math.fsum(x.fee or 0.0 for x in legs),
        "final_value": value(held), "buy_and_hold_value": value(initial), "start_value": START_VALUE,
        "chart": str(chart), "journal": str(directory / "demo-journal.db"),
    }

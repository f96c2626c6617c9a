"""The agent: check -> decide -> plan -> execute -> record, for one portfolio on one venue.

Every entry point that may trade first takes the portfolio lock and resumes an unfinished run, so
a crashed run is finished (never repeated) before anything new is planned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trimtab.core.assessment import Assessment, assess
from trimtab.core.assets import Targets
from trimtab.core.freshness import Activity, RunInFlight, what_changed
from trimtab.core.pairs import route_through_pairs
from trimtab.core.plan import Mode, Plan
from trimtab.core.policy import PolicySpec
from trimtab.core.triggers import Moment
from trimtab.engine.events import Watch, watched
from trimtab.engine.executor import Executor, RunOutcome
from trimtab.engine.lock import portfolio_lock
from trimtab.engine.results import RebalanceResult
from trimtab.errors import Denied, VenueError
from trimtab.journal import CheckRecord, Journal
from trimtab.venues.base import InTransit, TransferStatus, Venue, consolidate


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """What the portfolio should look like and when to act: targets, policy and trading costs."""

    targets: Targets
    policy: PolicySpec
    mode: Mode = Mode.TARGET
    fee: float = 0.001
    min_trade: float = 10.0
    direct_pairs: bool = True


class Agent:
    """One portfolio's loop on ``venue`` with ``journal`` (see the module docstring).

    ``watch`` (optional, set by the wiring) is told of every check and rebalance and what came of
    it, and turns that into events for alerts (``engine/events.py``).
    """

    watch: Watch | None = None

    def __init__(self, venue: Venue, journal: Journal, strategy: Strategy, executor: Executor, lock_path: Path) -> None:
        self.venue, self.journal, self.strategy, self.executor = venue, journal, strategy, executor
        self.lock_path = lock_path

    @property
    def portfolio(self) -> str:
        return self.executor.portfolio

    def lock(self):  # type: ignore[no-untyped-def]
        """The portfolio's run lock (not yet taken): an advisory lock in the journal's database on
        PostgreSQL, else the ``flock`` on ``lock_path`` (``engine/lock.py``)."""
        return portfolio_lock(self.journal, self.portfolio, self.lock_path)

    def assess(self, now: datetime | None = None) -> Assessment:
        """Value the consolidated holdings, and what is in transit, at the venue's prices and run the
        pure core on them, with the journal's activity (runs started, a run in flight).

        The activity is read first: a run that starts while the balances are read is then one the
        assessment does not know, so a plan made from it is stale (``core/freshness.py``)."""
        activity = self.activity()
        held = consolidate(self.venue.balances())
        travelling = self.in_transit(activity.in_flight)
        quote = self.strategy.targets.quote
        assets = [a for a in dict.fromkeys([*self.strategy.targets.assets, *held, *(t.asset for t in travelling)])
                  if a != quote]
        prices = {a: q.price for a, q in self.venue.prices(assets).items()}
        rules = {a: m.rules for a, m in self.venue.markets().items()}
        s = self.strategy
        return assess(held, prices, s.targets, policy=s.policy, moment=self.moment(now or self.venue.now()),
                      mode=s.mode, fee=s.fee, min_trade=s.min_trade, rules=rules, in_transit=travelling,
                      activity=activity)

    def activity(self) -> Activity:
        """What the journal knows now: how many runs started, the newest, and a run not yet ended."""
        newest = self.journal.runs(self.portfolio, limit=1)
        unfinished = self.executor.unfinished()
        return Activity(runs_started=self.journal.count_runs(self.portfolio),
                        latest_run=newest[0].id if newest else None,
                        latest_run_at=newest[0].created_at if newest else None,
                        in_flight=RunInFlight(run_id=unfinished.id, state=unfinished.state) if unfinished else None)

    def in_transit(self, in_flight: RunInFlight | None = None) -> tuple[InTransit, ...]:
        """Value on its way between chains, read right after the balances.

        From the venue when it can say (``in_transit()``, paper), each tagged with the run that
        sent it; otherwise from the journal: the bridges of the unfinished run still in transit,
        each confirmed with ``transfer_status`` (one that arrived is in the balances already; a
        failed read is not news, so the journal's word stands)."""
        legs = self.journal.transfers([in_flight.run_id]) if in_flight is not None else []
        if hasattr(self.venue, "in_transit"):
            def run_of(cid: str | None) -> str | None:  # leg client ids are "<run id>-<idx>" (journal.client_id)
                ours = in_flight is not None and cid is not None and cid.startswith(in_flight.run_id + "-")
                return in_flight.run_id if ours else None  # type: ignore[union-attr]

            return tuple(InTransit(asset=t.asset, quantity=t.quantity, from_chain=t.from_chain, to_chain=t.to_chain,
                                   since=t.since, client_id=t.client_id, run_id=run_of(t.client_id))
                         for t in self.venue.in_transit())
        travelling = []
        for t in legs:
            if t["state"] != "in_transit":
                continue
            try:
                if self.venue.transfer_status(t["client_id"]).status is TransferStatus.ARRIVED:
                    continue
            except VenueError:
                pass
            travelling.append(InTransit(asset=t["asset"], quantity=t["amount"] - t["fee"], from_chain=t["from_chain"],
                                        to_chain=t["to_chain"], since=t["started_at"], client_id=t["client_id"],
                                        run_id=t["run_id"]))
        return tuple(travelling)

    def moment(self, now: datetime) -> Moment:
        completed = self.journal.runs(self.portfolio, states=["completed"], limit=1)
        return Moment(now=now, previous_check_at=self.journal.last_check_at(self.portfolio),
                      last_rebalance_at=completed[0].created_at if completed else None)

    @watched
    def rebalance(self, *, dry_run: bool = False, confirm: Callable[[Assessment], bool] | None = None,
                  replans: int = 1, moved: Callable[[str], None] | None = None) -> RebalanceResult:
        """One rebalance now, whatever the policy says. Raise ``Denied`` when another process holds
        the lock, a run needs attention, or a guard refuses.

        After ``confirm`` said yes the balances are read again; if they moved beyond the staleness
        tolerance (``core/freshness.py``), ``moved`` hears what changed and the new plan is confirmed
        again. The run is always made from the balances read last."""
        if dry_run:
            return RebalanceResult(assessment=self.assess(), outcome=None, dry_run=True)
        with self.lock():
            resumed = self.resume()
            assessment = self.assess()
            while True:
                if assessment.plan.is_empty or (confirm is not None and not confirm(assessment)):
                    return RebalanceResult(assessment=assessment, outcome=None, resumed=resumed)
                if confirm is None:
                    break
                # a person took time to answer: act on the balances now, and ask again if they moved
                fresh = self.assess()
                changed = what_changed(assessment.snapshot(), fresh.snapshot(), dust=self.strategy.min_trade)
                assessment = fresh
                if changed is None:
                    break
                if moved is not None:
                    moved(changed)
            outcome = self._execute(assessment)
            while replans > 0 and _replannable(outcome):
                replans -= 1
                assessment = self.assess()
                outcome = self._execute(assessment) if not assessment.plan.is_empty else None
            return RebalanceResult(assessment=assessment, outcome=outcome, resumed=resumed)

    @watched
    def check(self, now: datetime | None = None, *, once: bool = False) -> RebalanceResult:
        """One step of the production loop: resume, check, record the check, act if the policy says so.

        ``once`` (a fleet worker's slot, retried after a worker died): when the journal already has
        this portfolio's check at ``now``, only resume an unfinished run and return without a new
        check, so a slot is checked once however often its job runs (its assessment is then None)."""
        with self.lock():
            resumed = self.resume()
            if once and now is not None and self.journal.has_check(self.portfolio, now):
                return RebalanceResult(assessment=None, outcome=None, resumed=resumed)
            assessment = self.assess(now)
            self.journal.record_checks([check_record(self.portfolio, assessment, now or self.venue.now())])
            outcome = None
            if assessment.decision.rebalance and not assessment.plan.is_empty:
                outcome = self._execute(assessment)
            return RebalanceResult(assessment=assessment, outcome=outcome, resumed=resumed)

    def acknowledge(self, run_id: str) -> RunOutcome:
        """Close a run parked in ``needs_attention`` (after a person checked the venue), under the lock."""
        with self.lock():
            return self.executor.acknowledge(run_id)

    def resume(self) -> RunOutcome | None:
        """Finish an unfinished run (call under the lock); raise ``Denied(RUN_NEEDS_ATTENTION)`` when
        a run is parked for a person."""
        parked = self.journal.runs(self.portfolio, states=["needs_attention"], limit=1)
        if parked:
            raise Denied("RUN_NEEDS_ATTENTION", f"run {parked[0].id} needs attention ({parked[0].reason}); "
                                                "inspect it with `trimtab history` before trading again.")
        unfinished = self.executor.unfinished()
        return self.executor.execute(unfinished.id) if unfinished else None

    def _execute(self, assessment: Assessment) -> RunOutcome:
        plan, pairs = self._route_pairs(assessment.plan)
        run_id = self.executor.start(plan, value_before=assessment.valuation.total_value, pairs=pairs)
        return self.executor.execute(run_id)

    def _route_pairs(self, plan: Plan) -> tuple[Plan, tuple[dict, ...]]:
        """The plan with what a direct pair does cheaper taken out, and those pair orders (a venue
        with pairs only: ``direct_pairs(prices)``)."""
        if not self.strategy.direct_pairs or not hasattr(self.venue, "direct_pairs"):
            return plan, ()
        prices = {leg.asset: leg.price for leg in plan.legs}
        routing = route_through_pairs(plan, self.venue.direct_pairs(prices), min_trade=self.strategy.min_trade)
        pairs = []
        for trade in routing.trades:
            base = trade.market.split("/")[0]
            pairs.append({"market": trade.market, "side": str(trade.side_on_market),
                          "quantity": trade.value / prices[base], "price": prices[base], "value": trade.value,
                          "fee": trade.fee, "saving": trade.saving})
        return routing.plan, tuple(pairs)


def check_record(portfolio: str, assessment: Assessment, at: datetime) -> CheckRecord:
    """The journal row for one check."""
    drift = assessment.drift
    return CheckRecord(
        portfolio=portfolio, at=at, total_value=assessment.valuation.total_value,
        weights={d.asset: d.weight for d in drift.assets}, drift={d.asset: d.drift for d in drift.assets},
        max_drift=drift.max_drift if math.isfinite(drift.max_drift) else 0.0,
        rebalance=assessment.decision.rebalance, trigger=assessment.decision.trigger, reason=assessment.decision.reason,
    )


def _replannable(outcome: RunOutcome | None) -> bool:
    """A run stopped by PRICE_MOVED before anything was done is simply planned again."""
    return (outcome is not None and outcome.state == "failed" and "PRICE_MOVED" in outcome.reason
            and not any(leg.state in ("filled", "in_transit", "arrived") for leg in outcome.legs))

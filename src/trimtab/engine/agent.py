"""The agent: check -> decide -> plan -> execute -> record, for one portfolio on one venue.

Every entry point that may trade first takes the portfolio lock and resumes an unfinished run, so
a crashed run is finished (never repeated) before anything new is planned.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trimtab.core.assessment import Assessment, assess
from trimtab.core.assets import Targets
from trimtab.core.flowplan import SELL_ONLY
from trimtab.core.freshness import Activity, RunInFlight, what_changed
from trimtab.core.pairs import route_through_pairs
from trimtab.core.plan import Mode, Plan
from trimtab.core.policy import PolicySpec
from trimtab.core.triggers import Moment
from trimtab.engine import cashflows, venue_plan, withdrawals
from trimtab.engine.events import Watch, watched
from trimtab.engine.executor import Executor, RunOutcome
from trimtab.engine.guards import check_withdrawal
from trimtab.engine.lock import portfolio_lock
from trimtab.engine.results import RebalanceResult
from trimtab.errors import Denied, InputError, VenueError
from trimtab.journal import CheckRecord
from trimtab.venues.base import InTransit, TransferStatus, Venue, consolidate

if TYPE_CHECKING:  # the journal class is imported where it is opened (SQLAlchemy; `status` reads without it)
    from trimtab.journal import Journal


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """What the portfolio should look like and when to act: targets, policy and trading costs."""

    targets: Targets
    policy: PolicySpec
    mode: Mode = Mode.TARGET
    fee: float = 0.001
    min_trade: float = 10.0
    direct_pairs: bool = True
    cash_flows: str = "steer"


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

    def assess(self, now: datetime | None = None, *, only: str | None = None,
               withdrawal: float | None = None) -> Assessment:
        """Value the consolidated holdings, and what is in transit, at the venue's prices and run the
        pure core on them, with the journal's activity (runs started, a run in flight).

        The activity is read first: a run that starts while the balances are read is then one the
        assessment does not know, so a plan made from it is stale (``core/freshness.py``)."""
        activity = self.activity()
        balances = self.venue.balances()
        held = consolidate(balances)
        travelling = self.in_transit(activity.in_flight)
        quote = self.strategy.targets.quote
        assets = [a for a in dict.fromkeys([*self.strategy.targets.assets, *held, *(t.asset for t in travelling)])
                  if a != quote]
        prices = {a: q.price for a, q in self.venue.prices(assets).items()}
        rules = {a: m.rules for a, m in self.venue.markets().items()}
        s = self.strategy
        composite = venue_plan.is_composite(self.venue)
        plan_targets, gap, places = None, None, {}
        if composite:  # rules per asset: its cheapest market; targets each island of venues can reach
            options = self.venue.market_options()  # type: ignore[attr-defined]
            rules = {a: min(by_venue.values(), key=lambda m: m.rules.taker_fee or 0.0).rules
                     for a, by_venue in options.items()}
            cost = venue_plan.move_cost_between(self.venue, quote, balances)  # type: ignore[arg-type]
            places = cost.places
            held_at = {name: {} for name in self.venue.names} | venue_plan.held_by_venue(balances)  # type: ignore[attr-defined]
            reachable, gap = venue_plan.reachable_targets(
                s.targets, held_at, prices, {a: list(v) for a, v in options.items()},
                venue_plan.islands(self.venue.names, cost))  # type: ignore[attr-defined]
            plan_targets = reachable if gap is not None else None
        result = assess(held, prices, s.targets, policy=s.policy, moment=self.moment(now or self.venue.now()),
                        mode=s.mode, fee=s.fee, min_trade=s.min_trade, rules=rules, in_transit=travelling,
                        activity=activity, plan_targets=plan_targets)
        if only is not None:
            result = cashflows.only(result, only, band=s.policy.tolerance, fee=s.fee, min_trade=s.min_trade,
                                    rules=rules, withdrawal=withdrawal)
        if not composite:
            return result
        routed = venue_plan.route_legs(self.venue, result.plan.legs, quote, balances)  # type: ignore[arg-type]
        note = venue_plan.unreachable_sentence(self.venue, quote, gap, places) if gap else None  # type: ignore[arg-type]
        document = {"holdings": venue_plan.three_levels(balances, prices, quote, result.valuation.total_value),
                    "routing": venue_plan.routing_document(routed)}
        return replace(result, venues=document, note=note)

    def _rules(self) -> dict:
        return {a: m.rules for a, m in self.venue.markets().items()}

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

            reported = tuple(InTransit(asset=t.asset, quantity=t.quantity, from_chain=t.from_chain,
                                       to_chain=t.to_chain, since=t.since, client_id=t.client_id,
                                       run_id=run_of(t.client_id))
                             for t in self.venue.in_transit())
            covers = getattr(self.venue, "reports_in_transit", None)
            if covers is None:
                return reported
            # across venues: what leaves a member without in_transit() is counted from the journal
            legs = [t for t in legs if not covers(t["from_chain"])]
            return reported + self._journal_in_transit(legs)
        return self._journal_in_transit(legs)

    def _journal_in_transit(self, legs: list) -> tuple[InTransit, ...]:  # type: ignore[type-arg]
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
                  replans: int = 1, moved: Callable[[str], None] | None = None,
                  only: str | None = None) -> RebalanceResult:
        """One rebalance now, whatever the policy says. Raise ``Denied`` when another process holds
        the lock, a run needs attention, or a guard refuses.

        After ``confirm`` said yes the balances are read again; if they moved beyond the staleness
        tolerance (``core/freshness.py``), ``moved`` hears what changed and the new plan is confirmed
        again. The run is always made from the balances read last."""
        if dry_run:
            return RebalanceResult(assessment=self.assess(only=only), outcome=None, dry_run=True)
        with self.lock():
            resumed = self.resume()
            assessment = self.assess(only=only)
            while True:
                if assessment.plan.is_empty or (confirm is not None and not confirm(assessment)):
                    return RebalanceResult(assessment=assessment, outcome=None, resumed=resumed)
                if confirm is None:
                    break
                # a person took time to answer: act on the balances now, and ask again if they moved
                fresh = self.assess(only=only)
                changed = what_changed(assessment.snapshot(), fresh.snapshot(), dust=self.strategy.min_trade)
                assessment = fresh
                if changed is None:
                    break
                if moved is not None:
                    moved(changed)
            outcome = self._execute(assessment)
            while replans > 0 and _replannable(outcome):
                replans -= 1
                assessment = self.assess(only=only)
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
            at = now or self.venue.now()
            previous = self.journal.last_check_at(self.portfolio)
            cashflows.detect_external(self.journal, self.portfolio, assessment, at)
            s = self.strategy
            net = cashflows.net_flow_since(self.journal, self.portfolio, previous)
            if s.cash_flows == cashflows.STEER and abs(net) >= cashflows.FLOW_DUST:
                assessment = cashflows.steered(assessment, flow=net, band=s.policy.tolerance, fee=s.fee,
                                               min_trade=s.min_trade, rules=self._rules())
            self.journal.record_checks([check_record(self.portfolio, assessment, at)])
            outcome = None
            if assessment.decision.rebalance and not assessment.plan.is_empty:
                outcome = self._execute(assessment)
            return RebalanceResult(assessment=assessment, outcome=outcome, resumed=resumed)

    def deposit(self, amount: float, asset: str | None = None, *, sent: bool = False,
                note: str = "") -> cashflows.FlowRow:
        """Record a deposit. On a venue that can move funds in (paper), unless ``sent``, move them and
        journal a ``deposit`` flow. Otherwise (a real venue, or funds the user already sent) journal it
        ``pending``: the next check that sees the balance rise by it confirms it (and steers with it);
        until then it is shown as pending, and neither a gain, nor drift, nor an external flow. A
        deposit a check already found (journaled ``external``) is that flow, relabelled, not a second one."""
        asset = asset or self.strategy.targets.quote
        with self.lock():
            price = self._price(asset)
            moves = hasattr(self.venue, "deposit") and not sent
            claimed = None if moves else cashflows.claim_external(self.journal, self.portfolio, asset, amount, note)
            if claimed is not None:  # a check already found it: it is this deposit, not a second one
                return claimed
            if not moves and self.journal.last_check_at(self.portfolio) is None:
                # the balance before the deposit: what the check that confirms it compares against
                at = self.venue.now()
                self.journal.record_checks([check_record(self.portfolio, self.assess(at), at)])
            if moves:
                self.venue.deposit(asset, amount)
            row = cashflows.FlowRow(portfolio=self.portfolio, at=self.venue.now(), kind="deposit", asset=asset,
                                    quantity=amount, price=price, value=amount * price, note=note,
                                    state=cashflows.DONE if moves else cashflows.PENDING)
            return cashflows.record_flow(self.journal, row)

    def withdraw(self, amount: float, asset: str | None = None, *, address: str | None = None,
                 chain: str | None = None, dry_run: bool = False) -> tuple[RebalanceResult, cashflows.FlowRow | None]:
        """Pay ``amount`` of ``asset`` (the quote by default) out: first a sell-only run that raises it
        from the overweight assets (through the executor and its guards, like every run), then the
        withdrawal, journaled ``sending`` under a client id before the venue is asked and ``done`` once
        it answered (``engine/withdrawals.py``; a crash in between is looked up by ``resume``).

        Raise ``Denied`` before anything is sold when the venue cannot send funds out
        (WITHDRAW_UNSUPPORTED) or a guard refuses (KILL_SWITCH, WITHDRAW_CAP, ADDRESS_NOT_ALLOWED)."""
        quote = self.strategy.targets.quote
        asset = asset or quote
        why_not = withdrawals.refusal(self.venue)
        if why_not is not None:
            raise Denied("WITHDRAW_UNSUPPORTED", f"{why_not}; withdraw {amount:g} {asset} on the venue itself, and "
                                                 "the next check will journal it as a flow. Nothing was sold.")
        chain = withdrawals.route(self.venue, asset, address, chain)  # where it goes, before anything is sold
        price = self._price(asset)
        check_withdrawal(self.executor.guards, amount * price, address)
        if dry_run:
            return RebalanceResult(assessment=self._withdrawal_assessment(amount, asset), outcome=None,
                                   dry_run=True), None
        with self.lock():
            resumed = self.resume()
            check_withdrawal(self.executor.guards, amount * price, address)  # the kill file may have appeared
            assessment = self._withdrawal_assessment(amount, asset)
            outcome = None if assessment.plan.is_empty else self._execute(assessment)
            result = RebalanceResult(assessment=assessment, outcome=outcome, resumed=resumed)
            if outcome is not None and outcome.state != "completed":
                return result, None
            self.executor.guards.check_kill_switch()
            client_id = "w" + uuid.uuid4().hex[:16]
            row = cashflows.record_flow(self.journal, cashflows.FlowRow(
                portfolio=self.portfolio, at=self.venue.now(), kind="withdraw", asset=asset, quantity=-amount,
                price=price, value=-amount * price, address=address, state=cashflows.SENDING, client_id=client_id))
            try:
                withdrawals.send(self.venue, asset=asset, amount=amount, address=address, client_id=client_id,
                                 chain=chain)
            except VenueError as error:
                if not error.retryable:  # the venue refused it: nothing left
                    cashflows.settle_flow(self.journal, row.id, state=cashflows.NOT_SENT,
                                          note=f"refused by the venue: {error}"[:500])
                raise  # a failed read is not news: the flow stays sending, and resume looks it up
            except InputError:
                cashflows.settle_flow(self.journal, row.id, state=cashflows.NOT_SENT, note="not sent: bad input")
                raise
            at = self.venue.now()
            cashflows.settle_flow(self.journal, row.id, state=cashflows.DONE, at=at)
            return result, replace(row, state=cashflows.DONE, at=at)

    def flow_report(self, assessment: Assessment, *, since: datetime | None = None,
                    now: datetime | None = None) -> dict:
        """What ``status`` adds about flows: the returns from the first check (or ``since``) to the
        value now, with the flows taken out, and the flows still waiting (a deposit not yet in the
        balance, a withdrawal not yet known sent)."""
        at = now or self.venue.now()
        r = cashflows.returns(self.journal, self.portfolio, since=since, now=(at, assessment.valuation.total_value))
        return {"returns": cashflows.returns_document(r, since=since),
                "pending_flows": [cashflows.flow_document(f) for f in cashflows.waiting(self.journal, self.portfolio)]}

    def settle_withdrawals(self) -> list[cashflows.FlowRow]:
        """Look up each withdrawal journaled ``sending`` (a crash between the journal and the venue's
        answer): ``done`` when the venue knows it, ``not_sent`` when it proves it never got it. A failed
        read leaves it ``sending`` (asked again next time); nothing is ever sent again."""
        settled = []
        for row in cashflows.waiting(self.journal, self.portfolio):
            if row.state != cashflows.SENDING:
                continue
            try:
                found = withdrawals.lookup(self.venue, row.client_id)
            except VenueError as error:
                if not error.retryable:
                    raise
                continue
            if found == withdrawals.SENT:
                state, note = cashflows.DONE, "confirmed by the venue after an interruption"
            else:
                state, note = cashflows.NOT_SENT, "the venue never received it (looked up after an interruption)"
            if cashflows.settle_flow(self.journal, row.id, state=state, note=note):
                settled.append(replace(row, state=state, note=note))
        return settled

    def _withdrawal_assessment(self, amount: float, asset: str) -> Assessment:
        if asset == self.strategy.targets.quote:
            return self.assess(only=SELL_ONLY, withdrawal=amount)
        assessment = self.assess()  # a non-quote asset leaves as it is: nothing to sell
        plan = replace(assessment.plan, legs=(), skipped=(), flow=SELL_ONLY,
                       why=f"withdraws {amount:g} {asset} as it is held: nothing to sell.")
        return replace(assessment, plan=plan)

    def _price(self, asset: str) -> float:
        if asset == self.strategy.targets.quote:
            return 1.0
        return self.venue.prices([asset])[asset].price

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
        outcome = self.executor.execute(unfinished.id) if unfinished else None
        self.settle_withdrawals()
        return outcome

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
        # a check made while a run is in flight keeps no quantities: the next check compares with the one
        # before that run started, and counts all of the run's fills
        quantities=None if assessment.activity.in_flight is not None else dict(assessment.valuation.quantities),
    )


def _replannable(outcome: RunOutcome | None) -> bool:
    """A run stopped by PRICE_MOVED before anything was done is simply planned again."""
    return (outcome is not None and outcome.state == "failed" and "PRICE_MOVED" in outcome.reason
            and not any(leg.state in ("filled", "in_transit", "arrived") for leg in outcome.legs))

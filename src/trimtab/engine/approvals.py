"""Agent guardrails: plans are stored, expire, may need a person's approval, and are re-checked.

An agent never sends orders from its own idea of a plan. ``PlanDesk.plan`` stores the plan the
core makes from the venue's balances (legs, prices at planning, fees, expected weights) under a
``plan_id`` with an expiry; ``PlanDesk.execute(plan_id)`` runs only such a plan, once, and only
after every check below passes. Each refusal is a ``Denied`` with a code and one sentence:

| code              | refuses when                                                              |
| ----------------- | ------------------------------------------------------------------------- |
| KILL_SWITCH       | the kill switch is on or the kill file exists (``guards.Guards``)           |
| UNKNOWN_PLAN      | no stored plan of this portfolio has that id                               |
| PLAN_USED         | the plan was already executed (or is executing, or failed)                 |
| PLAN_EXPIRED      | the plan is older than ``plan_ttl``                                         |
| PLAN_STALE        | the portfolio is no longer the one the plan was made from: a run started    |
|                   | after it, a run was in flight when it was made, or a holding moved by more  |
|                   | than ``max(min_trade, 0.1% of the value)`` (``core/freshness.py``)          |
| RUN_IN_FLIGHT     | a run has not ended (a bridge travels, a stage is under way): no plan       |
|                   | executes until it has, and the plan, made before it ended, becomes stale    |
| NOT_APPROVED      | ``require_approval`` is on and no person ran ``trimtab approve PLAN_ID``     |
| VENUE_NOT_ALLOWED | the configured venue is not in ``allowed_venues``                           |
| ASSET_NOT_ALLOWED | a leg trades an asset outside ``allowed_assets``                             |
| STALE_PRICE, PRICE_MOVED | a price is old or moved more than ``max_price_move`` since planning (``Guards``) |
| RUN_CAP, DAILY_CAP | the plan passes the per-run or per-day cap (checked by the executor)         |
| EMPTY_PLAN        | the plan has no legs (nothing to execute)                                   |
| WITHDRAW_NOT_ALLOWED | ``withdraw``: ``[agent] allow_withdrawals`` is off, or ``[execution]``     |
|                   | ``max_withdrawal_value`` or ``withdraw_addresses`` is not set               |
| WITHDRAW_CAP, ADDRESS_NOT_ALLOWED | ``withdraw``: the withdrawal passes ``max_withdrawal_value``, or its |
|                   | address is missing or not in ``withdraw_addresses`` (an agent must name one) |

Plan states: ``planned`` -> (``approved``) -> ``executing`` -> ``executed`` | ``failed``, and
``planned``/``approved`` -> ``expired`` | ``stale``. Moves are compare-and-set in the journal, so
one plan runs at most once even when two callers race. Every plan stores the snapshot of the
portfolio it was made from; a new run marks every waiting plan ``stale`` in the transaction that
creates it (``Journal.create_run``), and ``execute`` compares the snapshot with the portfolio now,
under the portfolio lock, before anything is sent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from trimtab.core.assessment import Assessment
from trimtab.core.freshness import Snapshot, what_changed
from trimtab.core.plan import Leg, Mode, Plan, Side
from trimtab.engine.agent import Agent
from trimtab.engine.executor import RunOutcome
from trimtab.engine.lock import DatabaseLock, PortfolioLock
from trimtab.engine.states import FINAL_RUN_STATES
from trimtab.errors import Denied, InputError
from trimtab.journal import PlanRecord, StaleState

#: A plan id: ``p`` and 12 hex digits, e.g. ``p3f9a0c41b2d7``. Anything else is refused unread.
PLAN_ID = re.compile(r"^p[0-9a-f]{12}$")
PENDING = ("planned", "approved")


@dataclass(frozen=True, kw_only=True)
class Guardrails:
    """What an agent may do. ``allowed_assets`` None means "the assets of the targets"."""

    venue: str = "paper"
    allowed_venues: frozenset[str] = frozenset({"paper"})
    allowed_assets: frozenset[str] | None = None
    require_approval: bool = False
    plan_ttl: timedelta = timedelta(minutes=15)
    allow_withdrawals: bool = False


@dataclass(frozen=True, kw_only=True)
class Execution:
    """What ``execute`` did: the plan as it ended and the run's outcome."""

    plan: PlanRecord
    outcome: RunOutcome


@dataclass(frozen=True, kw_only=True)
class Started:
    """A plan whose run ``PlanDesk.begin`` started, with the portfolio lock it still holds."""

    plan_id: str
    run_id: str
    lock: PortfolioLock | DatabaseLock


def check_plan_id(plan_id: str) -> str:
    """Return ``plan_id`` if it is well formed; raise ``InputError`` (without echoing it) if not."""
    if not isinstance(plan_id, str) or not PLAN_ID.fullmatch(plan_id):
        raise InputError("A plan id is 'p' and 12 hex digits, as returned by plan_rebalance; this one is not.")
    return plan_id


@dataclass
class PlanDesk:
    """Stores, approves and executes an agent's plans on ``agent`` under ``rails`` (module docstring).

    ``clock`` is the wall clock plan expiry is measured on (injected for tests).
    """

    agent: Agent
    rails: Guardrails
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def allowed_assets(self) -> frozenset[str]:
        targets = self.agent.strategy.targets
        return self.rails.allowed_assets or frozenset([*targets.assets, targets.quote])

    def plan(self, assessment: Assessment | None = None) -> PlanRecord:
        """Plan a rebalance from the venue's balances now and store it; return the stored plan.

        Raise ``Denied`` (VENUE_NOT_ALLOWED, ASSET_NOT_ALLOWED) when the plan could never execute.
        """
        self._check_venue()
        assessment = assessment or self.agent.assess()
        plan = assessment.plan
        self._check_assets(leg.asset for leg in plan.legs)
        self._check_venue_assets(assessment)
        now = self.clock()
        record = PlanRecord(id="p" + uuid.uuid4().hex[:12], portfolio=self.agent.portfolio, state="planned",
                            created_at=now, expires_at=now + self.rails.plan_ttl, venue=self.rails.venue,
                            document=plan_document(assessment), snapshot=assessment.snapshot().to_dict())
        self.agent.journal.create_plan(record)
        return record

    def approve(self, plan_id: str, *, by: str) -> PlanRecord:
        """A person approves a pending plan (idempotent for an approved one); raise ``Denied`` for
        an unknown, used, expired or stale plan (``PLAN_STALE``: the portfolio moved since it was made)."""
        record = self._pending(check_plan_id(plan_id))
        self._check_fresh(record, self.agent.assess())  # approving a plan whose moment has passed would mislead
        if record.state == "approved":
            return record
        self.agent.journal.move_plan(record.id, ["planned"], "approved", approved_at=self.clock(), approved_by=by[:64])
        return self.get(record.id)

    def execute(self, plan_id: str) -> Execution:
        """Execute stored plan ``plan_id`` once, after every check in the module docstring, and
        drive its run to its end (``begin`` then ``finish``).

        Raise ``InputError`` for a malformed id and ``Denied`` for a refusal (nothing sent).
        """
        return self.finish(self.begin(plan_id))

    def begin(self, plan_id: str) -> Started:
        """Every check of ``execute``, then start the plan's run and return it with the portfolio
        lock still held (``finish`` drives the run and releases it, possibly from another thread).

        Raise ``InputError`` for a malformed id and ``Denied`` for a refusal (nothing sent, lock released).
        """
        check_plan_id(plan_id)
        self.agent.executor.guards.check_kill_switch()
        record = self._pending(plan_id)
        if self.rails.require_approval and record.state != "approved":
            raise Denied("NOT_APPROVED", f"plan {plan_id} waits for a person's approval: "
                                         f"`trimtab approve {plan_id}`; nothing was sent.")
        self._check_venue()
        plan = stored_plan(record.document)
        if plan.is_empty:
            raise Denied("EMPTY_PLAN", f"plan {plan_id} has no legs; the portfolio needed no trade when it was made.")
        self._check_assets(leg.asset for leg in plan.legs)
        self._check_no_run_in_flight(record)
        self._check_prices(record.document)
        lock = self.agent.lock().__enter__()
        try:
            self.agent.resume()
            self.settle()
            now = self.agent.assess()
            self._check_fresh(record, now)
            try:
                self.agent.journal.move_plan(plan_id, [record.state], "executing")
            except StaleState:
                raise Denied("PLAN_USED", f"plan {plan_id} was just taken by another caller; plan again.") from None
            try:
                run_id = self.agent.executor.start(plan, value_before=now.valuation.total_value)
            except Denied as denied:
                self.agent.journal.move_plan(plan_id, ["executing"], "failed", reason=str(denied))
                raise
            self.agent.journal.move_plan(plan_id, ["executing"], "executing", run_id=run_id)
        except BaseException:
            lock.__exit__(None, None, None)
            raise
        return Started(plan_id=plan_id, run_id=run_id, lock=lock)

    def finish(self, started: Started) -> Execution:
        """Drive a run ``begin`` started to its end, close its plan, and release the lock.

        A kill switch or an unreachable venue propagates; the run and its plan stay ``executing``
        and the next resume (then ``settle``) finishes them."""
        try:
            outcome = self.agent.executor.execute(started.run_id)
            final = "executed" if outcome.state == "completed" else "failed"
            self.agent.journal.move_plan(started.plan_id, ["executing"], final, reason=outcome.reason)
        finally:
            started.lock.__exit__(None, None, None)
        return Execution(plan=self.get(started.plan_id), outcome=outcome)

    def settle(self) -> list[PlanRecord]:
        """Close plans left ``executing`` whose run has since ended (a run stopped by the kill switch
        or a crash and finished by a later resume); return the plans it closed."""
        closed = []
        for record in self.agent.journal.plans(self.agent.portfolio, states=["executing"]):
            if record.run_id is None:
                continue
            run = self.agent.journal.run(record.run_id)
            if run.state in FINAL_RUN_STATES or run.state == "needs_attention":
                final = "executed" if run.state == "completed" else "failed"
                try:
                    self.agent.journal.move_plan(record.id, ["executing"], final, reason=run.reason)
                    closed.append(self.get(record.id))
                except StaleState:
                    pass
        return closed

    def withdraw(self, amount: float, asset: str | None = None, *, address: str | None = None,
                 chain: str | None = None, dry_run: bool = False):  # type: ignore[no-untyped-def]
        """An agent's withdrawal: the owner must have allowed agents to pay out and bounded it
        (WITHDRAW_NOT_ALLOWED: ``[agent] allow_withdrawals``, with ``max_withdrawal_value`` and
        ``withdraw_addresses`` set), the address must be one of those (ADDRESS_NOT_ALLOWED), the venue
        and the asset allowed (VENUE_NOT_ALLOWED, ASSET_NOT_ALLOWED); then ``Agent.withdraw`` checks the
        kill switch and the cap before its sell-only run. Every refusal comes before anything is sold:
        an agent steered by injected text can pay out no more than the owner wrote down, and only to
        addresses the owner wrote down."""
        guards = self.agent.executor.guards
        guards.check_kill_switch()
        if not self.rails.allow_withdrawals:
            raise Denied("WITHDRAW_NOT_ALLOWED", "[agent] allow_withdrawals is false: an agent may not pay funds out. "
                                                 "The owner can run `trimtab withdraw`, or allow it with [execution] "
                                                 "max_withdrawal_value and withdraw_addresses set. Nothing was sold.")
        if guards.max_withdrawal_value is None or guards.withdraw_addresses is None:
            raise Denied("WITHDRAW_NOT_ALLOWED", "an agent's withdrawal needs [execution] max_withdrawal_value and "
                                                 "withdraw_addresses both set, so what it can pay out, and where, is "
                                                 "bounded. Nothing was sold.")
        if address is None or address not in guards.withdraw_addresses:
            raise Denied("ADDRESS_NOT_ALLOWED", "an agent's withdrawal must name an address from [execution] "
                                                "withdraw_addresses; nothing was sold or sent.")
        self._check_venue()
        asset = asset or self.agent.strategy.targets.quote
        self._check_assets([asset])
        return self.agent.withdraw(amount, asset, address=address, chain=chain, dry_run=dry_run)

    def get(self, plan_id: str) -> PlanRecord:
        """The stored plan ``plan_id`` of this portfolio; raise ``Denied(UNKNOWN_PLAN)`` if none."""
        record = self.agent.journal.plan(check_plan_id(plan_id))
        if record is None or record.portfolio != self.agent.portfolio:
            raise Denied("UNKNOWN_PLAN", f"there is no plan {plan_id}; make one with plan_rebalance.")
        return record

    def pending(self) -> list[PlanRecord]:
        """Plans of this portfolio that may still execute (newest first; plans with no legs left out)."""
        now = self.clock()
        return [p for p in self.agent.journal.plans(self.agent.portfolio, states=PENDING)
                if p.expires_at > now and p.document.get("legs")]

    def _check_no_run_in_flight(self, record: PlanRecord) -> None:
        """Refuse ``RUN_IN_FLIGHT`` (and retire the plan) while a run of this portfolio has not ended."""
        run = self.agent.executor.unfinished()
        if run is None:
            return
        line = self.agent.assess().in_flight_line() or f"run {run.id} in flight ({run.state})"
        self._retire(record, f"{line} when it was to execute")
        try:
            with self.agent.lock():
                driver = "no process is driving it (its process stopped): `trimtab rebalance` or `trimtab run` finishes it"
        except Denied:
            driver = "its process is driving it"
        raise Denied("RUN_IN_FLIGHT", f"{line}; {driver}; no plan executes until it ends, so plan {record.id} (made "
                                      "before it ended) is now stale: plan again once get_run shows the run final.")

    def _check_fresh(self, record: PlanRecord, now: Assessment) -> None:
        """Refuse ``PLAN_STALE`` (and retire the plan) when the portfolio is no longer the one it was made from."""
        if not record.snapshot:
            changed = "it was made without a snapshot of the portfolio (an older trimtab)"
        else:
            changed = what_changed(Snapshot.from_dict(record.snapshot), now.snapshot(),
                                   dust=self.agent.strategy.min_trade)
        if changed is not None:
            self._retire(record, changed)
            raise Denied("PLAN_STALE", f"plan {record.id} no longer fits the portfolio: {changed}; nothing was sent, "
                                       "plan again.")

    def _retire(self, record: PlanRecord, reason: str) -> None:
        """Mark a waiting plan ``stale`` so it can never execute (a no-op if it moved meanwhile)."""
        try:
            self.agent.journal.move_plan(record.id, list(PENDING), "stale", reason=reason[:500])
        except StaleState:
            pass

    def _pending(self, plan_id: str) -> PlanRecord:
        record = self.get(plan_id)
        if record.state == "stale":
            raise Denied("PLAN_STALE", f"plan {plan_id} no longer fits the portfolio: {record.reason}; "
                                       "nothing was sent, plan again.")
        if record.state not in (*PENDING, "expired"):
            run = f" (run {record.run_id})" if record.run_id else ""
            raise Denied("PLAN_USED", f"plan {plan_id} is {record.state}{run}; a plan executes once, so plan again.")
        if record.state == "expired" or self.clock() >= record.expires_at:
            if record.state != "expired":
                try:
                    self.agent.journal.move_plan(plan_id, [record.state], "expired")
                except StaleState:
                    pass
            raise Denied("PLAN_EXPIRED", f"plan {plan_id} expired at {record.expires_at:%Y-%m-%d %H:%M:%S} UTC "
                                         f"(plan_ttl {self.rails.plan_ttl}); plan again.")
        return record

    def _check_venue_assets(self, assessment: Assessment) -> None:
        """Across venues: each venue's part of the plan against that venue's own ``allowed_assets``
        (``[[venues]]``), so an agent hears at planning what execution would refuse."""
        guards = self.agent.executor.guards
        if not guards.venues or assessment.venues is None:
            return
        for leg in assessment.venues.get("routing", {}).get("legs", []):
            own = guards.venues.get(leg["venue"])
            if own is not None and own.allowed_assets is not None and leg["asset"] not in own.allowed_assets:
                raise Denied("ASSET_NOT_ALLOWED", f"the plan trades {leg['asset']} on venue {leg['venue']}, whose "
                                                  f"allowed_assets lists {', '.join(sorted(own.allowed_assets))}.")

    def _check_venue(self) -> None:
        if self.rails.venue not in self.rails.allowed_venues:
            allowed = ", ".join(sorted(self.rails.allowed_venues)) or "none"
            raise Denied("VENUE_NOT_ALLOWED", f"the {self.rails.venue} venue is not in [agent] allowed_venues ({allowed}).")

    def _check_assets(self, assets: Iterable[str]) -> None:
        outside = sorted(set(assets) - self.allowed_assets)
        if outside:
            raise Denied("ASSET_NOT_ALLOWED", f"the plan trades {', '.join(outside)}, which [agent] allowed_assets "
                                              f"does not list ({', '.join(sorted(self.allowed_assets))}).")

    def _check_prices(self, document: dict[str, Any]) -> None:
        planned = {leg["asset"]: leg["price"] for leg in document["legs"]}
        quotes = self.agent.venue.prices(list(planned))
        now = self.agent.venue.now()
        for asset, price in planned.items():
            self.agent.executor.guards.check_price(asset, quotes[asset], now=now, planned_price=price)


def plan_document(assessment: Assessment) -> dict[str, Any]:
    """The stored form of a plan: legs, prices at planning, fees, weights now and expected."""
    plan, valuation = assessment.plan, assessment.valuation
    return {
        "quote": plan.quote, "mode": str(plan.mode), "total_value": plan.total_value,
        "in_transit_value": valuation.in_transit_value,
        "legs": [{"side": str(leg.side), "asset": leg.asset, "quantity": leg.quantity, "price": leg.price,
                  "value": leg.value, "fee": leg.fee} for leg in plan.legs],
        "skipped": [{"asset": s.asset, "side": str(s.side), "value": s.value, "reason": s.reason} for s in plan.skipped],
        "prices": {a: p for a, p in valuation.prices.items() if a != plan.quote},
        "turnover": plan.turnover, "fees": plan.fees,
        "weights": {d.asset: d.weight for d in assessment.drift.assets},
        "targets": dict(assessment.targets.weights),
        "expected_weights": dict(plan.expected_weights),
        "max_drift": assessment.drift.max_drift,
        "decision": {"rebalance": assessment.decision.rebalance, "trigger": assessment.decision.trigger,
                     "reason": assessment.decision.reason},
    }


def stored_plan(document: dict[str, Any]) -> Plan:
    """The core ``Plan`` a stored document describes (what the executor runs)."""
    legs = tuple(Leg(side=Side(x["side"]), asset=x["asset"], quantity=x["quantity"], price=x["price"],
                     value=x["value"], fee=x["fee"]) for x in document["legs"])
    return Plan(quote=document["quote"], mode=Mode(document["mode"]), legs=legs, skipped=(),
                total_value=document["total_value"], expected_quantities={},
                expected_weights=document["expected_weights"])

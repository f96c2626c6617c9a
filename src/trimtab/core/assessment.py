"""One check of a portfolio: its valuation, drift, the policy's decision, and the plan to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trimtab.core.assets import Targets
from trimtab.core.drift import DriftReport, measure_drift
from trimtab.core.freshness import Activity, Snapshot
from trimtab.core.plan import Mode, Plan
from trimtab.core.planner import plan_rebalance
from trimtab.core.policy import PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Decision, Moment
from trimtab.core.valuation import InTransit, Valuation, value_portfolio


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """The answer to "how far has my portfolio drifted, and what would it take to fix it?"."""

    targets: Targets
    valuation: Valuation
    drift: DriftReport
    decision: Decision
    plan: Plan
    activity: Activity = field(default_factory=Activity)
    #: Across venues: the targets the plan aims at when some venues cannot move funds to each other
    #: (None: the targets), the holdings per asset, venue and chain with the plan's routing, and the
    #: one sentence saying which move would be needed and why it cannot be made.
    plan_targets: Targets | None = None
    venues: Mapping[str, Any] | None = None
    note: str | None = None

    def snapshot(self) -> Snapshot:
        """The state this assessment was made from, as a plan records it (``core/freshness.py``)."""
        v = self.valuation
        return Snapshot(quantities=dict(v.quantities), prices=dict(v.prices), total_value=v.total_value,
                        in_transit_value=v.in_transit_value, activity=self.activity)

    def in_flight_line(self) -> str | None:
        """``run r1a2b in flight (gathering): 0.02307 BTC ethereum->bitcoin``, or None."""
        flight = self.activity.in_flight
        if flight is None:
            return None
        moving = ", ".join(f"{t.quantity:.8g} {t.asset} {t.from_chain}->{t.to_chain}"
                           for t in self.valuation.in_transit if t.run_id == flight.run_id)
        return f"run {flight.run_id} in flight ({flight.state})" + (f": {moving}" if moving else "")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the ``trimtab plan --json`` document (drift is signed w - t).

        ``total_value`` includes ``in_transit_value``; ``in_transit`` lists what travels and
        ``run_in_flight`` names a run that has not ended (no plan executes until it does).
        """
        v = self.valuation
        flight = self.activity.in_flight
        extra: dict[str, Any] = {}
        if self.venues is not None:
            extra["venues"] = dict(self.venues)
        if self.plan_targets is not None:
            extra["plan_targets"] = dict(self.plan_targets.weights)
        if self.note is not None:
            extra["note"] = self.note
        return extra | {
            "quote": v.quote,
            "total_value": v.total_value,
            "in_transit_value": v.in_transit_value,
            "in_transit": [
                {"asset": t.asset, "quantity": t.quantity, "value": t.quantity * v.prices.get(t.asset, 0.0),
                 "from_chain": t.from_chain, "to_chain": t.to_chain,
                 "since": t.since.isoformat() if t.since else None, "run_id": t.run_id}
                for t in v.in_transit
            ],
            "run_in_flight": None if flight is None else {"id": flight.run_id, "state": flight.state,
                                                         "line": self.in_flight_line()},
            "max_drift": self.drift.max_drift,
            "max_relative_drift": self.drift.max_relative_drift,
            "assets": [
                {
                    "asset": d.asset,
                    "quantity": v.quantities.get(d.asset, 0.0),
                    "price": v.prices.get(d.asset),
                    "value": v.values.get(d.asset, 0.0),
                    "weight": d.weight,
                    "target": d.target,
                    "drift": d.drift,
                    "relative_drift": d.relative_drift,
                }
                for d in self.drift.assets
            ],
            "decision": {
                "rebalance": self.decision.rebalance,
                "trigger": self.decision.trigger,
                "reason": self.decision.reason,
            },
            "mode": str(self.plan.mode),
            "legs": [
                {"side": str(leg.side), "asset": leg.asset, "quantity": leg.quantity,
                 "price": leg.price, "value": leg.value, "fee": leg.fee}
                for leg in self.plan.legs
            ],
            "skipped": [
                {"side": str(s.side), "asset": s.asset, "value": s.value, "code": s.code, "reason": s.reason}
                for s in self.plan.skipped
            ],
            "turnover": self.plan.turnover,
            "fees": self.plan.fees,
            "flow": self.plan.flow or None,
            "why": self.plan.why or None,
            "fees_saved": self.plan.fees_saved,
            "expected_weights": dict(self.plan.expected_weights),
        }


def assess(
    holdings: Mapping[str, float] | Iterable[tuple[str, float]],
    prices: Mapping[str, float] | Iterable[tuple[str, float]],
    targets: Targets,
    *,
    policy: PolicySpec,
    moment: Moment,
    mode: Mode | str = Mode.TARGET,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
    in_transit: Iterable[InTransit] = (),
    activity: Activity | None = None,
    plan_targets: Targets | None = None,
) -> Assessment:
    """Value, measure, decide and plan in one pure call; raise ``InputError`` on bad input.

    The plan is always computed, so a user can see what a rebalance would cost even when the
    policy says to wait; ``decision.rebalance`` says whether the policy would act now.
    ``in_transit`` counts as held; while ``activity.in_flight`` names a run, the decision is to
    wait for it (trigger ``run_in_flight``), whatever the drift. ``plan_targets`` (a portfolio across
    venues that cannot move funds to each other) are what the plan aims at; drift is still measured
    against ``targets``.
    """
    activity = activity or Activity()
    valuation = value_portfolio(holdings, prices, quote=targets.quote, assets=targets.assets, in_transit=in_transit)
    drift = measure_drift(valuation, targets)
    decision = policy.trigger().decide(drift, moment)
    if activity.in_flight is not None:
        flight = activity.in_flight
        decision = Decision(rebalance=False, trigger="run_in_flight",
                            reason=f"waits for run {flight.run_id} in flight ({flight.state}); "
                                   f"the policy would say: {decision.reason}")
    plan = plan_rebalance(
        valuation, plan_targets or targets, mode=mode, band=policy.tolerance, fee=fee, min_trade=min_trade, rules=rules
    )
    return Assessment(targets=targets, valuation=valuation, drift=drift, decision=decision, plan=plan,
                      activity=activity, plan_targets=plan_targets)

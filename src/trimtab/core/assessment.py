"""One check of a portfolio: its valuation, drift, the policy's decision, and the plan to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trimtab.core.assets import Targets
from trimtab.core.drift import DriftReport, measure_drift
from trimtab.core.plan import Mode, Plan
from trimtab.core.planner import plan_rebalance
from trimtab.core.policy import PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Decision, Moment
from trimtab.core.valuation import Valuation, value_portfolio


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """The answer to "how far has my portfolio drifted, and what would it take to fix it?"."""

    targets: Targets
    valuation: Valuation
    drift: DriftReport
    decision: Decision
    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the ``trimtab plan --json`` document (drift is signed w - t)."""
        v = self.valuation
        return {
            "quote": v.quote,
            "total_value": v.total_value,
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
) -> Assessment:
    """Value, measure, decide and plan in one pure call; raise ``InputError`` on bad input.

    The plan is always computed, so a user can see what a rebalance would cost even when the
    policy says to wait; ``decision.rebalance`` says whether the policy would act now.
    """
    valuation = value_portfolio(holdings, prices, quote=targets.quote, assets=targets.assets)
    drift = measure_drift(valuation, targets)
    decision = policy.trigger().decide(drift, moment)
    plan = plan_rebalance(
        valuation, targets, mode=mode, band=policy.tolerance, fee=fee, min_trade=min_trade, rules=rules
    )
    return Assessment(targets=targets, valuation=valuation, drift=drift, decision=decision, plan=plan)

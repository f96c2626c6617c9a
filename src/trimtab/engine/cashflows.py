"""Cash flows in the engine: find the balance changes no run explains, and let flows steer the plan.

At each check the quantities recorded at the previous check, plus the journal's fills and recorded
flows since, are compared with the quantities now (``core/returns.py`` ``unexplained``); a
difference worth at least a cent is journaled as an ``external`` flow, valued at today's price.
Quantities, not values, tell a flow: a price move changes no quantity. Nothing is detected while a
run is in flight (its legs are not all journaled yet).

With ``cash_flows = "steer"`` a check that follows a flow (recorded or detected) plans with
``core/flowplan.py``'s ``steer``: buy-only after a deposit, sell-only after a withdrawal, and a full
rebalance only when steering would leave a weight past the band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from trimtab.core.assessment import Assessment
from trimtab.core.band import Band
from trimtab.core.flowplan import BUY_ONLY, SELL_ONLY, plan_buy_only, plan_sell_only, steer
from trimtab.core.returns import FlowReturns, flow_returns, unexplained
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Decision
from trimtab.journal.flows import (
    DONE,
    NOT_SENT,  # noqa: F401 - part of this module's vocabulary: engine/agent.py settles flows with cashflows.NOT_SENT
    PENDING,
    SENDING,
    FlowRow,
    check_values,
    fills_since,
    flows,
    last_check_quantities,
    record_flow,
    relabel_flow,
    settle_flow,
    transfer_fees_since,
    waiting,
)

if TYPE_CHECKING:  # the journal class is imported where it is opened (SQLAlchemy; `status` reads without it)
    from trimtab.journal import Journal

#: A difference in a balance smaller than this value (in the quote) is float noise, not a flow.
FLOW_DUST = 0.01
#: A pending deposit is confirmed when the balance rose by at least this share of it (a network fee
#: may keep a little on the way); the flow then records what arrived.
ARRIVED_SHARE = 0.98

STEER = "steer"
IGNORE = "ignore"


def detect_external(journal: Journal, portfolio: str, assessment: Assessment, now: datetime) -> list[FlowRow]:
    """Confirm the pending deposits the balance now shows, then journal, and return, the balance
    changes since the previous check that no fill or flow explains.

    Nothing is concluded while a run is in flight or a withdrawal is not yet known sent (its legs,
    or its debit, are not all journaled)."""
    if assessment.activity.in_flight is not None:
        return []
    waiting_rows = waiting(journal, portfolio)
    if any(f.state == SENDING for f in waiting_rows):
        return []
    previous = last_check_quantities(journal, portfolio)
    if previous is None:
        return []
    since, before = previous
    valuation = assessment.valuation
    quote = valuation.quote

    def changes() -> dict[str, float]:
        recorded = [(f.asset, f.quantity) for f in flows(journal, portfolio, since=since)]
        recorded += transfer_fees_since(journal, portfolio, since)
        return unexplained(before, fills_since(journal, portfolio, since), recorded, dict(valuation.quantities), quote)

    found = []
    pending = [f for f in waiting_rows if f.state == PENDING]
    if pending:
        left = changes()
        for flow in pending:
            rise = left.get(flow.asset, 0.0)
            if rise < flow.quantity * ARRIVED_SHARE:
                continue
            arrived = min(rise, flow.quantity)
            if settle_flow(journal, flow.id, state=DONE, at=now, quantity=arrived, value=arrived * flow.price,
                           note=f"{flow.note} (confirmed from the balance at a check)".strip()):
                left[flow.asset] = rise - arrived
                found.append(replace(flow, state=DONE, at=now, quantity=arrived, value=arrived * flow.price))
    for asset, quantity in changes().items():
        price = 1.0 if asset == quote else valuation.prices.get(asset)
        if price is None or abs(quantity * price) < FLOW_DUST:
            continue
        row = FlowRow(portfolio=portfolio, at=now, kind="external", asset=asset, quantity=quantity, price=price,
                      value=quantity * price, note="a balance change no run explains, found at a check")
        found.append(record_flow(journal, row))
    return found


def claim_external(journal: Journal, portfolio: str, asset: str, quantity: float, note: str = "") -> FlowRow | None:
    """A deposit recorded after a check had already found it: the newest ``external`` inflow of
    ``asset`` between ``ARRIVED_SHARE`` of ``quantity`` and ``quantity`` becomes that deposit (its
    value and time unchanged: it was counted once, when the check found it), and is returned; None
    when there is none. Without this the deposit would wait, pending, for a rise already seen."""
    found = [f for f in flows(journal, portfolio) if f.kind == "external" and f.asset == asset
             and quantity * ARRIVED_SHARE <= f.quantity <= quantity * (1 + 1e-9)]
    text = f"{note} (" if note else "("
    text += "recorded by `trimtab deposit` after a check had found it)"
    for flow in reversed(found):  # the newest first
        if relabel_flow(journal, flow.id, kind="deposit", note=text):
            return replace(flow, kind="deposit", note=text)
    return None


def returns(journal: Journal, portfolio: str, *, since: datetime | None = None,
            now: tuple[datetime, float] | None = None) -> FlowReturns | None:
    """Returns over the checks after ``since`` (all of them with none), ending at ``now`` (time, value)
    when given, with the counted flows taken out (``core/returns.py``); None with fewer than two points."""
    values = check_values(journal, portfolio, since=since)
    if now is not None and (not values or now[0] > values[-1][0]):
        values.append(now)
    return flow_returns(values, [(f.at, f.value) for f in flows(journal, portfolio, since=since)])


def returns_document(r: FlowReturns | None, *, since: datetime | None = None) -> dict | None:
    """The returns as a document (CLI ``--json``, the dashboard's /api), or None."""
    if r is None:
        return None
    return {"since": r.start_at.isoformat(), "until": r.end_at.isoformat(),
            "window_start": None if since is None else since.isoformat(),
            "start_value": r.start_value, "end_value": r.end_value, "net_flows": r.net_flows, "gain": r.gain,
            "time_weighted_return": r.twr, "money_weighted_return": r.mwr,
            "money_weighted_per": "year" if r.mwr_annual else "period"}


def flow_document(row: FlowRow) -> dict:
    return {"kind": row.kind, "state": row.state, "asset": row.asset, "quantity": row.quantity, "price": row.price,
            "value": row.value, "at": row.at.isoformat(), "address": row.address, "client_id": row.client_id,
            "note": row.note}


def net_flow_since(journal: Journal, portfolio: str, since: datetime | None) -> float:
    """The value of every flow after ``since`` (all of them with no ``since``): + in, - out."""
    return math.fsum(f.value for f in flows(journal, portfolio, since=since))


def steered(assessment: Assessment, *, flow: float, band: Band | None, fee: float, min_trade: float,
            rules: Mapping[str, MarketRules]) -> Assessment:
    """The assessment with its plan and decision chosen by steering ``flow`` (see the module docstring)."""
    policy_decision = assessment.decision
    if assessment.activity.in_flight is not None:
        return assessment
    plan, enough = steer(assessment.valuation, assessment.targets, flow=flow, band=band, mode=assessment.plan.mode,
                         fee=fee, min_trade=min_trade, rules=rules)
    direction = "deposit" if flow > 0 else "withdrawal"
    if enough:
        decision = Decision(rebalance=not plan.is_empty, trigger="cash_flow",
                            reason=f"a {direction} of {abs(flow):,.2f} steers the weights: {plan.why}")
    else:
        decision = Decision(rebalance=not plan.is_empty, trigger="cash_flow",
                            reason=f"a {direction} of {abs(flow):,.2f} cannot steer alone: {plan.why} "
                                   f"(the policy alone: {policy_decision.reason})")
    return replace(assessment, plan=plan, decision=decision)


def only(assessment: Assessment, side: str, *, band: Band | None, fee: float, min_trade: float,
         rules: Mapping[str, MarketRules], withdrawal: float | None = None) -> Assessment:
    """The assessment with a buy-only or sell-only plan (``rebalance --buy-only`` / ``--sell-only``, ``withdraw``)."""
    costs = {"mode": assessment.plan.mode, "band": band, "fee": fee, "min_trade": min_trade, "rules": rules}
    if side == BUY_ONLY:
        plan = plan_buy_only(assessment.valuation, assessment.targets, **costs)
    elif side == SELL_ONLY:
        plan = plan_sell_only(assessment.valuation, assessment.targets, withdrawal=withdrawal, **costs)
    else:
        raise ValueError(side)
    return replace(assessment, plan=plan,
                   decision=Decision(rebalance=not plan.is_empty, trigger=side, reason=plan.why))


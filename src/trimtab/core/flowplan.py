"""Buy-only and sell-only plans: cash steers the weights before anything is sold to buy something else.

``plan_buy_only`` spends the quote's cash on the underweight assets (``core/cashflow.py``'s water-filling
with the cash itself as the deposit: the quote competes for it as one more asset, so the cash it keeps
is its own share at the common level). ``plan_sell_only`` raises cash from the overweight assets: a
withdrawal's amount when one is given (the quote's own share of it is paid from the cash held),
otherwise the quote's shortfall against its target. ``steer`` picks the one the cash calls for and
keeps it only when it leaves every weight inside the band; otherwise the full rebalance, and the
plan says why in one sentence either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from trimtab.core.assets import Targets
from trimtab.core.band import Band
from trimtab.core.cashflow import flow_trades
from trimtab.core.drift import DRIFT_EPSILON
from trimtab.core.plan import Mode, Plan
from trimtab.core.planner import plan_from_deltas, plan_rebalance
from trimtab.core.rules import MarketRules
from trimtab.core.valuation import Valuation
from trimtab.errors import InputError

BUY_ONLY = "buy-only"
SELL_ONLY = "sell-only"


def plan_buy_only(
    valuation: Valuation,
    targets: Targets,
    *,
    mode: Mode | str = Mode.TARGET,
    band: Band | None = None,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
) -> Plan:
    """Spend the quote's cash on the most underweight assets first; never sell.

    Example: BTC 6,500, ETH 2,500, USDC 2,000 (the README's portfolio after a 1,000 deposit) on
    50/30/20: the 2,000 of cash is the deposit; against the new total 11,000 ETH lacks 800 and USDC
    2,200, so the common level is 500: buy 300 of ETH and keep 1,700 USDC.
    """
    quote = targets.quote
    cash = valuation.quantities.get(quote, 0.0)
    values = {a: v for a, v in valuation.values.items() if a != quote}
    deltas = flow_trades(values, dict(targets.weights), cash) if cash > 0 else {}
    full = plan_rebalance(valuation, targets, mode=mode, band=band, fee=fee, min_trade=min_trade, rules=rules)
    plan = plan_from_deltas(valuation, targets, deltas, mode=Mode(mode), fee=fee, min_trade=min_trade, rules=rules)
    bought = ", ".join(leg.asset for leg in plan.buys) or "nothing"
    spent = math.fsum(leg.value for leg in plan.buys)
    why = (f"buy-only: {spent:,.2f} of the {cash:,.2f} {quote} in cash buys {bought}, the most underweight first, "
           f"and nothing is sold; fees {plan.fees:,.2f} against {full.fees:,.2f} for a full rebalance "
           f"({full.fees - plan.fees:,.2f} saved).")
    return _explained(plan, BUY_ONLY, why, full.fees - plan.fees)


def plan_sell_only(
    valuation: Valuation,
    targets: Targets,
    *,
    withdrawal: float | None = None,
    mode: Mode | str = Mode.TARGET,
    band: Band | None = None,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
) -> Plan:
    """Raise cash by selling the most overweight assets first; never buy.

    With ``withdrawal`` (in the quote), raise what the withdrawal needs beyond the quote's own share
    (sells grossed up by the fee so that the cash is there after fees); without one, raise the
    quote's shortfall against its target. Raise ``InputError`` for a withdrawal that is not positive
    or larger than the whole portfolio.
    """
    quote = targets.quote
    values = dict(valuation.values)
    cash = valuation.quantities.get(quote, 0.0)
    weights = dict(targets.weights)
    if withdrawal is not None:
        if not math.isfinite(withdrawal) or withdrawal <= 0:
            raise InputError(f"The withdrawal is {withdrawal}; give a positive amount.")
        raisable = cash + (valuation.total_value - cash) * (1 - fee)
        if withdrawal > raisable:
            raise InputError(f"The withdrawal of {withdrawal:,.2f} {quote} is more than the portfolio can raise "
                             f"({raisable:,.2f} {quote} after fees).")
        # in gross units: a sale of value s yields s(1 - fee), a unit of cash pays 1 = 1/(1 - fee) gross
        gross = dict(values)
        gross[quote] = cash / (1 - fee)
        trades = flow_trades(gross, weights, -withdrawal / (1 - fee))
        from_cash = -trades.pop(quote, 0.0) * (1 - fee)  # never more than the cash held
        deltas = trades
        purpose = f"raises the {withdrawal:,.2f} {quote} withdrawal ({from_cash:,.2f} of it from cash)"
    else:
        shortfall = targets.weight(quote) * valuation.total_value - cash
        rest = {a: w for a, w in weights.items() if a != quote}
        total = math.fsum(rest.values())
        deltas = {}
        if shortfall > 0 and total > 0:
            deltas = flow_trades({a: v for a, v in values.items() if a != quote},
                                 {a: w / total for a, w in rest.items()}, -shortfall)
        purpose = f"raises {max(shortfall, 0.0):,.2f} {quote} to bring the cash to its target"
    plan = plan_from_deltas(valuation, targets, deltas, mode=Mode(mode), fee=fee, min_trade=min_trade, rules=rules)
    full_fees = _full_fees(valuation, targets, valuation.total_value - (withdrawal or 0.0), fee)
    sold = ", ".join(leg.asset for leg in plan.sells) or "nothing"
    why = (f"sell-only: {purpose} by selling {sold}, the most overweight first, without buying anything; "
           f"fees {plan.fees:,.2f} against {full_fees:,.2f} for a full rebalance ({full_fees - plan.fees:,.2f} saved).")
    return _explained(plan, SELL_ONLY, why, full_fees - plan.fees)


def steer(
    valuation: Valuation,
    targets: Targets,
    *,
    flow: float,
    band: Band | None,
    withdrawal: float | None = None,
    mode: Mode | str = Mode.TARGET,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
) -> tuple[Plan, bool]:
    """The plan after a cash flow and whether steering alone was enough.

    A deposit (``flow`` > 0, already in the quote's cash) buys (buy-only); a withdrawal still to pay
    (``withdrawal``) or one already gone (``flow`` < 0) sells (sell-only); if that plan would leave a weight outside ``band``, the full rebalance instead, its
    ``why`` naming the weight that steering could not bring back.
    """
    costs = {"mode": mode, "band": band, "fee": fee, "min_trade": min_trade, "rules": rules}
    if withdrawal is not None or flow < 0:
        plan = plan_sell_only(valuation, targets, withdrawal=withdrawal, **costs)
    else:
        plan = plan_buy_only(valuation, targets, **costs)
    outside = _outside(plan, targets, band, valuation.prices, withdrawal or 0.0)
    if outside is None:
        return plan, True
    full = plan_rebalance(valuation, targets, **costs)
    why = (f"full rebalance: {plan.flow} would leave {outside} past the band, so the flow cannot steer alone "
           f"(fees {full.fees:,.2f} against {plan.fees:,.2f} for {plan.flow}).")
    return _explained(full, "", why, None), False


def _outside(plan: Plan, targets: Targets, band: Band | None, prices: Mapping[str, float],
             withdrawal: float) -> str | None:
    """The first asset whose weight after ``plan`` (and the withdrawal) is outside ``band``, in words."""
    if band is None:
        return None
    quote = targets.quote
    values = {a: q * (1.0 if a == quote else prices[a]) for a, q in plan.expected_quantities.items()}
    values[quote] = values.get(quote, 0.0) - withdrawal
    total = math.fsum(values.values())
    if total <= 0:
        return None
    for asset in dict.fromkeys([*targets.assets, *values]):
        weight = values.get(asset, 0.0) / total
        low, high = band.bounds(targets.weight(asset))
        if weight < low - DRIFT_EPSILON or weight > high + DRIFT_EPSILON:
            return f"{asset} at {weight:.1%} (target {targets.weight(asset):.1%})"
    return None


def _full_fees(valuation: Valuation, targets: Targets, total_after: float, fee: float) -> float:
    """What a full rebalance to ``total_after`` would pay in fees (before dust and market rules)."""
    names = dict.fromkeys([*targets.assets, *valuation.values])
    return fee * math.fsum(abs(targets.weight(a) * total_after - valuation.values.get(a, 0.0))
                           for a in names if a != targets.quote)


def _explained(plan: Plan, flow: str, why: str, saved: float | None) -> Plan:
    why = why.replace("-0.00 saved", "0.00 saved")
    return replace(plan, flow=flow, why=why, fees_saved=saved)

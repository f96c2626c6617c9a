"""Simulated fills: how a core ``Plan`` turns into changed holdings at one bar's close.

This is the only place the backtest differs from live trading. Both fee models fill the sells
first, then the buys; a buy never spends more quote than the sells left (buys are scaled down
together when they would), and a sell never sells more than is held.

``proceeds`` (the planner's own fee handling, as the live executor): each leg is filled at the
quantity the planner chose; a sell yields ``q*p*(1-f)``; a buy costs ``q*p*(1+f)``.
``per-leg``: the plan (made with fee 0) says how much quote each leg must raise or spend, ``d``;
a sell sells ``d/(1-f)`` of value and yields exactly ``d``; a buy spends exactly ``d`` and gets
``d/(1+f)`` of value.

Slippage ``s`` moves the fill price against the trade: sells at ``p*(1-s)``, buys at ``p*(1+s)``;
a buy then spends what it planned and gets fewer units. Quote left below a billionth of the
portfolio's value after the buys is float noise and is set to 0.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass

from trimtab.backtest.spec import FeeModel
from trimtab.core.plan import Plan, Side

#: Buys scaled down for lack of quote spend at most this share of it, so float noise never overspends.
SPEND_MARGIN = 1 - 1e-12
#: Quote left below this share of the portfolio after a rebalance is float noise (spent to the
#: last cent), and is set to exactly 0 so that noise never becomes a phantom leg later.
QUOTE_DUST = 1e-9


@dataclass(frozen=True, kw_only=True)
class Fill:
    """One filled leg (a *trade*): ``value`` is quantity x fill price, ``fee`` is in the quote,
    ``slippage`` is what the fill price cost against the close (quantity x |fill - close|)."""

    bar: int
    side: Side
    asset: str
    quantity: float
    price: float
    value: float
    fee: float
    slippage: float


def fill_plan(
    plan: Plan,
    holdings: MutableMapping[str, float],
    *,
    bar: int,
    fee: float,
    fee_model: FeeModel,
    slippage: float = 0.0,
) -> list[Fill]:
    """Fill ``plan`` against ``holdings`` (asset -> quantity, the quote included), in place.

    Return the fills, sells first. ``plan`` must come from ``plan_rebalance`` with ``fee`` for
    ``proceeds`` and with fee 0 for ``per-leg`` (then each leg's value is the quote it moves).
    """
    quote = plan.quote
    holdings.setdefault(quote, 0.0)
    fills: list[Fill] = []
    for leg in plan.sells:
        price = leg.price * (1 - slippage)
        held = holdings.get(leg.asset, 0.0)
        if fee_model is FeeModel.PER_LEG:
            quantity = leg.value / ((1 - fee) * price)
            if quantity < held:
                proceeds = leg.value
            else:
                quantity = held
                proceeds = quantity * price * (1 - fee)
        else:
            quantity = min(leg.quantity, held)
            proceeds = quantity * price * (1 - fee)
        value = quantity * price
        holdings[leg.asset] = held - quantity
        holdings[quote] += proceeds
        fills.append(Fill(bar=bar, side=Side.SELL, asset=leg.asset, quantity=quantity, price=price, value=value,
                          fee=value * fee, slippage=quantity * (leg.price - price)))
    buys = plan.buys
    if fee_model is FeeModel.PER_LEG:
        planned = [leg.value for leg in buys]
    else:
        planned = [leg.quantity * leg.price * (1 + fee) for leg in buys]
    wanted = math.fsum(planned)
    available = max(holdings[quote], 0.0)
    scale = 1.0 if wanted <= available else available * SPEND_MARGIN / wanted
    for leg, spend in zip(buys, planned):
        price = leg.price * (1 + slippage)
        if fee_model is FeeModel.PER_LEG:
            spend = spend * scale
            quantity = spend / ((1 + fee) * price)
            value = quantity * price
        else:
            quantity = leg.quantity * scale / (1 + slippage)
            value = quantity * price
            spend = value * (1 + fee)
        holdings[leg.asset] = holdings.get(leg.asset, 0.0) + quantity
        holdings[quote] -= spend
        fills.append(Fill(bar=bar, side=Side.BUY, asset=leg.asset, quantity=quantity, price=price, value=value,
                          fee=value * fee, slippage=quantity * (price - leg.price)))
    if holdings[quote] < QUOTE_DUST * plan.total_value:  # float noise of the subtractions (or less)
        holdings[quote] = 0.0
    return fills

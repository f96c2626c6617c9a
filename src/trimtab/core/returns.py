"""Returns with cash flows: time-weighted (flows removed) beside money-weighted (IRR), and net flows.

A deposit is not a gain. Given the portfolio's value at points in time and the flows between them,
the time-weighted return chains the sub-period returns around each flow,
``prod(V_end_i / (V_start_i + F_i)) - 1``, so it measures the holdings and not the timing or size of
money added; the money-weighted return is the annual rate ``r`` at which the flows and the final
value discount to zero: ``-V_0 - sum F_k (1+r)^-t_k + V_T (1+r)^-T == 0`` (t in years), solved by
bisection on a bracketing interval (the sum is monotone in ``r`` for this sign pattern).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

_YEAR_SECONDS = 365.25 * 86_400


@dataclass(frozen=True, kw_only=True)
class FlowReturns:
    """``twr``: time-weighted return over the whole span (not annualised); ``mwr``: money-weighted,
    over the span when it is under a year and annual otherwise (a return of a few days is never
    annualised, as GIPS asks; ``mwr_annual`` says which; None when undefined, e.g. a span under a
    minute); ``net_flows``: deposits less withdrawals; ``gain``: the change in value less the net
    flows (what the market and fees did)."""

    start_at: datetime
    end_at: datetime
    start_value: float
    end_value: float
    net_flows: float
    gain: float
    twr: float | None
    mwr: float | None
    mwr_annual: bool = False


def flow_returns(values: Sequence[tuple[datetime, float]], flows: Sequence[tuple[datetime, float]]) -> FlowReturns | None:
    """Returns from ``values`` ((time, portfolio value) in time order) and ``flows`` ((time, signed value)).

    A flow between two valuations joins the sub-period it falls in at its start (it was there for
    that sub-period's market move). None with fewer than two valuations.
    """
    if len(values) < 2:
        return None
    start_at, start = values[0]
    end_at, end = values[-1]
    pending = [(at, f) for at, f in flows if start_at < at <= end_at]
    net = math.fsum(f for _, f in pending)
    growth = 1.0
    defined = True
    j = 0
    for (a0, v0), (a1, v1) in zip(values, values[1:]):
        added = 0.0
        while j < len(pending) and pending[j][0] <= a1:
            added += pending[j][1]
            j += 1
        base = v0 + added
        if base <= 0:
            defined = False
            break
        growth *= v1 / base
    twr = growth - 1.0 if defined else None
    annual = money_weighted(start_at, start, pending, end_at, end)
    years = (end_at - start_at).total_seconds() / _YEAR_SECONDS
    mwr = annual if annual is None or years >= 1 else math.expm1(years * math.log1p(annual))
    return FlowReturns(start_at=start_at, end_at=end_at, start_value=start, end_value=end, net_flows=net,
                       gain=end - start - net, twr=twr, mwr=mwr, mwr_annual=years >= 1)


def money_weighted(start_at: datetime, start: float, flows: Sequence[tuple[datetime, float]],
                   end_at: datetime, end: float) -> float | None:
    """The annual internal rate of return of: ``start`` in at ``start_at``, ``flows`` in, ``end`` out."""
    span = (end_at - start_at).total_seconds() / _YEAR_SECONDS
    if span <= 60 / _YEAR_SECONDS or start <= 0:
        return None
    cash = [(0.0, -start)] + [((at - start_at).total_seconds() / _YEAR_SECONDS, -f) for at, f in flows]
    cash.append((span, end))

    def npv(rate: float) -> float:
        return math.fsum(c * math.exp(-t * math.log1p(rate)) for t, c in cash)

    low, high = -0.999999, 1.0
    while npv(high) > 0 and high < 1e12:
        high *= 2
    if npv(low) < 0 or npv(high) > 0:
        return None
    for _ in range(200):
        mid = (low + high) / 2
        if npv(mid) > 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def unexplained(before: dict[str, float], fills: Sequence[dict], flows: Sequence[tuple[str, float]],
                now: dict[str, float], quote: str) -> dict[str, float]:
    """Quantity per asset that no fill or recorded flow explains: ``now - (before + fills + flows)``.

    Quantities, not values, tell a flow: a price move changes a value and no quantity. A fill of a
    sell takes its quantity and adds ``value - fee`` of the quote; a buy adds its quantity and takes
    ``value + fee``. Pair fills (``BTC/ETH``) move both of their assets.
    """
    expected = dict(before)
    for fill in fills:
        sign = 1.0 if fill["side"] == "buy" else -1.0
        asset = fill["asset"]
        if "/" in asset:  # a direct pair: base against a non-quote counter asset, priced in the counter
            base, counter = asset.split("/", 1)
            expected[base] = expected.get(base, 0.0) + sign * fill["quantity"]
            expected[counter] = expected.get(counter, 0.0) - sign * fill["quantity"] * fill["price"]
            continue
        expected[asset] = expected.get(asset, 0.0) + sign * fill["quantity"]
        expected[quote] = expected.get(quote, 0.0) - (fill["value"] + fill["fee"] if sign > 0
                                                      else -(fill["value"] - fill["fee"]))
    for asset, quantity in flows:
        expected[asset] = expected.get(asset, 0.0) + quantity
    names = dict.fromkeys([*expected, *now])
    return {a: now.get(a, 0.0) - expected.get(a, 0.0) for a in names}

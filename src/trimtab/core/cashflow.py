"""Cash flows that steer the weights: a deposit buys what is underweight, a withdrawal sells what is over.

A deposit ``C`` is spent buy-only by water-filling the gaps against the new total ``T + C``. Each
asset ``i`` (target weight ``t_i``, value ``v_i``) has the gap ``g_i = t_i * (T + C) - v_i``: what it
lacks to be on target once the deposit is in. The gaps add up to ``C`` (the overweights' are
negative), so the positive ones add up to at least ``C``. Lower a common level ``λ`` from the top
and buy each asset the part of its gap above it; ``λ`` is the one level at which the buys add up
to ``C``::

    sum_i max(g_i - λ, 0) == C

The largest gaps are closed first, and every asset bought is left with the same gap ``λ``: this is
what keeps the largest (absolute) drift from growing, checked by property tests. A withdrawal ``W``
is the mirror image, sell-only: the excesses ``e_i = v_i - t_i * (T - W)`` against the new total,
sold from the top down to a common level, ``sum_i max(e_i - λ, 0) == W``. An asset held but not
targeted (weight at most ``MIN_WEIGHT``) has the excess of its whole value: a withdrawal sells it
among the first, and a deposit never buys it. When the flow covers every gap (no asset overweight
against the new total) ``λ`` is 0 and the portfolio ends on target.

A withdrawal cannot promise that the largest drift shrinks: it shrinks the total, so an asset it
leaves alone grows in weight.

The quote asset is an asset like any other here: its buy means "keep that much of the deposit as
cash" and its sell means "pay that much out of the cash already held".

The sum is piecewise linear in ``λ`` with a breakpoint at each gap, so the level is found exactly by
sorting the gaps and solving one linear equation on the right segment; the last float rounding is
put on the largest trade so that the trades add up to the flow to the last bit that floats carry.

Example (the README's 50/30/20 portfolio: BTC 6,500, ETH 2,500, USDC 1,000; total 10,000) with a
1,000 USDC deposit: against the new total 11,000 the gaps are BTC -1,000, ETH 800, USDC 1,200. They
add up to 2,000, more than the deposit, so ``λ`` = (800 + 1,200 - 1,000) / 2 = 500: buy ETH 300 and
keep 700 of the deposit as USDC; ETH and USDC are each left 500 short of target, BTC is not touched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from trimtab.errors import InputError

#: A weight at or below this counts as 0 (untargeted).
MIN_WEIGHT = 1e-9
#: Weights whose sum is this close to 1 are accepted as summing to 1.
_WEIGHT_TOLERANCE = 1e-6


def flow_trades(values: Mapping[str, float], targets: Mapping[str, float], flow: float) -> dict[str, float]:
    """The buy-only (``flow`` > 0) or sell-only (``flow`` < 0) trades that steer toward ``targets``.

    ``values`` is the value of each asset held, in the quote, before the flow (the quote's own cash
    included); ``targets`` maps each targeted asset to its weight (the weights sum to 1). Returns a
    signed trade value for every asset in either mapping: positive buys, negative sells, 0.0 for an
    asset left alone. The trades add up to ``flow``; a withdrawal larger than the whole portfolio
    sells everything (the trades then add up to minus the total). Raise ``InputError`` for a
    negative or non-finite value, a non-finite flow, or weights that do not sum to 1.

    >>> flow_trades({"BTC": 6500, "ETH": 2500, "USDC": 1000}, {"BTC": .5, "ETH": .3, "USDC": .2}, 2000)
    {'BTC': 0.0, 'ETH': 850.0, 'USDC': 1150.0}
    """
    _check(values, targets, flow)
    names = list(dict.fromkeys([*targets, *values]))
    trades = dict.fromkeys(names, 0.0)
    if flow > 0:
        trades.update(_fill(values, targets, flow))
    elif flow < 0:
        trades.update(_drain(values, targets, -flow))
    return trades


def flow_level(values: Mapping[str, float], targets: Mapping[str, float], flow: float) -> float:
    """The level ``λ`` of :func:`flow_trades`: the gap (a deposit) or excess (a withdrawal) every asset
    the flow touched is left with, in the quote; 0 when the flow reaches the targets; NaN for no flow.
    """
    _check(values, targets, flow)
    if flow == 0:
        return math.nan
    gaps = _gaps(values, targets, flow)
    if flow < 0 and -flow >= math.fsum(values.values()):
        return 0.0
    return _level(sorted((g for g in gaps.values() if g > 0), reverse=True), abs(flow))


def _gaps(values: Mapping[str, float], targets: Mapping[str, float], flow: float) -> dict[str, float]:
    """Per asset: what it lacks against the new total (a deposit) or holds beyond it (a withdrawal)."""
    new_total = math.fsum(values.values()) + flow
    weight = {a: (t if t > MIN_WEIGHT else 0.0) for a, t in targets.items()}
    names = dict.fromkeys([*targets, *values])
    if flow > 0:
        return {a: weight.get(a, 0.0) * new_total - values.get(a, 0.0) for a in names}
    return {a: values.get(a, 0.0) - weight.get(a, 0.0) * new_total for a in names}


def _level(ordered: list[float], amount: float) -> float:
    """``λ >= 0`` with ``sum max(g - λ, 0) == amount`` over the positive gaps ``ordered`` largest first
    (they add up to at least ``amount``)."""
    running = 0.0
    for k, gap in enumerate(ordered):
        running += gap
        level = (running - amount) / (k + 1)
        if k + 1 == len(ordered) or level >= ordered[k + 1]:
            return max(level, 0.0)
    return 0.0


def _fill(values: Mapping[str, float], targets: Mapping[str, float], deposit: float) -> dict[str, float]:
    gaps = _gaps(values, targets, deposit)
    level = _level(sorted((g for g in gaps.values() if g > 0), reverse=True), deposit)
    return _exact({a: g - level for a, g in gaps.items() if g > level}, deposit)


def _drain(values: Mapping[str, float], targets: Mapping[str, float], withdrawal: float) -> dict[str, float]:
    if withdrawal >= math.fsum(values.values()):
        return {a: -float(v) for a, v in values.items() if v > 0}
    excess = _gaps(values, targets, -withdrawal)
    level = _level(sorted((e for e in excess.values() if e > 0), reverse=True), withdrawal)
    sells = {a: min(e - level, values.get(a, 0.0)) for a, e in excess.items() if e > level}
    return {a: -s for a, s in _exact(sells, withdrawal).items()}


def _exact(amounts: dict[str, float], flow: float) -> dict[str, float]:
    """Put the float residual of ``flow - sum(amounts)`` on the largest amount."""
    if not amounts:
        return amounts
    largest = max(amounts, key=lambda a: amounts[a])
    residual = flow - math.fsum(amounts.values())
    amounts[largest] = max(amounts[largest] + residual, 0.0)
    return amounts


def _check(values: Mapping[str, float], targets: Mapping[str, float], flow: float) -> None:
    if not math.isfinite(flow):
        raise InputError(f"The flow is {flow}; give a finite amount.")
    for asset, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise InputError(f"The value of {asset} is {value}; give a finite amount of at least 0.")
    for asset, weight in targets.items():
        if not math.isfinite(weight) or weight < 0:
            raise InputError(f"The target weight of {asset} is {weight}; give a weight between 0 and 1.")
    if abs(math.fsum(targets.values()) - 1.0) > _WEIGHT_TOLERANCE:
        raise InputError(f"The target weights sum to {math.fsum(targets.values()):g}; they must sum to 1.")

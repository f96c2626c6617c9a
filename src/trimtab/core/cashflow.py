"""Cash flows that steer the weights: a deposit buys what is underweight, a withdrawal sells what is over.

A deposit ``C`` is spent buy-only by water-filling. Each targeted asset ``i`` (weight ``t_i``, value
``v_i``) has a ratio ``v_i / t_i``: the total the portfolio would need for ``i`` to be exactly on
target. The most underweight asset has the lowest ratio. Raise a common level ``L`` and buy each
asset up to ``t_i * L``; ``L`` is the one level at which the buys add up to ``C``::

    sum_i max(t_i * L - v_i, 0) == C

A withdrawal ``W`` is the mirror image, sell-only: lower the level from the top, selling each asset
down to ``t_i * L``, until ``sum_i max(v_i - t_i * L, 0) == W``. An asset held but not targeted
(weight 0, or at most ``MIN_WEIGHT``) is infinitely overweight: a withdrawal sells those first (the
largest down first, to a common value), and a deposit never buys them.

A deposit never increases the largest drift (checked by property tests). A withdrawal cannot
promise that: it shrinks the total, so an asset it leaves alone grows in weight.

The quote asset is an asset like any other here: its buy means "keep that much of the deposit as
cash" and its sell means "pay that much out of the cash already held".

Both sums are piecewise linear in ``L`` with a breakpoint at each ratio, so the level is found
exactly by sorting the ratios and solving one linear equation on the right segment; the last float
rounding is put on the largest trade so that the trades add up to the flow to the last bit that
floats can carry.

Example (the README's 50/30/20 portfolio: BTC 6,500, ETH 2,500, USDC 1,000; total 10,000) with a
1,000 USDC deposit: the ratios are BTC 13,000, ETH 8,333, USDC 5,000. USDC alone would need
``L`` = 10,000, past ETH's 8,333, so ETH joins: ``L`` = (1,000 + 2,500 + 1,000) / 0.5 = 9,000, below
BTC's 13,000. Buy ETH up to 2,700 (200) and keep USDC at 1,800 (800 of the deposit stays cash).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from trimtab.errors import InputError

#: A weight at or below this counts as 0 (untargeted): its ratio value / weight would overflow.
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
    {'BTC': 0.0, 'ETH': 800.0, 'USDC': 1200.0}
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
    """The level ``L`` of :func:`flow_trades` (``math.inf`` while untargeted holdings are being sold).

    After the trades every asset the flow touched sits at ``t_i * L``; an asset it left alone is
    above that level (a deposit) or below it (a withdrawal).
    """
    _check(values, targets, flow)
    if flow > 0:
        return _fill_level(_ratios(values, targets), flow)
    if flow < 0:
        untargeted = math.fsum(v for a, v in values.items() if targets.get(a, 0.0) <= MIN_WEIGHT)
        if -flow < untargeted:
            return math.inf
        return _drain_level(_ratios(values, targets), -flow - untargeted)
    return math.nan


def _ratios(values: Mapping[str, float], targets: Mapping[str, float]) -> list[tuple[float, str, float, float]]:
    """(ratio, asset, weight, value) for every asset with a positive target."""
    return [(values.get(a, 0.0) / t, a, t, values.get(a, 0.0)) for a, t in targets.items() if t > MIN_WEIGHT]


def _fill_level(ratios: list[tuple[float, str, float, float]], deposit: float) -> float:
    ordered = sorted(ratios)
    weight = 0.0
    value = 0.0
    for k, (_, _, t, v) in enumerate(ordered):
        weight += t
        value += v
        level = (deposit + value) / weight
        if k + 1 == len(ordered) or level <= ordered[k + 1][0]:
            return level
    raise AssertionError("unreachable: the targets are not empty")


def _fill(values: Mapping[str, float], targets: Mapping[str, float], deposit: float) -> dict[str, float]:
    ratios = _ratios(values, targets)
    level = _fill_level(ratios, deposit)
    buys = {a: max(t * level - v, 0.0) for _, a, t, v in ratios}
    return _exact({a: b for a, b in buys.items() if b > 0}, deposit)


def _drain_level(ratios: list[tuple[float, str, float, float]], withdrawal: float) -> float:
    ordered = sorted(ratios, reverse=True)
    total = math.fsum(v for _, _, _, v in ordered)
    if withdrawal >= total:
        return 0.0
    weight = 0.0
    value = 0.0
    for k, (_, _, t, v) in enumerate(ordered):
        weight += t
        value += v
        level = (value - withdrawal) / weight
        if k + 1 == len(ordered) or level >= ordered[k + 1][0]:
            return max(level, 0.0)
    raise AssertionError("unreachable: the targets are not empty")


def _drain(values: Mapping[str, float], targets: Mapping[str, float], withdrawal: float) -> dict[str, float]:
    untargeted = {a: v for a, v in values.items() if targets.get(a, 0.0) <= MIN_WEIGHT and v > 0}
    held = math.fsum(untargeted.values())
    if withdrawal < held:
        return {a: -s for a, s in _exact(_drain_untargeted(untargeted, withdrawal), withdrawal).items()}
    sells = {a: float(v) for a, v in untargeted.items()}
    rest = withdrawal - held
    ratios = _ratios(values, targets)
    total = math.fsum(v for _, _, _, v in ratios)
    if rest > 0:
        level = _drain_level(ratios, rest)
        sells.update({a: max(v - t * level, 0.0) for _, a, t, v in ratios if v - t * level > 0})
        if rest >= total:
            sells.update({a: float(v) for _, a, _, v in ratios if v > 0})
            return {a: -s for a, s in sells.items()}
    return {a: -s for a, s in _exact(sells, withdrawal).items()}


def _drain_untargeted(untargeted: Mapping[str, float], withdrawal: float) -> dict[str, float]:
    """Sell the largest untargeted holdings down to a common value ``M`` until ``withdrawal`` is raised."""
    ordered = sorted(untargeted.values(), reverse=True)
    value = 0.0
    level = 0.0
    for k, v in enumerate(ordered):
        value += v
        level = (value - withdrawal) / (k + 1)
        if k + 1 == len(ordered) or level >= ordered[k + 1]:
            break
    return {a: v - level for a, v in untargeted.items() if v > level}


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

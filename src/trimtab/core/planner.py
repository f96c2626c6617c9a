"""The planner: from a valuation and targets to the fewest trades that restore them.

Trade value per asset = (desired weight - current weight) x total value, where the desired weight
is the target (``target`` mode) or the nearest edge of the band (``band-edge`` mode). Sells come
first; buys are paid from the quote balance plus the sells' proceeds and are scaled down together
if fees would otherwise overspend. The quote asset is never a leg of its own. A leg below
``min_trade`` or that rounds below a market minimum is dropped with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from trimtab.core.assets import Targets
from trimtab.core.band import Band
from trimtab.core.drift import DRIFT_EPSILON
from trimtab.core.plan import Leg, Mode, Plan, Side, SkippedLeg
from trimtab.core.rules import NO_RULES, MarketRules
from trimtab.core.valuation import Valuation
from trimtab.errors import InputError

#: When buys must be scaled down, they spend at most this share of what is available, so float
#: noise never overspends.
_SPEND_MARGIN = 1 - 1e-12


def plan_rebalance(
    valuation: Valuation,
    targets: Targets,
    *,
    mode: Mode | str = Mode.TARGET,
    band: Band | None = None,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
) -> Plan:
    """Plan the legs that bring ``valuation`` to ``targets`` (see the module docstring).

    ``fee`` is the taker fee rate (0.001 = 0.1%) unless a market's rules set their own;
    ``rules`` maps an asset to its market against the quote. Raise ``InputError`` for a bad
    mode, fee or minimum, or for ``band-edge`` mode without a band.

    Example: BTC 0.1 @ 65,000, ETH 1.25 @ 2,000, USDC 1,000 against 50/30/20, no fee: sell
    0.023077 BTC (1,500) and buy 0.25 ETH (500); USDC rises from 1,000 to 2,000.
    """
    mode = _parse_mode(mode)
    _check_costs(fee, min_trade)
    if valuation.quote != targets.quote:
        raise InputError(f"The valuation is in {valuation.quote} but the targets' quote is {targets.quote}.")
    desired = _desired_weights(valuation, targets, mode, band)
    deltas = {
        asset: (desired[asset] - valuation.weights.get(asset, 0.0)) * valuation.total_value
        for asset in desired
        if asset != targets.quote
    }
    return plan_from_deltas(valuation, targets, deltas, mode=mode, fee=fee, min_trade=min_trade, rules=rules)


def plan_from_deltas(
    valuation: Valuation,
    targets: Targets,
    deltas: Mapping[str, float],
    *,
    mode: Mode = Mode.TARGET,
    fee: float = 0.0,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
    flow: str = "",
    why: str = "",
    fees_saved: float | None = None,
) -> Plan:
    """The plan that trades ``deltas`` (value per non-quote asset, + buy, - sell) from ``valuation``.

    Sells first; buys paid from the quote plus the sells' proceeds, scaled down together if fees
    would overspend; dust and market rules drop a leg with its reason. ``plan_rebalance`` and the
    buy-only / sell-only plans of ``core/flowplan.py`` all end here.
    """
    rules = rules or {}
    legs: list[Leg] = []
    skipped: list[SkippedLeg] = []

    for asset, delta in sorted(deltas.items(), key=lambda kv: kv[1]):
        if delta >= 0 or asset == targets.quote:
            continue
        price = valuation.prices[asset]
        wanted = min(-delta / price, valuation.quantities.get(asset, 0.0))
        _add_leg(legs, skipped, Side.SELL, asset, wanted, price, -delta, fee, min_trade, rules)

    quote_held = valuation.quantities.get(targets.quote, 0.0)
    available = quote_held + math.fsum(leg.quote_change for leg in legs)
    wishes = {a: d for a, d in deltas.items() if d > 0 and a != targets.quote}
    for asset, value in list(wishes.items()):
        if value < min_trade:
            skipped.append(_dust(Side.BUY, asset, value, min_trade))
            del wishes[asset]
    cost = math.fsum(v * (1 + _fee_for(a, fee, rules)) for a, v in wishes.items())
    scale = 1.0 if cost <= available else max(available, 0.0) * _SPEND_MARGIN / cost
    for asset, value in sorted(wishes.items(), key=lambda kv: -kv[1]):
        price = valuation.prices[asset]
        _add_leg(legs, skipped, Side.BUY, asset, value * scale / price, price, value, fee, 0.0, rules)

    quantities = _apply(valuation.quantities, legs, targets.quote)
    values = {a: q * (1.0 if a == targets.quote else valuation.prices[a]) for a, q in quantities.items()}
    total_after = math.fsum(values.values())
    return Plan(
        quote=targets.quote,
        mode=mode,
        legs=tuple(legs),
        skipped=tuple(skipped),
        total_value=valuation.total_value,
        expected_quantities=MappingProxyType(quantities),
        expected_weights=MappingProxyType(
            {a: (v / total_after if total_after > 0 else 0.0) for a, v in values.items()}
        ),
        flow=flow,
        why=why,
        fees_saved=fees_saved,
    )


def band_edge_weights(weights: Mapping[str, float], targets: Targets, band: Band) -> dict[str, float]:
    """The nearest weights to ``weights`` that put every asset, the quote included, in its band.

    Each non-quote asset is clipped to its band; if that leaves the quote outside its own band,
    every non-quote asset is moved the same fraction of the way on to its target until the quote
    reaches its nearest edge. Every non-quote weight stays between its current value and its
    target, so no leg is larger than in ``target`` mode; the quote, the residual, may end anywhere
    inside its band.
    """
    quote = targets.quote
    assets = list(dict.fromkeys([*targets.assets, *weights]))
    clipped = {}
    for asset in assets:
        if asset == quote:
            continue
        low, high = band.bounds(targets.weight(asset))
        clipped[asset] = min(max(weights.get(asset, 0.0), low), high)
    quote_weight = 1.0 - math.fsum(clipped.values())
    quote_target = targets.weight(quote)
    low, high = band.bounds(quote_target)
    alpha = 0.0
    # strict with DRIFT_EPSILON, as every band: a quote at -1e-16 (float noise of 1 - sum) is inside [0, x]
    if quote_weight < low - DRIFT_EPSILON or quote_weight > high + DRIFT_EPSILON:
        edge = low if quote_weight < low else high
        alpha = (edge - quote_weight) / (quote_target - quote_weight)
    desired = {a: c + alpha * (targets.weight(a) - c) for a, c in clipped.items()}
    desired[quote] = 1.0 - math.fsum(desired.values())
    return desired


def _desired_weights(valuation: Valuation, targets: Targets, mode: Mode, band: Band | None) -> dict[str, float]:
    if mode is Mode.TARGET:
        assets = dict.fromkeys([*targets.assets, *valuation.assets])
        return {a: targets.weight(a) for a in assets}
    if band is None:
        raise InputError("band-edge mode needs a band: give --band or --relative-band.")
    return band_edge_weights(valuation.weights, targets, band)


def _add_leg(
    legs: list[Leg],
    skipped: list[SkippedLeg],
    side: Side,
    asset: str,
    quantity: float,
    price: float,
    wanted_value: float,
    default_fee: float,
    min_trade: float,
    rules: Mapping[str, MarketRules],
) -> None:
    if wanted_value < min_trade:
        skipped.append(_dust(side, asset, wanted_value, min_trade))
        return
    market = rules.get(asset, NO_RULES)
    rounded = float(market.round_quantity(quantity))
    if side is Side.BUY and rounded > quantity * (1 + 1e-12):  # the tolerance must not overspend a buy
        rounded = float(market.round_quantity(quantity, strict=True))
    refusal = market.refusal(rounded, price)
    if refusal:
        code, detail = refusal
        skipped.append(
            SkippedLeg(side=side, asset=asset, value=wanted_value, code=code, reason=f"{side} {asset}: {code}: {detail}")
        )
        return
    value = rounded * price
    legs.append(
        Leg(side=side, asset=asset, quantity=rounded, price=price, value=value,
            fee=value * _fee_for(asset, default_fee, rules))
    )


def _dust(side: Side, asset: str, value: float, min_trade: float) -> SkippedLeg:
    return SkippedLeg(
        side=side, asset=asset, value=value, code="DUST",
        reason=f"{side} {asset}: value {value:.2f} is below min_trade {min_trade:g}",
    )


def _apply(quantities: Mapping[str, float], legs: tuple[Leg, ...] | list[Leg], quote: str) -> dict[str, float]:
    after = dict(quantities)
    after.setdefault(quote, 0.0)
    for leg in legs:
        after[leg.asset] += leg.quantity if leg.side is Side.BUY else -leg.quantity
        after[quote] += leg.quote_change
    return after


def _fee_for(asset: str, default_fee: float, rules: Mapping[str, MarketRules]) -> float:
    market = rules.get(asset)
    return market.taker_fee if market is not None and market.taker_fee is not None else default_fee


def _parse_mode(mode: Mode | str) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise InputError(f"Unknown mode {mode!r}: use target or band-edge.") from None


def _check_costs(fee: float, min_trade: float) -> None:
    if math.isnan(fee) or not 0 <= fee < 1:
        raise InputError(f"The fee is {fee}; give a rate between 0 and 1, e.g. 0.001 for 0.1%.")
    if not math.isfinite(min_trade) or min_trade < 0:
        raise InputError(f"min_trade is {min_trade}; give a finite amount of at least 0, e.g. 10.")

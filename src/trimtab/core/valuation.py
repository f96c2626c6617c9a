"""Valuation: holdings x prices -> values and current weights, in the quote asset.

Values stay inside what a float (and the planner's exact rounding after it) can hold: a holding or
a portfolio worth more than ``MAX_VALUE``, or a price below ``MIN_PRICE``, is refused with one
sentence (``InputError``) rather than valued as ``inf`` or planned with ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from trimtab.core.assets import finite_number, unique_pairs
from trimtab.errors import InputError

#: The most a holding or a portfolio may be worth in the quote asset (a billion billion).
MAX_VALUE = 1e18
#: The least a price may be: below it a quantity worth ``MAX_VALUE`` would overflow a float.
MIN_PRICE = 1e-100


@dataclass(frozen=True, kw_only=True)
class InTransit:
    """Value that has left one balance and not reached another: a bridge, a transfer, a swap.

    ``quantity`` is what will arrive (the bridge's fee already taken), ``since`` when it left,
    ``run_id`` the run that sent it when known. It still belongs to the portfolio.
    """

    asset: str
    quantity: float
    from_chain: str
    to_chain: str
    since: datetime | None = None
    client_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Valuation:
    """What a portfolio is worth, asset by asset, at given prices.

    ``prices`` include the quote at 1. ``weights`` are ``values / total_value`` and sum to 1.
    Assets are listed in a stable order: the targets' first, then any other holding.
    ``quantities`` include what is in transit; ``in_transit`` lists it on its own line, so
    ``held + in transit = quantities``.
    """

    quote: str
    quantities: Mapping[str, float]
    prices: Mapping[str, float]
    values: Mapping[str, float]
    weights: Mapping[str, float]
    total_value: float
    in_transit: tuple[InTransit, ...] = field(default=())

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(self.quantities)

    @property
    def in_transit_value(self) -> float:
        """The value of everything in transit at these prices (0 when nothing travels)."""
        return math.fsum(t.quantity * self.prices.get(t.asset, 0.0) for t in self.in_transit)


def parse_holdings(holdings: Mapping[str, float] | Iterable[tuple[str, float]]) -> dict[str, float]:
    """Canonical ``asset -> quantity``; refuse duplicates, negative, NaN or infinite quantities."""
    pairs = holdings.items() if isinstance(holdings, Mapping) else holdings
    parsed = unique_pairs(pairs, "holdings")
    for asset, quantity in parsed.items():
        parsed[asset] = finite_number(quantity, f"Holding of {asset}")
        if parsed[asset] < 0:
            raise InputError(f"Holding of {asset} is {quantity:g}; quantities cannot be negative.")
    return parsed


def parse_prices(
    prices: Mapping[str, float] | Iterable[tuple[str, float]], quote: str
) -> dict[str, float]:
    """Canonical ``asset -> price``; refuse zero, negative, NaN and a quote price other than 1."""
    pairs = prices.items() if isinstance(prices, Mapping) else prices
    parsed = unique_pairs(pairs, "prices")
    for asset, price in parsed.items():
        parsed[asset] = finite_number(price, f"Price of {asset}")
        if parsed[asset] <= 0:
            raise InputError(f"Price of {asset} is {price:g}; prices must be positive.")
        if parsed[asset] < MIN_PRICE:
            raise InputError(f"Price of {asset} is {parsed[asset]:g}, too small to value (the least is "
                             f"{MIN_PRICE:g}); check it.")
    if quote in parsed and parsed[quote] != 1.0:
        raise InputError(
            f"{quote} is the quote asset, so its price is 1 by definition; drop it from the prices."
        )
    parsed[quote] = 1.0
    return parsed


def bounded_total(quantities: Mapping[str, float], prices: Mapping[str, float], quote: str) -> float:
    """The worth of ``quantities`` at ``prices`` (the quote at 1 when not priced); ``InputError``
    when a holding or the whole is worth more than ``MAX_VALUE`` (inf included)."""
    values = {a: q * prices.get(a, 1.0 if a == quote else math.nan) for a, q in quantities.items()}
    for a, value in values.items():
        if value > MAX_VALUE or math.isinf(value):  # inf (1e308 x 1e308) included; nan is an unpriced asset
            raise InputError(f"{a} is worth {quantities[a]:g} x {prices[a]:g} {quote}, too large to value (the "
                             f"most is {MAX_VALUE:g} {quote}); check its holding and price.")
    total = math.fsum(v for v in values.values() if not math.isnan(v))
    if total > MAX_VALUE:
        raise InputError(f"The portfolio is worth {total:g} {quote}, too large to value (the most is "
                         f"{MAX_VALUE:g} {quote}); check the holdings and prices.")
    return total


def value_portfolio(
    holdings: Mapping[str, float] | Iterable[tuple[str, float]],
    prices: Mapping[str, float] | Iterable[tuple[str, float]],
    *,
    quote: str,
    assets: Iterable[str] = (),
    in_transit: Iterable[InTransit] = (),
) -> Valuation:
    """Value ``holdings`` at ``prices``; ``assets`` (e.g. the targets) are included even at 0.

    ``in_transit`` (bridges, transfers, swaps on their way) is added to the holdings of its asset:
    money travelling between chains is still the portfolio's.

    Raise ``InputError`` when an included asset has no price, when the portfolio is worth 0, or
    when a holding or the whole is worth more than ``MAX_VALUE``.

    >>> v = value_portfolio({"BTC": 0.1, "USDC": 3500}, {"BTC": 65000}, quote="USDC")
    >>> v.total_value, v.weights["BTC"]
    (10000.0, 0.65)
    """
    quantities = parse_holdings(holdings)
    travelling = tuple(in_transit)
    for item in travelling:
        amount = finite_number(item.quantity, f"In-transit {item.asset}")
        if amount < 0:
            raise InputError(f"In-transit {item.asset} is {amount:g}; quantities cannot be negative.")
        quantities[item.asset] = quantities.get(item.asset, 0.0) + amount
    price_of = parse_prices(prices, quote)
    order = list(dict.fromkeys([*assets, *quantities]))
    missing = [a for a in order if a not in price_of]
    if missing:
        raise InputError(
            f"No price for {', '.join(missing)}; every target and holding other than the quote "
            f"asset {quote} needs a positive price."
        )
    quantity_of = {a: quantities.get(a, 0.0) for a in order}
    values = {a: quantity_of[a] * price_of[a] for a in order}
    total = bounded_total(quantity_of, price_of, quote)
    if total <= 0:
        raise InputError(f"The portfolio is empty: its holdings are worth 0 {quote}.")
    weights = {a: v / total for a, v in values.items()}
    return Valuation(
        quote=quote,
        quantities=MappingProxyType(quantity_of),
        prices=MappingProxyType({a: price_of[a] for a in order}),
        values=MappingProxyType(values),
        weights=MappingProxyType(weights),
        total_value=total,
        in_transit=travelling,
    )


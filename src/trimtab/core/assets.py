"""Asset symbols, the quote asset, and target weights: parsed and validated once, here."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trimtab.errors import InputError

#: Quote assets trimtab knows: what sells turn into and buys are paid with (price 1 by definition).
QUOTE_ASSETS = frozenset({"USDC", "USDT", "USD", "DAI", "FDUSD", "TUSD", "PYUSD", "EUR"})

#: Weights may miss 1 by this much (six assets at 1/6 each is a valid portfolio).
WEIGHT_SUM_TOLERANCE = 1e-6

_SYMBOL = re.compile(r"^[A-Z0-9]{1,15}$")


def asset_symbol(name: str) -> str:
    """Return ``name`` as a canonical symbol (upper case), or raise ``InputError``.

    >>> asset_symbol(" btc ")
    'BTC'
    """
    symbol = str(name).strip().upper()
    if not _SYMBOL.match(symbol):
        raise InputError(
            f"{name!r} is not an asset symbol: use 1 to 15 letters or digits, such as BTC or USDC."
        )
    return symbol


def quote_symbol(name: str) -> str:
    """Return ``name`` as a known quote asset, or raise ``InputError`` naming the known ones."""
    symbol = asset_symbol(name)
    if symbol not in QUOTE_ASSETS:
        known = ", ".join(sorted(QUOTE_ASSETS))
        raise InputError(f"Unknown quote asset {symbol}: use one of {known}.")
    return symbol


def unique_pairs(pairs: Iterable[tuple[str, float]], what: str) -> dict[str, float]:
    """Turn ``(asset, number)`` pairs into a dict of canonical symbols, refusing duplicates."""
    result: dict[str, float] = {}
    for name, number in pairs:
        symbol = asset_symbol(name)
        if symbol in result:
            raise InputError(f"{symbol} appears twice in the {what}; give each asset once.")
        result[symbol] = number
    return result


def _as_pairs(items: Mapping[str, float] | Iterable[tuple[str, float]]) -> Iterable[tuple[str, float]]:
    return items.items() if isinstance(items, Mapping) else items


@dataclass(frozen=True)
class Targets:
    """Target weights by asset, and the quote asset (which may be one of them, as cash).

    Build with :meth:`of`, which validates: weights are finite, between 0 and 1, and sum to 1
    within ``WEIGHT_SUM_TOLERANCE``.
    """

    weights: Mapping[str, float]
    quote: str = "USDC"
    assets: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "assets", tuple(self.weights))

    @classmethod
    def of(
        cls, weights: Mapping[str, float] | Iterable[tuple[str, float]], quote: str = "USDC"
    ) -> Targets:
        """Validate and build targets; raise ``InputError`` with one sentence on bad input."""
        quote = quote_symbol(quote)
        parsed = unique_pairs(_as_pairs(weights), "targets")
        if not parsed:
            raise InputError("No target weights given: name at least one asset, e.g. BTC=0.5,USDC=0.5.")
        for asset, weight in parsed.items():
            _check_weight(asset, weight)
        total = math.fsum(parsed.values())
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            terms = " + ".join(f"{a} {w:g}" for a, w in parsed.items())
            raise InputError(
                f"Target weights sum to {total:.6g} ({terms}); they must sum to 1 "
                f"(within {WEIGHT_SUM_TOLERANCE:g})."
            )
        return cls({a: float(w) for a, w in parsed.items()}, quote)

    def weight(self, asset: str) -> float:
        """The target weight of ``asset``; 0 for an asset not in the targets."""
        return self.weights.get(asset, 0.0)


def finite_number(number: float, what: str) -> float:
    """``number`` as a float, or ``InputError`` saying ``what`` is not a finite number."""
    try:
        value = float(number)
    except (TypeError, ValueError):
        raise InputError(f"{what} is {number!r}, not a number.") from None
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{what} is {value}; give a finite number.")
    return value


def _check_weight(asset: str, weight: float) -> None:
    value = finite_number(weight, f"Target weight for {asset}")
    if value < 0:
        raise InputError(f"Target weight for {asset} is {value:g}; weights cannot be negative.")
    if value > 1:
        raise InputError(f"Target weight for {asset} is {value:g}; a weight cannot exceed 1.")

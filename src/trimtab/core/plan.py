"""A plan: the ordered legs that restore the targets, and what is expected after them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    SELL = "sell"
    BUY = "buy"


class Mode(StrEnum):
    """``target``: back to the target weights; ``band-edge``: only back to each band's edge."""

    TARGET = "target"
    BAND_EDGE = "band-edge"


@dataclass(frozen=True, kw_only=True)
class Leg:
    """One market order against the quote asset.

    ``value`` is the notional, quantity x price; ``fee`` is paid in the quote on top of a buy's
    value and out of a sell's value, so a sell yields ``value - fee`` and a buy costs ``value + fee``.
    """

    side: Side
    asset: str
    quantity: float
    price: float
    value: float
    fee: float

    @property
    def quote_change(self) -> float:
        """What the leg does to the quote balance: + proceeds for a sell, - cost for a buy."""
        return self.value - self.fee if self.side is Side.SELL else -(self.value + self.fee)


@dataclass(frozen=True, kw_only=True)
class SkippedLeg:
    """A leg the planner dropped, with the rule that dropped it (``DUST``, ``BELOW_MIN_NOTIONAL``...)."""

    side: Side
    asset: str
    value: float
    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Sells first, then buys; every amount in the quote asset at the planned prices.

    ``flow`` is ``"buy-only"`` or ``"sell-only"`` for a plan that steers with cash (``core/flowplan.py``),
    empty for a full rebalance; ``why`` is the one sentence that says why the plan took that shape and
    ``fees_saved`` what it saved in fees against a full rebalance (None when not compared).
    """

    quote: str
    mode: Mode
    legs: tuple[Leg, ...]
    skipped: tuple[SkippedLeg, ...]
    total_value: float
    expected_quantities: Mapping[str, float]
    expected_weights: Mapping[str, float]
    flow: str = ""
    why: str = ""
    fees_saved: float | None = None

    @property
    def turnover(self) -> float:
        """The sum of every leg's value (sells and buys)."""
        return math.fsum(leg.value for leg in self.legs)

    @property
    def fees(self) -> float:
        return math.fsum(leg.fee for leg in self.legs)

    @property
    def sells(self) -> tuple[Leg, ...]:
        return tuple(leg for leg in self.legs if leg.side is Side.SELL)

    @property
    def buys(self) -> tuple[Leg, ...]:
        return tuple(leg for leg in self.legs if leg.side is Side.BUY)

    @property
    def is_empty(self) -> bool:
        return not self.legs

    @property
    def expected_total_value(self) -> float:
        """Value after the plan at the planned prices: the value before, less the fees."""
        return self.total_value - self.fees

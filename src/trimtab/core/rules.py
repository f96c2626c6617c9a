"""Market rules: what a venue accepts for one asset against the quote, and rounding to them.

Quantities are rounded *down* with exact decimal arithmetic, so an order never sells more than
was planned nor spends more than was available.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from trimtab.errors import InputError

_STEP_TOLERANCE = Decimal("1e-9")


@dataclass(frozen=True, kw_only=True)
class MarketRules:
    """One market's rules (e.g. BTC/USDC on an exchange).

    ``amount_step``: the lot size (quantities are multiples of it); ``amount_precision``: the
    number of decimals a quantity may have; ``min_quantity`` and ``min_notional`` (quantity x
    price, in the quote) are the venue's minimums; ``taker_fee`` overrides the default fee rate.
    """

    amount_step: float | None = None
    amount_precision: int | None = None
    min_quantity: float = 0.0
    min_notional: float = 0.0
    price_precision: int | None = None
    taker_fee: float | None = None

    def __post_init__(self) -> None:
        if self.amount_step is not None and not self.amount_step > 0:
            raise InputError(f"amount_step is {self.amount_step}; it must be positive.")
        if self.amount_precision is not None and self.amount_precision < 0:
            raise InputError(f"amount_precision is {self.amount_precision}; it cannot be negative.")
        if self.min_quantity < 0 or self.min_notional < 0:
            raise InputError("Market minimums cannot be negative.")
        if self.taker_fee is not None and not 0 <= self.taker_fee < 1:
            raise InputError(f"taker_fee is {self.taker_fee}; give a fraction such as 0.001.")

    def round_quantity(self, quantity: float, *, strict: bool = False) -> Decimal:
        """``quantity`` rounded down to the step and precision, exactly: 0.123456 at step 0.001 -> 0.123.

        Unless ``strict``, a quantity within a billionth of a step below a multiple (float noise:
        0.24999999999999994 for 0.25) counts as that multiple.
        """
        amount = Decimal(repr(float(quantity)))
        tolerance = Decimal(0) if strict else _STEP_TOLERANCE
        for step in self._steps():
            amount = (amount / step + tolerance).to_integral_value(rounding=ROUND_DOWN) * step
        return max(amount, Decimal(0))

    def _steps(self) -> list[Decimal]:
        steps = []
        if self.amount_step is not None:
            steps.append(Decimal(repr(float(self.amount_step))))
        if self.amount_precision is not None:
            steps.append(Decimal(1).scaleb(-self.amount_precision))
        return steps

    def refusal(self, quantity: float, price: float) -> tuple[str, str] | None:
        """``(code, detail)`` when an order of ``quantity`` at ``price`` breaks a minimum, else None."""
        if quantity <= 0:
            return "ROUNDS_TO_ZERO", f"quantity rounds to 0 at step {self.amount_step or 'none'}"
        if quantity < self.min_quantity:
            return "BELOW_MIN_QUANTITY", f"quantity={quantity:g} min={self.min_quantity:g}"
        notional = quantity * price
        if notional < self.min_notional:
            return "BELOW_MIN_NOTIONAL", f"notional={notional:.2f} min={self.min_notional:g}"
        return None


#: Rules that accept any positive quantity: used where a market states none.
NO_RULES = MarketRules()

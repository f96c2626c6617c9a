"""What one backtest runs: targets, policy, plan mode, fees and capital, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.errors import InputError


class FeeModel(StrEnum):
    """How a fee is paid (see docs/BACKTESTING.md).

    ``proceeds``  the live executor's: the planner's own plan (buys sized from what the sells
                  fetch after their fees, scaled down together if short) is filled as planned.
    ``per-leg``   each leg carries its own fee: a buy spending d gets d/(1+f) of value of the
                  asset, a sell that must raise d sells d/(1-f) of value (bt's convention).
    """

    PROCEEDS = "proceeds"
    PER_LEG = "per-leg"

    @classmethod
    def parse(cls, name: str | FeeModel) -> FeeModel:
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            raise InputError(f"Unknown fee model {name!r}: use proceeds or per-leg.") from None


@dataclass(frozen=True, kw_only=True)
class BacktestSpec:
    """One backtest's settings. ``fee`` and ``slippage`` are fractions of a leg's notional;
    ``min_trade`` (in the quote) drops smaller legs as the live planner does; ``capital`` is the
    quote amount bar 0 spends on the targets. Raise ``InputError`` on a bad value."""

    targets: Targets
    policy: PolicySpec = field(default_factory=PolicySpec)
    mode: Mode = Mode.TARGET
    fee: float = 0.001
    fee_model: FeeModel = FeeModel.PROCEEDS
    slippage: float = 0.0
    capital: float = 10_000.0
    min_trade: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "fee_model", FeeModel.parse(self.fee_model))
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError:
            raise InputError(f"Unknown mode {self.mode!r}: use target or band-edge.") from None
        if self.mode is Mode.BAND_EDGE and self.policy.tolerance is None:
            raise InputError("band-edge mode needs a band: give --band or --relative-band.")
        for name, value, high in (("fee", self.fee, 1.0), ("slippage", self.slippage, 1.0)):
            if not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value < high:
                raise InputError(f"The {name} is {value}; give a fraction between 0 and 1, e.g. 0.001.")
        if not math.isfinite(self.capital) or self.capital <= 0:
            raise InputError(f"The capital is {self.capital}; give a positive amount of the quote asset.")
        if not math.isfinite(self.min_trade) or self.min_trade < 0:
            raise InputError(f"min_trade is {self.min_trade}; give a finite amount of at least 0, e.g. 10.")

    @property
    def quote(self) -> str:
        return self.targets.quote

    def buy_and_hold(self) -> BacktestSpec:
        """The same targets, capital and costs with the ``never`` policy: the baseline every
        result is read against (bar 0 buys the targets, then nothing trades)."""
        from dataclasses import replace

        return replace(self, policy=PolicySpec(kind=PolicyKind.NEVER), mode=Mode.TARGET)

    def describe(self) -> str:
        """A short label such as ``threshold band 0.050, target, per-leg 0.10%``."""
        p = self.policy
        parts = [str(p.kind)]
        if p.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) and p.tolerance is not None:
            parts.append(p.tolerance.describe())
        if p.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) and p.schedule is not None:
            parts.append(str(p.schedule))
        return f"{' '.join(parts)}, {self.mode}, {self.fee_model} {self.fee * 100:.2f}%"

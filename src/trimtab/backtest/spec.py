"""What one backtest runs: targets, policy, plan mode, fees and capital, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.errors import InputError


class CashFlows(StrEnum):
    """What a backtest does with a contribution or withdrawal (see docs/CASH_FLOWS.md, Backtests).

    ``steer``   the flow trades first: a deposit buys only the underweight assets, a withdrawal
                sells only the overweight ones (water-filling, ``core.cashflow.flow_trades``);
                the policy then acts as usual on what is left of the drift.
    ``ignore``  the flow lands in (or leaves) the quote; the policy acts as usual.
    """

    STEER = "steer"
    IGNORE = "ignore"

    @classmethod
    def parse(cls, name: str | CashFlows) -> CashFlows:
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            raise InputError(f"Unknown cash-flow policy {name!r}: use steer or ignore.") from None


class Every(StrEnum):
    """How often a backtest's flow comes: at the first bar of each new day, week, month, quarter
    or year (UTC), as a calendar schedule fires; never at bar 0, which spends the capital."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @classmethod
    def parse(cls, name: str | Every) -> Every:
        text = str(name).strip().lower()
        text = _EVERY_ALIASES.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise InputError(f"every {name!r} is not a period: use day, week, month, quarter or year.") from None


_EVERY_ALIASES = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year",
                  "annually": "year", "annual": "year", "days": "day", "weeks": "week", "months": "month",
                  "quarters": "quarter", "years": "year"}


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
    #: the quote amount that comes in (> 0) or goes out (< 0) at the start of each ``every`` period
    flow: float = 0.0
    every: Every | None = None
    cash_flows: CashFlows = CashFlows.STEER

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
        object.__setattr__(self, "cash_flows", CashFlows.parse(self.cash_flows))
        if not isinstance(self.flow, (int, float)) or not math.isfinite(self.flow):
            raise InputError(f"The flow is {self.flow}; give a finite amount of the quote asset.")
        if self.every is not None:
            object.__setattr__(self, "every", Every.parse(self.every))
        if self.flow and self.every is None:
            raise InputError("A contribution or withdrawal needs a period: give --every day|week|month|quarter|year.")

    @property
    def quote(self) -> str:
        return self.targets.quote

    def buy_and_hold(self) -> BacktestSpec:
        """The same targets, capital and costs with the ``never`` policy: the baseline every
        result is read against (bar 0 buys the targets, then nothing trades but the flows, which
        are handled as in this spec)."""
        from dataclasses import replace

        return replace(self, policy=PolicySpec(kind=PolicyKind.NEVER), mode=Mode.TARGET)

    @property
    def has_flows(self) -> bool:
        return bool(self.flow) and self.every is not None

    def describe(self) -> str:
        """A short label such as ``threshold band 0.050, target, per-leg 0.10%``."""
        p = self.policy
        parts = [str(p.kind)]
        if p.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) and p.tolerance is not None:
            parts.append(p.tolerance.describe())
        if p.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) and p.schedule is not None:
            parts.append(str(p.schedule))
        text = f"{' '.join(parts)}, {self.mode}, {self.fee_model} {self.fee * 100:.2f}%"
        if self.has_flows:
            what = "contribution" if self.flow > 0 else "withdrawal"
            text += f", {what} {abs(self.flow):,.2f} a {self.every} ({self.cash_flows})"
        return text


def flow_fields(contribution: float | None, withdrawal: float | None, every: str | Every | None,
                cash_flows: str | CashFlows | None, *, prefix: str = "") -> dict:
    """A contribution or a withdrawal each ``every`` period as ``BacktestSpec`` fields (``flow``
    signed: + in, - out; ``cash_flows`` steer by default). Raise ``InputError`` for a negative or
    non-finite amount, both at once, an amount without a period or a period without an amount;
    ``prefix`` (``--``) names the options as the CLI spells them."""
    for name, amount, other in (("contribution", contribution, "withdrawal"),
                                ("withdrawal", withdrawal, "contribution")):
        if amount is not None and (not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount <= 0):
            shown = f"{amount:g}" if isinstance(amount, (int, float)) else repr(amount)
            raise InputError(f"{prefix}{name} is {shown}; give a positive amount of the quote asset "
                             f"(money going the other way is {prefix}{other}).")
    if contribution is not None and withdrawal is not None:
        raise InputError(f"Give either {prefix}contribution or {prefix}withdrawal, not both.")
    amount = contribution if contribution is not None else (-withdrawal if withdrawal is not None else None)
    if amount is None:
        if every is not None:
            raise InputError(f"{prefix}every needs an amount: add {prefix}contribution or {prefix}withdrawal.")
        if cash_flows is not None:
            name = f"{prefix}cash-flows" if prefix else "cash_flows"
            raise InputError(f"{name} needs a flow: add {prefix}contribution or {prefix}withdrawal with {prefix}every.")
        return {}
    if every is None:
        raise InputError(f"A contribution or withdrawal needs a period: add {prefix}every day, week, month, quarter "
                         "or year.")
    return {"flow": float(amount), "every": Every.parse(every), "cash_flows": CashFlows.parse(cash_flows or "steer")}

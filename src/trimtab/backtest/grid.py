"""A sweep's grid: every combination of the options given as lists, as ``BacktestSpec`` values.

Options a policy does not use are not multiplied out (a monthly calendar policy is one
configuration, whatever the bands; steer and ignore are one without a flow), so the grid holds
each distinct backtest once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trimtab.backtest.spec import BacktestSpec, CashFlows, Every, FeeModel
from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period
from trimtab.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Grid:
    """Lists of values to combine; ``None`` in ``bands``/``relative_bands`` means "no such width"."""

    targets: Sequence[Targets]
    policies: Sequence[PolicyKind] = (PolicyKind.THRESHOLD,)
    bands: Sequence[float | None] = (0.05,)
    relative_bands: Sequence[float | None] = (None,)
    schedules: Sequence[Period] = (Period.MONTHLY,)
    modes: Sequence[Mode] = (Mode.TARGET,)
    fees: Sequence[float] = (0.001,)
    fee_models: Sequence[FeeModel] = (FeeModel.PROCEEDS,)
    slippages: Sequence[float] = (0.0,)
    min_trades: Sequence[float] = (10.0,)
    cash_flows: Sequence[CashFlows] = (CashFlows.STEER,)
    capital: float = 10_000.0
    #: every configuration's contribution (> 0) or withdrawal (< 0) each ``every`` period
    flow: float = 0.0
    every: Every | None = None

    def specs(self) -> list[BacktestSpec]:
        """Every distinct valid configuration, in the order of the options; raise ``InputError``
        when none is valid (e.g. band-edge mode with no band at all)."""
        seen: dict[str, BacktestSpec] = {}
        errors: list[str] = []
        for targets, kind, band, relative, schedule, mode, fee, model, slip, min_trade, flows in itertools.product(
            self.targets, self.policies, self.bands, self.relative_bands, self.schedules, self.modes,
            self.fees, self.fee_models, self.slippages, self.min_trades,
            self.cash_flows if self.flow else (CashFlows.STEER,),
        ):
            uses_band = kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) or mode is Mode.BAND_EDGE
            uses_schedule = kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED)
            if kind is PolicyKind.NEVER:
                mode = Mode.TARGET
            try:
                policy = PolicySpec(
                    kind=kind,
                    band=band if uses_band else None,
                    relative_band=relative if uses_band else None,
                    schedule=schedule if uses_schedule else None,
                )
                spec = BacktestSpec(targets=targets, policy=policy, mode=mode, fee=fee, fee_model=model,
                                    slippage=slip, capital=self.capital, min_trade=min_trade,
                                    flow=self.flow, every=self.every, cash_flows=flows)
            except InputError as e:
                errors.append(str(e))
                continue
            seen.setdefault(repr(sorted(describe(spec).items())), spec)
        if not seen:
            raise InputError(errors[0] if errors else "The sweep has no configurations.")
        return list(seen.values())


def describe(spec: BacktestSpec) -> dict[str, Any]:
    """A configuration as the columns of a sweep row (rates as fractions)."""
    p = spec.policy
    return {
        "targets": dict(spec.targets.weights),
        "policy": str(p.kind),
        "band": p.band,
        "relative_band": p.relative_band,
        "schedule": str(p.schedule) if p.schedule else None,
        "mode": str(spec.mode),
        "fee": spec.fee,
        "fee_model": str(spec.fee_model),
        "slippage": spec.slippage,
        "min_trade": spec.min_trade,
        "capital": spec.capital,
        "quote": spec.quote,
        "flow": spec.flow,
        "every": str(spec.every) if spec.every else None,
        "cash_flows": str(spec.cash_flows),
    }


def spec_from_row(row: dict[str, Any]) -> BacktestSpec:
    """The spec a ``describe`` row stands for (rows are plain data: they travel between processes)."""
    kind = PolicyKind(row["policy"])
    policy = PolicySpec(kind=kind, band=row["band"], relative_band=row["relative_band"],
                        schedule=Period(row["schedule"]) if row["schedule"] else None)
    return BacktestSpec(targets=Targets.of(row["targets"], row["quote"]), policy=policy, mode=Mode(row["mode"]),
                        fee=row["fee"], fee_model=FeeModel(row["fee_model"]), slippage=row["slippage"],
                        capital=row["capital"], min_trade=row["min_trade"], flow=row.get("flow", 0.0),
                        every=row.get("every"), cash_flows=row.get("cash_flows", "steer"))

"""Shared set-ups for the backtest tests: real daily history, small and fast."""

from functools import cache

from trimtab.backtest import BacktestSpec
from trimtab.core.assets import Targets
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period
from trimtab.data import load_prices

SEED_TARGETS = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}


@cache
def daily(symbols=("BTC", "ETH"), start="2021-01-01", end="2025-12-31"):
    return load_prices("daily", list(symbols), start, end)


def spec(targets=None, *, policy="threshold", band=0.05, relative_band=None, schedule=None, **kw) -> BacktestSpec:
    kind = PolicyKind(policy)
    if kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) and schedule is None:
        schedule = "monthly"
    if kind in (PolicyKind.CALENDAR, PolicyKind.NEVER):
        band = relative_band = None
    return BacktestSpec(
        targets=Targets.of(targets or SEED_TARGETS),
        policy=PolicySpec(kind=kind, band=band, relative_band=relative_band,
                          schedule=Period.parse(schedule) if schedule else None),
        **kw,
    )

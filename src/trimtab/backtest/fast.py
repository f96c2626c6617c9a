"""Run a ``BacktestSpec`` on the fast kernel: the same metrics as ``run_backtest``, no fills kept.

``prepare`` turns a close matrix into the arrays the kernel reads (once per sweep); ``run_fast``
runs one spec on them. Use the reference simulator for one backtest with its fills and chart,
this for sweeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trimtab.backtest import kernel
from trimtab.backtest.metrics import Metrics, compute_metrics
from trimtab.backtest.screen import period_starts
from trimtab.backtest.simulator import price_matrix
from trimtab.backtest.spec import BacktestSpec, FeeModel
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind


@dataclass(frozen=True, eq=False)
class Prepared:
    """A close matrix as the kernel reads it: non-quote columns, prices, UTC times in ns."""

    index: pd.DatetimeIndex
    columns: tuple[str, ...]
    prices: np.ndarray
    times: np.ndarray

    @classmethod
    def of(cls, close: pd.DataFrame) -> Prepared:
        index = pd.DatetimeIndex(close.index)
        times = index.as_unit("ns").asi8 if hasattr(index, "as_unit") else index.asi8
        return cls(index, tuple(str(c).upper() for c in close.columns),
                   np.ascontiguousarray(close.to_numpy(np.float64)), np.ascontiguousarray(times))

    @property
    def close(self) -> pd.DataFrame:
        return pd.DataFrame(self.prices, index=self.index, columns=list(self.columns))


def run_fast(data: Prepared | pd.DataFrame, spec: BacktestSpec, *, keep_values: bool = False):
    """Metrics of ``spec`` over ``data`` from the kernel (and the value series if ``keep_values``).

    Raise ``InputError`` for prices that do not cover the targets, as ``run_backtest``.
    """
    prepared = data if isinstance(data, Prepared) else Prepared.of(data)
    assets, prices = _prices_for(prepared, spec)
    p, targets = spec.policy, spec.targets
    target_vec = np.array([targets.weight(a) for a in assets] + [targets.weight(spec.quote)])
    use_threshold = p.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED)
    use_schedule = p.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED)
    emergency = p.emergency_band if p.kind is PolicyKind.COMBINED and p.emergency_band is not None else math.inf
    tolerance = p.tolerance
    values = np.empty(len(prices))
    out = kernel.simulate(
        prices, prepared.times, target_vec,
        use_threshold, _width(p.band if use_threshold else None), _width(p.relative_band if use_threshold else None),
        emergency, use_schedule, period_starts(prepared.index, p.schedule if use_schedule else None),
        int(p.cooldown.total_seconds() * 1e9),
        spec.mode is Mode.BAND_EDGE,
        _width(tolerance.absolute if tolerance else None), _width(tolerance.relative if tolerance else None),
        spec.fee, spec.fee_model is FeeModel.PER_LEG, spec.slippage, spec.capital, spec.min_trade, values,
    )
    rebalances, trades, max_drift, traded, fees, drag, slippage = out
    metrics = compute_metrics(
        values=values, span_seconds=(prepared.times[-1] - prepared.times[0]) / 1e9, capital=spec.capital,
        max_drift=max_drift, rebalance_count=rebalances, trade_count=trades, total_traded=traded,
        total_fees=fees, fee_drag_sum=drag, total_slippage=slippage,
    )
    return (metrics, values) if keep_values else metrics


def _prices_for(prepared: Prepared, spec: BacktestSpec) -> tuple[list[str], np.ndarray]:
    missing = [a for a in spec.targets.assets if a != spec.quote and a not in prepared.columns]
    if missing or spec.quote in prepared.columns or len(prepared.prices) < 2:
        assets, prices = price_matrix(prepared.close, spec)  # the simulator's refusals, or the quote column dropped
        return assets, np.ascontiguousarray(prices)
    return list(prepared.columns), prepared.prices


def _width(width: float | None) -> float:
    return math.inf if width is None else float(width)


def metrics_equal_within(a: Metrics, b: Metrics, rel: float = 1e-9) -> bool:
    """Same counts, and every float within ``rel`` (NaN equal to NaN)."""
    for key, x in a.to_dict().items():
        y = getattr(b, key)
        if isinstance(x, int):
            if x != y:
                return False
        elif not (math.isclose(x, y, rel_tol=rel, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))):
            return False
    return True

"""Run a ``BacktestSpec`` on the fast kernel: the same metrics as ``run_backtest``, no fills kept.

``Prepared`` holds the prices as the kernel reads them (once per sweep; ``Prepared.load`` reads
them without pandas when it can); ``run_fast`` runs one spec on them. Use the reference
simulator for one backtest with its fills and chart, this for sweeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trimtab.backtest import kernel
from trimtab.backtest.metrics import compute_metrics
from trimtab.backtest.screen import period_starts
from trimtab.backtest.spec import BacktestSpec, CashFlows, Every, FeeModel
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind
from trimtab.core.triggers import Period

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)
class Prepared:
    """Prices as the kernel reads them: columns (assets), prices (bars x columns), UTC times in ns."""

    times: np.ndarray
    columns: tuple[str, ...]
    prices: np.ndarray
    _starts: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, close: pd.DataFrame) -> Prepared:
        """From a wide close DataFrame (UTC index), as ``load_prices`` returns."""
        from trimtab.backtest.screen import _as_ns

        return cls(np.ascontiguousarray(_as_ns(close.index)), tuple(str(c).upper() for c in close.columns),
                   np.ascontiguousarray(close.to_numpy(np.float64)))

    @classmethod
    def load(cls, freq: str = "daily", symbols=None, start=None, end=None, path=None) -> Prepared:
        """``load_prices``'s answer, read from its binary cache without pandas when possible."""
        from trimtab.data.matrix import load_matrix

        m = load_matrix(freq, symbols, start, end, path)
        return cls(m.times, m.columns, m.prices)

    def starts(self, period: Period | None) -> np.ndarray:
        """``screen.period_starts`` for these times, computed once per period."""
        if period not in self._starts:
            self._starts[period] = period_starts(self.times, period)
        return self._starts[period]

    def flow_bars(self, every: Every | None) -> np.ndarray:
        """``flows.flow_bars`` for these times, computed once per period."""
        key = ("flow", every)
        if key not in self._starts:
            from trimtab.backtest.flows import flow_bars

            self._starts[key] = flow_bars(self.times, every)
        return self._starts[key]

    def head(self, bars: int) -> Prepared:
        return Prepared(self.times[:bars], self.columns, self.prices[:bars])

    @property
    def close(self) -> pd.DataFrame:
        import pandas as pd

        index = pd.DatetimeIndex(self.times.astype("datetime64[ns]"), tz="UTC")
        return pd.DataFrame(self.prices, index=index, columns=list(self.columns))


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
    flow_at = prepared.flow_bars(spec.every) if spec.has_flows else None
    flow_out = np.array([0.0, -1.0])
    out = kernel.simulate(
        prices, prepared.times, target_vec,
        use_threshold, _width(p.band if use_threshold else None), _width(p.relative_band if use_threshold else None),
        emergency, use_schedule, prepared.starts(p.schedule if use_schedule else None),
        int(p.cooldown.total_seconds() * 1e9),
        spec.mode is Mode.BAND_EDGE,
        _width(tolerance.absolute if tolerance else None), _width(tolerance.relative if tolerance else None),
        spec.fee, spec.fee_model is FeeModel.PER_LEG, spec.slippage, spec.capital, spec.min_trade, values,
        *((spec.flow, flow_at, spec.cash_flows is CashFlows.STEER, flow_out) if flow_at is not None else ()),
    )
    if flow_out[1] >= 0:
        _refuse_withdrawal(prepared, spec, int(flow_out[1]))
    rebalances, trades, max_drift, traded, fees, drag, slippage = out
    metrics = compute_metrics(
        values=values, span_seconds=float(prepared.times[-1] - prepared.times[0]) / 1e9, capital=spec.capital,
        max_drift=max_drift, rebalance_count=rebalances, trade_count=trades, total_traded=traded,
        total_fees=fees, fee_drag_sum=drag, total_slippage=slippage,
        flows=np.where(flow_at, spec.flow, 0.0) if flow_at is not None else None,
        seconds=(prepared.times - prepared.times[0]) / 1e9 if flow_at is not None else None,
        flow_trade_count=int(flow_out[0]) if flow_at is not None else 0,
    )
    return (metrics, values) if keep_values else metrics


def _refuse_withdrawal(prepared: Prepared, spec: BacktestSpec, bar: int) -> None:
    """The simulator's sentence for a withdrawal the portfolio cannot pay (``flows.apply_flow``)."""
    from datetime import UTC, datetime

    from trimtab.errors import InputError

    when = datetime.fromtimestamp(int(prepared.times[bar]) / 1e9, tz=UTC)
    raise InputError(f"The withdrawal of {-spec.flow:,.2f} {spec.quote} on {when:%Y-%m-%d %H:%M} is more than the "
                     "portfolio can pay: give a smaller withdrawal or more capital.")


def _prices_for(prepared: Prepared, spec: BacktestSpec) -> tuple[list[str], np.ndarray]:
    missing = [a for a in spec.targets.assets if a != spec.quote and a not in prepared.columns]
    if missing or spec.quote in prepared.columns or len(prepared.prices) < 2:
        from trimtab.backtest.simulator import price_matrix

        assets, prices = price_matrix(prepared.close, spec)  # the simulator's refusals, or the quote column dropped
        return assets, np.ascontiguousarray(prices)
    return list(prepared.columns), prepared.prices


def _width(width: float | None) -> float:
    return math.inf if width is None else float(width)

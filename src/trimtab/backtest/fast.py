"""Run a ``BacktestSpec`` on the fast kernel: the same metrics as ``run_backtest``, no fills kept.

``Prepared`` holds the prices as the kernel reads them (once per sweep; ``Prepared.load`` reads
them without pandas when it can); ``run_fast`` runs one spec on them. Use the reference
simulator for one backtest with its fills and chart, this for sweeps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trimtab.backtest import kernel
from trimtab.backtest.metrics import Metrics, metrics_from_totals
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
        """``flows.flow_bars`` for these times, computed once per period (all False for None)."""
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
    targets, fp, ip = encode(spec, assets)
    values = np.empty(len(prices) if keep_values else 0)
    out = kernel.simulate(prices, prepared.times, prepared.starts(_schedule(spec)), prepared.flow_bars(_every(spec)),
                          targets, fp, ip, values)
    metrics = _metrics(out, prepared, spec)
    return (metrics, values) if keep_values else metrics


def run_many(data: Prepared, specs: Sequence[BacktestSpec], *, threads: int | None = None) -> list[Metrics]:
    """``run_fast`` for every spec, in order, on ``threads`` of numba's threads (default: all).

    Specs whose prices need the simulator's handling (the quote among the columns, a target
    without prices) run one by one, and raise as ``run_fast`` does.
    """
    if not specs:
        return []
    direct = [i for i, spec in enumerate(specs) if _direct(data, spec)]
    results: list[Metrics | None] = [None] * len(specs)
    for i in set(range(len(specs))) - set(direct):
        results[i] = run_fast(data, specs[i])
    if direct:
        periods: list[Period | None] = [None]
        everies: list[Every | None] = [None]
        assets = list(data.columns)
        targets = np.empty((len(direct), len(assets) + 1))
        fp = np.empty((len(direct), kernel.N_FLOAT))
        ip = np.empty((len(direct), kernel.N_INT), dtype=np.int64)
        for row, i in enumerate(direct):
            targets[row], fp[row], ip[row] = encode(specs[i], assets)
            period = _schedule(specs[i])
            if period not in periods:
                periods.append(period)
            ip[row, kernel.I_STARTS] = periods.index(period)
            every = _every(specs[i])
            if every not in everies:
                everies.append(every)
            ip[row, kernel.I_FLOWS] = everies.index(every)
        starts = np.stack([data.starts(period) for period in periods])
        flows = np.stack([data.flow_bars(every) for every in everies])
        out = np.empty((len(direct), kernel.N_RESULT))
        if threads == 1:
            kernel.simulate_serial(data.prices, data.times, starts, flows, targets, fp, ip, out)
        else:
            with kernel.PARALLEL, _threads(threads):
                kernel.simulate_many(data.prices, data.times, starts, flows, targets, fp, ip, out)
        for row, i in enumerate(direct):
            results[i] = _metrics(out[row], data, specs[i])
    return results  # type: ignore[return-value]


def encode(spec: BacktestSpec, assets: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``spec`` as the kernel reads it: the target weights (``assets``, then the quote) and the
    ``kernel.F_*`` and ``kernel.I_*`` parameters (``I_STARTS`` and ``I_FLOWS`` left 0: the caller's rows)."""
    p, targets = spec.policy, spec.targets
    target_vec = np.array([targets.weight(a) for a in assets] + [targets.weight(spec.quote)])
    use_threshold = p.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED)
    use_schedule = p.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED)
    emergency = p.emergency_band if p.kind is PolicyKind.COMBINED and p.emergency_band is not None else math.inf
    tolerance = p.tolerance
    fp = np.empty(kernel.N_FLOAT)
    fp[kernel.F_BAND_ABS] = _width(p.band if use_threshold else None)
    fp[kernel.F_BAND_REL] = _width(p.relative_band if use_threshold else None)
    fp[kernel.F_EMERGENCY] = emergency
    fp[kernel.F_EDGE_ABS] = _width(tolerance.absolute if tolerance else None)
    fp[kernel.F_EDGE_REL] = _width(tolerance.relative if tolerance else None)
    fp[kernel.F_FEE], fp[kernel.F_SLIPPAGE] = spec.fee, spec.slippage
    fp[kernel.F_CAPITAL], fp[kernel.F_MIN_TRADE] = spec.capital, spec.min_trade
    fp[kernel.F_FLOW] = spec.flow if spec.has_flows else 0.0
    ip = np.zeros(kernel.N_INT, dtype=np.int64)
    ip[kernel.I_THRESHOLD], ip[kernel.I_SCHEDULE] = use_threshold, use_schedule
    ip[kernel.I_COOLDOWN] = int(p.cooldown.total_seconds() * 1e9)
    ip[kernel.I_BAND_EDGE] = spec.mode is Mode.BAND_EDGE
    ip[kernel.I_PER_LEG] = spec.fee_model is FeeModel.PER_LEG
    ip[kernel.I_STEER] = spec.cash_flows is CashFlows.STEER
    return target_vec, fp, ip


def _metrics(out: np.ndarray, prepared: Prepared, spec: BacktestSpec) -> Metrics:
    if out[kernel.R_REFUSED] >= 0:
        _refuse_withdrawal(prepared, spec, int(out[kernel.R_REFUSED]))
    flow_at = prepared.flow_bars(spec.every) if spec.has_flows else None
    return metrics_from_totals(
        bars=len(prepared.times), final_value=out[kernel.R_FINAL], return_std=out[kernel.R_RETURN_STD],
        max_drawdown=out[kernel.R_MAX_DRAWDOWN], span_seconds=float(prepared.times[-1] - prepared.times[0]) / 1e9,
        capital=spec.capital, max_drift=out[kernel.R_MAX_DRIFT], rebalance_count=int(out[kernel.R_REBALANCES]),
        trade_count=int(out[kernel.R_TRADES]), total_traded=out[kernel.R_TRADED], total_fees=out[kernel.R_FEES],
        fee_drag_sum=out[kernel.R_DRAG], total_slippage=out[kernel.R_SLIPPAGE], growth=out[kernel.R_GROWTH],
        flows=np.where(flow_at, spec.flow, 0.0) if flow_at is not None else None,
        seconds=(prepared.times - prepared.times[0]) / 1e9 if flow_at is not None else None,
        flow_trade_count=int(out[kernel.R_FLOW_TRADES]),
    )


def _refuse_withdrawal(prepared: Prepared, spec: BacktestSpec, bar: int) -> None:
    """The simulator's sentence for a withdrawal the portfolio cannot pay (``flows.apply_flow``)."""
    from datetime import UTC, datetime

    from trimtab.errors import InputError

    when = datetime.fromtimestamp(int(prepared.times[bar]) / 1e9, tz=UTC)
    raise InputError(f"The withdrawal of {-spec.flow:,.2f} {spec.quote} on {when:%Y-%m-%d %H:%M} is more than the "
                     "portfolio can pay: give a smaller withdrawal or more capital.")


def _every(spec: BacktestSpec) -> Every | None:
    return spec.every if spec.has_flows else None


def _schedule(spec: BacktestSpec) -> Period | None:
    p = spec.policy
    return p.schedule if p.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) else None


@contextmanager
def _threads(threads: int | None):
    """Run the block on ``threads`` of numba's threads (all of them when None or without numba)."""
    if threads is None or not kernel.HAVE_NUMBA:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _direct(prepared: Prepared, spec: BacktestSpec) -> bool:
    """Whether the kernel reads ``prepared.prices`` as they are for ``spec`` (see ``_prices_for``)."""
    return (spec.quote not in prepared.columns and len(prepared.prices) >= 2
            and all(a == spec.quote or a in prepared.columns for a in spec.targets.assets))


def _prices_for(prepared: Prepared, spec: BacktestSpec) -> tuple[list[str], np.ndarray]:
    if not _direct(prepared, spec):
        from trimtab.backtest.simulator import price_matrix

        assets, prices = price_matrix(prepared.close, spec)  # the simulator's refusals, or the quote column dropped
        return assets, np.ascontiguousarray(prices)
    return list(prepared.columns), prepared.prices


def _width(width: float | None) -> float:
    return math.inf if width is None else float(width)

"""Backtest metrics, defined once for the reference simulator and the fast kernel alike.

Every rate is a fraction. A *trade* is one filled leg (one market order: a sell or a buy of one
asset against the quote); bar 0's purchase of the targets is neither a trade nor a rebalance.
``years`` is the span from the first bar to the last (365.25-day years); a month is a twelfth.

``final_value``        portfolio value at the last bar's close, after any trades there.
``rebalance_count``    bars after bar 0 where the trigger fired and at least one leg was filled.
``rebalances_per_month`` / ``trades_per_month``  those counts per month of the span.
``max_drift``          the largest absolute drift (|weight - target|, any asset, the quote
                       included) seen before trading on bars 1..T-1.
``total_traded``       the sum of every trade's notional (quantity x fill price).
``total_fees``         the sum of every trade's fee, in the quote.
``fee_drag_per_year``  per year, the share of the portfolio paid in fees: the sum over rebalance
                       bars of (fees at that bar / value before trading), divided by ``years``.
``total_return``       final_value / capital - 1, over the whole window.
``annual_return``      (final_value / capital) ** (1 / years) - 1, so bar 0's fees count.
``volatility``         std (ddof 1) of bar-to-bar returns of the value series, x sqrt(bars per year),
                       bars per year = (bars - 1) / years.
                       Both are NaN (null in JSON, "n/a" in tables) for a window shorter than
                       ``MIN_DAYS_TO_ANNUALISE`` days, which is too short to annualise (two daily
                       bars a day apart would call a 1% day a 3,678% year); volatility also needs
                       three bars. The per-month and per-year rates are NaN for a single bar.
``max_drawdown``       the largest fall from a running peak of the value series, as a fraction.
``bars``               the number of bars (price rows) simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

SECONDS_PER_YEAR = 365.25 * 86_400
#: A shorter window has no annual return or volatility: scaled to a year, its noise reads as news.
MIN_DAYS_TO_ANNUALISE = 30


def long_enough_to_annualise(years: float) -> bool:
    return years * 365.25 >= MIN_DAYS_TO_ANNUALISE


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """The numbers a backtest is judged by (see the module docstring for each definition)."""

    final_value: float
    rebalance_count: int
    rebalances_per_month: float
    trade_count: int
    trades_per_month: float
    max_drift: float
    total_traded: float
    total_fees: float
    total_slippage: float
    fee_drag_per_year: float
    total_return: float
    annual_return: float
    volatility: float
    max_drawdown: float
    bars: int
    years: float

    def to_dict(self) -> dict[str, float | int]:
        # every field is a number: a shallow copy is asdict's answer, without its deep copies
        # (a 5,000-configuration sweep builds 5,000 of these)
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Metrics))


def compute_metrics(
    *,
    values: np.ndarray,
    span_seconds: float,
    capital: float,
    max_drift: float,
    rebalance_count: int,
    trade_count: int,
    total_traded: float,
    total_fees: float,
    fee_drag_sum: float,
    total_slippage: float = 0.0,
) -> Metrics:
    """Metrics from the value series (post-trade value at each bar's close) and the run's totals."""
    bars = len(values)
    if bars > 2:
        returns = values[1:] / values[:-1] - 1.0
        return_std = float(np.std(returns, ddof=1))
    else:
        return_std = math.nan
    peaks = np.maximum.accumulate(values)
    drawdown = float(np.max(1.0 - values / peaks)) if bars else 0.0
    return metrics_from_totals(
        bars=bars, final_value=float(values[-1]), return_std=return_std, max_drawdown=drawdown,
        span_seconds=span_seconds, capital=capital, max_drift=max_drift, rebalance_count=rebalance_count,
        trade_count=trade_count, total_traded=total_traded, total_fees=total_fees, fee_drag_sum=fee_drag_sum,
        total_slippage=total_slippage,
    )


def metrics_from_totals(
    *,
    bars: int,
    final_value: float,
    return_std: float,
    max_drawdown: float,
    span_seconds: float,
    capital: float,
    max_drift: float,
    rebalance_count: int,
    trade_count: int,
    total_traded: float,
    total_fees: float,
    fee_drag_sum: float,
    total_slippage: float = 0.0,
) -> Metrics:
    """Metrics from what a run kept as it went (the fast kernel keeps no value series): the final
    value, the std (ddof 1) of the bar-to-bar returns and the max drawdown, with the totals."""
    years = span_seconds / SECONDS_PER_YEAR
    months = years * 12
    final = float(final_value)
    annualise = long_enough_to_annualise(years)
    if bars > 2 and annualise:
        volatility = float(return_std * math.sqrt((bars - 1) / years))
    else:
        volatility = math.nan
    return Metrics(
        final_value=final,
        rebalance_count=int(rebalance_count),
        rebalances_per_month=rebalance_count / months if months > 0 else math.nan,
        trade_count=int(trade_count),
        trades_per_month=trade_count / months if months > 0 else math.nan,
        max_drift=float(max_drift),
        total_traded=float(total_traded),
        total_fees=float(total_fees),
        total_slippage=float(total_slippage),
        fee_drag_per_year=fee_drag_sum / years if years > 0 else math.nan,
        total_return=final / capital - 1.0,
        annual_return=(final / capital) ** (1.0 / years) - 1.0 if annualise and final > 0 else math.nan,
        volatility=volatility,
        max_drawdown=float(max_drawdown),
        bars=bars,
        years=years,
    )

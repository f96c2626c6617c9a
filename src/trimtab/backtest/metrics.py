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
``total_return``       the time-weighted return over the whole window: with no flows,
                       final_value / capital - 1; with flows, value_0 / capital times the
                       product over bars of (value_t - flow_t) / value_(t-1), less 1, so a
                       deposit is never a gain (and bar 0's fees count, as without flows).
``annual_return``      (1 + total_return) ** (1 / years) - 1, so bar 0's fees count
                       (``time_weighted_return`` is the same figure, named beside the next one).
``money_weighted_return``  the annual rate r at which the capital and every flow, grown from
                       its bar to the last, come to final_value (the internal rate of return;
                       with no flows it is annual_return).
``net_flows``          contributions less withdrawals, in the quote; ``flow_count`` how many.
``flow_trade_count``   the trades (legs) the flows made themselves (``steer``, or a withdrawal
                       the quote could not pay); they count in trade_count, total_traded and
                       total_fees too, and their fees in fee_drag_per_year (over the value
                       after the flow landed).
``volatility``         std (ddof 1) of bar-to-bar returns of the value series (flows removed),
                       x sqrt(bars per year), bars per year = (bars - 1) / years.
                       Both are NaN (null in JSON, "n/a" in tables) for a window shorter than
                       ``MIN_DAYS_TO_ANNUALISE`` days, which is too short to annualise (two daily
                       bars a day apart would call a 1% day a 3,678% year); volatility also needs
                       three bars. The per-month and per-year rates are NaN for a single bar.
``max_drawdown``       the largest fall from a running peak of the value series (with flows, of
                       the time-weighted index), as a fraction.
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
    time_weighted_return: float = math.nan
    money_weighted_return: float = math.nan
    net_flows: float = 0.0
    flow_count: int = 0
    flow_trade_count: int = 0

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
    flows: np.ndarray | None = None,
    seconds: np.ndarray | None = None,
    flow_trade_count: int = 0,
) -> Metrics:
    """Metrics from the value series (post-trade value at each bar's close) and the run's totals;
    ``flows`` is the quote that came in (+) or went out (-) at each bar, before its trades, and
    ``seconds`` each bar's time since bar 0 (needed with flows)."""
    bars = len(values)
    has_flows = flows is not None and bool(np.any(flows[1:] != 0))
    if has_flows:
        ratios = (values[1:] - flows[1:]) / values[:-1]
        index = values[0] / capital * np.concatenate(([1.0], np.cumprod(ratios)))  # bar 0's fees count
        growth = float(index[-1])
    else:
        ratios = values[1:] / values[:-1]
        index = values
        growth = float(values[-1]) / capital
    return_std = float(np.std(ratios - 1.0, ddof=1)) if bars > 2 else math.nan
    peaks = np.maximum.accumulate(index)
    drawdown = float(np.max(1.0 - index / peaks)) if bars else 0.0
    return metrics_from_totals(
        bars=bars, final_value=float(values[-1]), return_std=return_std, max_drawdown=drawdown,
        span_seconds=span_seconds, capital=capital, max_drift=max_drift, rebalance_count=rebalance_count,
        trade_count=trade_count, total_traded=total_traded, total_fees=total_fees, fee_drag_sum=fee_drag_sum,
        total_slippage=total_slippage, growth=growth, flows=flows if has_flows else None, seconds=seconds,
        flow_trade_count=flow_trade_count,
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
    growth: float | None = None,
    flows: np.ndarray | None = None,
    seconds: np.ndarray | None = None,
    flow_trade_count: int = 0,
) -> Metrics:
    """Metrics from what a run kept as it went (the fast kernel keeps no value series): the final
    value, the std (ddof 1) of the bar-to-bar returns and the max drawdown (with flows, both of the
    flows-removed series), with the totals. ``growth``: the time-weighted 1 + total return
    (default final_value / capital); ``flows``/``seconds`` as ``compute_metrics``'s."""
    years = span_seconds / SECONDS_PER_YEAR
    months = years * 12
    final = float(final_value)
    annualise = long_enough_to_annualise(years)
    has_flows = flows is not None and bool(np.any(flows[1:] != 0))
    growth = final / capital if growth is None else float(growth)
    if bars > 2 and annualise:
        volatility = float(return_std * math.sqrt((bars - 1) / years))
    else:
        volatility = math.nan
    annual = growth ** (1.0 / years) - 1.0 if annualise and growth > 0 else math.nan
    if has_flows:
        moments = np.flatnonzero(flows[1:]) + 1
        remaining = (span_seconds - np.asarray(seconds, dtype=np.float64)[moments]) / SECONDS_PER_YEAR
        money = _irr(capital, flows[moments], remaining, years, final) if annualise else math.nan
    else:
        money = annual
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
        total_return=growth - 1.0,
        annual_return=annual,
        volatility=volatility,
        max_drawdown=float(max_drawdown),
        bars=bars,
        years=years,
        time_weighted_return=annual,
        money_weighted_return=money,
        net_flows=float(np.sum(flows)) if has_flows else 0.0,
        flow_count=int(np.count_nonzero(flows)) if has_flows else 0,
        flow_trade_count=int(flow_trade_count),
    )


def _irr(capital: float, amounts: np.ndarray, remaining_years: np.ndarray, years: float, final: float) -> float:
    """The annual rate r with capital (1+r)^years + sum amount_j (1+r)^remaining_j == final, by
    bisection on log(1+r) (NaN when no rate in 1e-9 .. 1e9 of growth a year fits)."""

    def surplus(x: float) -> float:
        return capital * math.exp(x * years) + float(np.sum(amounts * np.exp(x * remaining_years))) - final

    low, high = math.log(1e-9), math.log(1e9)
    f_low, f_high = surplus(low), surplus(high)
    if f_low * f_high > 0:
        return math.nan
    for _ in range(200):
        middle = (low + high) / 2
        f_middle = surplus(middle)
        if f_middle == 0 or high - low < 1e-15:
            break
        if (f_middle < 0) == (f_low < 0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return math.expm1((low + high) / 2)

"""The reference simulator: the live core (triggers, planner) driven bar by bar over history.

Conventions (docs/BACKTESTING.md): trades happen at the close of bar t at its close price; bar 0
buys the targets from the capital (not a rebalance, not a drift observation); from bar 1 on,
drift is measured before trading, on the holdings carried from bar t-1 valued at bar t's close,
over every asset including the quote; the decision is ``PolicySpec.trigger().decide`` with
``Moment(now=bar t, previous_check_at=bar t-1, last_rebalance_at=...)``; a firing trigger calls
``plan_rebalance`` and ``fills.fill_plan`` fills it. Only the fills differ from live trading.

Speed: the holdings only change on rebalance bars, so drift between them is screened in numpy
blocks (``screen.py``); only bars the screen lets through go to the core trigger. The screen is
wider than any trigger, so the decisions are exactly the core's (``screen=False`` asks the core
on every bar; a test checks both agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from trimtab.backtest.fills import Fill, fill_plan
from trimtab.backtest.flows import apply_flow, flow_bars
from trimtab.backtest.metrics import Metrics, compute_metrics
from trimtab.backtest.screen import Widths, block_drift, may_fire, period_starts
from trimtab.backtest.spec import BacktestSpec, FeeModel
from trimtab.core.drift import measure_drift
from trimtab.core.plan import Mode
from trimtab.core.planner import plan_rebalance
from trimtab.core.triggers import Moment
from trimtab.core.valuation import value_portfolio
from trimtab.errors import InputError

_FIRST_BLOCK, _LAST_BLOCK = 64, 8192


@dataclass(frozen=True, kw_only=True)
class Rebalance:
    """A bar where the trigger fired and at least one leg was filled."""

    bar: int
    time: datetime
    trigger: str
    reason: str
    value_before: float
    traded: float
    fees: float


@dataclass(frozen=True, kw_only=True)
class BacktestResult:
    """A finished backtest. ``assets`` are the price columns then the quote; ``values`` and
    ``weights`` are after any trades at each bar's close; ``drift`` is the largest absolute drift
    before trading (NaN at bar 0, which is not an observation)."""

    spec: BacktestSpec
    index: pd.DatetimeIndex
    assets: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    drift: np.ndarray
    rebalances: tuple[Rebalance, ...]
    fills: tuple[Fill, ...]
    metrics: Metrics
    #: the same targets never rebalanced, over the same bars (the baseline policies are read against)
    buy_and_hold: Metrics | None = None

    def to_dict(self) -> dict:
        """The JSON document of ``trimtab backtest --json``: the metrics and the run's settings."""
        s = self.spec
        p = s.policy
        return {
            **self.metrics.to_dict(),
            **({"buy_and_hold": self.buy_and_hold.to_dict()} if self.buy_and_hold is not None else {}),
            "start": self.index[0].isoformat(),
            "end": self.index[-1].isoformat(),
            "assets": list(self.assets),
            "targets": dict(s.targets.weights),
            "policy": str(p.kind), "band": p.band, "relative_band": p.relative_band,
            "schedule": str(p.schedule) if p.schedule else None,
            "mode": str(s.mode), "fee": s.fee, "fee_model": str(s.fee_model), "slippage": s.slippage,
            "capital": s.capital, "min_trade": s.min_trade,
            "flow": s.flow, "every": str(s.every) if s.every else None, "cash_flows": str(s.cash_flows),
        }


def price_matrix(close: pd.DataFrame, spec: BacktestSpec) -> tuple[list[str], np.ndarray]:
    """The non-quote asset columns of ``close`` and their prices; raise ``InputError`` when a
    target has no column or a price is missing or not positive."""
    quote = spec.quote
    columns = [str(c).upper() for c in close.columns]
    missing = [a for a in spec.targets.assets if a != quote and a not in columns]
    if missing:
        raise InputError(f"No prices for {', '.join(missing)}; add them to the symbols or the price file.")
    assets = [c for c in columns if c != quote]
    prices = close.set_axis(columns, axis=1)[assets].to_numpy(dtype=np.float64)
    if len(prices) < 2:
        raise InputError("A backtest needs at least two bars of prices.")
    if not np.all(np.isfinite(prices)) or not np.all(prices > 0):
        raise InputError("The prices have gaps or non-positive values; choose symbols and dates they all cover.")
    return assets, prices


def run_backtest(close: pd.DataFrame, spec: BacktestSpec, *, screen: bool = True) -> BacktestResult:
    """Simulate ``spec`` over ``close`` (wide closes, UTC index, one column per non-quote asset).

    Raise ``InputError`` for prices that do not cover the targets. See the module docstring.
    """
    assets, prices = price_matrix(close, spec)
    index = pd.DatetimeIndex(close.index)
    quote, targets, policy = spec.quote, spec.targets, spec.policy
    n_bars = len(prices)
    target_vec = np.array([targets.weight(a) for a in assets] + [targets.weight(quote)])
    trigger, widths = policy.trigger(), Widths.of(policy)
    starts = period_starts(index, widths.schedule)
    plan_fee = spec.fee if spec.fee_model is FeeModel.PROCEEDS else 0.0

    def trade(bar: int, holdings: dict[str, float], mode: Mode) -> tuple[list[Fill], float]:
        valuation = value_portfolio(holdings, dict(zip(assets, prices[bar])), quote=quote, assets=targets.assets)
        plan = plan_rebalance(valuation, targets, mode=mode, band=policy.tolerance, fee=plan_fee,
                              min_trade=spec.min_trade)
        fills = fill_plan(plan, holdings, bar=bar, fee=spec.fee, fee_model=spec.fee_model, slippage=spec.slippage)
        return fills, valuation.total_value

    weights = {a: targets.weight(a) for a in (*assets, quote)}
    holdings = {a: 0.0 for a in assets}
    holdings[quote] = spec.capital
    all_fills, _ = trade(0, holdings, Mode.TARGET)
    changes = [(0, _vector(holdings, assets), holdings[quote])]
    drift = np.full(n_bars, np.nan)
    rebalances: list[Rebalance] = []
    last_rebalance: datetime | None = None

    flow_at = flow_bars(index, spec.every) if spec.has_flows else np.zeros(n_bars, dtype=bool)
    flow_list = np.flatnonzero(flow_at)
    flow_fills: list[Fill] = []
    flow_drag = 0.0

    def decide(bar: int) -> None:
        nonlocal last_rebalance
        valuation = value_portfolio(holdings, dict(zip(assets, prices[bar])), quote=quote, assets=targets.assets)
        moment = Moment(now=index[bar], previous_check_at=index[bar - 1], last_rebalance_at=last_rebalance)
        decision = trigger.decide(measure_drift(valuation, targets), moment)
        if decision.rebalance:
            fills, value_before = trade(bar, holdings, spec.mode)
            if fills:
                all_fills.extend(fills)
                changes.append((bar, _vector(holdings, assets), holdings[quote]))
                last_rebalance = index[bar]
                rebalances.append(Rebalance(
                    bar=bar, time=index[bar], trigger=decision.trigger, reason=decision.reason,
                    value_before=value_before, traded=sum(f.value for f in fills), fees=sum(f.fee for f in fills),
                ))

    bar, block = 1, _FIRST_BLOCK
    while bar < n_bars:
        if flow_at[bar]:  # the flow first; then the policy decides on what it left (always asked: the
            row = dict(zip(assets, prices[bar]))  # screen only knows the holdings between changes)
            landed = sum(holdings[a] * row[a] for a in assets) + holdings[quote] + spec.flow
            try:
                fills = apply_flow(holdings, row, assets=assets, quote=quote, weights=weights, flow=spec.flow,
                                   cash_flows=spec.cash_flows, fee=spec.fee, slippage=spec.slippage,
                                   min_trade=spec.min_trade, bar=bar)
            except InputError as e:
                raise InputError(str(e).replace(f"at bar {bar}", f"on {index[bar]:%Y-%m-%d %H:%M}")) from None
            flow_fills.extend(fills)
            all_fills.extend(fills)
            flow_drag += sum(f.fee for f in fills) / landed
            changes.append((bar, _vector(holdings, assets), holdings[quote]))
            drift[bar] = np.abs(block_drift(changes[-1][1], changes[-1][2], prices[bar:bar + 1], target_vec)).max()
            decide(bar)
            bar, block = bar + 1, _FIRST_BLOCK
            continue
        end = min(n_bars, bar + block) if screen else bar + 1
        following = np.searchsorted(flow_list, bar)
        if following < len(flow_list):
            end = min(end, int(flow_list[following]))
        quantities, cash = changes[-1][1], changes[-1][2]
        signed = block_drift(quantities, cash, prices[bar:end], target_vec)
        drift[bar:end] = np.abs(signed).max(axis=1)
        hits = np.flatnonzero(may_fire(signed, target_vec, widths, starts[bar:end])) if screen else [0]
        if len(hits) == 0:
            bar, block = end, min(block * 2, _LAST_BLOCK)
            continue
        bar += int(hits[0])
        decide(bar)
        bar, block = bar + 1, _FIRST_BLOCK

    values, weight_series = _series(changes, prices)
    trades = [f for f in all_fills if f.bar > 0]
    flows = np.where(flow_at, spec.flow, 0.0)
    metrics = compute_metrics(
        values=values,
        span_seconds=(index[-1] - index[0]).total_seconds(),
        capital=spec.capital,
        max_drift=float(np.nanmax(drift)) if n_bars > 1 else 0.0,
        rebalance_count=len(rebalances),
        trade_count=len(trades),
        total_traded=sum(f.value for f in trades),
        total_fees=sum(f.fee for f in trades),
        fee_drag_sum=sum(r.fees / r.value_before for r in rebalances) + flow_drag,
        total_slippage=sum(f.slippage for f in trades),
        flows=flows if spec.has_flows else None,
        seconds=(index - index[0]).total_seconds().to_numpy(),
        flow_trade_count=len(flow_fills),
    )
    return BacktestResult(
        spec=spec, index=index, assets=(*assets, quote), values=values, weights=weight_series, drift=drift,
        rebalances=tuple(rebalances), fills=tuple(all_fills), metrics=metrics,
    )


def _vector(holdings: dict[str, float], assets: list[str]) -> np.ndarray:
    return np.array([holdings[a] for a in assets])


def _series(changes: list[tuple[int, np.ndarray, float]], prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Post-trade values and weights per bar from the holdings after each change."""
    bars = np.array([c[0] for c in changes])
    which = np.searchsorted(bars, np.arange(len(prices)), side="right") - 1
    quantities = np.stack([c[1] for c in changes])[which]
    cash = np.array([c[2] for c in changes])[which]
    asset_values = quantities * prices
    values = asset_values.sum(axis=1) + cash
    weights = np.column_stack([asset_values, cash]) / values[:, None]
    return values, weights

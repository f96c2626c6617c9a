"""The fast kernel: the simulator's rules as one compiled loop over plain arrays, for sweeps.

Same conventions as ``simulator.py`` (docs/BACKTESTING.md), same trigger rules as
``core/triggers.py`` (strict bands with ``DRIFT_EPSILON``, the zero-target rule of a relative
band, schedule bars, cooldown, emergency band), the same planner arithmetic as
``core/planner.py`` (target and band-edge weights, ``min_trade``, buys scaled to the quote) and
the same fills as ``fills.py``. The reference simulator is its oracle
(``tests/test_backtest_kernel.py``). Compiled with numba (extra ``fast``) and cached on disk
across processes; without numba the very same code runs as plain Python, slowly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _numba_cache_dir() -> None:
    """Point numba's cache at a user folder when this package's folder is not writable."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    if not os.access(here, os.W_OK) or (here / "__pycache__").exists() and not os.access(here / "__pycache__", os.W_OK):
        root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(root, "trimtab", "numba")


_numba_cache_dir()
try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised by the fallback test through NUMBA_DISABLE_JIT
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


EPS = 1e-12  # core.drift.DRIFT_EPSILON
SPEND_MARGIN = 1 - 1e-12  # core.planner._SPEND_MARGIN and fills.SPEND_MARGIN
QUOTE_DUST = 1e-9  # fills.QUOTE_DUST
MIN_WEIGHT = 1e-9  # core.cashflow.MIN_WEIGHT


@njit(cache=True)
def _band_edge(weights, targets, band_abs, band_rel, desired):
    """core.planner.band_edge_weights over arrays (the quote last), written into ``desired``."""
    n = weights.shape[0] - 1
    clipped_sum = 0.0
    for k in range(n):
        t = targets[k]
        low, high = 0.0, 1.0
        if band_abs < np.inf:
            low, high = max(low, t - band_abs), min(high, t + band_abs)
        if band_rel < np.inf:
            low, high = max(low, t * (1 - band_rel)), min(high, t * (1 + band_rel))
        desired[k] = min(max(weights[k], low), high)
        clipped_sum += desired[k]
    quote_weight = 1.0 - clipped_sum
    tq = targets[n]
    low, high = 0.0, 1.0
    if band_abs < np.inf:
        low, high = max(low, tq - band_abs), min(high, tq + band_abs)
    if band_rel < np.inf:
        low, high = max(low, tq * (1 - band_rel)), min(high, tq * (1 + band_rel))
    alpha = 0.0
    if quote_weight < low - EPS or quote_weight > high + EPS:
        edge = low if quote_weight < low else high
        alpha = (edge - quote_weight) / (tq - quote_weight)
    for k in range(n):
        desired[k] = desired[k] + alpha * (targets[k] - desired[k])


@njit(cache=True)
def _rebalance(prices_row, qty, cash, targets, band_edge, edge_abs, edge_rel, fee, per_leg, slippage,
               min_trade, stats):
    """Plan and fill one rebalance in place (``qty``); return the new cash. ``stats`` gets
    [legs, traded, fees, slippage, value before] for this bar."""
    n = qty.shape[0]
    values = qty * prices_row
    total = values.sum() + cash
    weights = np.empty(n + 1)
    for k in range(n):
        weights[k] = values[k] / total
    weights[n] = cash / total
    desired = np.empty(n)
    if band_edge:
        _band_edge(weights, targets, edge_abs, edge_rel, desired)
    else:
        for k in range(n):
            desired[k] = targets[k]
    plan_fee = 0.0 if per_leg else fee
    delta = np.empty(n)
    for k in range(n):
        delta[k] = (desired[k] - weights[k]) * total
    # the plan: sells (capped at holdings), then buys scaled to what the quote and sells provide
    sell_q = np.zeros(n)
    available = cash
    for k in range(n):
        if delta[k] < 0 and -delta[k] >= min_trade:
            q = min(-delta[k] / prices_row[k], qty[k])
            if q > 0:
                sell_q[k] = q
                v = q * prices_row[k]
                available += v - v * plan_fee
    cost = 0.0
    for k in range(n):
        if delta[k] > 0 and delta[k] >= min_trade:
            cost += delta[k] * (1 + plan_fee)
    scale = 1.0 if cost <= available else available * SPEND_MARGIN / cost
    buy_q = np.zeros(n)
    for k in range(n):
        if delta[k] > 0 and delta[k] >= min_trade:
            buy_q[k] = delta[k] * scale / prices_row[k]
    # the fills (fills.fill_plan)
    legs, traded, fees, slip = 0, 0.0, 0.0, 0.0
    for k in range(n):
        if sell_q[k] > 0:
            p = prices_row[k]
            pf = p * (1 - slippage)
            if per_leg:
                leg_value = sell_q[k] * p
                quantity = leg_value / ((1 - fee) * pf)
                if quantity < qty[k]:
                    proceeds = leg_value
                else:
                    quantity = qty[k]
                    proceeds = quantity * pf * (1 - fee)
            else:
                quantity = min(sell_q[k], qty[k])
                proceeds = quantity * pf * (1 - fee)
            value = quantity * pf
            qty[k] -= quantity
            cash += proceeds
            legs += 1
            traded += value
            fees += value * fee
            slip += quantity * (p - pf)
    wanted = 0.0
    for k in range(n):
        if buy_q[k] > 0:
            wanted += buy_q[k] * prices_row[k] if per_leg else buy_q[k] * prices_row[k] * (1 + fee)
    avail = max(cash, 0.0)
    scale = 1.0 if wanted <= avail else avail * SPEND_MARGIN / wanted
    for k in range(n):
        if buy_q[k] > 0:
            p = prices_row[k]
            pf = p * (1 + slippage)
            if per_leg:
                spend = buy_q[k] * p * scale
                quantity = spend / ((1 + fee) * pf)
                value = quantity * pf
            else:
                quantity = buy_q[k] * scale / (1 + slippage)
                value = quantity * pf
                spend = value * (1 + fee)
            qty[k] += quantity
            cash -= spend
            legs += 1
            traded += value
            fees += value * fee
            slip += quantity * (pf - p)
    if cash < QUOTE_DUST * total:
        cash = 0.0
    stats[0], stats[1], stats[2], stats[3], stats[4] = legs, traded, fees, slip, total
    return cash


@njit(cache=True)
def _water_fill(values, targets, flow, out):
    """core.cashflow.flow_trades over arrays (the quote last): the signed trade per asset, written
    into ``out`` (without its last-bit correction of the sum; the parity tests hold them within 1e-9).
    A deposit (flow > 0) closes the gaps g = t*(T + flow) - v from the largest down to a common level
    λ with sum max(g - λ, 0) == flow; a withdrawal sells the excesses e = v - t*(T + flow) the same way."""
    m = values.shape[0]
    total = 0.0
    for k in range(m):
        out[k] = 0.0
        total += values[k]
    amount = abs(flow)
    if flow == 0:
        return
    if flow < 0 and amount >= total:
        for k in range(m):
            if values[k] > 0:
                out[k] = -values[k]
        return
    new_total = total + flow
    gap = np.empty(m)
    for k in range(m):
        weight = targets[k] if targets[k] > MIN_WEIGHT else 0.0
        gap[k] = weight * new_total - values[k] if flow > 0 else values[k] - weight * new_total
    ordered = -np.sort(-gap)
    running, level = 0.0, 0.0
    for j in range(m):
        if ordered[j] <= 0:
            break
        running += ordered[j]
        level = (running - amount) / (j + 1)
        if j == m - 1 or level >= ordered[j + 1]:
            break
    level = max(level, 0.0)
    for k in range(m):
        if gap[k] > level:
            if flow > 0:
                out[k] = gap[k] - level
            else:
                out[k] = -min(gap[k] - level, values[k])


@njit(cache=True)
def _flow_sell(qty, k, price, needed, fee, slippage, stats):
    """Sell asset ``k`` to raise ``needed`` of quote after its fee (capped at the holding);
    return the proceeds and add the leg to ``stats``."""
    pf = price * (1 - slippage)
    quantity = min(needed / ((1 - fee) * pf), qty[k])
    value = quantity * pf
    qty[k] -= quantity
    stats[0] += 1
    stats[1] += value
    stats[2] += value * fee
    stats[3] += quantity * (price - pf)
    return value * (1 - fee)


@njit(cache=True)
def _flow_step(prices_row, qty, cash, targets, flow, steer, fee, slippage, min_trade, stats):
    """One contribution (flow > 0) or withdrawal (flow < 0) as ``backtest/flows.apply_flow``;
    return the new cash. ``stats`` gets [legs, traded, fees, slippage, value after the flow
    landed, 1 if the withdrawal could not be paid (nothing is changed then)]."""
    n = qty.shape[0]
    values = np.empty(n + 1)
    total, payable = cash, cash
    for k in range(n):
        values[k] = qty[k] * prices_row[k]
        total += values[k]
        payable += values[k] * (1 - slippage) * (1 - fee)
    values[n] = cash
    for j in range(6):
        stats[j] = 0.0
    stats[4] = total + flow
    if flow < 0 and -flow >= payable:
        stats[5] = 1.0
        return cash
    noise = QUOTE_DUST * total
    if steer:
        trades = np.empty(n + 1)
        _water_fill(values, targets, flow, trades)
        for k in range(n):
            d = trades[k]
            if d > noise and d >= min_trade:
                pf = prices_row[k] * (1 + slippage)
                quantity = d / ((1 + fee) * pf)
                value = quantity * pf
                qty[k] += quantity
                cash -= d
                stats[0] += 1
                stats[1] += value
                stats[2] += value * fee
                stats[3] += quantity * (pf - prices_row[k])
            elif d < -noise:
                cash += _flow_sell(qty, k, prices_row[k], -d, fee, slippage, stats)
    cash += flow
    if cash < -noise:
        shortfall = -cash
        held = 0.0
        for k in range(n):
            values[k] = qty[k] * prices_row[k]
            held += values[k]
        for k in range(n):
            if values[k] > 0:
                cash += _flow_sell(qty, k, prices_row[k], shortfall * values[k] / held, fee, slippage, stats)
    if abs(cash) < noise:
        cash = 0.0
    return cash


@njit(cache=True)
def simulate(prices, times, targets, use_threshold, band_abs, band_rel, emergency, use_schedule, starts,
             cooldown, band_edge, edge_abs, edge_rel, fee, per_leg, slippage, capital, min_trade, values_out,
             flow=0.0, flow_bars=None, steer=True, flow_out=None):
    """Run one backtest. ``prices`` (bars x assets, no quote), ``targets`` (assets + the quote last),
    absent widths are ``inf`` (``band_*``: the threshold trigger's; ``edge_*``: the band-edge
    planner's), ``starts`` marks schedule bars, ``times`` and ``cooldown`` are in ns. Fill ``values_out`` (post-trade value per bar); return
    (rebalances, trades, max drift, traded, fees, fee drag sum, slippage).

    Cash flows (optional): ``flow`` of quote comes in (> 0) or goes out (< 0) at each bar where
    ``flow_bars`` is True, before the trigger looks (``_flow_step``; ``steer`` or ignore).
    ``flow_out`` gets [flow legs, the bar where a withdrawal could not be paid or -1]; the flow
    legs also count in trades, traded, fees, fee drag and slippage."""
    n_bars, n = prices.shape
    qty = np.zeros(n)
    stats = np.zeros(5)
    cash = _rebalance(prices[0], qty, capital, targets, False, np.inf, np.inf, fee, per_leg, slippage,
                      min_trade, stats)
    values_out[0] = (qty * prices[0]).sum() + cash
    zero_rule = band_abs == np.inf and band_rel < np.inf
    rebalances, trades = 0, 0
    max_drift, traded, fees, drag, slip = 0.0, 0.0, 0.0, 0.0, 0.0
    has_last, last = False, 0
    tq = targets[n]
    values = np.empty(n + 1)
    use_relative = use_threshold and band_rel < np.inf
    flow_stats = np.zeros(6)
    if flow_out is not None:
        flow_out[0], flow_out[1] = 0.0, -1.0
    for i in range(1, n_bars):
        if flow_bars is not None:
            if flow_bars[i]:
                cash = _flow_step(prices[i], qty, cash, targets, flow, steer, fee, slippage, min_trade, flow_stats)
                if flow_stats[5] > 0:
                    flow_out[1] = i
                    return rebalances, trades, max_drift, traded, fees, drag, slip
                flow_out[0] += flow_stats[0]
                trades += int(flow_stats[0])
                traded += flow_stats[1]
                fees += flow_stats[2]
                slip += flow_stats[3]
                drag += flow_stats[2] / flow_stats[4]
        total = cash
        for k in range(n):
            values[k] = qty[k] * prices[i, k]
            total += values[k]
        values[n] = cash
        worst, worst_relative, zero_hit = 0.0, 0.0, False
        for k in range(n + 1):
            w = values[k] / total
            t = targets[k] if k < n else tq
            d = abs(w - t)
            worst = max(worst, d)
            if t > 0:
                if use_relative and d / t > worst_relative:
                    worst_relative = d / t
            elif w > EPS:
                zero_hit = True
        band_hit = use_threshold and (worst > band_abs + EPS or worst_relative > band_rel + EPS
                                      or (zero_rule and zero_hit))
        max_drift = max(max_drift, worst)
        normal = band_hit or (use_schedule and starts[i])
        if normal and has_last and times[i] - last < cooldown:
            normal = False
        if normal or worst > emergency + EPS:
            cash = _rebalance(prices[i], qty, cash, targets, band_edge, edge_abs, edge_rel, fee, per_leg,
                              slippage, min_trade, stats)
            if stats[0] > 0:
                rebalances += 1
                trades += int(stats[0])
                traded += stats[1]
                fees += stats[2]
                slip += stats[3]
                drag += stats[2] / stats[4]
                has_last, last = True, times[i]
        values_out[i] = (qty * prices[i]).sum() + cash
    return rebalances, trades, max_drift, traded, fees, drag, slip

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
import sys
import threading
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


def _numba_without_scipy_blas() -> None:
    """Import numba's array maths with SciPy's BLAS hidden, unless it is loaded already.

    That module, imported once per process before numba runs anything (even code from its cache),
    imports ``scipy.linalg`` (0.2-0.3 s) only to choose how ``np.convolve``/``np.correlate`` take an
    inner product; with the BLAS hidden numba uses its own loop there. The kernels use no BLAS, and
    numba's linear algebra still imports SciPy when something compiles it later.
    """
    blas = "scipy.linalg.cython_blas"
    if blas in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules[blas] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if blas in sys.modules and sys.modules[blas] is None:
            del sys.modules[blas]


_numba_cache_dir()
try:
    from numba import njit, prange

    HAVE_NUMBA = True
    _numba_without_scipy_blas()
except ImportError:  # pragma: no cover - exercised by the fallback test through NUMBA_DISABLE_JIT
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

    prange = range


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


# A configuration as the kernel reads it: float parameters (absent widths are inf) ...
# (F_FLOW: the quote in (> 0) or out (< 0) at each flow bar, 0 for none) ...
(F_BAND_ABS, F_BAND_REL, F_EMERGENCY, F_EDGE_ABS, F_EDGE_REL, F_FEE, F_SLIPPAGE, F_CAPITAL, F_MIN_TRADE,
 F_FLOW) = range(10)
N_FLOAT = 10
# ... integer ones (flags 0/1; I_STARTS: the row of ``starts`` its schedule uses; I_COOLDOWN in ns;
# I_FLOWS: the row of ``flows`` (flow bars) its cash flows use; I_STEER: steer the flows, else ignore) ...
I_THRESHOLD, I_SCHEDULE, I_STARTS, I_COOLDOWN, I_BAND_EDGE, I_PER_LEG, I_FLOWS, I_STEER = range(8)
N_INT = 8
# ... and what a run returns. R_RETURN_STD: the std (ddof 1) of bar-to-bar returns, NaN under 3 bars;
# with flows the returns, max drawdown and R_GROWTH (the time-weighted growth, 1 + total return) are
# of the flows-removed series (metrics.compute_metrics); R_FLOW_TRADES: the legs the flows made;
# R_REFUSED: the bar of a withdrawal the portfolio could not pay (the run stops there), else -1.
(R_REBALANCES, R_TRADES, R_MAX_DRIFT, R_TRADED, R_FEES, R_DRAG, R_SLIPPAGE, R_FINAL, R_RETURN_STD,
 R_MAX_DRAWDOWN, R_GROWTH, R_FLOW_TRADES, R_REFUSED) = range(13)
N_RESULT = 13

#: The drift screen lets through every bar within this of a width (screen.MARGIN): the cheap
#: form ``|value - target * total| > width * total`` differs from ``|value / total - target|`` by
#: a few ulps, far less.
MARGIN = 1e-9


@njit(cache=True)
def _run(prices, times, starts, flow_bars, targets, fp, ip, values_out, out):
    """One backtest: ``prices`` (bars x assets, no quote), ``times`` (ns), ``starts`` (this
    configuration's schedule bars), ``flow_bars`` (its cash-flow bars; read only when
    ``fp[F_FLOW]`` is not 0), ``targets`` (assets + the quote last), ``fp``/``ip`` (the
    ``F_*``/``I_*`` parameters). Write the ``R_*`` results into ``out`` and, when it is not empty,
    the post-trade value per bar into ``values_out``.

    Per bar the drift is first screened without a division (``|v - t * total|`` against the
    width times ``total``, ``MARGIN`` wider); only bars the screen lets through (near a width, or
    near the largest drift so far) get the exact weights the decision and ``max_drift`` use.
    The value series' metrics (final value, return std, max drawdown) are kept as the bars go.

    Cash flows: ``fp[F_FLOW]`` of quote comes in or goes out at each flow bar, before the trigger
    looks (``_flow_step``, steered or ignored); the flow legs count in trades, traded, fees, fee
    drag and slippage.
    """
    n_bars, n = prices.shape
    use_threshold = ip[I_THRESHOLD] != 0
    use_schedule = ip[I_SCHEDULE] != 0
    cooldown = ip[I_COOLDOWN]
    band_edge = ip[I_BAND_EDGE] != 0
    per_leg = ip[I_PER_LEG] != 0
    band_abs, band_rel, emergency = fp[F_BAND_ABS], fp[F_BAND_REL], fp[F_EMERGENCY]
    edge_abs, edge_rel, fee, slippage = fp[F_EDGE_ABS], fp[F_EDGE_REL], fp[F_FEE], fp[F_SLIPPAGE]
    min_trade = fp[F_MIN_TRADE]
    flow = fp[F_FLOW]
    use_flows = flow != 0
    steer = ip[I_STEER] != 0
    flow_stats = np.zeros(6)
    flow_trades, refused = 0, -1
    keep = values_out.shape[0] > 0
    qty = np.zeros(n)
    stats = np.zeros(5)
    cash = _rebalance(prices[0], qty, fp[F_CAPITAL], targets, False, np.inf, np.inf, fee, per_leg, slippage,
                      min_trade, stats)
    value = (qty * prices[0]).sum() + cash
    if keep:
        values_out[0] = value
    zero_rule = band_abs == np.inf and band_rel < np.inf
    use_relative = use_threshold and band_rel < np.inf
    use_absolute = use_threshold and band_abs < np.inf
    tq = targets[n]
    inverse = np.zeros(n + 1)  # 1 / target, for the relative screen
    for k in range(n + 1):
        if targets[k] > 0:
            inverse[k] = 1.0 / targets[k]
    screen_abs = band_abs + EPS - MARGIN
    screen_rel = band_rel + EPS - MARGIN
    screen_emergency = emergency + EPS - MARGIN
    rebalances, trades = 0, 0
    max_drift, traded, fees, drag, slip = 0.0, 0.0, 0.0, 0.0, 0.0
    has_last, last = False, 0
    previous, peak, max_drawdown = value, value, 0.0
    index = value  # the flows-removed (time-weighted) value; the value itself without flows
    mean, m2, count = 0.0, 0.0, 0  # Welford's running mean and sum of squares of the returns
    for i in range(1, n_bars):
        flow_now = 0.0
        if use_flows and flow_bars[i]:
            cash = _flow_step(prices[i], qty, cash, targets, flow, steer, fee, slippage, min_trade, flow_stats)
            if flow_stats[5] > 0:
                refused = i
                break
            flow_now = flow
            flow_trades += int(flow_stats[0])
            trades += int(flow_stats[0])
            traded += flow_stats[1]
            fees += flow_stats[2]
            slip += flow_stats[3]
            drag += flow_stats[2] / flow_stats[4]
        total = cash
        held = 0.0
        for k in range(n):
            v = qty[k] * prices[i, k]
            total += v
            held += v
        # the screen: no division
        gap = abs(cash - tq * total)
        gap_rel = gap * inverse[n]
        zero_seen = tq == 0 and cash > 0.5 * EPS * total
        for k in range(n):
            g = abs(qty[k] * prices[i, k] - targets[k] * total)
            gap = max(gap, g)
            if use_relative:
                gap_rel = max(gap_rel, g * inverse[k])
            if zero_rule and targets[k] == 0 and qty[k] * prices[i, k] > 0.5 * EPS * total:
                zero_seen = True
        exact = (gap > (max_drift - MARGIN) * total or (use_absolute and gap > screen_abs * total)
                 or (use_relative and gap_rel > screen_rel * total) or (zero_rule and zero_seen)
                 or gap > screen_emergency * total)
        band_hit, urgent = False, False
        if exact:
            worst, worst_relative, zero_hit = 0.0, 0.0, False
            for k in range(n + 1):
                w = (qty[k] * prices[i, k] if k < n else cash) / total
                t = targets[k]
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
            urgent = worst > emergency + EPS
        normal = band_hit or (use_schedule and starts[i])
        if normal and has_last and times[i] - last < cooldown:
            normal = False
        value = held + cash
        if normal or urgent:
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
            value = (qty * prices[i]).sum() + cash
        if keep:
            values_out[i] = value
        # the value series' metrics, as metrics.compute_metrics computes them from the whole series
        if use_flows:
            ratio = (value - flow_now) / previous
            index *= ratio
        else:
            ratio = value / previous
            index = value
        r = ratio - 1.0
        count += 1
        delta = r - mean
        mean += delta / count
        m2 += delta * (r - mean)
        previous = value
        if index >= peak:
            peak = index
        elif peak - index > max_drawdown * peak * (1 - MARGIN):
            max_drawdown = max(max_drawdown, 1.0 - index / peak)
    out[R_REBALANCES], out[R_TRADES], out[R_MAX_DRIFT] = rebalances, trades, max_drift
    out[R_TRADED], out[R_FEES], out[R_DRAG], out[R_SLIPPAGE] = traded, fees, drag, slip
    out[R_FINAL] = value
    out[R_RETURN_STD] = np.sqrt(m2 / (count - 1)) if count > 1 else np.nan
    out[R_MAX_DRAWDOWN] = max_drawdown
    out[R_GROWTH] = index / fp[F_CAPITAL]
    out[R_FLOW_TRADES] = flow_trades
    out[R_REFUSED] = refused


@njit(cache=True)
def simulate(prices, times, starts, flow_bars, targets, fp, ip, values_out):
    """One configuration (see ``_run``); return its ``R_*`` results."""
    out = np.empty(N_RESULT)
    _run(prices, times, starts, flow_bars, targets, fp, ip, values_out, out)
    return out


@njit(cache=True, parallel=True)
def simulate_many(prices, times, starts, flows, targets, fp, ip, out):
    """Many configurations over the same prices, split over numba's threads (``numba.set_num_threads``):
    row ``c`` of ``targets``/``fp``/``ip`` is one configuration, its schedule bars are
    ``starts[ip[c, I_STARTS]]``, its flow bars ``flows[ip[c, I_FLOWS]]``, its results go to ``out[c]``. Callers hold ``PARALLEL``: numba's
    fallback threading layer (workqueue) cannot run two parallel calls at once."""
    none = np.empty(0)
    for c in prange(targets.shape[0]):
        _run(prices, times, starts[ip[c, I_STARTS]], flows[ip[c, I_FLOWS]], targets[c], fp[c], ip[c], none, out[c])


@njit(cache=True)
def simulate_serial(prices, times, starts, flows, targets, fp, ip, out):
    """``simulate_many`` on the calling thread alone (no threading layer to start; any thread may call it)."""
    none = np.empty(0)
    for c in range(targets.shape[0]):
        _run(prices, times, starts[ip[c, I_STARTS]], flows[ip[c, I_FLOWS]], targets[c], fp[c], ip[c], none, out[c])


PARALLEL = threading.Lock()

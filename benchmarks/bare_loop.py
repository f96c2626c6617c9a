"""The peer trimtab's kernel is held to: threshold rebalancing as a bare numba loop, nothing else.

Per-leg fees, min_trade 0, no quote target, no metrics but the final value and the rebalance count:
the least a compiled loop can do for the 50-band sweep of ``sweep_bench.py``. Bar 0 buys the
targets; from bar 1 on a bar fires when any weight (cash included) is more than ``band`` (+1e-12)
from its target; a rebalance sells first (``d / ((1 - f) p)`` units raise ``d``) and buys with
what that raised (``d / ((1 + f) p)`` units for ``d``). The same rule as ``peers/vbt_runner.py``.

    python benchmarks/bare_loop.py          # prints {"seconds_warm": ..., "results": [...]} as JSON
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

# as trimtab's kernel does: numba's array maths imported with SciPy's BLAS hidden (saves 0.2-0.3 s)
sys.modules["scipy.linalg.cython_blas"] = None  # type: ignore[assignment]
import numba.np.arraymath  # noqa: E402, F401
from numba import njit, prange  # noqa: E402

del sys.modules["scipy.linalg.cython_blas"]


@njit(cache=True)
def bare(prices, targets, band, fee, capital):
    n_bars, n = prices.shape
    t_cash = 1.0 - targets.sum()
    qty, d = np.empty(n), np.empty(n)
    cash = capital
    for k in range(n):
        qty[k] = targets[k] * capital / ((1 + fee) * prices[0, k])
        cash -= targets[k] * capital
    count = 0
    for i in range(1, n_bars):
        total = cash
        for k in range(n):
            total += qty[k] * prices[i, k]
        fire = abs(cash / total - t_cash) > band + 1e-12
        for k in range(n):
            fire = fire or abs(qty[k] * prices[i, k] / total - targets[k]) > band + 1e-12
        if fire:
            count += 1
            for k in range(n):
                d[k] = targets[k] * total - qty[k] * prices[i, k]
            for k in range(n):  # sells first: their proceeds pay the buys
                if d[k] < 0:
                    qty[k] += d[k] / ((1 - fee) * prices[i, k])
                    cash -= d[k]
            for k in range(n):
                if d[k] > 0:
                    qty[k] += d[k] / ((1 + fee) * prices[i, k])
                    cash -= d[k]
    return cash + (qty * prices[-1]).sum(), count


@njit(cache=True)
def bare_sweep(prices, targets, bands, fee, capital):
    """One core: every band in turn."""
    finals, counts = np.empty(len(bands)), np.empty(len(bands), np.int64)
    for b in range(len(bands)):
        finals[b], counts[b] = bare(prices, targets, bands[b], fee, capital)
    return finals, counts


@njit(cache=True, parallel=True)
def bare_sweep_threads(prices, targets, bands, fee, capital):
    """Every core: the bands split over numba's threads."""
    finals, counts = np.empty(len(bands)), np.empty(len(bands), np.int64)
    for b in prange(len(bands)):
        finals[b], counts[b] = bare(prices, targets, bands[b], fee, capital)
    return finals, counts


def main() -> None:
    started = time.perf_counter()
    from trimtab.data.matrix import load_matrix

    symbols = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC"]
    m = load_matrix("hourly", symbols, "2021-01-01", "2025-12-31")
    targets = np.full(len(symbols), 1 / len(symbols))
    bands = np.linspace(0.01, 0.20, 50)
    threads = "--threads" in sys.argv
    run = bare_sweep_threads if threads else bare_sweep
    run(m.prices[:50], targets, bands[:2], 0.001, 10_000.0)  # load from numba's cache
    loaded = time.perf_counter()
    finals, counts = run(m.prices, targets, bands, 0.001, 10_000.0)
    warm = time.perf_counter() - loaded
    print(json.dumps({"seconds_warm": warm, "seconds_to_ready": loaded - started, "threads": threads,
                      "results": [{"band": float(b), "final_value": float(f), "rebalance_count": int(c)}
                                  for b, f, c in zip(bands, finals, counts)]}))


if __name__ == "__main__":
    main()

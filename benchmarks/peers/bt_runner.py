"""The trimtab rebalancing backtest run in bt 1.4.1 (pmorissette/bt), for parity and benchmarks.

How bt is configured to follow trimtab's conventions (see reference_sim.py for the rules):

- Universe: one close column per NON-quote asset. USDC is bt's strategy cash (``capital``):
  ``WeighSpecified`` gets the non-quote targets only (BTC 0.5, ETH 0.3) and the remaining 0.2
  of value simply stays cash. (A constant 1.0 "USDC" column would be a security whose trades pay
  the fee, which trimtab never charges; it disagrees, see ``--usdc-column``.)
- ``Backtest(..., commissions=lambda q, p: abs(q)*p*fee, integer_positions=False)``. bt's
  ``Security.allocate(amount)`` treats ``amount`` as the cash that leaves (buy) or must arrive
  (sell) INCLUDING commission and solves ``q*p + |q|*p*f == amount`` by Newton steps to
  ``np.isclose`` (atol 1e-8): a buy of d gets d/(1+f) of the asset, a sell raising d sells
  d/(1-f) worth: trimtab's per-leg model, to within 1e-8 of cash per leg.
- ``Rebalance`` moves each asset by ``(t_i - w_i) * V`` of cash with V the value before the
  trades, so fees come out of the assets, cash lands exactly on t_USDC*V, and the post-trade
  weights are not exactly the targets. bt never solves for post-fee weights.
- The trigger is the custom ``DriftTrigger`` Algo below, placed first: bt's ``RunIfOutOfBounds``
  measures RELATIVE deviation ``|w - t| / t`` per security and checks cash only when
  ``temp['cash']`` is set (then absolutely), so it cannot express an absolute band over all
  assets with cash, nor a relative band that includes cash. ``RunMonthly`` skips bt's last
  date, so the monthly rule is in ``DriftTrigger`` too. Bar 0 always trades and is not counted.

CLI: ``python bt_runner.py --data daily --targets BTC=0.5,ETH=0.3,USDC=0.2 --start 2021-01-01
--end 2025-12-31 --policy threshold --band 0.05 --fee 0.001 --capital 10000 --json``, or
``--bench single|sweep [--limit N]`` (10 assets, hourly 2021..2025, threshold) for timings.
"""

from __future__ import annotations

import argparse
import json
import time

import bt
import numpy as np
import pandas as pd

import common


class DriftTrigger(bt.Algo):
    """True on the first bar and whenever ``common.wants_rebalance`` says so; counts the latter."""

    def __init__(self, targets, policy, band, relative_band, index):
        super().__init__()
        self.assets = [s for s in targets if s != common.QUOTE]
        self.targets = np.array([targets[s] for s in self.assets] + [targets.get(common.QUOTE, 0.0)])
        self.policy, self.band, self.relative_band = policy, band, relative_band
        self.first = index[0]
        self.new_month = dict(zip(index, common.month_starts(index)))
        self.count = 0

    def __call__(self, target):
        if target.now == self.first:
            return True
        children = target.children
        values = [children[s].value if s in children else 0.0 for s in self.assets]
        cash = target.capital + (children[common.QUOTE].value if common.QUOTE in children else 0.0)
        weights = np.array(values + [cash]) / target.value
        fire = common.wants_rebalance(weights, self.targets, self.policy, self.band,
                                      self.relative_band, self.new_month[target.now])
        self.count += fire
        return fire


def make_backtest(close, targets, policy, band, relative_band, fee, capital, usdc_column=False):
    """A bt.Backtest (not yet run) and its trigger, configured as the module docstring says."""
    weights = {s: w for s, w in targets.items() if s != common.QUOTE}
    if usdc_column and common.QUOTE in targets:
        close = close.assign(**{common.QUOTE: 1.0})
        weights = dict(targets)
    trigger = DriftTrigger(targets, policy, band, relative_band, close.index)
    strategy = bt.Strategy("trimtab", [trigger, bt.algos.WeighSpecified(**weights), bt.algos.Rebalance()])
    backtest = bt.Backtest(strategy, close, initial_capital=capital, integer_positions=False,
                           commissions=lambda q, p: abs(q) * p * fee, progress_bar=False)
    return backtest, trigger


def run_bt(close: pd.DataFrame, targets: dict[str, float], policy: str, band: float | None,
           relative_band: float | None, schedule: str | None, fee: float, capital: float,
           usdc_column: bool = False) -> dict:
    """Run one backtest; return ``{"final_value", "rebalance_count", "seconds"}``.

    ``schedule`` is accepted for symmetry with trimtab; only "monthly" (or None) exists, and the
    calendar/combined policies use it.
    """
    if schedule not in (None, "monthly"):
        raise ValueError(f"schedule {schedule!r}: only 'monthly' is implemented")
    started = time.perf_counter()
    backtest, trigger = make_backtest(close, targets, policy, band if band is not None else np.inf,
                                      relative_band if relative_band is not None else np.inf,
                                      fee, capital, usdc_column)
    backtest.run()
    # backtest.strategy is bt's own deepcopy: the trigger that ran is in its stack.
    ran = backtest.strategy.stack.algos[0]
    return {
        "final_value": float(backtest.strategy.values.iloc[-1]),
        "rebalance_count": int(ran.count),
        "seconds": time.perf_counter() - started,
    }


def bench(mode: str, limit: int | None) -> dict:
    close, targets, bands = common.bench_inputs(limit, mode)
    run_bt(close.iloc[:50], targets, "threshold", 0.05, None, None, 0.001, 10_000.0)  # warm-up
    started = time.perf_counter()
    results = []
    for band in bands:
        r = run_bt(close, targets, "threshold", band, None, None, 0.001, 10_000.0)
        results.append({"band": band, "final_value": r["final_value"], "rebalance_count": r["rebalance_count"]})
    warm = time.perf_counter() - started
    total = 1 if mode == "single" else len(common.SWEEP_BANDS)
    return common.bench_report("bt " + bt.__version__, mode, warm, results, total, {"bars": len(close)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser)
    parser.add_argument("--usdc-column", action="store_true",
                        help="model USDC as a constant-1.0 price column instead of cash (disagrees)")
    args = parser.parse_args()
    if args.bench:
        print(json.dumps(bench(args.bench, args.limit)))
        return
    close, targets = common.resolve_args(args)
    schedule = "monthly" if args.policy in ("calendar", "combined") else None
    result = run_bt(close, targets, args.policy, args.band, args.relative_band, schedule,
                    args.fee, args.capital, args.usdc_column)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()

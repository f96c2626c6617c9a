"""trimtab's side of bench_backtest.py: one benchmark task in this (fresh) process, as JSON.

``--bench single``    one reference backtest (the live core + simulated fills), threshold 5%
``--bench sweep``     the 50-band sweep (1%..20%) on the fast kernel
``--bench sweep1000`` 1,000 configurations: 125 bands x {threshold, 5%-band... combined monthly}
                      x {target, band-edge} x {per-leg, proceeds}
All on 10 assets (BTC ETH SOL BNB XRP ADA DOGE DOT LINK LTC), equal weights, hourly
2021-01-01..2025-12-31, 0.1% fee, per-leg fees and min_trade 0 unless said (as the peers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC")
START, END = "2021-01-01", "2025-12-31"


def process_seconds() -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", choices=["single", "sweep", "sweep1000"], required=True)
    parser.add_argument("--workers", type=int, default=None, help="the kernel's threads (default: every core)")
    args = parser.parse_args()

    import numpy as np

    from trimtab.backtest.spec import BacktestSpec, FeeModel
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicySpec

    targets = Targets.of({s: 1 / len(SYMBOLS) for s in SYMBOLS})
    bands = [float(b) for b in np.linspace(0.01, 0.20, 50)]
    extra = {}
    if args.bench == "single":
        from trimtab.backtest import run_backtest
        from trimtab.data import load_prices

        close = load_prices("hourly", list(SYMBOLS), START, END)
        bars = len(close)
        spec = BacktestSpec(targets=targets, policy=PolicySpec(band=0.05), fee=0.001,
                            fee_model=FeeModel.PER_LEG, min_trade=0.0)
        run_backtest(close.iloc[:50], spec)  # warm: imports and first calls
        started = time.perf_counter()
        m = run_backtest(close, spec).metrics
        warm = time.perf_counter() - started
        results = [{"band": 0.05, "final_value": m.final_value, "rebalance_count": m.rebalance_count}]
    else:  # as `trimtab sweep` does: no pandas, the kernel from numba's cache
        from trimtab.backtest.fast import Prepared, run_fast
        from trimtab.backtest.grid import Grid
        from trimtab.backtest.sweep import run_sweep
        from trimtab.core.plan import Mode
        from trimtab.core.policy import PolicyKind
        from trimtab.core.triggers import Period

        prepared = Prepared.load("hourly", list(SYMBOLS), START, END)
        bars = len(prepared.times)
        if args.bench == "sweep":
            specs = Grid(targets=[targets], bands=bands, fee_models=[FeeModel.PER_LEG], min_trades=[0.0]).specs()
        else:
            specs = Grid(targets=[targets], policies=[PolicyKind.THRESHOLD, PolicyKind.COMBINED],
                         bands=[float(b) for b in np.linspace(0.01, 0.25, 125)], schedules=[Period.MONTHLY],
                         modes=[Mode.TARGET, Mode.BAND_EDGE], fee_models=[FeeModel.PER_LEG, FeeModel.PROCEEDS],
                         min_trades=[0.0]).specs()
        started = time.perf_counter()
        run_fast(prepared.head(50), specs[0])  # load the compiled kernel from numba's cache
        extra["seconds_kernel_load"] = time.perf_counter() - started
        started = time.perf_counter()
        rows = run_sweep(prepared, specs, workers=args.workers)
        warm = time.perf_counter() - started
        results = [{"band": r["band"], "final_value": r["final_value"], "rebalance_count": r["rebalance_count"]}
                   for r in rows]
        extra["configurations"] = len(rows)
    print(json.dumps({
        "tool": "trimtab", "mode": args.bench, "seconds_warm": warm, "seconds_process_total": process_seconds(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "bars": bars,
        "results": results, **extra,
    }))


if __name__ == "__main__":
    main()

"""The sweep kernel in one run: trimtab against vectorbt and a bare numba loop, then how it scales.

    python benchmarks/sweep_bench.py [--peers-python /work/peers-venv/bin/python] [--runs 5]
        [--skip-dask] [--only head|scaling|dask] [--json]

1. **Head to head** (issue 16): the 50-band hourly sweep on 10 assets, equal weights, 2021..2025
   (43,810 bars), threshold policy, per-leg fees, min_trade 0. Whole process: the `trimtab sweep`
   command (``--json``) and vectorbt's runner (``peers/vbt_runner.py --bench sweep``) and the bare
   loop (``bare_loop.py``), each a fresh process timed from outside, median of ``--runs``, after one
   untimed run that fills every on-disk cache (numba's, the price caches). Warm: the same sweep
   in-process after a warm-up, median of ``--runs``; trimtab's on every core and on one, the bare
   loop on one core (the issue's peer) and on every core (``prange``). Ratios and whether the final
   values and rebalance counts agree. Also the command as typed without ``--json`` (the table and
   the frontier chart, which imports matplotlib).
2. **Scaling**: the sweep at 50, 500 and 5,000 configurations on 1, 2 and 4 workers (the kernel's
   threads; this machine's cores are ``os.cpu_count()``); a single backtest (the reference simulator
   and the kernel) on 1, 10 and 50 assets of seeded synthetic hourly prices (the shipped data has 15
   symbols), 43,810 bars each.
3. **Dask**: the same grids sent to a local Dask cluster (2 worker processes, 1 thread each,
   started once, not timed) against one process on one thread and on every core; where the cluster
   starts to win.

The figures in docs/PERFORMANCE.md ("The sweep kernel") come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SYMBOLS = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC"]
START, END = "2021-01-01", "2025-12-31"
TARGETS = ",".join(f"{s}={1 / len(SYMBOLS)!r}" for s in SYMBOLS)
SWEEP_COMMAND = ["-m", "trimtab", "sweep", "--data", "hourly", "--targets", TARGETS, "--start", START, "--end", END,
                 "--band", "0.01:0.20:50", "--policy", "threshold", "--fee-model", "per-leg", "--min-trade", "0",
                 "--json"]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    began = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=environment(), cwd=cwd, check=False)
    wall = time.perf_counter() - began
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{out.stderr[-2000:]}")
    return wall, out.stdout


def whole_process(command: list[str], runs: int) -> tuple[float, float, dict]:
    """Median and min wall seconds of ``runs`` fresh processes (after one untimed), and the last JSON."""
    timed(command)
    walls, stdout = [], ""
    for _ in range(runs):
        wall, stdout = timed(command)
        walls.append(wall)
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        document = json.loads([x for x in stdout.splitlines() if x.startswith("{")][-1])
    return statistics.median(walls), min(walls), document


def median_seconds(work, runs: int) -> float:
    work()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def agreement(rows: list[dict], other: list[dict]) -> str:
    """Final values and rebalance counts, band by band (both lists in the grid's order)."""
    worst, same, n = 0.0, len(rows) == len(other), 0
    for r, o in zip(rows, other):
        assert abs(r["band"] - o["band"]) < 1e-6, (r["band"], o["band"])  # JSON keeps 6 digits
        n += 1
        worst = max(worst, abs(r["final_value"] / o["final_value"] - 1))
        same &= r["rebalance_count"] == o["rebalance_count"]
    return f"{n} bands: max rel. diff of final values {worst:.1e}, rebalance counts {'equal' if same else 'DIFFER'}"


def grids():
    """The sweeps of 50, 500 and 5,000 configurations over the head-to-head portfolio."""
    import numpy as np

    from trimtab.backtest.grid import Grid
    from trimtab.backtest.spec import FeeModel
    from trimtab.core.assets import Targets
    from trimtab.core.plan import Mode
    from trimtab.core.policy import PolicyKind
    from trimtab.core.triggers import Period

    targets = Targets.of({s: 1 / len(SYMBOLS) for s in SYMBOLS})

    def bands(n):
        return [float(b) for b in np.linspace(0.01, 0.20, n)]

    both = dict(policies=[PolicyKind.THRESHOLD, PolicyKind.COMBINED], schedules=[Period.MONTHLY],
                modes=[Mode.TARGET, Mode.BAND_EDGE])
    return {
        50: Grid(targets=[targets], bands=bands(50), fee_models=[FeeModel.PER_LEG], min_trades=[0.0]).specs(),
        500: Grid(targets=[targets], bands=bands(125), fee_models=[FeeModel.PER_LEG], min_trades=[0.0],
                  **both).specs(),
        5000: Grid(targets=[targets], bands=bands(625), fee_models=[FeeModel.PER_LEG, FeeModel.PROCEEDS],
                   min_trades=[0.0], **both).specs(),
    }


def head_to_head(py: str, peers_py: str | None, runs: int) -> dict:
    from trimtab.backtest.fast import Prepared
    from trimtab.backtest.sweep import run_sweep

    sys.path.insert(0, str(HERE))
    import bare_loop
    import numpy as np

    report: dict = {}
    report["trimtab command, whole process"], report["trimtab command, whole process (min)"], doc = whole_process(
        [py, *SWEEP_COMMAND], runs)
    trimtab_rows = doc["rows"]
    with tempfile.TemporaryDirectory() as scratch:  # as typed, no --json: the table and sweep.png (matplotlib)
        table = [py, *[a for a in SWEEP_COMMAND if a != "--json"]]
        timed(table, Path(scratch))
        walls = sorted(timed(table, Path(scratch))[0] for _ in range(runs))
        report["trimtab command with table and chart, whole process"] = statistics.median(walls)
    bare_median, bare_min, bare_doc = whole_process([py, str(HERE / "bare_loop.py")], runs)
    report["bare loop, whole process"], report["bare loop, whole process (min)"] = bare_median, bare_min
    if peers_py:
        vbt_median, vbt_min, vbt_doc = whole_process([peers_py, str(HERE / "peers" / "vbt_runner.py"), "--bench",
                                                      "sweep"], max(1, runs // 2))
        report["vectorbt, whole process"], report["vectorbt, whole process (min)"] = vbt_median, vbt_min
        report["vectorbt, warm"] = vbt_doc["seconds_warm"]

    prepared = Prepared.load("hourly", SYMBOLS, START, END)
    specs = grids()[50]
    rows = run_sweep(prepared, specs)
    report["trimtab, warm, every core"] = median_seconds(lambda: run_sweep(prepared, specs), runs)
    report["trimtab, warm, one core"] = median_seconds(lambda: run_sweep(prepared, specs, workers=1), runs)
    targets, bands = np.full(len(SYMBOLS), 1 / len(SYMBOLS)), np.linspace(0.01, 0.20, 50)
    report["bare loop, warm, one core"] = median_seconds(
        lambda: bare_loop.bare_sweep(prepared.prices, targets, bands, 0.001, 10_000.0), runs)
    report["bare loop, warm, every core"] = median_seconds(
        lambda: bare_loop.bare_sweep_threads(prepared.prices, targets, bands, 0.001, 10_000.0), runs)

    ratios = {
        "trimtab warm (every core) / bare loop warm (one core)":
            report["trimtab, warm, every core"] / report["bare loop, warm, one core"],
        "trimtab warm (one core) / bare loop warm (one core)":
            report["trimtab, warm, one core"] / report["bare loop, warm, one core"],
        "trimtab warm (every core) / bare loop warm (every core)":
            report["trimtab, warm, every core"] / report["bare loop, warm, every core"],
        "trimtab command / bare loop, whole process":
            report["trimtab command, whole process"] / report["bare loop, whole process"],
    }
    agree = {"trimtab vs bare loop": agreement(rows, bare_doc["results"]),
             "trimtab command (JSON, rounded) vs in-process": agreement(trimtab_rows, rows)}
    if peers_py:
        ratios["vectorbt / trimtab command, whole process (target >= 15x)"] = (
            report["vectorbt, whole process"] / report["trimtab command, whole process"])
        ratios["vectorbt / trimtab, warm, every core (target >= 50x)"] = (
            report["vectorbt, warm"] / report["trimtab, warm, every core"])
        ratios["vectorbt / trimtab, warm, one core"] = report["vectorbt, warm"] / report["trimtab, warm, one core"]
        agree["trimtab vs vectorbt"] = agreement(rows, vbt_doc["results"])
    return {"seconds": report, "ratios": ratios, "agreement": agree}


def scaling(runs: int) -> dict:
    from trimtab.backtest.fast import Prepared
    from trimtab.backtest.sweep import run_sweep

    prepared = Prepared.load("hourly", SYMBOLS, START, END)
    sweeps = {}
    for size, specs in grids().items():
        for workers in (1, 2, 4):
            seconds = median_seconds(lambda: run_sweep(prepared, specs, workers=workers), 1 if size >= 5000 else runs)
            sweeps[f"{len(specs)} configurations, {workers} workers"] = seconds
    return {"sweep seconds (warm)": sweeps, "single backtest seconds (warm)": single_backtests(runs)}


def synthetic(assets: int, bars: int = 43_810):
    """Seeded hourly prices: a geometric random walk per asset (about 0.8% a bar), no quote column."""
    import numpy as np

    from trimtab.backtest.fast import Prepared

    rng = np.random.default_rng(16)
    steps = rng.normal(0.00002, 0.008, size=(bars, assets))
    prices = 100.0 * np.exp(np.cumsum(steps, axis=0))
    times = np.datetime64("2021-01-01T00:00", "ns").astype(np.int64) + np.arange(bars, dtype=np.int64) * 3_600 * 10**9
    return Prepared(times, tuple(f"A{i:02d}" for i in range(assets)), np.ascontiguousarray(prices))


def single_backtests(runs: int) -> dict:
    from trimtab.backtest import BacktestSpec, FeeModel, run_backtest
    from trimtab.backtest.fast import run_fast
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicySpec

    out = {}
    for assets in (1, 10, 50):
        data = synthetic(assets)
        weight = 1 / (assets + 1)  # the quote holds one share too, so one asset still drifts
        spec = BacktestSpec(targets=Targets.of({**{c: weight for c in data.columns}, "USDC": 1 - weight * assets}),
                            policy=PolicySpec(band=0.05), fee=0.001, fee_model=FeeModel.PER_LEG, min_trade=0.0)
        close = data.close
        reference = run_backtest(close, spec).metrics
        out[f"{assets} assets: reference simulator"] = median_seconds(lambda: run_backtest(close, spec), runs)
        out[f"{assets} assets: kernel"] = median_seconds(lambda: run_fast(data, spec), runs)
        out[f"{assets} assets: rebalances"] = reference.rebalance_count
    return out


def dask_crossover() -> dict:
    try:
        from distributed import LocalCluster
    except ImportError:
        return {"skipped": "distributed is not installed (extra: distributed)"}
    from trimtab.backtest.fast import Prepared
    from trimtab.backtest.sweep import run_sweep

    prepared = Prepared.load("hourly", SYMBOLS, START, END)
    all_specs = grids()
    sizes = {50: all_specs[50], 500: all_specs[500], 2000: all_specs[5000][:2000], 5000: all_specs[5000]}
    began = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1", scheduler_port=0) as cluster:
        started = time.perf_counter() - began
        address = cluster.scheduler_address
        run_sweep(prepared, all_specs[50][:4], scheduler=address)  # the workers load the kernel once
        out: dict = {"cluster start (not in the figures below)": started}
        for size, specs in sizes.items():
            one = median_seconds(lambda: run_sweep(prepared, specs, workers=1), 1)
            every = median_seconds(lambda: run_sweep(prepared, specs), 1)
            cluster_seconds = median_seconds(lambda: run_sweep(prepared, specs, scheduler=address), 1)
            out[f"{size} configurations"] = {"one process, 1 thread": one, "one process, every core": every,
                                             "dask, 2 workers x 1 thread": cluster_seconds}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", default=None, help="an interpreter with vectorbt (benchmarks/peers)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--only", choices=["head", "scaling", "dask"], help="run one part (to re-measure it)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    peers = args.peers_python or ("/work/peers-venv/bin/python" if Path("/work/peers-venv/bin/python").exists()
                                  else None)
    document = {"cpus": os.cpu_count(), "load average at start": os.getloadavg()[0]}
    if args.only in (None, "head"):
        document["head to head"] = head_to_head(sys.executable, peers, args.runs)
    if args.only in (None, "scaling"):
        document["scaling"] = scaling(args.runs)
    if args.only == "dask" or (args.only is None and not args.skip_dask):
        document["dask"] = dask_crossover()
    document["load average at end"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(document, indent=2))
        return
    print(f"{document['cpus']} CPUs, load average {document['load average at start']:.1f} at start, "
          f"{document['load average at end']:.1f} at the end\n")
    show(document)


def show(value, indent: int = 0) -> None:
    for key, item in value.items():
        if isinstance(item, dict):
            print(" " * indent + f"{key}:")
            show(item, indent + 2)
        elif isinstance(item, float):
            print(" " * indent + f"{key}: {item:.4f}" if item < 10 else " " * indent + f"{key}: {item:.2f}")
        else:
            print(" " * indent + f"{key}: {item}")


if __name__ == "__main__":
    main()

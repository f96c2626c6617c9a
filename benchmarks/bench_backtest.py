"""Benchmark trimtab against bt 1.4.1 and vectorbt: each task in its own fresh process.

Portfolio: BTC ETH SOL BNB XRP ADA DOGE DOT LINK LTC, equal weights, hourly 2021-01-01..2025-12-31
(43,810 bars), 0.1% fee, per-leg fees, min_trade 0, threshold policy. Tasks: one backtest (band 5%)
and a 50-band sweep (1%..20%) in trimtab, bt and vectorbt; a 1,000-configuration trimtab sweep;
and the ``trimtab sweep`` command itself, timed from outside.

For every run it prints: warm seconds (the task alone, after a warm-up in the same process),
the whole process's wall time measured from outside (interpreter start, imports, data load,
compilation or cache load, the work), peak memory (max RSS), then the ratios and whether the final
values and rebalance counts agree (relative difference of the final values, per band).

    python benchmarks/bench_backtest.py [--peers-python PATH]   # a venv with the `bench` extra
        [--bt-limit 5] [--repeat 1] [--json]

bt's sweep runs ``--bt-limit`` of the 50 bands and extrapolates (about 2.5 s a band). The peers
run in ``--peers-python`` when bt/vectorbt are not importable here (extra ``bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SYMBOLS = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC"]


def run(cmd: list[str], env: dict | None = None) -> tuple[dict, float]:
    """Run ``cmd`` in a fresh process; return its JSON report and the wall seconds seen from outside."""
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line), wall


def trimtab_env() -> dict:
    return {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


def agreement(a: list[dict], b: list[dict]) -> str:
    by_band = {round(r["band"], 9): r for r in b}
    worst, same, n = 0.0, True, 0
    for r in a:
        other = by_band.get(round(r["band"], 9))
        if other is None:
            continue
        n += 1
        worst = max(worst, abs(r["final_value"] / other["final_value"] - 1))
        same &= r["rebalance_count"] == other["rebalance_count"]
    return f"{n} bands: max rel. diff {worst:.1e}, rebalance counts {'equal' if same else 'DIFFER'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers-python", default=None,
                        help="an interpreter with bt and vectorbt (default: this one; pip install -e '.[bench]')")
    parser.add_argument("--bt-limit", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    py, peers_py = sys.executable, args.peers_python or sys.executable
    targets = ",".join(f"{s}={1 / len(SYMBOLS)!r}" for s in SYMBOLS)
    runs: dict[str, tuple[dict, float]] = {}

    # warm the caches every tool keeps on disk (data .npz, numba), so no run pays a first-ever build
    run([py, str(HERE / "trimtab_runner.py"), "--bench", "sweep"], trimtab_env())
    run([peers_py, str(HERE / "peers" / "vbt_runner.py"), "--bench", "single"])

    runs["trimtab single"] = run([py, str(HERE / "trimtab_runner.py"), "--bench", "single"], trimtab_env())
    runs["trimtab sweep"] = run([py, str(HERE / "trimtab_runner.py"), "--bench", "sweep"], trimtab_env())
    runs["trimtab sweep1000"] = run([py, str(HERE / "trimtab_runner.py"), "--bench", "sweep1000"], trimtab_env())
    started = time.perf_counter()
    cli = subprocess.run([py, "-m", "trimtab", "sweep", "--data", "hourly", "--targets", targets, "--start", "2021-01-01",
                          "--end", "2025-12-31", "--band", "0.01:0.20:50", "--fee-model", "per-leg", "--min-trade", "0",
                          "--json"], capture_output=True, text=True, env={**os.environ, **trimtab_env()}, cwd=ROOT,
                         check=False)
    cli_wall = time.perf_counter() - started
    if cli.returncode != 0:
        raise SystemExit(cli.stderr)
    runs["bt single"] = run([peers_py, str(HERE / "peers" / "bt_runner.py"), "--bench", "single"])
    runs["bt sweep"] = run([peers_py, str(HERE / "peers" / "bt_runner.py"), "--bench", "sweep", "--limit", str(args.bt_limit)])
    runs["vectorbt single"] = run([peers_py, str(HERE / "peers" / "vbt_runner.py"), "--bench", "single"])
    runs["vectorbt sweep"] = run([peers_py, str(HERE / "peers" / "vbt_runner.py"), "--bench", "sweep"])

    rows = []
    for name, (report, wall) in runs.items():
        warm = report.get("seconds_warm_extrapolated", report["seconds_warm"])
        whole = wall
        if "seconds_warm_extrapolated" in report:  # bt: add the bands it did not run
            whole = wall + report["seconds_warm_extrapolated"] - report["seconds_warm"]
        rows.append({"run": name, "seconds_warm": warm, "seconds_whole_process": whole, "peak_rss_mb": report["peak_rss_mb"],
                     "extrapolated": "seconds_warm_extrapolated" in report})
    by = {r["run"]: r for r in rows}
    cli_rows = json.loads(cli.stdout)["rows"]
    ratios = {
        "vectorbt sweep / trimtab sweep, warm": by["vectorbt sweep"]["seconds_warm"] / by["trimtab sweep"]["seconds_warm"],
        "vectorbt sweep / trimtab sweep, whole process": by["vectorbt sweep"]["seconds_whole_process"] / by["trimtab sweep"]["seconds_whole_process"],
        "vectorbt sweep / `trimtab sweep` command, whole process": by["vectorbt sweep"]["seconds_whole_process"] / cli_wall,
        "bt single / trimtab single, warm": by["bt single"]["seconds_warm"] / by["trimtab single"]["seconds_warm"],
        "bt single / trimtab single, whole process": by["bt single"]["seconds_whole_process"] / by["trimtab single"]["seconds_whole_process"],
        "bt sweep / trimtab sweep, warm": by["bt sweep"]["seconds_warm"] / by["trimtab sweep"]["seconds_warm"],
    }
    agree = {
        "single: trimtab vs bt": agreement(runs["trimtab single"][0]["results"], runs["bt single"][0]["results"]),
        "single: trimtab vs vectorbt": agreement(runs["trimtab single"][0]["results"], runs["vectorbt single"][0]["results"]),
        "sweep: trimtab vs vectorbt": agreement(runs["trimtab sweep"][0]["results"], runs["vectorbt sweep"][0]["results"]),
        "sweep: trimtab vs bt": agreement(runs["trimtab sweep"][0]["results"], runs["bt sweep"][0]["results"]),
        "sweep: `trimtab sweep` command vs vectorbt": agreement(cli_rows, runs["vectorbt sweep"][0]["results"]),
    }
    document = {"runs": rows, "trimtab_sweep_command_seconds_whole_process": cli_wall, "ratios": ratios,
                "agreement": agree, "configurations_1000": runs["trimtab sweep1000"][0].get("configurations"),
                "load_average": os.getloadavg(), "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(document, indent=2))
        return
    print(f"{'run':<22} {'warm s':>9} {'whole process s':>16} {'peak MB':>8}")
    for r in rows:
        mark = " (extrapolated)" if r["extrapolated"] else ""
        print(f"{r['run']:<22} {r['seconds_warm']:>9.3f} {r['seconds_whole_process']:>16.2f} {r['peak_rss_mb']:>8.0f}{mark}")
    print(f"{'trimtab sweep command':<22} {'':>9} {cli_wall:>16.2f}")
    print()
    for k, v in ratios.items():
        print(f"{k}: {v:.1f}x")
    print()
    for k, v in agree.items():
        print(f"{k}: {v}")
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

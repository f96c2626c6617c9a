"""What the peer runners (bt_runner.py, vbt_runner.py, reference_sim.py) share.

- ``load_close``: the wide close matrix (UTC DatetimeIndex, one column per asset) from the
  shipped long-format CSVs, cached as ``.npz`` keyed by the CSV's sha256; rows where any chosen
  symbol has no price are dropped; ``start``/``end`` are inclusive (pandas label slicing, so a
  bare ``--end`` date on hourly data means through 23:00 of that day).
- ``parse_targets``: ``"BTC=0.5,ETH=0.3,USDC=0.2"`` -> dict; the quote asset USDC is cash.
- ``wants_rebalance``: the trigger rule every runner implements, in one place.
- ``add_common_args`` / ``bench_report``: the CLI and the ``--bench`` JSON they print.

Only numpy, pandas and the standard library are imported here, so that the timings of the
runners measure bt and vectorbt, not this module.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

QUOTE = "USDC"
#: Drift must pass a band by more than this (as trimtab.core.drift.DRIFT_EPSILON), so float
#: noise such as 0.65 - 0.5 == 0.15000000000000002 does not decide a trade.
DRIFT_EPSILON = 1e-12
BENCH_SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC")
BENCH_START, BENCH_END = "2021-01-01", "2025-12-31"
SWEEP_BANDS = tuple(float(b) for b in np.linspace(0.01, 0.20, 50))

_HERE = Path(__file__).resolve().parent
_DATA_DIRS = [
    Path(os.environ["TRIMTAB_DATA"]) if os.environ.get("TRIMTAB_DATA") else None,
    _HERE.parent.parent / "src" / "trimtab" / "data",
]
_FILES = {"daily": ("prices_daily.csv", "date"), "hourly": ("prices_hourly.csv.gz", "timestamp")}


def data_file(kind: str) -> Path:
    """The shipped CSV for ``kind`` ('daily' or 'hourly'); first of $TRIMTAB_DATA, the repo, shared."""
    name = _FILES[kind][0]
    for folder in _DATA_DIRS:
        if folder is not None and (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{name} not found in {[str(d) for d in _DATA_DIRS if d]}")


def _wide_all(kind: str) -> pd.DataFrame:
    path = data_file(kind)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cache_dir = Path(os.environ.get("TRIMTAB_PEERS_CACHE", Path.home() / ".cache" / "trimtab-peers"))
    cache = cache_dir / f"{path.name}.{digest}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        index = pd.DatetimeIndex(z["index"].astype("datetime64[ns]")).tz_localize("UTC")
        return pd.DataFrame(z["close"], index=index, columns=list(z["columns"]))
    long = pd.read_csv(path, usecols=[_FILES[kind][1], "symbol", "close"])
    long["t"] = pd.to_datetime(long[_FILES[kind][1]], utc=True)
    wide = long.pivot(index="t", columns="symbol", values="close").sort_index()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        close=wide.to_numpy(np.float64),
        index=wide.index.tz_convert(None).to_numpy("datetime64[ns]").astype(np.int64),
        columns=np.array(wide.columns, dtype=str),
    )
    tmp.replace(cache)
    return wide


def load_close(kind: str, symbols, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Wide closes of ``symbols`` (quote asset dropped), rows with every symbol priced, [start, end]."""
    symbols = [s for s in symbols if s != QUOTE]
    close = _wide_all(kind)[symbols].dropna(how="any")
    close = close.loc[start:end]
    if close.empty:
        raise ValueError(f"no {kind} rows for {symbols} in {start}..{end}")
    return close


def parse_targets(text: str) -> dict[str, float]:
    """``"BTC=0.5,ETH=0.3,USDC=0.2"`` -> ``{"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}`` (sum 1 +- 1e-6)."""
    targets = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        targets[name.strip().upper()] = float(weight)
    if abs(sum(targets.values()) - 1.0) > 1e-6:
        raise ValueError(f"targets sum to {sum(targets.values())}, not 1")
    return targets


def equal_targets(symbols) -> dict[str, float]:
    return {s: 1.0 / len(symbols) for s in symbols}


def wants_rebalance(weights, targets, policy, band, relative_band, new_month) -> bool:
    """The trigger: ``weights``/``targets`` are aligned arrays over ALL assets, cash included.

    threshold: any |w - t| > band; relative: any |w - t| / t > relative_band (t > 0 only);
    calendar: ``new_month``; combined: threshold or calendar. Strict, with DRIFT_EPSILON.
    """
    drift = np.abs(np.asarray(weights) - np.asarray(targets))
    if policy in ("threshold", "combined") and drift.max() > band + DRIFT_EPSILON:
        return True
    if policy == "relative":
        t = np.asarray(targets)
        positive = t > 0
        return bool((drift[positive] / t[positive]).max() > relative_band + DRIFT_EPSILON)
    return bool(policy in ("calendar", "combined") and new_month)


def month_starts(index: pd.DatetimeIndex) -> np.ndarray:
    """Bool per bar: True when the bar's calendar month differs from the previous bar's (bar 0: False)."""
    key = index.year.to_numpy() * 12 + index.month.to_numpy()
    out = np.zeros(len(index), dtype=bool)
    out[1:] = key[1:] != key[:-1]
    return out


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", choices=["daily", "hourly"], default="daily")
    parser.add_argument("--symbols", nargs="*", help="default: the assets in --targets")
    parser.add_argument("--targets", help="e.g. BTC=0.5,ETH=0.3,USDC=0.2 (default: equal weights of --symbols)")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--policy", choices=["threshold", "relative", "calendar", "combined"], default="threshold")
    parser.add_argument("--band", type=float, default=0.05)
    parser.add_argument("--relative-band", type=float, default=0.25)
    parser.add_argument("--fee", type=float, default=0.001)
    parser.add_argument("--capital", type=float, default=10_000.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bench", choices=["single", "sweep"],
                        help="benchmark: 10 assets equal weight, hourly 2021..2025, threshold band(s)")
    parser.add_argument("--limit", type=int, help="--bench sweep: run only N of the 50 bands and extrapolate")


def resolve_args(args) -> tuple[pd.DataFrame, dict[str, float]]:
    """The close matrix and targets a non-bench CLI call asks for."""
    if args.targets:
        targets = parse_targets(args.targets)
        symbols = args.symbols or list(targets)
    else:
        symbols = args.symbols or list(BENCH_SYMBOLS)
        targets = equal_targets(symbols)
    return load_close(args.data, symbols, args.start, args.end), targets


def process_seconds() -> float:
    """Seconds since this process started (interpreter start-up included), from /proc."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        return float(Path("/proc/uptime").read_text().split()[0]) - start
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def bench_inputs(limit: int | None, mode: str):
    """Close matrix, targets and the bands of a --bench run (all 50, or ``limit`` spread over them)."""
    close = load_close("hourly", BENCH_SYMBOLS, BENCH_START, BENCH_END)
    bands = [0.05] if mode == "single" else list(SWEEP_BANDS)
    if mode == "sweep" and limit and limit < len(bands):
        bands = [bands[i] for i in np.linspace(0, len(bands) - 1, limit).round().astype(int)]
    return close, equal_targets(BENCH_SYMBOLS), bands


def bench_report(tool, mode, seconds_warm, results, n_bands_total, extra=None) -> dict:
    report = {
        "tool": tool,
        "mode": mode,
        "data": {"kind": "hourly", "symbols": list(BENCH_SYMBOLS), "start": BENCH_START, "end": BENCH_END,
                 "fee": 0.001, "capital": 10_000.0, "policy": "threshold"},
        "seconds_warm": seconds_warm,
        "seconds_process_total": process_seconds(),
        "peak_rss_mb": peak_rss_mb(),
        "results": results,
    }
    if len(results) < n_bands_total:
        factor = n_bands_total / len(results)
        report["limited"] = (f"ran {len(results)} of {n_bands_total} bands; "
                             f"seconds_warm_extrapolated = seconds_warm * {factor:g}")
        report["seconds_warm_extrapolated"] = seconds_warm * factor
    report.update(extra or {})
    return report

"""Start-up time of each `trimtab` command as a whole process, against issue 16's budget.

    python benchmarks/startup.py [--runs 7] [--top 5]

Each command runs ``--runs`` times as ``python -m trimtab ...`` (wall clock from spawn to exit); the
table shows the median and the budget (``--help`` and the README's ``plan`` < 0.2 s, ``status`` on a
paper portfolio < 0.35 s). One more run per command under ``python -X importtime`` lists the modules
that cost the most, cumulative, among those imported directly by the interpreter or by trimtab (so a
package and its own children are not listed twice). ``status`` and ``history`` read a paper
portfolio made with ``trimtab init`` in a temporary folder, its journal created beforehand (creating
it is a one-off migration). trimtab's own bytecode is compiled first (``compileall``), as ``pip
install`` does for an installed package: an editable install under ``PYTHONDONTWRITEBYTECODE=1`` (set
on this machine) would otherwise compile every edited module from source on every run, 0.05-0.1 s
that no user of an installed trimtab pays. The figures in docs/PERFORMANCE.md ("Start-up") came from
this script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAN = ["plan", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2", "--holdings", "BTC=0.1,ETH=1.25,USDC=1000",
        "--prices", "BTC=65000,ETH=2000", "--band", "0.05", "--fee", "0.001"]
INIT = ["init", "--venue", "paper", "--prices", "BTC=65000,ETH=2000"]

#: (name, arguments, budget in seconds or None, needs the portfolio folder)
COMMANDS = [
    ("--help", ["--help"], 0.2, False),
    ("plan (README what-if)", PLAN, 0.2, False),
    ("status (paper)", ["status"], 0.35, True),
    ("history (paper)", ["history"], None, True),
    ("init --venue paper", INIT, None, False),
    ("backtest --help", ["backtest", "--help"], None, False),
]


def environment() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}


def once(args: list[str], cwd: Path, *, importtime: bool = False) -> tuple[float, str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "trimtab", *args]
    began = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"trimtab {' '.join(args)} failed: {result.stderr.strip()[-400:]}")
    return elapsed, result.stderr


def offenders(report: str, top: int) -> list[tuple[str, float]]:
    """The ``top`` costliest imports (cumulative seconds) that the interpreter or trimtab made itself."""
    rows: list[tuple[int, str, float]] = []
    for line in report.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((depth, name.strip(), int(cumulative) / 1e6))
    # importtime prints children before their parent: a row's parent is the next row one level up
    chosen = []
    for index, (depth, name, seconds) in enumerate(rows):
        parent = next((n for d, n, _ in rows[index + 1:] if d < depth), None)
        if parent is None or (parent.startswith("trimtab") and not name.startswith("trimtab")):
            chosen.append((name, seconds))
    return sorted(chosen, key=lambda row: -row[1])[:top]


def fresh_folder(root: Path, name: str, portfolio: bool) -> Path:
    folder = Path(tempfile.mkdtemp(dir=root, prefix=name.split()[0].strip("-") + "-"))
    if portfolio:
        once(INIT, folder)
        once(["status"], folder)  # creates and migrates the journal once, as a first status does
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command; the median is reported.")
    parser.add_argument("--top", type=int, default=5, help="Import-time offenders listed per command.")
    options = parser.parse_args()
    import compileall

    import trimtab

    compileall.compile_dir(Path(trimtab.__file__).parent, quiet=1)
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f} at start, "
          f"{options.runs} runs per command\n")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, args, budget, portfolio in COMMANDS:
            folder = fresh_folder(root, name, portfolio)
            times = []
            for _ in range(options.runs):
                if args is INIT:  # init refuses an existing config: a fresh folder per run
                    folder = fresh_folder(root, name, False)
                times.append(once(args, folder)[0])
            if args is INIT:
                folder = fresh_folder(root, name, False)
            report = once(args, folder, importtime=True)[1]
            rows.append((name, statistics.median(times), min(times), budget, offenders(report, options.top)))
    print(f"{'command':<24}{'median s':>10}{'min s':>8}{'budget s':>10}  verdict")
    for name, median, best, budget, _ in rows:
        verdict = "-" if budget is None else ("within" if median < budget else "OVER")
        print(f"{name:<24}{median:>10.3f}{best:>8.3f}{'' if budget is None else budget:>10}  {verdict}")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end\n\nTop imports (cumulative, one -X importtime run):")
    for name, _, _, _, top in rows:
        print(f"  {name}: " + ", ".join(f"{module} {seconds * 1000:.0f} ms" for module, seconds in top))


if __name__ == "__main__":
    main()

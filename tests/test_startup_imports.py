"""Issue 16's start-up rule: no command imports a heavy part it does not use.

Each command runs in its own process behind a tiny wrapper that prints ``sorted(sys.modules)`` at
exit; the test reads that list. It checks what was imported, never how long it took, so it does not
flake on a busy machine (the timings live in benchmarks/startup.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Heavy parts no start-up command below uses (dbos is DBOS's module name).
HEAVY = ("fastapi", "starlette", "uvicorn", "jinja2", "apprise", "prometheus_client", "dbos", "ccxt", "dask",
         "matplotlib", "pandas", "numba", "mcp", "tenacity", "procrastinate", "psycopg", "psycopg_pool")

PLAN = ["plan", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2", "--holdings", "BTC=0.1,ETH=1.25,USDC=1000",
        "--prices", "BTC=65000,ETH=2000", "--band", "0.05", "--fee", "0.001"]
INIT = ["init", "--venue", "paper", "--prices", "BTC=65000,ETH=2000"]

_MARK = "MODULES="
_WRAPPER = (
    "import atexit, sys\n"
    f"atexit.register(lambda: print({_MARK!r} + ','.join(sorted(sys.modules)), file=sys.stderr))\n"
    "from trimtab.interfaces.cli.app import main\n"
    "sys.argv = ['trimtab', *sys.argv[1:]]\n"
    "main()\n"
)


def loaded(*args: str, cwd: Path) -> set[str]:
    """The top-level names of every module loaded by ``trimtab ARGS`` run in ``cwd``."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *args], cwd=cwd, env=env, capture_output=True, check=False,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(_MARK)]
    assert lines, result.stderr
    modules = lines[-1].removeprefix(_MARK).split(",")
    assert "trimtab.interfaces.cli.app" in modules  # the wrapper really ran the command
    return set(modules)


def tops(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    """A paper portfolio made by ``trimtab init``, its journal already created by a first status
    (creating it is a migration, which rightly imports alembic once)."""
    directory = tmp_path_factory.mktemp("startup")
    for args in (INIT, ["status"]):
        result = subprocess.run([sys.executable, "-m", "trimtab", *args], cwd=directory, capture_output=True, check=False,
                                text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert result.returncode == 0, result.stderr
    return directory


@pytest.mark.parametrize("args", [["--help"], PLAN, ["backtest", "--help"], ["fleet", "--help"], ["worker", "--help"]],
                         ids=["help", "plan", "backtest-help", "fleet-help", "worker-help"])
def test_commands_without_a_portfolio_import_nothing_heavy(args, tmp_path):
    assert tops(loaded(*args, cwd=tmp_path)) & set(HEAVY) == set()


def test_init_imports_nothing_heavy(tmp_path):
    assert tops(loaded(*INIT, cwd=tmp_path)) & set(HEAVY) == set()
    assert (tmp_path / "trimtab.toml").exists()


@pytest.mark.parametrize("command", ["status", "history"])
def test_portfolio_reads_import_nothing_heavy(command, portfolio):
    modules = tops(loaded(command, cwd=portfolio))
    assert modules & set(HEAVY) == set()
    assert "alembic" not in modules  # the journal is current: no migration, so no alembic
    if command == "status":  # it only reads: journal/sqlite_reader.py, with the stdlib driver
        assert "sqlalchemy" not in modules


def test_a_what_if_plan_builds_no_config():
    """``plan --targets`` reads no config, so it does not build the config's pydantic models."""
    modules = loaded(*PLAN, cwd=Path.cwd())
    assert "trimtab.config" not in modules
    assert "sqlalchemy" not in tops(modules)


@pytest.mark.parametrize("args", [["--help"], PLAN, ["sweep", "--help"]], ids=["help", "plan", "sweep-help"])
def test_option_values_need_no_pydantic(args, tmp_path):
    """typer would build a pydantic adapter per option; interfaces/cli/coercion.py answers the plain
    cases itself, so a command that reads no config does not import pydantic at all."""
    assert "pydantic" not in tops(loaded(*args, cwd=tmp_path))


def test_a_sweep_imports_no_pandas_no_scipy_and_no_config(tmp_path):
    """The sweep's path: prices from the binary cache with numpy, the kernel from numba's cache
    (numba's array maths imported with SciPy's BLAS hidden)."""
    args = ["sweep", "--band", "0.02,0.05", "--start", "2024-01-01", "--end", "2024-06-30", "--json"]
    loaded("sweep", "--band", "0.05", "--json", cwd=tmp_path)  # the first run may build the price cache
    modules = loaded(*args, cwd=tmp_path)
    assert tops(modules) & {"pandas", "pydantic", "matplotlib", "dask", "distributed"} == set()
    assert "scipy.linalg" not in modules  # numba imports bare `scipy` when installed (a few ms), not linalg
    assert "trimtab.backtest.kernel" in modules and "trimtab.backtest.simulator" not in modules


def test_a_sweeps_table_and_chart_import_no_pandas(tmp_path):
    """As typed without --json: the table and the frontier PNG (matplotlib), still no pandas (the chart
    and the report modules name the simulator's result type for type checkers only)."""
    modules = loaded("sweep", "--band", "0.02,0.05", "--start", "2024-01-01", "--end", "2024-06-30", cwd=tmp_path)
    assert "pandas" not in tops(modules) and "matplotlib" in tops(modules)
    assert (tmp_path / "sweep.png").exists()

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = dict(
    targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
    holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
    prices={"BTC": 65000, "ETH": 2000},
)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m trimtab ARGS`` as a real subprocess and capture its output."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "trimtab", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli(tmp_path):
    def call(*args: str, **kw):
        kw.setdefault("cwd", tmp_path)
        return run_cli(*args, **kw)

    return call


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))

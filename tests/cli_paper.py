"""Helpers for the subprocess tests: a paper portfolio made with `trimtab init`, and journal reads."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli

INIT = ["init", "--venue", "paper", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
        "--holdings", "BTC=0.1,ETH=1.25,USDC=1000", "--prices", "BTC=65000,ETH=2000",
        "--chains", "BTC=ethereum:0.1+bitcoin:0.9,ETH=arbitrum:0.6+ethereum:0.4,USDC=ethereum:0.6+base:0.4",
        "--clock-speed", "900"]


def make_portfolio(directory: Path, *, order_latency: float = 0.0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    result = run_cli(*INIT, "--order-latency", str(order_latency), cwd=directory)
    assert result.returncode == 0, result.stderr
    config = directory / "trimtab.toml"  # bridges of 3-3.5 simulated minutes: 0.2-0.23 s at clock speed 900
    config.write_text(config.read_text().replace("bridge_minutes = [2.0, 15.0]", "bridge_minutes = [3.0, 3.5]"))
    return directory


def make_portfolio_on_postgres(directory: Path, server_url: str) -> tuple[Path, str]:
    """``make_portfolio`` with its journal in a fresh database of its own on the test PostgreSQL server;
    the directory and the journal's URL."""
    from postgres_server import fresh_database

    journal = fresh_database(server_url, f"trimtab_{directory.name.lower().replace('-', '_')[:40]}")
    make_portfolio(directory)
    config = directory / "trimtab.toml"
    config.write_text(config.read_text().replace('url = "sqlite:///trimtab.db"', f'url = "{journal}"'))
    return directory, journal


def start_rebalance(directory: Path) -> subprocess.Popen:
    """``trimtab rebalance --yes --json`` as a background process."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "trimtab", "rebalance", "--yes", "--json"], cwd=directory,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journal_rows(directory: Path, query: str) -> list[tuple]:
    path = directory / "trimtab.db"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute(query).fetchall()
    except sqlite3.OperationalError:  # the tables do not exist yet
        return []


def wait_for(condition, timeout: float = 30.0, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError("the condition never held")


def venue_rows(directory: Path, query: str) -> list[tuple]:
    with sqlite3.connect(directory / "trimtab-paper.db", timeout=5) as db:
        return db.execute(query).fetchall()


def balances(directory: Path) -> dict[tuple[str, str], float]:
    return {(a, c): q for a, c, q in venue_rows(directory, "SELECT asset, chain, quantity FROM balances") if q > 1e-12}

"""End to end through the CLI on the Purple Flea trading fake: open exposure, then reduce it by
closing the whole position and reopening the rest, with the key kept out of output and journal."""

import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.fixtures import purpleflea, trading  # noqa: F401 - fixtures
from fakes.purpleflea_trading import TRADING_KEY

KEY = {"PURPLEFLEA_TRADING_KEY": TRADING_KEY}


def portfolio(directory: Path, url: str, targets: str, *extra: str, env=KEY) -> None:
    result = run_cli("init", "--venue", "purpleflea-trading", "--api-url", url, "--hyperliquid-url", url,
                     "--targets", targets, "--force", *extra, cwd=directory, env=env)
    assert result.returncode == 0, result.stderr


def account_value(trading) -> float:
    acct = trading.account()
    positions = trading.book.live_positions(acct, trading.markets)
    return acct.collateral + sum(p["unrealized_pnl"] for p in positions)


def costs(directory: Path) -> float:
    with sqlite3.connect(directory / "trimtab.db") as db:
        return sum(fee + slippage for fee, slippage in db.execute("SELECT fee, slippage FROM fills"))


def test_rebalance_opens_exposure_then_reduces_it_by_close_and_reopen_conserving_value(tmp_path, trading):
    # Arrange
    portfolio(tmp_path, trading.url, "BTC=0.4,ETH=0.2,USDC=0.4")
    before = account_value(trading)
    # Act
    first = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    portfolio(tmp_path, trading.url, "BTC=0.2,ETH=0.2,USDC=0.6")
    second = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["run"]["state"] == "completed"
    positions = {p["coin"]: p["size_usd"] for p in trading.book.live_positions(trading.account(), trading.markets)}
    assert positions["BTC"] == pytest.approx(2000, rel=0.01) and positions["ETH"] == pytest.approx(2000, rel=0.01)
    assert len(trading.requests_to("/v1/trade/close", "POST")) == 1  # BTC closed whole, then reopened
    assert before - account_value(trading) == pytest.approx(costs(tmp_path), abs=0.1)


def test_the_trading_key_never_appears_in_output_journal_or_ledger(tmp_path, trading):
    # Arrange
    portfolio(tmp_path, trading.url, "BTC=0.5,USDC=0.5")
    # Act
    outputs = [run_cli(*args, cwd=tmp_path, env=KEY) for args in
               (["status"], ["rebalance", "--yes", "--json"], ["history", "--json"], ["status", "--json"])]
    # Assert
    assert all(r.returncode == 0 for r in outputs), [r.stderr for r in outputs]
    for result in outputs:
        assert TRADING_KEY not in result.stdout + result.stderr
    for name in ("trimtab.db", "trimtab-purpleflea.db", "trimtab.toml"):
        assert TRADING_KEY.encode() not in (tmp_path / name).read_bytes()


def test_the_key_may_come_from_a_file_only_its_owner_can_read(tmp_path, trading):
    # Arrange
    key_file = tmp_path / "trading.key"
    key_file.write_text(TRADING_KEY + "\n")
    os.chmod(key_file, 0o644)
    portfolio(tmp_path, trading.url, "BTC=0.5,USDC=0.5", "--key-file", "trading.key", env={})
    # Act
    loose = run_cli("status", cwd=tmp_path, env={"PURPLEFLEA_TRADING_KEY": ""})
    os.chmod(key_file, 0o600)
    tight = run_cli("status", "--json", cwd=tmp_path, env={"PURPLEFLEA_TRADING_KEY": ""})
    # Assert
    assert loose.returncode == 2 and "chmod 600" in loose.stdout + loose.stderr
    assert tight.returncode == 0, tight.stderr
    assert TRADING_KEY not in loose.stdout + loose.stderr + tight.stdout + tight.stderr


def test_venues_check_on_the_trading_venue_reports_positions_markets_and_the_venues_clock(tmp_path, trading):
    # Arrange
    portfolio(tmp_path, trading.url, "BTC=0.5,USDC=0.5")
    # Act
    good = run_cli("venues", "check", "--json", cwd=tmp_path, env=KEY)
    bad = run_cli("venues", "check", cwd=tmp_path, env={"PURPLEFLEA_TRADING_KEY": "sk_trade_" + "0" * 48})
    # Assert
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["balances"] == {"USDC": 10000.0} and report["markets"] == ["BTC"]
    assert report["clock_skew_seconds"] is not None  # the fake's clock is months behind: shown, not a problem here
    assert bad.returncode == 4 and "the key was refused" in bad.stdout


def test_a_dry_run_shows_what_closing_the_whole_position_and_reopening_costs(tmp_path, trading):
    # Arrange
    portfolio(tmp_path, trading.url, "BTC=0.4,ETH=0.2,USDC=0.4")
    assert run_cli("rebalance", "--yes", cwd=tmp_path, env=KEY).returncode == 0
    portfolio(tmp_path, trading.url, "BTC=0.3,ETH=0.2,USDC=0.5")
    # Act
    result = run_cli("rebalance", "--dry-run", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert result.returncode == 0, result.stderr
    (cost,) = [c for c in json.loads(result.stdout)["venue_costs"] if c["leg"] == "sell BTC"]
    assert cost["venue_cost"] > 5 * cost["planned_fee"] and "closes the whole" in cost["note"]


def test_a_rebalance_killed_after_its_close_executed_resumes_by_reopening_without_a_second_close(tmp_path, trading):
    # Arrange: exposure opened, then targets lowered; the close executes but its answer hangs
    import subprocess
    import sys
    import time

    portfolio(tmp_path, trading.url, "BTC=0.4,ETH=0.2,USDC=0.4")
    assert run_cli("rebalance", "--yes", cwd=tmp_path, env=KEY).returncode == 0
    portfolio(tmp_path, trading.url, "BTC=0.2,ETH=0.2,USDC=0.6")
    before = account_value(trading)
    trading.delay_next("/v1/trade/close", 20)
    process = subprocess.Popen([sys.executable, "-m", "trimtab", "rebalance", "--yes", "--json"], cwd=tmp_path,
                               env={**os.environ, **KEY}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not trading.requests_to("/v1/trade/close", "POST"):
        time.sleep(0.02)
    time.sleep(0.3)
    process.kill()
    process.wait()
    # Act
    resumed = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(resumed.stdout)["resumed"]["state"] == "completed"
    assert len(trading.requests_to("/v1/trade/close", "POST")) == 1
    positions = {p["coin"]: p["size_usd"] for p in trading.book.live_positions(trading.account(), trading.markets)}
    assert positions["BTC"] == pytest.approx(2000, rel=0.01)
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        run = db.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()[0]
        costs = sum(f + s for f, s in db.execute("SELECT fee, slippage FROM fills WHERE run_id = ?", (run,)))
    assert before - account_value(trading) == pytest.approx(costs, abs=0.1)

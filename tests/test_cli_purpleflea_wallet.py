"""End to end through the CLI on the Purple Flea wallet fake: a rebalance across two chains with a
bridge (USDC from ethereum to base, then ETH bought on base), the fake's clock running meanwhile."""

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from fakes.purpleflea_wallet import PRICES, WALLET_KEY
from purpleflea_setup import RunningClock

KEY = {"PURPLEFLEA_WALLET_KEY": WALLET_KEY}
HOLDINGS = {("base", "ETH"): "0.2", ("base", "USDC"): "20", ("ethereum", "USDC"): "3000", ("ethereum", "ETH"): "0.01"}


def funded(wallet) -> dict[str, str]:
    created = wallet.create_wallet()
    addresses = {**created["addresses"], "private": created["private_keys"]["ethereum_and_base"]}
    for (chain, asset), amount in HOLDINGS.items():
        wallet.set_balance(chain, addresses[chain], asset, amount)
    return addresses


def value(wallet, addresses) -> Decimal:
    return sum((wallet.balance(chain, addresses[chain], asset) * Decimal(str(PRICES[asset]))
                for chain, asset in HOLDINGS), Decimal(0))


def portfolio(directory: Path, url: str) -> None:
    result = run_cli("init", "--venue", "purpleflea-wallet", "--api-url", url, "--chains", "base,ethereum",
                     "--targets", "ETH=0.5,USDC=0.5", cwd=directory, env=KEY)
    assert result.returncode == 0, result.stderr
    config = directory / "trimtab.toml"
    config.write_text(config.read_text().replace("poll_seconds = 10.0", "poll_seconds = 0.05"))


def test_rebalance_bridges_usdc_to_base_then_buys_eth_there_conserving_value(tmp_path, purpleflea):
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded(wallet)
    portfolio(tmp_path, wallet.url)
    before = value(wallet, addresses)
    # Act
    with RunningClock(purpleflea.clock):
        result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["run"]["state"] == "completed"
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        legs = db.execute("SELECT kind, stage, asset, chain, to_chain, state, fee FROM legs ORDER BY idx").fetchall()
    assert [(k, s, a, c, t, st) for k, s, a, c, t, st, _ in legs] == [
        ("transfer", "bridging", "USDC", "ethereum", "base", "arrived"),
        ("order", "buying", "ETH", "base", None, "filled")]
    eth_on_base = wallet.balance("base", addresses["base"], "ETH")
    assert float(eth_on_base) * 3500 == pytest.approx(float(value(wallet, addresses)) / 2, rel=0.02)
    gas = Decimal("0.0002") * 3500 + Decimal("0.00001") * 3500  # the bridge's deposit on ethereum, the buy's on base
    fees = sum(Decimal(str(fee)) for *_, fee in legs)
    assert before - value(wallet, addresses) == pytest.approx(fees + gas, abs=Decimal("0.02"))
    for secret in (WALLET_KEY, addresses["private"]):  # the API key and the wallet's private key
        assert secret not in result.stdout + result.stderr
        for name in ("trimtab.db", "trimtab-purpleflea.db", "trimtab.toml"):
            assert secret.encode() not in (tmp_path / name).read_bytes()


def test_a_dry_run_shows_the_swap_and_bridge_fees_and_times_from_wagyus_quotes(tmp_path, purpleflea):
    # Arrange
    funded(purpleflea.wallet)
    portfolio(tmp_path, purpleflea.wallet.url)
    # Act
    result = run_cli("rebalance", "--dry-run", "--json", cwd=tmp_path, env=KEY)
    text = run_cli("rebalance", "--dry-run", cwd=tmp_path, env=KEY)
    # Assert
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    costs = {c["leg"]: c for c in document["venue_costs"]}
    assert set(costs) == {"buy ETH on base", "bridge USDC ethereum -> base"}
    bridge = costs["bridge USDC ethereum -> base"]
    assert bridge["eta_seconds"] == 180 and bridge["venue_cost"] > 0
    summary = document["venue_cost_summary"]
    assert summary["venue_cost"] == pytest.approx(sum(c["venue_cost"] for c in costs.values()))
    assert summary["planned_fees"] == pytest.approx(sum(c["planned_fee"] for c in costs.values()))
    assert summary["eta_seconds"] == sum(c["eta_seconds"] or 0 for c in costs.values())
    assert "venue cost: bridge USDC ethereum -> base" in text.stdout and "about 3 min" in text.stdout
    assert "venue costs in all:" in text.stdout
    assert purpleflea.wallet.requests_to("/v1/wallet/swap", "POST") == []


def test_a_rebalance_killed_while_its_bridge_travels_resumes_without_a_second_swap_or_deposit(tmp_path, purpleflea):
    # Arrange: the fake's clock stands still, so the bridge stays in transit until the kill
    import os
    import signal
    import subprocess
    import sys
    import time

    wallet = purpleflea.wallet
    addresses = funded(wallet)
    portfolio(tmp_path, wallet.url)
    before = value(wallet, addresses)
    process = subprocess.Popen([sys.executable, "-m", "trimtab", "rebalance", "--yes", "--json"], cwd=tmp_path,
                               env={**os.environ, **KEY}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not wallet.requests_to("/v1/wallet/send", "POST"):
        time.sleep(0.02)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Act
    with RunningClock(purpleflea.clock):
        resumed = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(resumed.stdout)["resumed"]["state"] == "completed"
    swaps = wallet.requests_to("/v1/wallet/swap", "POST")
    sends = wallet.requests_to("/v1/wallet/send", "POST")
    assert len(swaps) == 2 and len(sends) == 2  # the bridge and the buy, once each
    gas = Decimal("0.0002") * 3500 + Decimal("0.00001") * 3500
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        fees = sum(Decimal(str(fee)) for (fee,) in db.execute("SELECT fee FROM legs"))
    assert before - value(wallet, addresses) == pytest.approx(fees + gas, abs=Decimal("0.02"))


def test_venues_check_on_the_wallet_names_an_unreadable_balance_and_what_to_do(tmp_path, purpleflea):
    # Arrange
    addresses = funded(purpleflea.wallet)
    portfolio(tmp_path, purpleflea.wallet.url)
    # Act
    good = run_cli("venues", "check", "--json", cwd=tmp_path, env=KEY)
    purpleflea.wallet.fail_lookup("ethereum", addresses["ethereum"])
    bad = run_cli("venues", "check", cwd=tmp_path, env=KEY)
    # Assert
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["balances"] == {"ETH": 0.21, "USDC": 3020.0} and report["markets"] == ["ETH"]
    assert bad.returncode == 4 and "USDC on ethereum could not be read" in bad.stdout
    assert WALLET_KEY not in good.stdout + bad.stdout + bad.stderr

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


# -- issue 10 items 3-8, end to end: value read from the fake's own ledger --------------------------------

SELL_HOLDINGS = {("base", "ETH"): "1.0", ("base", "USDC"): "20", ("ethereum", "USDC"): "1000",
                 ("ethereum", "ETH"): "0.01"}


def funded_for_a_sell(wallet) -> dict[str, str]:
    """ETH 3,500 on base against 1,020 USDC: a 50/50 target sells about 0.35 ETH on base."""
    created = wallet.create_wallet()
    for (chain, asset), amount in SELL_HOLDINGS.items():
        wallet.set_balance(chain, created["addresses"][chain], asset, amount)
    return created["addresses"]


def worth(wallet, addresses) -> Decimal:
    return sum((wallet.balance(chain, addresses[chain], asset) * Decimal(str(PRICES[asset]))
                for chain, asset in SELL_HOLDINGS), Decimal(0))


def configure(directory: Path, **values: str) -> None:
    config = directory / "trimtab.toml"
    text = config.read_text()
    for name, value in values.items():
        text = "\n".join(f"{name} = {value}" if line.startswith(f"{name} = ") else line for line in text.splitlines())
    config.write_text(text + "\n")


def fees_in_journal(directory: Path) -> Decimal:
    with sqlite3.connect(directory / "trimtab.db") as db:
        return sum((Decimal(str(fee)) for (fee,) in db.execute("SELECT fee FROM legs WHERE fee IS NOT NULL")),
                   Decimal(0))


def eth_share(wallet, addresses) -> float:
    eth = float(wallet.balance("base", addresses["base"], "ETH") + wallet.balance("ethereum", addresses["ethereum"],
                                                                                   "ETH")) * PRICES["ETH"]
    return eth / float(worth(wallet, addresses))


def test_item3_a_sell_whose_status_reads_all_fail_is_sold_once_and_lands_in_band(tmp_path, purpleflea):
    """Issue 10 item 3: Wagyu's status checks are all spent by other agents (every read 400
    status_check_failed). The first run cannot see the swap finish while the clock stands still and
    stops with the run unfinished (not refused); a second run while it still travels sells nothing
    new; once it lands the run completes, confirmed by the USDC balance. One funded sell, not two."""
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded_for_a_sell(wallet)
    portfolio(tmp_path, wallet.url)
    configure(tmp_path, swap_timeout='"1s"')
    wallet.wagyu.other_clients["status"] = 20
    before = worth(wallet, addresses)
    # Act
    first = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    second = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    configure(tmp_path, swap_timeout='"10m"')
    with RunningClock(purpleflea.clock):
        third = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
        after = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert first.returncode == 4 and "still" in first.stdout + first.stderr, first.stdout + first.stderr
    assert second.returncode == 4, second.stdout + second.stderr
    assert third.returncode == 0, third.stdout + third.stderr
    assert json.loads(third.stdout)["resumed"]["state"] == "completed"
    assert after.returncode == 0 and "run" not in json.loads(after.stdout) or \
        json.loads(after.stdout).get("run") is None, after.stdout
    assert len(wallet.requests_to("/v1/wallet/swap", "POST")) == 1
    assert len(wallet.requests_to("/v1/wallet/send", "POST")) == 1
    assert eth_share(wallet, addresses) == pytest.approx(0.5, abs=0.05)  # in the band, not pushed past it
    gas = wallet.gas["base"] * Decimal(str(PRICES["ETH"]))
    assert before - worth(wallet, addresses) == pytest.approx(fees_in_journal(tmp_path) + gas, abs=Decimal("0.02"))


def test_items5_6_a_lost_swap_answer_fails_the_run_cleanly_nothing_sent_and_the_next_run_completes(tmp_path,
                                                                                                 purpleflea):
    """Issue 10 items 5 and 6: the answer to POST /wallet/swap is lost. The order exists, but its
    deposit address is in no field the contract guarantees: the run fails saying the order is left
    to expire unpaid (no TypeError, no /wallet/send to null); the next run completes."""
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded_for_a_sell(wallet)
    portfolio(tmp_path, wallet.url)
    wallet.lose_response_of_next("/v1/wallet/swap")
    before = worth(wallet, addresses)
    # Act
    with RunningClock(purpleflea.clock):
        first = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
        sends_after_first = len(wallet.requests_to("/v1/wallet/send", "POST"))
        second = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert first.returncode == 4, first.stdout + first.stderr
    run = json.loads(first.stdout)["run"]
    assert run["state"] == "failed" and "expires unpaid" in run["reason"] and "internal error" not in first.stderr
    assert sends_after_first == 0
    assert second.returncode == 0 and json.loads(second.stdout)["run"]["state"] == "completed", second.stdout
    assert all(json.loads(r.body)["to"] for r in wallet.requests_to("/v1/wallet/send", "POST"))
    assert len(wallet.requests_to("/v1/wallet/swap", "POST")) == 2 and len(wallet.requests_to("/v1/wallet/send")) == 1
    purpleflea.clock.advance(wallet.wagyu.expiry_seconds)  # however fast the runs were, the orphan's time is up
    wallet.wagyu.advance()
    assert [o.state for o in wallet.wagyu.orders] == ["expired", "completed"]  # the orphan expired unpaid
    gas = wallet.gas["base"] * Decimal(str(PRICES["ETH"]))
    assert before - worth(wallet, addresses) == pytest.approx(fees_in_journal(tmp_path) + gas, abs=Decimal("0.02"))


@pytest.mark.parametrize("applied", [True, False], ids=["500-after-the-deposit", "500-before-the-deposit"])
def test_item7_a_500_on_the_deposit_is_decided_by_balance_and_never_blocks_or_sends_twice(tmp_path, purpleflea,
                                                                                         applied):
    """Issue 10 item 7: POST /wallet/send answers 500. If the deposit left, the balances show it and
    the run completes with that one send; if not, the run fails once the balances have settled (the
    order is left to expire unpaid) and the next run completes: the wallet is never blocked until
    the order expires, and no deposit is sent twice."""
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded_for_a_sell(wallet)
    portfolio(tmp_path, wallet.url)
    wallet.fail_next("/v1/wallet/send", applied=applied)
    before = worth(wallet, addresses)
    # Act
    with RunningClock(purpleflea.clock):
        first = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
        second = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    states = [o.state for o in wallet.wagyu.orders]
    if applied:
        assert first.returncode == 0 and json.loads(first.stdout)["run"]["state"] == "completed", first.stdout
        assert states == ["completed"] and len(wallet.requests_to("/v1/wallet/send", "POST")) == 1
        gas = wallet.gas["base"] * Decimal(str(PRICES["ETH"]))
    else:
        run = json.loads(first.stdout)["run"]
        assert first.returncode == 4 and run["state"] == "failed" and "did not happen" in run["reason"], first.stdout
        assert second.returncode == 0 and json.loads(second.stdout)["run"]["state"] == "completed", second.stdout
        assert states == ["expired", "completed"] and len(wallet.requests_to("/v1/wallet/send", "POST")) == 2
        gas = wallet.gas["base"] * Decimal(str(PRICES["ETH"]))  # the refused send moved nothing
    assert eth_share(wallet, addresses) == pytest.approx(0.5, abs=0.05)
    assert before - worth(wallet, addresses) == pytest.approx(fees_in_journal(tmp_path) + gas, abs=Decimal("0.02"))


def test_item8_a_terminal_word_trimtab_never_saw_is_confirmed_by_balance_not_waited_out(tmp_path, purpleflea):
    """Issue 10 item 8: Wagyu calls a finished swap "settled" (not in the table): the run completes
    once the balance shows the USDC, long before swap_timeout; with ``swap_states`` naming the word
    it is trusted as it is."""
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded_for_a_sell(wallet)
    portfolio(tmp_path, wallet.url)
    configure(tmp_path, swap_timeout='"20s"')
    wallet.wagyu.status_names.update(processing="in_flight", completed="settled")
    before = worth(wallet, addresses)
    # Act
    with RunningClock(purpleflea.clock):
        result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert result.returncode == 0 and json.loads(result.stdout)["run"]["state"] == "completed", result.stdout
    assert len(wallet.requests_to("/v1/wallet/swap", "POST")) == 1
    gas = wallet.gas["base"] * Decimal(str(PRICES["ETH"]))
    assert before - worth(wallet, addresses) == pytest.approx(fees_in_journal(tmp_path) + gas, abs=Decimal("0.02"))


def test_item8_swap_states_must_name_an_outcome(tmp_path, purpleflea):
    portfolio(tmp_path, purpleflea.wallet.url)
    configure(tmp_path, swap_states='{ settled = "done" }')
    result = run_cli("plan", cwd=tmp_path, env=KEY)
    assert result.returncode == 2 and "swap_states" in result.stderr, result.stdout + result.stderr


def test_item4_a_cross_chain_rebalance_reads_status_at_the_venues_pace_within_wagyus_limit(tmp_path, purpleflea):
    """Issue 10 item 4: in real time (the fake's clock at our pace), a bridge and a buy that each take
    8 s with ``poll_seconds = 0.5`` are read at the venue's pace with backoff (0.5, 1, 2, 4 s): a
    handful of status reads, none refused by Wagyu's 20 a minute. At four reads a second the run
    exhausted the limit and parked in needs_attention."""
    # Arrange
    wallet = purpleflea.wallet
    addresses = funded(wallet)
    portfolio(tmp_path, wallet.url)
    configure(tmp_path, poll_seconds="0.5")
    wallet.wagyu.delay_seconds = 8
    before = value(wallet, addresses)
    # Act
    with RunningClock(purpleflea.clock, rate=1):
        result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    # Assert
    assert result.returncode == 0 and json.loads(result.stdout)["run"]["state"] == "completed", result.stdout
    assert wallet.wagyu.busiest_minute("status") <= 10
    assert all(ok for _, _, ok in wallet.wagyu.log)
    gas = Decimal("0.0002") * 3500 + Decimal("0.00001") * 3500
    assert before - value(wallet, addresses) == pytest.approx(fees_in_journal(tmp_path) + gas, abs=Decimal("0.02"))


def test_a_usdc_balance_read_as_zero_by_a_failed_rpc_call_trades_nothing(tmp_path, purpleflea):
    """Seen once at 3,000, USDC on solana then reads 0 with no error field (contract §4.4: an RPC error
    reply reads as 0 there, SOL's /balance too): without the guard the portfolio looks 3,000 poorer and
    the plan buys ETH for a false picture. With it, the rebalance stops on the unknown balance and
    sends nothing; once the node answers again, the rebalance sees the 3,000."""
    wallet = purpleflea.wallet
    addresses = funded(wallet)
    wallet.set_balance("solana", addresses["solana"], "USDC", "3000")
    result = run_cli("init", "--venue", "purpleflea-wallet", "--api-url", wallet.url, "--chains",
                     "base,ethereum,solana", "--targets", "ETH=0.5,USDC=0.5", cwd=tmp_path, env=KEY)
    assert result.returncode == 0, result.stderr
    status = run_cli("status", "--json", cwd=tmp_path, env=KEY)  # the balances are seen
    assert json.loads(status.stdout)["total_value"] == pytest.approx(float(value(wallet, addresses)) + 3000, abs=1)
    wallet.silent_zero("solana", addresses["solana"])
    with RunningClock(purpleflea.clock):
        result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEY)
    assert result.returncode != 0
    assert "USDC on solana reads 0, but 3000" in json.loads(result.stdout)["error"]["message"]
    assert wallet.requests_to("/v1/wallet/swap", "POST") == [] and wallet.requests_to("/v1/wallet/send", "POST") == []
    wallet.silent.clear()
    again = run_cli("status", "--json", cwd=tmp_path, env=KEY)
    assert json.loads(again.stdout)["total_value"] == pytest.approx(float(value(wallet, addresses)) + 3000, abs=1)

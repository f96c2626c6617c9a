"""``trimtab init --multi-venue`` through the CLI: three paper accounts written with nothing else done,
then status, plan, venues check and a rebalance on them, value conserved to the cent read from the accounts."""

import json

import pytest
from cli_composite import NAMES, balances, costs, rows, value
from conftest import run_cli

INIT = ("init", "--multi-venue", "--targets", "BTC=0.4,ETH=0.25,SOL=0.15,USDC=0.2",
        "--holdings", "BTC=0.05,ETH=2,SOL=10,USDC=3000", "--prices", "BTC=65000,ETH=2000,SOL=150")
VALUE_BEFORE = 0.05 * 65000 + 2 * 2000 + 10 * 150 + 3000


def test_init_multi_venue_writes_three_paper_venues_that_status_shows_at_three_levels(tmp_path):
    # Act
    made = run_cli(*INIT, "--json", cwd=tmp_path)
    # Assert
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert list(document["venues"]) == list(NAMES)
    assert document["venues"]["perps"]["can_move"] is False
    assert rows(tmp_path, "wallet", "SELECT asset, chain, quantity FROM balances ORDER BY asset") == [
        ("ETH", "ethereum", 2.0), ("SOL", "solana", 10.0), ("USDC", "base", 1000.0)]
    status = run_cli("status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    held = json.loads(status.stdout)
    assert held["total_value"] == VALUE_BEFORE
    assert held["venues"]["holdings"]["BTC"]["venues"]["perps"]["chains"]["hyperliquid"]["quantity"] == 0.05
    assert held["venues"]["holdings"]["USDC"]["venues"]["exchange"]["chains"]["spot"]["value"] == 1000.0
    assert held["venues"]["holdings"]["SOL"]["weight"] == pytest.approx(1500 / VALUE_BEFORE, abs=1e-6)
    check = run_cli("venues", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert all(line.split(":")[0] in NAMES for line in check.stdout.splitlines()[:-1])
    dry = run_cli("rebalance", "--dry-run", "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["assessment"]["legs"]


def test_a_rebalance_of_what_init_multi_venue_wrote_completes_and_conserves_value_to_the_cent(tmp_path):
    # Arrange
    assert run_cli(*INIT, cwd=tmp_path).returncode == 0
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path)
    # Assert
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["state"] == "completed"
    assert value(balances(tmp_path)) + costs(tmp_path) == pytest.approx(VALUE_BEFORE, abs=0.01)
    after = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert after["max_drift"] < 0.02
    assert not rows(tmp_path, "perps", "SELECT 1 FROM sends")  # perps can neither send nor receive


@pytest.mark.parametrize("args, named", [
    (("--venue", "ccxt"), "--venue ccxt"),
    (("--chains", "ETH=base"), "--chains"),
    (("--prices", "BTC=65000"), "No price for ETH"),
    (("--holdings", "BTC=abc"), "BTC"),
])
def test_bad_input_to_init_multi_venue_exits_2_with_one_sentence_and_writes_nothing(tmp_path, args, named):
    result = run_cli("init", "--multi-venue", "--prices", "BTC=65000,ETH=2000", *args, "--json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert named in message and message.count(". ") == 0
    assert not list(tmp_path.iterdir())


def test_init_multi_venue_refuses_to_replace_accounts_without_force(tmp_path):
    assert run_cli(*INIT, cwd=tmp_path).returncode == 0
    (tmp_path / "trimtab.toml").unlink()
    again = run_cli(*INIT, cwd=tmp_path)
    assert again.returncode == 2 and "paper-wallet.db already exists; pass --force" in again.stderr
    assert run_cli(*INIT, "--force", cwd=tmp_path).returncode == 0

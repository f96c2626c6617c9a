"""Cash flows on the paper venue through the CLI, past the guards: returns with a deposit taken out
(`status --json`), withdrawals refused with a code before anything is sold, a withdrawal journaled
before it is sent and looked up after a SIGKILL, and a deposit sent by the user kept pending until the
balance shows it."""

import json
import os
import signal
import subprocess
import sys

import pytest
from cli_paper import balances, journal_rows, make_portfolio, venue_rows, wait_for
from conftest import run_cli

from trimtab.venues.paper import PaperVenue

FLAT = {"BTC": 65000.0, "ETH": 2000.0}


def flat_portfolio(tmp_path, **kw):
    directory = make_portfolio(tmp_path / "p", **kw)
    PaperVenue(directory / "trimtab-paper.db").set_prices(FLAT)
    return directory


def with_execution(directory, *lines):
    config = directory / "trimtab.toml"
    if "kill_switch = true" in lines:
        config.write_text(config.read_text().replace("kill_switch = false", "kill_switch = true"))
        lines = tuple(x for x in lines if x != "kill_switch = true")
    config.write_text(config.read_text().replace("[execution]\n", "[execution]\n" + "".join(f"{x}\n" for x in lines), 1))


def usdc(directory):
    return sum(q for (a, _), q in balances(directory).items() if a == "USDC")


def test_a_deposit_on_flat_prices_is_no_gain_in_status(tmp_path):
    # Arrange: on target, one check (holds), then 1,000 USDC in, prices flat
    directory = flat_portfolio(tmp_path)
    assert run_cli("rebalance", "--yes", cwd=directory).returncode == 0
    assert run_cli("run", "--once", "--json", cwd=directory).returncode == 0
    # Act
    assert run_cli("deposit", "1000", cwd=directory).returncode == 0
    result = run_cli("status", "--json", cwd=directory)
    text = run_cli("status", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    returns = json.loads(result.stdout)["returns"]
    assert returns["time_weighted_return"] == pytest.approx(0.0, abs=1e-9)
    assert returns["net_flows"] == 1000.0
    assert returns["gain"] == pytest.approx(0.0, abs=0.01)
    assert returns["end_value"] == pytest.approx(returns["start_value"] + 1000, abs=0.01)
    assert abs(returns["money_weighted_return"] or 0.0) < 1e-6
    assert "time-weighted +0.00% (flows removed)" in text.stdout and "net flows 1,000.00" in text.stdout


def test_after_the_deposit_is_traded_only_the_costs_show_as_a_loss(tmp_path):
    directory = flat_portfolio(tmp_path)
    assert run_cli("rebalance", "--yes", cwd=directory).returncode == 0
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    assert run_cli("deposit", "1000", cwd=directory).returncode == 0
    assert run_cli("run", "--once", cwd=directory).returncode == 0  # steers: the deposit buys
    returns = json.loads(run_cli("status", "--json", "--since", "30d", cwd=directory).stdout)["returns"]
    fees = journal_rows(directory, "SELECT coalesce(sum(fee), 0) FROM legs WHERE run_id = "
                                   "(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1)")[0][0]
    assert fees > 0
    assert -0.001 < returns["time_weighted_return"] < 0  # fees and slippage; never +1,000 / value
    assert returns["gain"] < 0 and returns["gain"] >= -3 * fees - 5  # fees plus 5 bps slippage at most
    assert returns["window_start"] is not None


@pytest.mark.parametrize("setup, args, code", [
    (("kill_switch = true",), ["3000"], "KILL_SWITCH"),
    (("max_withdrawal_value = 500.0",), ["3000"], "WITHDRAW_CAP"),
    (("withdraw_addresses = [\"0xabc\"]",), ["3000", "--to", "0xdef"], "ADDRESS_NOT_ALLOWED"),
])
def test_a_withdrawal_the_guards_refuse_sells_nothing(tmp_path, setup, args, code):
    # Arrange: 3,000 is more than the cash, so it would sell
    directory = flat_portfolio(tmp_path)
    with_execution(directory, *setup)
    before = balances(directory)
    # Act
    result = run_cli("withdraw", *args, "--json", cwd=directory)
    # Assert
    assert result.returncode == 3, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "Denied" and error["message"].startswith(code)
    assert balances(directory) == before
    assert journal_rows(directory, "SELECT count(*) FROM runs") in ([], [(0,)])
    assert journal_rows(directory, "SELECT count(*) FROM flows") in ([], [(0,)])


def test_a_kill_file_refuses_a_withdrawal_before_anything_is_sold(tmp_path):
    directory = flat_portfolio(tmp_path)
    (directory / "trimtab.stop").write_text("")
    before = balances(directory)
    result = run_cli("withdraw", "3000", cwd=directory)
    assert result.returncode == 3 and "KILL_SWITCH" in result.stdout + result.stderr
    assert balances(directory) == before


def test_a_withdrawal_inside_the_guards_sells_then_sends_once_under_its_id(tmp_path):
    directory = flat_portfolio(tmp_path)
    with_execution(directory, "max_withdrawal_value = 5000.0", 'withdraw_addresses = ["0xabc"]')
    result = run_cli("withdraw", "3000", "--to", "0xabc", "--json", cwd=directory)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["run"]["state"] == "completed" and doc["flow"]["state"] == "done"
    sent = venue_rows(directory, "SELECT client_id, asset, amount, address FROM withdrawals")
    assert sent == [(doc["flow"]["client_id"], "USDC", 3000.0, "0xabc")]
    assert journal_rows(directory, "SELECT kind, state, value FROM flows") == [("withdraw", "done", -3000.0)]
    # the next check finds nothing unexplained
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    assert journal_rows(directory, "SELECT count(*) FROM flows WHERE kind = 'external'") == [(0,)]


def _start_withdraw(directory, amount):
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "trimtab", "withdraw", str(amount), "--json"], cwd=directory,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("venue_had_it", [True, False])
def test_a_withdrawal_killed_after_it_was_journaled_is_looked_up_never_sent_twice(tmp_path, venue_had_it):
    # Arrange: each venue call takes 2 s (half before the venue records it, half after)
    directory = flat_portfolio(tmp_path, order_latency=2.0)
    cash = usdc(directory)
    process = _start_withdraw(directory, 100)  # less than the cash: nothing to sell
    wait_for(lambda: journal_rows(directory, "SELECT state FROM flows") == [("sending",)], timeout=60)
    if venue_had_it:
        wait_for(lambda: venue_rows(directory, "SELECT count(*) FROM withdrawals") == [(1,)], timeout=10)
    # Act: SIGKILL between the journal and the venue's answer, then the next command resumes
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    step = run_cli("run", "--once", "--json", cwd=directory)
    # Assert
    assert step.returncode == 0, step.stderr
    state = journal_rows(directory, "SELECT state FROM flows WHERE kind = 'withdraw'")[0][0]
    count = venue_rows(directory, "SELECT count(*) FROM withdrawals")[0][0]
    if venue_had_it:
        assert (state, count) == ("done", 1)
        assert usdc(directory) <= cash - 100 + 1e-6 or journal_rows(directory, "SELECT count(*) FROM runs")[0][0] > 0
    else:
        assert (state, count) == ("not_sent", 0)
    assert journal_rows(directory, "SELECT count(*) FROM flows WHERE kind = 'external'") == [(0,)]


def test_a_deposit_the_user_sent_is_pending_until_the_balance_shows_it(tmp_path):
    # Arrange: a check, then a deposit recorded as sent by the user (as on a real venue)
    directory = flat_portfolio(tmp_path)
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    runs = journal_rows(directory, "SELECT count(*) FROM runs")[0][0]
    recorded = run_cli("deposit", "2000", "--sent", "--json", cwd=directory)
    assert recorded.returncode == 0, recorded.stderr
    assert json.loads(recorded.stdout)["flow"]["state"] == "pending"
    # Act 1: not arrived yet
    status = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    text = run_cli("status", cwd=directory).stdout
    early = run_cli("run", "--once", "--json", cwd=directory)
    # Assert 1: shown as pending, not a flow, not traded on
    assert [(f["kind"], f["state"], f["quantity"]) for f in status["pending_flows"]] == [("deposit", "pending", 2000.0)]
    assert status["returns"]["net_flows"] == 0.0
    assert "pending deposit: 2000 USDC" in text and "not drift" in text
    assert early.returncode == 0, early.stderr
    assert journal_rows(directory, "SELECT kind, state FROM flows") == [("deposit", "pending")]
    assert journal_rows(directory, "SELECT count(*) FROM runs")[0][0] == runs
    # Act 2: it arrives (the venue credits the account), and the next check sees it
    PaperVenue(directory / "trimtab-paper.db").deposit("USDC", 2000.0)
    late = run_cli("run", "--once", "--json", cwd=directory)
    # Assert 2: confirmed from the balance, steered with, never an external flow
    assert late.returncode == 0, late.stderr
    assert journal_rows(directory, "SELECT kind, state, quantity FROM flows") == [("deposit", "done", 2000.0)]
    assert "a deposit of 2,000.00" in json.loads(late.stdout)["checks"][0]["decision"]
    final = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    assert final["pending_flows"] == [] and final["returns"]["net_flows"] == 2000.0
    assert final["returns"]["time_weighted_return"] > -0.001

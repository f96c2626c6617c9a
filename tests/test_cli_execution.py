"""The execution commands as a user runs them: real subprocesses against a paper portfolio."""

import json
import time

import pytest
from cli_paper import (balances, journal_rows, make_portfolio, make_portfolio_on_postgres, start_rebalance, venue_rows,
                       wait_for)
from conftest import run_cli

from trimtab.venues.paper import PaperVenue


def test_status_shows_holdings_per_chain_and_consolidated(tmp_path):
    directory = make_portfolio(tmp_path)
    doc = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    assert doc["chains"]["USDC"] == {"base": 400.0, "ethereum": 600.0}
    assert {a["asset"]: a["quantity"] for a in doc["assets"]} == {"BTC": 0.1, "ETH": 1.25, "USDC": 1000.0}
    assert doc["decision"]["rebalance"] is True


def test_rebalance_dry_run_sends_nothing(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    before = balances(directory)
    # Act
    result = run_cli("rebalance", "--dry-run", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True and doc["run"] is None and len(doc["assessment"]["legs"]) == 2
    assert balances(directory) == before


def test_rebalance_with_json_but_without_yes_refuses_in_one_sentence(tmp_path):
    directory = make_portfolio(tmp_path)
    result = run_cli("rebalance", "--json", cwd=directory)
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"].startswith("--json cannot ask for confirmation")


def test_a_rejection_part_way_is_reported_journaled_and_the_next_run_continues_from_the_truth(tmp_path):
    # Arrange: the ETH market halts, so the buy after the BTC sell is refused
    directory = make_portfolio(tmp_path)
    venue = PaperVenue(directory / "trimtab-paper.db")
    venue.set_halted("ETH")
    # Act
    first = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert: a clear message, an exit code, and a journal that says exactly what happened
    assert first.returncode == 4, first.stderr
    run = json.loads(first.stdout)["run"]
    assert run["state"] == "failed"
    assert "buy ETH was refused by the venue: market ETH/USDC is halted" in run["reason"]
    assert [(leg["stage"], leg["state"]) for leg in run["legs"]] == [
        ("gathering", "arrived"), ("selling", "filled"), ("bridging", "arrived"), ("buying", "rejected")]
    assert "halted" in run["legs"][-1]["error"]
    # Act: the market reopens; the next run plans from the venue's balances (BTC already sold)
    venue.set_halted("ETH", False)
    second = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    assert [(leg["side"], leg["asset"]) for leg in doc["assessment"]["legs"]] == [("buy", "ETH")]
    assert doc["run"]["state"] == "completed"
    status = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    assert status["max_drift"] < 0.001
    history = json.loads(run_cli("history", "--json", cwd=directory).stdout)
    assert [r["state"] for r in history["runs"]] == ["completed", "failed"]


def test_two_rebalances_at_once_one_runs_and_the_other_refuses_clearly(tmp_path):
    # Arrange: the paper clock stands still, so the first run waits in its first bridge (holding the
    # lock) until this test moves the clock; the second is started while it waits, whatever the load
    directory = make_portfolio(tmp_path)
    config = directory / "trimtab.toml"
    config.write_text(config.read_text().replace("clock_speed = 900.0", "clock_speed = 0.0"))
    assert "clock_speed = 0.0" in config.read_text()
    first = start_rebalance(directory)
    wait_for(lambda: journal_rows(directory, "SELECT 1 FROM legs WHERE state = 'in_transit'"))
    # Act
    second = run_cli("rebalance", "--yes", cwd=directory)
    # Assert: the second is refused while the first is in flight
    assert second.returncode == 3
    assert "RUN_LOCKED: another trimtab process (pid" in second.stderr
    assert "is already rebalancing this portfolio" in second.stderr
    # the first lands each stage's bridges when this test moves the clock past them, and completes
    paper = PaperVenue(directory / "trimtab-paper.db")
    try:
        while first.poll() is None:
            if journal_rows(directory, "SELECT 1 FROM legs WHERE state = 'in_transit'"):
                paper.advance(600)  # bridges take 3-3.5 minutes
            time.sleep(0.05)
    finally:
        paper.close()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    run = json.loads(out)["run"]
    assert run["state"] == "completed"
    assert [s for (s,) in journal_rows(directory, "SELECT state FROM runs")] == ["completed"]
    # each order sent once, all by the first run
    sent = [cid for (cid,) in venue_rows(directory, "SELECT client_order_id FROM orders")]
    filled = [cid for (cid,) in journal_rows(directory, "SELECT client_id FROM legs WHERE kind = 'order' AND state = 'filled'")]
    assert sent and sorted(sent) == sorted(filled)


def test_the_kill_file_stops_a_rebalance_before_any_order(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    (directory / "trimtab.stop").write_text("")
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"]["message"].startswith("KILL_SWITCH")
    assert journal_rows(directory, "SELECT 1 FROM fills") == []


def test_run_once_records_a_check_and_rebalances_when_the_policy_says_so(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    # Act
    result = run_cli("run", "--once", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    step = json.loads(result.stdout)["checks"][0]
    assert step["decision"].startswith("rebalance: BTC drift 0.150")
    assert step["run"]["state"] == "completed"
    again = json.loads(run_cli("run", "--once", "--json", cwd=directory).stdout)["checks"][0]
    assert again["decision"].startswith("hold") and again["run"] is None
    history = json.loads(run_cli("history", "--json", cwd=directory).stdout)
    assert len(history["checks"]) == 2 and len(history["runs"]) == 1
    assert history["runs"][0]["fees"] > 0


@pytest.mark.parametrize("command", [["history"], ["rebalance", "--dry-run"], ["status"]])
def test_every_execution_command_prints_exactly_one_json_document(tmp_path, command):
    directory = make_portfolio(tmp_path)
    result = run_cli(*command, "--json", cwd=directory)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)


def test_run_stops_between_steps_on_ctrl_c_and_prints_one_document(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    # Arrange
    directory = make_portfolio(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "trimtab", "run", "--interval", "1h", "--json"], cwd=directory,
                               env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    wait_for(lambda: journal_rows(directory, "SELECT 1 FROM checks"))
    # Act
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    # Assert
    assert process.returncode == 0, err
    doc = json.loads(out)
    assert doc["stopped"] is True and len(doc["checks"]) == 1
    assert doc["checks"][0]["run"]["state"] == "completed"


def test_rebalance_without_an_answer_sends_nothing(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    before = balances(directory)
    # Act
    result = run_cli("rebalance", cwd=directory)  # stdin is empty: no answer
    # Assert
    assert result.returncode == 0, result.stderr
    assert "not confirmed: nothing sent" in result.stdout
    assert balances(directory) == before


def test_a_postgresql_journal_records_a_rebalance_by_url(tmp_path, postgres_url):
    # Arrange: a fresh database on the test PostgreSQL server, named in the config
    directory, _ = make_portfolio_on_postgres(tmp_path, postgres_url)
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    history = json.loads(run_cli("history", "--json", cwd=directory).stdout)
    assert [r["state"] for r in history["runs"]] == ["completed"] and len(history["runs"][0]["legs"]) == 4
    assert not (directory / "trimtab.db").exists()


def test_a_parked_run_blocks_rebalance_until_acknowledged(tmp_path):
    # Arrange: bridges take two simulated days; the executor waits at most one simulated minute
    directory = make_portfolio(tmp_path)
    config = directory / "trimtab.toml"
    text = config.read_text().replace("bridge_minutes = [3.0, 3.5]", "bridge_minutes = [2880.0, 2880.0]")
    config.write_text(text.replace('transfer_timeout = "2h"', 'transfer_timeout = "1m"'))
    # Act
    parked = run_cli("rebalance", "--yes", "--json", cwd=directory)
    blocked = run_cli("rebalance", "--yes", cwd=directory)
    run_id = json.loads(parked.stdout)["run"]["id"]
    acknowledged = run_cli("acknowledge", run_id, "--json", cwd=directory)
    # Assert
    assert parked.returncode == 5 and json.loads(parked.stdout)["run"]["state"] == "needs_attention"
    assert blocked.returncode == 3 and f"RUN_NEEDS_ATTENTION: run {run_id} needs attention" in blocked.stderr
    assert acknowledged.returncode == 0 and json.loads(acknowledged.stdout)["run"]["state"] == "failed"


def test_run_keeps_going_through_a_venue_outage_and_the_next_check_finishes_the_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    # Arrange: the venue is down when the loop's first run starts
    directory = make_portfolio(tmp_path)
    venue = PaperVenue(directory / "trimtab-paper.db")
    venue.set_outage(True)
    process = subprocess.Popen([sys.executable, "-m", "trimtab", "run", "--interval", "1s", "--json"], cwd=directory,
                               env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    # Act: the first check's run cannot reach the venue; two checks later the venue is back
    wait_for(lambda: process.poll() is not None or journal_rows(directory, "SELECT 1 FROM legs"))
    time.sleep(4)
    alive = process.poll() is None
    venue.set_outage(False)
    wait_for(lambda: process.poll() is not None or journal_rows(directory, "SELECT 1 FROM runs WHERE state = 'completed'"))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    # Assert
    assert alive, f"the loop stopped on a venue outage: {err}"
    assert process.returncode == 0, err
    steps = json.loads(out)["checks"]
    assert any("VenueUnavailable" in (step.get("error") or "") for step in steps)
    assert [r[0] for r in journal_rows(directory, "SELECT state FROM runs")] == ["completed"]


def test_run_keeps_going_while_another_process_holds_the_lock_and_rebalances_after(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from trimtab.engine.lock import PortfolioLock

    # Arrange: another process (this test) is rebalancing the portfolio when the loop starts
    directory = make_portfolio(tmp_path)
    with PortfolioLock(directory / "trimtab.lock"):
        process = subprocess.Popen([sys.executable, "-m", "trimtab", "run", "--interval", "1s", "--json"],
                                   cwd=directory, env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(5)
        alive = process.poll() is None
    # Act: the lock is free; the next check rebalances
    wait_for(lambda: process.poll() is not None or journal_rows(directory, "SELECT 1 FROM runs WHERE state = 'completed'"))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    # Assert
    assert alive, f"the loop stopped because another process held the lock: {err}"
    assert process.returncode == 0, err
    steps = json.loads(out)["checks"]
    assert any("RUN_LOCKED" in (step.get("error") or "") for step in steps)
    assert [r[0] for r in journal_rows(directory, "SELECT state FROM runs")] == ["completed"]

"""What a user sees while trimtab waits: the bridges a dry run would need, progress lines on
stderr while a run crosses chains, and one clock per portfolio. Real subprocesses, paper venue."""

import json
from datetime import datetime

from cli_paper import make_portfolio
from conftest import run_cli


def test_a_dry_run_names_each_bridge_with_its_route_fee_and_time(tmp_path):
    # Arrange: BTC sits mostly on bitcoin but trades on ethereum; ETH is bought on arbitrum
    directory = make_portfolio(tmp_path)
    # Act
    doc = json.loads(run_cli("rebalance", "--dry-run", "--json", cwd=directory).stdout)
    text = run_cli("rebalance", "--dry-run", cwd=directory).stdout
    # Assert
    routes = [(b["stage"], b["asset"], b["from_chain"], b["to_chain"]) for b in doc["bridges"]]
    assert routes == [("gathering", "BTC", "bitcoin", "ethereum"), ("bridging", "USDC", "ethereum", "arbitrum")]
    gathering = doc["bridges"][0]
    assert gathering["fee"] == round(gathering["quantity"] * 65000 * 0.0005, 2)  # the paper bridge fee, in USDC
    assert (gathering["seconds_low"], gathering["seconds_high"]) == (180, 210)  # bridge_minutes = [3.0, 3.5]
    assert "bridge (gathering): 0.01306999 BTC bitcoin -> ethereum" in text
    assert "fee about 0.42 USDC; arrives 3-4 min after it is sent" in text


def test_a_real_rebalance_prints_each_stage_and_bridge_wait_on_stderr_and_only_json_on_stdout(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # stdout is exactly one document
    run_id = doc["run"]["id"]
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1].split(" (")[0] for line in lines if line.startswith("run ")] == [
        "gathering", "selling", "bridging", "buying"]
    assert all(line.startswith(f"run {run_id}") for line in lines if line.startswith("run "))
    sent = next(line for line in lines if "sent: bridge of" in line and "BTC" in line)
    assert "BTC bitcoin -> ethereum; expected at" in sent and "venue clock" in sent
    assert any("arrived: bridge of" in line and "USDC ethereum -> arbitrum" in line for line in lines)
    assert any(line.strip().startswith("filled: buy") and "ETH on arbitrum" in line for line in lines)


def test_run_prints_the_time_the_journal_stores_for_the_check(tmp_path):
    # Arrange: a paper clock at 900x runs far ahead of the wall clock
    directory = make_portfolio(tmp_path)
    run_cli("rebalance", "--yes", cwd=directory)  # bridges move the paper clock on by minutes
    # Act
    printed = run_cli("run", "--once", cwd=directory).stdout
    step = json.loads(run_cli("run", "--once", "--json", cwd=directory).stdout)["checks"][0]
    # Assert
    checks = json.loads(run_cli("history", "--json", cwd=directory).stdout)["checks"]
    stored = [datetime.fromisoformat(c["at"]).replace(microsecond=0) for c in checks]
    assert datetime.fromisoformat(step["at"]) == stored[0]
    assert printed.split()[0] == stored[1].isoformat()


def test_history_at_80_columns_shows_whole_run_ids_states_and_every_leg(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    run_id = json.loads(run_cli("rebalance", "--yes", "--json", cwd=directory).stdout)["run"]["id"]
    run_cli("run", "--once", cwd=directory)
    # Act
    text = run_cli("history", cwd=directory, env={"COLUMNS": "80"}).stdout
    # Assert
    lines = text.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), text
    assert "…" not in text
    assert f"run {run_id}  completed  " in text
    legs = [line.split()[:4] for line in lines if line.split()[:1] in (["gathering"], ["selling"], ["bridging"], ["buying"])]
    assert legs == [["gathering", "bridge", "BTC", "bitcoin"], ["selling", "sell", "BTC", "on"],
                    ["bridging", "bridge", "USDC", "ethereum"], ["buying", "buy", "ETH", "on"]]
    assert any(line.endswith("arrived") for line in map(str.rstrip, lines))
    assert "hold" in text and "is within" in text

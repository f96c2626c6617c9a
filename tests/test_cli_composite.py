"""One portfolio across venues through the CLI: three real paper accounts, real journal, subprocesses."""

import json

import pytest
from cli_composite import NAMES, VALUE_BEFORE, balances, costs, make_portfolio, rows, value
from conftest import run_cli


def test_status_shows_asset_venue_and_chain_and_drift_on_the_consolidated_weights(tmp_path):
    directory = make_portfolio(tmp_path)
    result = run_cli("status", "--json", cwd=directory)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["total_value"] == VALUE_BEFORE
    usdc = document["venues"]["holdings"]["USDC"]
    assert usdc["value"] == 1100.0 and usdc["weight"] == pytest.approx(1100 / 11400, abs=1e-6)
    assert usdc["venues"]["perps"]["chains"]["hyperliquid"]["quantity"] == 500.0
    assert {a["asset"]: a["drift"] for a in document["assets"]}["BTC"] == pytest.approx(1300 / 11400 - 0.5, abs=1e-6)
    assert document["venues"]["routing"]["moves"][0]["from"] == "wallet"
    assert document["venues"]["routing"]["moves"][0]["to"] == "exchange"
    text = run_cli("status", cwd=directory)
    assert text.returncode == 0, text.stderr
    assert "by venue and chain" in text.stdout and "hyperliquid" in text.stdout
    assert "move:" in text.stdout and "from wallet to exchange" in text.stdout


def test_a_rebalance_across_three_venues_moves_quote_once_and_conserves_value_to_the_cent(tmp_path):
    # Arrange
    directory = make_portfolio(tmp_path)
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["run"]
    assert run["state"] == "completed", run
    after = balances(directory)
    assert value(after) + costs(directory) == pytest.approx(VALUE_BEFORE, abs=0.01)
    sends = rows(directory, "wallet", "SELECT client_id, delivered FROM sends")
    assert sends and all(delivered == 1 for _, delivered in sends)
    deposits = rows(directory, "exchange", "SELECT client_id FROM deposits")
    assert sorted(deposits) == sorted((c,) for c, _ in sends)  # each move credited once
    assert not rows(directory, "perps", "SELECT 1 FROM sends")  # perps can neither send nor receive
    status = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    assert status["max_drift"] < 0.01
    assert status["venues"]["holdings"]["BTC"]["venues"]["exchange"]["value"] > 3000
    for name in NAMES:  # every order on a venue is a filled leg of the journal, once
        orders = sorted(c for (c,) in rows(directory, name, "SELECT client_order_id FROM orders"))
        assert len(orders) == len(set(orders))


KILL_POINTS = {
    "while_a_sell_is_in_flight": ("wallet", "SELECT 1 FROM legs WHERE kind = 'order' AND side = 'sell' AND state = 'submitting'"),
    "while_the_move_is_in_flight": ("wallet", "SELECT 1 FROM legs WHERE stage = 'bridging' AND state = 'in_transit' "
                                              "AND chain LIKE 'wallet:%' AND to_chain LIKE 'exchange:%'"),
    "while_a_buy_on_another_venue_is_in_flight": ("exchange", "SELECT 1 FROM legs WHERE side = 'buy' AND state = 'submitting' "
                                                              "AND chain LIKE 'exchange:%'"),
}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    directory = make_portfolio(tmp_path_factory.mktemp("reference"), order_latency=0.2)
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["state"] == "completed"
    return balances(directory)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_plan_across_venues_killed_at_each_stage_resumes_executing_each_client_id_at_most_once(tmp_path, uninterrupted,
                                                                                              point):
    from cli_paper import journal_rows, start_rebalance, wait_for
    import signal

    # Arrange
    directory = make_portfolio(tmp_path / "p", order_latency=0.2)
    process = start_rebalance(directory)
    # Act: SIGKILL once the journal shows the run at this stage, then start again
    wait_for(lambda: process.poll() is not None or journal_rows(directory, KILL_POINTS[point][1]))
    assert process.poll() is None, "the run finished before the kill point"
    process.send_signal(signal.SIGKILL)
    process.wait()
    again = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resumed"]["state"] == "completed"
    assert [state for _, state in journal_rows(directory, "SELECT id, state FROM runs")] == ["completed"]
    legs = journal_rows(directory, "SELECT client_id, kind, chain, to_chain, state FROM legs")
    assert {state for *_, state in legs} <= {"filled", "arrived"}
    orders = sorted(c for name in NAMES for (c,) in rows(directory, name, "SELECT client_order_id FROM orders"))
    assert orders == sorted(c for c, kind, *_ in legs if kind == "order")  # each order once, on one venue
    sends = sorted(c for (c,) in rows(directory, "wallet", "SELECT client_id FROM sends"))
    assert sends == sorted(c for c, kind, chain, to, _ in legs if kind == "transfer" and chain[:6] != to[:6])
    assert sorted(c for (c,) in rows(directory, "exchange", "SELECT client_id FROM deposits")) == sends
    after = balances(directory)
    assert value(after) + costs(directory) == pytest.approx(VALUE_BEFORE, abs=0.01)
    assert after.keys() == uninterrupted.keys()
    for key, quantity in uninterrupted.items():
        assert after[key] == pytest.approx(quantity, rel=1e-9, abs=1e-9), key


def test_wallet_and_perps_on_paper_rebalance_within_their_own_capital_and_say_which_move_cannot_be_made(tmp_path):
    from cli_composite import PRICES

    from trimtab.core.assets import Targets
    from trimtab.paper_setup import init_paper_venues

    # Arrange: perps (BTC, margin) can neither send nor receive, as Purple Flea trading's margin
    venues = [{"name": "wallet", "holdings": {"ETH": {"ethereum": 3.0}, "USDC": {"ethereum": 1000.0}},
               "markets": {"ETH": "ethereum"}, "prices": PRICES},
              {"name": "perps", "holdings": {"BTC": {"hyperliquid": 0.01}, "USDC": {"hyperliquid": 1000.0}},
               "markets": {"BTC": "hyperliquid"}, "prices": PRICES, "can_send": False, "can_receive": False}]
    init_paper_venues(tmp_path / "trimtab.toml", Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}), venues,
                      clock_speed=900.0)
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path)
    text = run_cli("status", cwd=tmp_path)
    # Assert
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    note = document["assessment"]["note"]
    assert "from wallet to perps" in note and "cannot receive" in note and note.count("; each venue") == 1
    assert document["run"]["state"] == "completed"
    assert not rows(tmp_path, "wallet", "SELECT 1 FROM sends") and not rows(tmp_path, "perps", "SELECT 1 FROM sends")
    perps = {a: q for a, _, q in rows(tmp_path, "perps", "SELECT asset, chain, quantity FROM balances")}
    assert perps["BTC"] * PRICES["BTC"] > 1600 and perps.get("USDC", 0.0) < 10  # its own capital, all in BTC
    assert text.returncode == 0 and "cannot be made through these venues" in text.stdout

"""Crash safety: `trimtab rebalance --yes` is SIGKILLed at many points and restarted; no order or bridge is
ever sent twice, the holdings end where an uninterrupted run ends, and the journal shows one completed run.
Real subprocesses, a persisted paper venue with order latency, real SQLite; no mocks."""

import json
import signal
import time

import pytest
from cli_paper import balances, journal_rows, make_portfolio, start_rebalance, venue_rows, wait_for
from conftest import run_cli

LATENCY = 0.2

KILL_POINTS = {
    "before_the_run_is_journaled": None,  # killed 0.2 s after start, while it starts up and plans
    "before_the_first_leg_reaches_the_venue": "SELECT 1 FROM runs",
    "during_the_gathering_bridge": "SELECT 1 FROM legs WHERE stage = 'gathering' AND state = 'in_transit'",
    "while_the_sell_is_in_flight": "SELECT 1 FROM legs WHERE kind = 'order' AND side = 'sell' AND state = 'submitting'",
    "between_the_sell_and_the_quote_bridge": "SELECT 1 FROM legs WHERE side = 'sell' AND state = 'filled'",
    "during_the_quote_bridge": "SELECT 1 FROM legs WHERE stage = 'bridging' AND state = 'in_transit'",
    "while_the_buy_is_in_flight": "SELECT 1 FROM legs WHERE side = 'buy' AND state = 'submitting'",
}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The holdings after the same plan runs without interruption."""
    directory = make_portfolio(tmp_path_factory.mktemp("reference"))
    result = run_cli("rebalance", "--yes", "--json", cwd=directory)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["state"] == "completed"
    return balances(directory)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_rebalance_killed_at_any_point_resumes_without_sending_anything_twice(tmp_path, uninterrupted, point):
    # Arrange
    directory = make_portfolio(tmp_path / "p", order_latency=LATENCY)
    process = start_rebalance(directory)
    # Act: SIGKILL once the journal shows the run at this point, then start again
    if KILL_POINTS[point] is None:
        time.sleep(0.2)
    else:
        wait_for(lambda: process.poll() is not None or journal_rows(directory, KILL_POINTS[point]))
    assert process.poll() is None, "the run finished before the kill point"
    process.send_signal(signal.SIGKILL)
    process.wait()
    again = run_cli("rebalance", "--yes", "--json", cwd=directory)
    # Assert
    assert again.returncode == 0, again.stderr
    if KILL_POINTS[point] is not None:  # the killed run was finished, not redone
        assert json.loads(again.stdout)["resumed"]["state"] == "completed"
    runs = journal_rows(directory, "SELECT id, state FROM runs")
    assert [state for _, state in runs] == ["completed"]
    legs = journal_rows(directory, "SELECT client_id, kind, state FROM legs")
    orders = venue_rows(directory, "SELECT client_order_id FROM orders")
    transfers = venue_rows(directory, "SELECT client_id FROM transfers")
    assert sorted(c for (c,) in orders) == sorted(c for c, kind, _ in legs if kind == "order")
    assert sorted(c for (c,) in transfers) == sorted(c for c, kind, _ in legs if kind == "transfer")
    assert {state for _, _, state in legs} <= {"filled", "arrived"}
    after = balances(directory)
    price = {"BTC": 65000.0, "ETH": 2000.0, "USDC": 1.0}
    costs = sum(fee + quantity * abs(fill - mid) for fee, quantity, fill, mid in
                venue_rows(directory, "SELECT fee, quantity, price, mid_price FROM orders"))
    costs += sum(fee * price[asset] for asset, fee in venue_rows(directory, "SELECT asset, fee FROM transfers"))
    value_after = sum(q * price[asset] for (asset, _), q in after.items())
    assert value_after + costs == pytest.approx(10000.0, abs=1e-6)  # conservation, in total
    assert after.keys() == uninterrupted.keys()
    for key, quantity in uninterrupted.items():
        assert after[key] == pytest.approx(quantity, rel=1e-9, abs=1e-9), key

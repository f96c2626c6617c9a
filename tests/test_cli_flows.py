"""Cash flows end to end: `trimtab deposit`, `withdraw`, `run --once`, `rebalance --buy-only` on a paper
portfolio, as real subprocesses against the persisted paper venue and the SQLite journal."""

import json
import math
import os
import signal
import subprocess
import sys

import pytest
from cli_paper import balances, journal_rows, make_portfolio, venue_rows, wait_for
from conftest import run_cli

from trimtab.venues.paper import PaperVenue

PRICES = {"BTC": 65000.0, "ETH": 2000.0, "USDC": 1.0}


def on_target_then_btc_up(tmp_path, **kw):
    """The README portfolio rebalanced to 50/30/20, then BTC up 8%: overweight, but inside the 5% band."""
    directory = make_portfolio(tmp_path / "p", **kw)
    assert run_cli("rebalance", "--yes", "--json", cwd=directory).returncode == 0
    PaperVenue(directory / "trimtab-paper.db").set_prices({"BTC": 65000.0 * 1.08, "ETH": 2000.0})
    return directory


def value(directory, prices):
    held = {}
    for (asset, _), q in balances(directory).items():
        held[asset] = held.get(asset, 0.0) + q
    return math.fsum(q * prices[a] for a, q in held.items())


def last_run_legs(directory):
    return journal_rows(directory, "SELECT side, asset, state FROM legs WHERE kind = 'order' AND run_id = "
                                   "(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1)")


def test_a_deposit_then_run_once_buys_only_the_underweights(tmp_path):
    # Arrange
    directory = on_target_then_btc_up(tmp_path)
    assert run_cli("run", "--once", cwd=directory).returncode == 0  # a check before the deposit: holds
    runs_before = journal_rows(directory, "SELECT count(*) FROM runs")[0][0]
    # Act
    deposit = run_cli("deposit", "300", "--json", cwd=directory)
    step = run_cli("run", "--once", "--json", cwd=directory)
    # Assert
    assert deposit.returncode == 0, deposit.stderr
    flow = json.loads(deposit.stdout)["flow"]
    assert (flow["kind"], flow["asset"], flow["quantity"], flow["value"]) == ("deposit", "USDC", 300.0, 300.0)
    assert step.returncode == 0, step.stderr
    decision = json.loads(step.stdout)["checks"][0]["decision"]
    assert "a deposit of 300.00 steers the weights: buy-only" in decision
    assert journal_rows(directory, "SELECT count(*) FROM runs")[0][0] == runs_before + 1
    legs = last_run_legs(directory)
    assert legs and {side for side, _, _ in legs} == {"buy"}
    assert "BTC" not in {asset for _, asset, _ in legs}  # BTC is overweight against the new total: never bought
    assert journal_rows(directory, "SELECT kind, asset, quantity FROM flows") == [("deposit", "USDC", 300.0)]


def test_a_withdrawal_sells_the_overweights_first_and_pays_out(tmp_path):
    # Arrange
    directory = on_target_then_btc_up(tmp_path)
    usdc_before = sum(q for (a, _), q in balances(directory).items() if a == "USDC")
    # Act: more than the cash held, so something must be sold
    result = run_cli("withdraw", "3000", "--json", cwd=directory)
    # Assert
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["run"]["state"] == "completed"
    assert doc["assessment"]["flow"] == "sell-only"
    assert doc["assessment"]["why"].startswith("sell-only: raises the 3,000.00 USDC withdrawal")
    legs = last_run_legs(directory)
    assert {side for side, _, _ in legs} == {"sell"}
    assert legs[0][1] == "BTC"  # the overweight first
    assert doc["flow"]["value"] == -3000.0
    usdc_after = sum(q for (a, _), q in balances(directory).items() if a == "USDC")
    assert usdc_after == pytest.approx(usdc_before + _net_sells(directory, doc["run"]["id"]) - 3000, abs=0.01)
    assert journal_rows(directory, "SELECT kind, asset, quantity FROM flows") == [("withdraw", "USDC", -3000.0)]


def _net_sells(directory, run_id):
    rows = venue_rows(directory, f"SELECT value, fee FROM orders WHERE side = 'sell' "
                                 f"AND client_order_id LIKE '{run_id}-%'")
    return sum(v - f for v, f in rows)


def test_an_unexplained_balance_change_is_journaled_as_a_flow_and_steered_without_selling(tmp_path):
    # Arrange: a check records the quantities; then 0.2 ETH arrives that no run explains, and prices move
    directory = on_target_then_btc_up(tmp_path)
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    runs_before = journal_rows(directory, "SELECT count(*) FROM runs")[0][0]
    venue = PaperVenue(directory / "trimtab-paper.db")
    venue.deposit("ETH", 0.2)
    venue.set_prices({"BTC": 65000.0 * 1.09, "ETH": 2100.0})
    # Act
    step = run_cli("run", "--once", "--json", cwd=directory)
    # Assert: the quantity, valued at today's price, and nothing else (a price move is no flow)
    assert step.returncode == 0, step.stderr
    flows = journal_rows(directory, "SELECT kind, asset, quantity, value FROM flows")
    assert flows == [("external", "ETH", pytest.approx(0.2, abs=1e-9), pytest.approx(420.0, abs=1e-6))]
    decision = json.loads(step.stdout)["checks"][0]["decision"]
    assert decision.startswith("hold: a deposit of 420.00 steers the weights: buy-only")
    # no sell-and-buy: the cash is under its own target, so it stays cash, and every weight is in the band
    assert journal_rows(directory, "SELECT count(*) FROM runs")[0][0] == runs_before


def test_value_accounting_to_the_cent_flows_fees_and_market_moves(tmp_path):
    # Arrange
    directory = on_target_then_btc_up(tmp_path)
    prices = {"BTC": 65000.0 * 1.08, "ETH": 2000.0, "USDC": 1.0}
    before = value(directory, prices)
    orders_before = {c for (c,) in venue_rows(directory, "SELECT client_order_id FROM orders")}
    transfers_before = {c for (c,) in venue_rows(directory, "SELECT client_id FROM transfers")}
    # Act: a market move, a deposit, a steered run, a withdrawal
    moved = {"BTC": 65000.0 * 1.02, "ETH": 2150.0, "USDC": 1.0}
    PaperVenue(directory / "trimtab-paper.db").set_prices({"BTC": moved["BTC"], "ETH": moved["ETH"]})
    held = {}
    for (asset, _), q in balances(directory).items():
        held[asset] = held.get(asset, 0.0) + q
    market = math.fsum(q * (moved[a] - prices[a]) for a, q in held.items())
    assert run_cli("deposit", "1500", cwd=directory).returncode == 0
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    assert run_cli("withdraw", "700", "--json", cwd=directory).returncode == 0
    # Assert: read from the venue's side
    after = value(directory, moved)
    costs = sum(fee + q * abs(fill - mid) for cid, fee, q, fill, mid in venue_rows(
        directory, "SELECT client_order_id, fee, quantity, price, mid_price FROM orders") if cid not in orders_before)
    costs += sum(fee * moved[a] for cid, a, fee in venue_rows(directory, "SELECT client_id, asset, fee FROM transfers")
                 if cid not in transfers_before)
    flows = sum(v for (v,) in journal_rows(directory, "SELECT value FROM flows"))
    assert flows == pytest.approx(1500 - 700)
    assert after - before == pytest.approx(flows + market - costs, abs=0.01)


def test_a_buy_only_run_killed_midway_resumes_like_any_other(tmp_path):
    # Arrange: cash to spend, orders that take time
    directory = on_target_then_btc_up(tmp_path, order_latency=0.2)
    assert run_cli("deposit", "2000", cwd=directory).returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "trimtab", "rebalance", "--buy-only", "--yes", "--json"],
                               cwd=directory, env={**os.environ, "NO_COLOR": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Act: SIGKILL while the first buy is in flight, then start again
    wait_for(lambda: process.poll() is not None or journal_rows(
        directory, "SELECT 1 FROM legs WHERE side = 'buy' AND state = 'submitting'"))
    assert process.poll() is None, "the run finished before the kill point"
    process.send_signal(signal.SIGKILL)
    process.wait()
    again = run_cli("rebalance", "--buy-only", "--yes", "--json", cwd=directory)
    # Assert: the killed run was finished, not redone; no order sent twice; it only bought
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["resumed"]["state"] == "completed"
    resumed = doc["resumed"]["id"]
    legs = journal_rows(directory, "SELECT client_id, kind, side, state FROM legs")
    orders = venue_rows(directory, "SELECT client_order_id FROM orders")
    assert sorted(c for (c,) in orders) == sorted(c for c, kind, _, _ in legs if kind == "order")
    assert {side for c, kind, side, _ in legs if c.startswith(resumed + "-") and kind == "order"} == {"buy"}
    assert [s for (s,) in journal_rows(directory, "SELECT state FROM runs")] == ["completed"] * len(
        journal_rows(directory, "SELECT 1 FROM runs"))



def test_a_deposit_recorded_after_a_check_found_it_is_that_flow_not_a_second_pending_one(tmp_path):
    """The money arrived, a check journaled it as an external flow, then the owner recorded the deposit:
    the external flow becomes the deposit (counted once, at the check that found it); nothing waits."""
    directory = on_target_then_btc_up(tmp_path)
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    PaperVenue(directory / "trimtab-paper.db").deposit("USDC", 995.0)  # 1,000 sent, 5 kept by the network
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    assert journal_rows(directory, "SELECT kind, quantity FROM flows") == [("external", pytest.approx(995.0))]
    # Act
    recorded = run_cli("deposit", "1000", "--sent", "--json", cwd=directory)
    again = run_cli("run", "--once", "--json", cwd=directory)
    status = json.loads(run_cli("status", "--json", cwd=directory).stdout)
    # Assert
    assert recorded.returncode == 0 and again.returncode == 0, recorded.stderr + again.stderr
    assert journal_rows(directory, "SELECT kind, state, quantity FROM flows") == [("deposit", "done",
                                                                                 pytest.approx(995.0))]
    assert status["pending_flows"] == []
    assert status["returns"]["net_flows"] == pytest.approx(995.0)
    # a second deposit of the same size has no flow left to claim: it waits for its own rise
    assert run_cli("deposit", "1000", "--sent", cwd=directory).returncode == 0
    assert journal_rows(directory, "SELECT kind, state FROM flows ORDER BY id") == [("deposit", "done"),
                                                                                 ("deposit", "pending")]

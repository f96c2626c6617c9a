"""The executor carries a plan out across chains, journals every leg, resumes without repeating,
and stops cleanly at every guard. Real paper venue, real journal, no mocks."""

from datetime import timedelta

import pytest
from paper_setup import PRICES, make_agent

from trimtab.core.plan import Side
from trimtab.engine import states
from trimtab.engine.guards import Guards
from trimtab.errors import Denied
from trimtab.journal import StaleState
from trimtab.venues.base import by_chain, consolidate


def chain_values(holdings):
    price = {"USDC": 1.0, **PRICES}
    return {chain: sum(q * price[a] for a, chains in holdings.items() for c, q in chains.items() if c == chain)
            for chain in {c for chains in holdings.values() for c in chains}}


def test_a_cross_chain_rebalance_gathers_sells_bridges_buys_and_completes(tmp_path, journal_url):
    # Arrange
    agent = make_agent(tmp_path, journal_url)
    # Act
    result = agent.rebalance()
    # Assert
    outcome = result.outcome
    assert outcome.state == "completed"
    assert [(leg.stage, leg.kind, leg.asset, leg.state) for leg in outcome.legs] == [
        ("gathering", "transfer", "BTC", "arrived"), ("selling", "order", "BTC", "filled"),
        ("bridging", "transfer", "USDC", "arrived"), ("buying", "order", "ETH", "filled")]
    assert [leg.client_id for leg in outcome.legs] == [f"{outcome.run_id}-{i:02d}" for i in range(4)]
    assert agent.assess().drift.max_drift < 0.001
    assert agent.journal.run(outcome.run_id).value_after == pytest.approx(10000 - outcome.fees, rel=1e-3)


@pytest.mark.parametrize("bridge_fee,slippage_bps", [(0.0, 0.0), (0.0005, 5), (0.003, 30)])
def test_value_is_conserved_per_chain_and_in_total_up_to_fees_and_slippage(tmp_path, bridge_fee, slippage_bps):
    # Arrange
    agent = make_agent(tmp_path, bridge_fee=bridge_fee, slippage_bps=slippage_bps)
    before = by_chain(agent.venue.balances())
    # Act
    run_id = agent.rebalance().outcome.run_id
    # Assert
    after = by_chain(agent.venue.balances())
    price = {"USDC": 1.0, **PRICES}
    expected = chain_values(before)
    for fill in agent.journal.fills([run_id]):
        expected[fill["chain"]] -= fill["fee"] + fill["slippage"]
    for transfer in agent.journal.transfers([run_id]):
        expected[transfer["from_chain"]] -= transfer["amount"] * price[transfer["asset"]]
        expected[transfer["to_chain"]] = expected.get(transfer["to_chain"], 0.0) + (
            transfer["amount"] - transfer["fee"]) * price[transfer["asset"]]
    actual = chain_values(after)
    for chain in expected:
        assert actual.get(chain, 0.0) == pytest.approx(expected[chain], abs=1e-6), chain
    costs = sum(f["fee"] + f["slippage"] for f in agent.journal.fills([run_id])) + sum(
        t["fee"] * price[t["asset"]] for t in agent.journal.transfers([run_id]))
    assert sum(chain_values(before).values()) == pytest.approx(sum(actual.values()) + costs, abs=1e-6)


def test_an_illegal_run_move_raises_and_changes_nothing(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)
    run_id = agent.executor.start(agent.assess().plan, value_before=10000.0)
    # Act / Assert: the table refuses, and the journal refuses a move from a state the run is not in
    with pytest.raises(states.IllegalMove):
        states.check_run_move("created", "buying")
    with pytest.raises(StaleState):
        agent.journal.move_run(run_id, "selling", "bridging", at=agent.venue.now())
    assert agent.journal.run(run_id).state == "created" and agent.journal.legs(run_id) == []


def test_resume_after_a_crash_between_send_and_record_places_no_second_order(tmp_path):
    # Arrange: the sell reached the venue, but the process died before journaling the fill.
    agent = make_agent(tmp_path, bridge_fee=0.0)
    venue, journal, executor = agent.venue, agent.journal, agent.executor
    run_id = executor.start(agent.assess().plan, value_before=10000.0)
    executor._enter_next(journal.run(run_id))  # -> gathering
    executor._drive_stage(journal.run(run_id))
    executor._enter_next(journal.run(run_id))  # -> selling
    sell = next(leg for leg in journal.legs(run_id) if leg.stage == "selling")
    journal.move_leg(sell.client_id, ["planned"], "submitting", at=venue.now())
    venue.place_order("BTC", Side.SELL, quantity=sell.planned_quantity, client_order_id=sell.client_id)
    btc_after_one_sell = consolidate(venue.balances())["BTC"]
    # Act
    outcome = executor.execute(run_id)
    # Assert
    assert outcome.state == "completed"
    assert consolidate(venue.balances())["BTC"] == pytest.approx(btc_after_one_sell)
    assert venue._db.execute("SELECT COUNT(*) FROM orders WHERE side = 'sell'").fetchone()[0] == 1


def test_the_kill_file_stops_orders_and_the_run_resumes_when_it_is_removed(tmp_path):
    # Arrange
    kill = tmp_path / "STOP"
    agent = make_agent(tmp_path, guards=Guards(kill_file=kill))
    run_id = agent.executor.start(agent.assess().plan, value_before=10000.0)
    kill.write_text("stop")
    # Act
    with pytest.raises(Denied) as denied:
        agent.executor.execute(run_id)
    # Assert
    assert denied.value.code == "KILL_SWITCH"
    assert consolidate(agent.venue.balances())["BTC"] == pytest.approx(0.1)
    kill.unlink()
    assert agent.executor.execute(run_id).state == "completed"


def test_caps_refuse_a_run_before_anything_is_journaled(tmp_path):
    agent = make_agent(tmp_path, guards=Guards(max_run_value=1000.0))
    with pytest.raises(Denied, match="RUN_CAP"):
        agent.rebalance()
    assert agent.journal.runs("main") == []
    daily = make_agent(tmp_path / "d", guards=Guards(max_daily_value=2500.0))
    daily.rebalance()
    daily.venue.set_prices({"BTC": 80000.0})
    with pytest.raises(Denied, match="DAILY_CAP"):
        daily.rebalance()


def test_a_stale_price_stops_the_run_before_its_first_order(tmp_path):
    # Arrange
    agent = make_agent(tmp_path, guards=Guards(max_price_age=timedelta(minutes=5)))
    agent.venue.set_prices({"BTC": 65000.0}, at=agent.venue.now() - timedelta(hours=1))
    # Act
    outcome = agent.rebalance().outcome
    # Assert
    assert outcome.state == "failed" and "STALE_PRICE" in outcome.reason
    assert consolidate(agent.venue.balances())["BTC"] == pytest.approx(0.1)


def test_a_price_move_mid_run_stops_it_and_the_next_run_replans_from_the_truth(tmp_path):
    # Arrange
    agent = make_agent(tmp_path, guards=Guards(max_price_move=0.02))
    run_id = agent.executor.start(agent.assess().plan, value_before=10000.0)
    agent.executor._enter_next(agent.journal.run(run_id))
    agent.venue.set_prices({"BTC": 70000.0})
    # Act
    outcome = agent.executor.execute(run_id)
    # Assert
    assert outcome.state == "failed" and "PRICE_MOVED" in outcome.reason
    assert agent.rebalance().outcome.state == "completed"


def test_two_agents_on_one_portfolio_cannot_hold_the_lock_at_once(tmp_path):
    from trimtab.engine.lock import PortfolioLock

    with PortfolioLock(tmp_path / "trimtab.lock"), pytest.raises(Denied, match="RUN_LOCKED"):
        make_agent(tmp_path / "x").__class__  # noqa: B018 (the agent is irrelevant here)
        with PortfolioLock(tmp_path / "trimtab.lock"):
            pass


def test_a_bridge_that_never_arrives_parks_the_run_and_blocks_trading_until_acknowledged(tmp_path):
    # Arrange: bridges take an hour; the executor gives up waiting after ten minutes
    from trimtab.engine.executor import Executor

    agent = make_agent(tmp_path, bridge_minutes=(60.0, 60.0))
    agent.executor = Executor(agent.venue, agent.journal, wait=agent.venue.advance,
                              transfer_timeout=timedelta(minutes=10))
    # Act
    parked = agent.rebalance().outcome
    # Assert
    assert parked.state == "needs_attention" and "in transit after" in parked.reason
    assert [leg.state for leg in parked.legs] == ["in_transit"]
    with pytest.raises(Denied, match="RUN_NEEDS_ATTENTION"):
        agent.rebalance()
    with pytest.raises(states.IllegalMove):
        states.check_run_move("completed", "failed")
    assert agent.acknowledge(parked.run_id).state == "failed"
    agent.venue.advance(3600)  # the bridge lands; the next run plans from the venue's truth
    agent.executor.transfer_timeout = timedelta(hours=2)
    assert agent.rebalance().outcome.state == "completed"
    assert agent.assess().drift.max_drift < 0.002


def test_an_outage_is_retried_then_the_run_waits_and_resumes_without_a_second_order(tmp_path):
    # Arrange
    from trimtab.errors import VenueUnavailable

    agent = make_agent(tmp_path)
    agent.executor.retries = 1
    run_id = agent.executor.start(agent.assess().plan, value_before=10000.0)
    agent.venue.set_outage()
    # Act
    with pytest.raises(VenueUnavailable):
        agent.executor.execute(run_id)
    # Assert: the leg that could not be sent stays submitting; nothing was filled
    assert [leg.state for leg in agent.journal.legs(run_id)] == ["submitting"]
    agent.venue.set_outage(False)
    assert agent.executor.execute(run_id).state == "completed"
    assert agent.venue._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2


def test_a_venue_answer_that_does_not_match_the_leg_parks_the_run_in_needs_attention(tmp_path):
    # Arrange: the venue already holds an ETH sell under the id our BTC sell will use
    agent = make_agent(tmp_path, bridge_fee=0.0)
    venue, journal, executor = agent.venue, agent.journal, agent.executor
    run_id = executor.start(agent.assess().plan, value_before=10000.0)
    executor._enter_next(journal.run(run_id))
    executor._drive_stage(journal.run(run_id))
    executor._enter_next(journal.run(run_id))  # -> selling
    sell = next(leg for leg in journal.legs(run_id) if leg.stage == "selling")
    venue.place_order("ETH", Side.SELL, quantity=0.01, client_order_id=sell.client_id)
    # Act
    outcome = executor.execute(run_id)
    # Assert: nothing pushes on past an answer the table does not expect
    assert outcome.state == "needs_attention" and sell.client_id in outcome.reason
    assert journal.legs(run_id)[-1].state == "needs_attention"
    assert consolidate(venue.balances())["BTC"] == pytest.approx(0.1)

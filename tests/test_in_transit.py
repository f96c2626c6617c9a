"""Money in transit belongs to the portfolio (issue 10, item 2): a bridge on its way is counted in
the valuation as its own line, a run in flight is named, the policy waits for it, and no plan
executes until it ended. Real paper venue and journal; the core gets the amounts as data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from paper_setup import PRICES, make_agent

from trimtab.core.assessment import assess
from trimtab.core.assets import Targets
from trimtab.core.freshness import Activity, RunInFlight
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Moment
from trimtab.core.valuation import InTransit
from trimtab.engine.approvals import Guardrails, PlanDesk
from trimtab.engine.executor import Executor
from trimtab.errors import Denied

START_VALUE = 0.1 * 65000 + 1.25 * 2000 + 1000  # 10,000 USDC: the seed portfolio of paper_setup


class Stopped(Exception):
    """The executor's process stops while a bridge travels (its wait never returns)."""


def stop_waiting(seconds: float) -> None:
    raise Stopped


def run_left_in_flight(agent):
    """Start a rebalance whose first bridge is sent and then left travelling (its driver stopped)."""
    stopping = Executor(agent.venue, agent.journal, guards=agent.executor.guards, wait=stop_waiting)
    run_id = stopping.start(agent.assess().plan, value_before=START_VALUE)
    with pytest.raises(Stopped):
        stopping.execute(run_id)
    return run_id


def test_the_core_counts_in_transit_value_on_its_own_line_and_waits_for_a_run_in_flight():
    # Arrange: 0.02 BTC left bitcoin and is on its way to ethereum; 0.08 BTC stays held
    travelling = (InTransit(asset="BTC", quantity=0.02, from_chain="bitcoin", to_chain="ethereum", run_id="r1"),)
    # Act
    a = assess({"BTC": 0.08, "ETH": 1.25, "USDC": 1000}, {"BTC": 65000, "ETH": 2000}, Targets.of(
        {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}), policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05),
        moment=Moment(now=datetime(2026, 1, 1, tzinfo=UTC)), in_transit=travelling,
        activity=Activity(runs_started=1, latest_run="r1", in_flight=RunInFlight(run_id="r1", state="gathering")))
    document = a.to_dict()
    # Assert
    assert a.valuation.total_value == pytest.approx(10_000.0)
    assert a.valuation.quantities["BTC"] == pytest.approx(0.1)
    assert a.valuation.in_transit_value == pytest.approx(1300.0)
    assert a.decision.rebalance is False and a.decision.trigger == "run_in_flight"
    assert a.in_flight_line() == "run r1 in flight (gathering): 0.02 BTC bitcoin->ethereum"
    assert document["in_transit_value"] == pytest.approx(1300.0)
    assert document["in_transit"][0] | {"since": None} == {
        "asset": "BTC", "quantity": 0.02, "value": pytest.approx(1300.0), "from_chain": "bitcoin",
        "to_chain": "ethereum", "since": None, "run_id": "r1"}
    assert document["run_in_flight"]["id"] == "r1"


def test_a_bridge_on_its_way_is_counted_and_the_value_is_the_same_before_and_after_it_arrives(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)
    before = agent.assess().valuation.total_value
    # Act: the owner bridges 0.09 BTC by hand (no run of trimtab's)
    transfer = agent.venue.transfer("BTC", 0.09, "bitcoin", "ethereum", "owner-bridge")
    during = agent.assess()
    agent.venue.advance(3600)
    after = agent.assess()
    # Assert
    fee = transfer.fee * PRICES["BTC"]
    assert before == pytest.approx(START_VALUE)
    assert during.valuation.total_value == pytest.approx(START_VALUE - fee, abs=1e-6)
    assert [(t.asset, round(t.quantity, 9), t.from_chain, t.to_chain) for t in during.valuation.in_transit] == [
        ("BTC", round(0.09 - transfer.fee, 9), "bitcoin", "ethereum")]
    assert after.valuation.total_value == pytest.approx(during.valuation.total_value, abs=1e-6)
    assert after.valuation.in_transit == ()
    assert during.activity.in_flight is None  # a hand-made bridge is no run of trimtab's


def test_a_run_stopped_mid_bridge_is_in_flight_counted_and_blocks_every_plan(tmp_path):
    # Arrange
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    agent = desk.agent
    earlier = desk.plan()
    run_id = run_left_in_flight(agent)
    # Act
    during = agent.assess()
    bridge_fees = sum(t["fee"] * PRICES[t["asset"]] for t in agent.journal.transfers([run_id]))
    made_during = desk.plan(during)
    refusals = []
    for plan in (earlier, made_during):
        with pytest.raises(Denied) as refused:
            desk.execute(plan.id)
        refusals.append(refused.value)
    resumed = agent.rebalance()  # the owner's rebalance finishes the stopped run first
    with pytest.raises(Denied) as afterwards:
        desk.execute(made_during.id)
    # Assert
    moving = [t for t in during.valuation.in_transit if t.run_id == run_id]
    assert moving and during.valuation.in_transit_value > 0
    assert during.valuation.total_value == pytest.approx(START_VALUE - bridge_fees, abs=1e-6)
    assert during.activity.in_flight.run_id == run_id and during.decision.trigger == "run_in_flight"
    assert during.in_flight_line().startswith(f"run {run_id} in flight (gathering): ")
    assert refusals[0].code == "PLAN_STALE"  # the run's start retired the plan made before it
    assert refusals[1].code == "RUN_IN_FLIGHT" and run_id in refusals[1].message
    assert "no process is driving it" in refusals[1].message
    assert resumed.resumed.state == "completed"
    assert afterwards.value.code == "PLAN_STALE"
    assert desk.get(made_during.id).state == "stale"


class NoTransitReport:
    """A venue that cannot say what is in transit (every call but ``in_transit`` goes to ``inner``)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        if name == "in_transit":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_a_venue_that_cannot_report_transit_is_covered_by_the_journals_bridges_in_flight(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)
    run_id = run_left_in_flight(agent)
    told = agent.assess()
    agent.venue = NoTransitReport(agent.venue)
    # Act
    journal_only = agent.assess()
    # Assert
    assert not hasattr(agent.venue, "in_transit")
    assert journal_only.valuation.total_value == pytest.approx(told.valuation.total_value, abs=1e-9)
    assert [(t.asset, t.quantity, t.run_id) for t in journal_only.valuation.in_transit] == [
        (t.asset, pytest.approx(t.quantity), run_id) for t in told.valuation.in_transit]

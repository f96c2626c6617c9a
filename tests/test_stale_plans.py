"""A plan is a decision about one state of the portfolio: once a run started after it, a run was in
flight when it was made, or the holdings it was made from moved, it is refused as PLAN_STALE and can
never run later (issue 10, item 1). Real paper venue, real journal, real Python API."""

from __future__ import annotations

import sqlite3

import pytest
from ledger import assert_value_conserved
from paper_setup import make_agent

import trimtab
from trimtab.core.plan import Side
from trimtab.engine.approvals import Guardrails, PlanDesk
from trimtab.errors import Denied

SEED = {"targets": {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}, "holdings": {"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
        "prices": {"BTC": 65000, "ETH": 2000}}


def test_two_plans_from_the_same_balances_execute_once_and_the_second_is_refused_as_stale(tmp_path):
    # Arrange: the reproduction
    bot = trimtab.Rebalancer(trimtab.create_paper_portfolio(tmp_path / "x", **SEED))
    p, q = bot.plan(), bot.plan()
    # Act
    first = bot.execute(p.id)
    with pytest.raises(Denied) as second:
        bot.execute(q.id)
    # Assert
    assert first.outcome.state == "completed"
    assert second.value.code == "PLAN_STALE"
    assert f"run {first.outcome.run_id} started after this plan was made" in second.value.message
    assert bot.desk.get(q.id).state == "stale"
    assert bot.status().drift.max_drift < 0.005
    assert len(bot.desk.agent.journal.runs(bot.portfolio)) == 1
    assert_value_conserved(tmp_path / "x" / "trimtab-paper.db", 10_000.0)


def test_a_stale_plan_stays_refused_on_every_later_attempt(tmp_path):
    # Arrange
    bot = trimtab.Rebalancer(trimtab.create_paper_portfolio(tmp_path / "x", **SEED))
    p, q = bot.plan(), bot.plan()
    bot.execute(p.id)
    # Act
    codes = []
    for _ in range(2):
        with pytest.raises(Denied) as refused:
            bot.execute(q.id)
        codes.append(refused.value.code)
    # Assert
    assert codes == ["PLAN_STALE", "PLAN_STALE"]
    assert q.id not in [plan.id for plan in bot.desk.pending()]


def test_a_holding_moved_by_hand_since_planning_makes_the_plan_stale_and_names_the_change(tmp_path):
    # Arrange: the owner sells BTC by hand on the venue after the plan was made (no run of trimtab's)
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    stored = desk.plan()
    desk.agent.venue.place_order("BTC", Side.SELL, quantity=0.005, client_order_id="owner-by-hand")
    # Act
    with pytest.raises(Denied) as refused:
        desk.execute(stored.id)
    # Assert
    assert refused.value.code == "PLAN_STALE"
    assert "BTC holding 0.1 -> 0.095" in refused.value.message
    assert desk.get(stored.id).state == "stale" and "BTC holding" in desk.get(stored.id).reason
    assert desk.agent.journal.runs(desk.agent.portfolio) == []


def test_a_change_within_the_tolerance_leaves_the_plan_executable(tmp_path):
    # Arrange: 5 USDC arrive (below max(min_trade 10, 0.1% of 10,000 = 10))
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    stored = desk.plan()
    with sqlite3.connect(tmp_path / "paper.db") as db:
        db.execute("UPDATE balances SET quantity = quantity + 5 WHERE asset = 'USDC' AND chain = 'base'")
    # Act
    done = desk.execute(stored.id)
    # Assert
    assert done.outcome.state == "completed" and done.plan.state == "executed"


def test_the_owners_rebalance_makes_an_agents_waiting_plan_stale(tmp_path):
    # Arrange
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    stored = desk.plan()
    # Act: the owner's own rebalance (engine/agent.py), then the agent's execute
    owner = desk.agent.rebalance()
    with pytest.raises(Denied) as refused:
        desk.execute(stored.id)
    # Assert
    assert owner.outcome.state == "completed"
    assert refused.value.code == "PLAN_STALE" and owner.outcome.run_id in refused.value.message
    assert desk.get(stored.id).state == "stale"
    assert len(desk.agent.journal.runs(desk.agent.portfolio)) == 1


def test_a_plan_made_while_a_run_was_in_flight_never_executes(tmp_path):
    # Arrange: a run started (and not driven yet), then an agent plans
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    agent = desk.agent
    run_id = agent.executor.start(agent.assess().plan, value_before=10_000.0)
    during = agent.assess()
    stored = desk.plan(during)
    # Act
    with pytest.raises(Denied) as in_flight:
        desk.execute(stored.id)
    agent.executor.execute(run_id)
    with pytest.raises(Denied) as afterwards:
        desk.execute(stored.id)
    # Assert
    assert during.decision.rebalance is False and during.decision.trigger == "run_in_flight"
    assert f"waits for run {run_id}" in during.decision.reason
    assert in_flight.value.code == "RUN_IN_FLIGHT" and run_id in in_flight.value.message
    assert afterwards.value.code == "PLAN_STALE"
    assert len(agent.journal.runs(agent.portfolio)) == 1


def test_a_plan_without_a_snapshot_from_an_older_trimtab_is_refused(tmp_path):
    # Arrange
    desk = PlanDesk(make_agent(tmp_path), Guardrails())
    stored = desk.plan()
    with desk.agent.journal.engine.begin() as c:
        c.exec_driver_sql(f"UPDATE plans SET snapshot = NULL WHERE id = '{stored.id}'")
    # Act
    with pytest.raises(Denied) as refused:
        desk.execute(stored.id)
    # Assert
    assert refused.value.code == "PLAN_STALE" and "without a snapshot" in refused.value.message


def test_the_owner_confirming_slowly_gets_the_plan_of_the_balances_now(tmp_path):
    # Arrange: while the owner reads the plan, BTC is sold by hand; the agent must not send the old legs
    agent = make_agent(tmp_path)
    shown = []

    def confirm(assessment):
        shown.append(assessment)
        if len(shown) == 1:
            agent.venue.place_order("BTC", Side.SELL, quantity=0.01, client_order_id="owner-by-hand")
        return True

    told = []
    # Act
    result = agent.rebalance(confirm=confirm, moved=told.append)
    # Assert
    assert len(shown) == 2  # the changed plan was shown again
    assert told == ["BTC holding 0.1 -> 0.09"]
    sold = {leg["asset"]: leg["quantity"] for leg in agent.journal.run(result.outcome.run_id).plan["legs"]
            if leg["side"] == "sell"}
    assert sold == {leg.asset: leg.quantity for leg in shown[1].plan.sells}
    assert sold["BTC"] < shown[0].plan.sells[0].quantity - 0.009
    assert result.outcome.state == "completed"


def test_a_person_cannot_approve_a_plan_whose_portfolio_moved(tmp_path):
    # Arrange
    desk = PlanDesk(make_agent(tmp_path), Guardrails(require_approval=True))
    stored = desk.plan()
    desk.agent.venue.place_order("BTC", Side.SELL, quantity=0.005, client_order_id="owner-by-hand")
    # Act
    with pytest.raises(Denied) as refused:
        desk.approve(stored.id, by="alice")
    # Assert
    assert refused.value.code == "PLAN_STALE" and "BTC holding 0.1 -> 0.095" in refused.value.message
    assert desk.get(stored.id).state == "stale" and desk.get(stored.id).approved_by is None

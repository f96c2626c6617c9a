"""Stale plans and money in transit as an agent and an owner meet them: the MCP SDK's real client
against `trimtab mcp`, the real CLI in subprocesses, a paper account and journal on disk (issue 10,
items 1 and 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import anyio
from cli_paper import journal_rows, make_portfolio, start_rebalance, wait_for
from conftest import run_cli
from ledger import assert_value_conserved, venue_costs, venue_value
from mcp_helpers import call, stdio_session

import trimtab


def test_over_mcp_the_second_of_two_plans_and_a_plan_older_than_the_owners_rebalance_are_stale(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    account = portfolio / "trimtab-paper.db"

    async def scenario():
        async with stdio_session(portfolio) as session:
            p = (await call(session, "plan_rebalance"))[1]
            q = (await call(session, "plan_rebalance"))[1]
            first = await call(session, "execute_plan", {"plan_id": p["plan_id"]})
            second = await call(session, "execute_plan", {"plan_id": q["plan_id"]})
            drift = await call(session, "check_drift")
            first_costs = 10_000.0, 0.0
            assert_value_conserved(account, *first_costs)
            # the owner rebalances by hand between an agent's plan and its execution
            await anyio.to_thread.run_sync(lambda: _set_btc_price(portfolio, 72000.0))
            repriced = venue_value(account), venue_costs(account)
            r = (await call(session, "plan_rebalance"))[1]
            owner = await anyio.to_thread.run_sync(lambda: run_cli("rebalance", "--yes", "--json", cwd=portfolio))
            third = await call(session, "execute_plan", {"plan_id": r["plan_id"]})
            history = await call(session, "get_history", {"limit": 5})
            return first, second, drift, owner, third, history, r["plan_id"], repriced

    # Act
    first, second, drift, owner, third, history, r_id, repriced = anyio.run(scenario)
    # Assert
    assert first[0] is False and first[1]["run_state"] == "completed"
    assert second[0] is True and second[1].startswith("PLAN_STALE: ")
    assert f"run {first[1]['run_id']} started after this plan was made" in second[1]
    assert drift[1]["max_drift"] < 0.005
    owner_run = json.loads(owner.stdout)["run"]
    assert owner.returncode == 0 and owner_run["state"] == "completed"
    assert third[0] is True and third[1].startswith("PLAN_STALE: ") and owner_run["id"] in third[1]
    stale = {p["plan_id"]: p for p in history[1]["plans"]}
    assert stale[r_id]["state"] == "stale" and owner_run["id"] in stale[r_id]["reason"]
    assert journal_rows(portfolio, "SELECT COUNT(*) FROM runs") == [(2,)]
    assert_value_conserved(account, *repriced)


def _set_btc_price(portfolio, price: float) -> None:
    import sqlite3

    with sqlite3.connect(portfolio / "trimtab-paper.db") as db:
        db.execute("UPDATE prices SET price = ? WHERE asset = 'BTC'", (price,))


EXECUTE = """
import sys, trimtab
try:
    done = trimtab.Rebalancer("trimtab.toml").execute(sys.argv[1])
    print("RAN", done.outcome.state)
except trimtab.Denied as denied:
    print("REFUSED", denied.code)
"""


def test_a_plan_that_lost_a_run_locked_race_is_never_executable_afterwards(tmp_path):
    # Arrange: two plans from the same balances, executed at the same moment by two processes
    portfolio = make_portfolio(tmp_path / "p", order_latency=0.3)
    bot = trimtab.Rebalancer(portfolio / "trimtab.toml")
    plans = [bot.plan().id, bot.plan().id]
    env = {**os.environ, "NO_COLOR": "1"}
    # Act
    racers = [subprocess.Popen([sys.executable, "-c", EXECUTE, plan_id], cwd=portfolio, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env) for plan_id in plans]
    answers = [racer.communicate(timeout=120)[0].strip() for racer in racers]
    loser = plans[answers.index(next(a for a in answers if a.startswith("REFUSED")))]
    later = subprocess.run([sys.executable, "-c", EXECUTE, loser], cwd=portfolio, capture_output=True, text=True,
                           env=env, timeout=120, check=False).stdout.strip()
    # Assert
    assert min(answers) == "RAN completed", answers
    assert max(answers) in ("REFUSED RUN_LOCKED", "REFUSED PLAN_STALE"), answers
    assert later == "REFUSED PLAN_STALE"
    assert journal_rows(portfolio, f"SELECT state FROM plans WHERE id = '{loser}'") == [("stale",)]
    assert journal_rows(portfolio, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert bot.status().drift.max_drift < 0.005
    assert_value_conserved(portfolio / "trimtab-paper.db", 10_000.0)


def make_slow_bridge_portfolio(directory, seconds: float):
    """The issue's set-up: a paper portfolio at clock speed 1 whose BTC trades on bitcoin (held on
    ethereum), so a rebalance first bridges BTC for ``seconds``."""
    directory.mkdir(parents=True)
    made = run_cli("init", "--venue", "paper", "--prices", "BTC=65000,ETH=2000", "--clock-speed", "1", "--markets", "BTC=bitcoin,ETH=ethereum",
                   cwd=directory)
    assert made.returncode == 0, made.stderr
    config = directory / "trimtab.toml"
    minutes = seconds / 60
    config.write_text(config.read_text().replace("bridge_minutes = [2.0, 15.0]",
                                                 f"bridge_minutes = [{minutes!r}, {minutes!r}]"))
    return directory


def test_while_a_bridge_travels_every_view_counts_it_names_the_run_and_no_plan_executes(tmp_path):
    # Arrange
    portfolio = make_slow_bridge_portfolio(tmp_path / "p", seconds=25)
    rebalance = start_rebalance(portfolio)
    try:
        wait_for(lambda: journal_rows(portfolio, "SELECT 1 FROM legs WHERE state = 'in_transit'"), timeout=60)
        run_id = journal_rows(portfolio, "SELECT run_id FROM legs WHERE state = 'in_transit'")[0][0]

        # Act: while the bridge travels
        status_json = run_cli("status", "--json", cwd=portfolio)
        status_text = run_cli("status", cwd=portfolio)

        async def during():
            async with stdio_session(portfolio) as session:
                seen = await call(session, "get_portfolio")
                drift = await call(session, "check_drift")
                plan = await call(session, "plan_rebalance")
                refused = await call(session, "execute_plan", {"plan_id": plan[1]["plan_id"]})
                return seen, drift, plan, refused

        seen, drift, plan, refused = anyio.run(during)
        in_flight_at_end = journal_rows(portfolio, f"SELECT state FROM runs WHERE id = '{run_id}'")[0][0]
        finished = json.loads(rebalance.communicate(timeout=120)[0])
    finally:
        if rebalance.poll() is None:
            rebalance.kill()

    async def after():
        async with stdio_session(portfolio) as session:
            return await call(session, "execute_plan", {"plan_id": plan[1]["plan_id"]}), await call(session,
                                                                                                  "get_portfolio")

    again, final = anyio.run(after)
    # Assert: status counts the bridge and names the run
    document = json.loads(status_json.stdout)
    assert abs(document["total_value"] - 10_000.0) < 1.0, document["total_value"]  # not 8,500.45
    assert document["in_transit_value"] > 1000 and document["in_transit"][0]["asset"] == "BTC"
    assert document["in_transit"][0]["run_id"] == run_id
    assert document["run_in_flight"]["id"] == run_id
    assert document["decision"]["rebalance"] is False and document["decision"]["trigger"] == "run_in_flight"
    assert f"run {run_id} in flight (gathering): 0.02" in status_text.stdout
    assert "BTC ethereum->bitcoin" in status_text.stdout and "in transit" in status_text.stdout
    # MCP sees the same, and refuses to execute while the run is in flight, at once
    assert abs(seen[1]["total_value"] - 10_000.0) < 1.0 and seen[1]["run_in_flight"].startswith(f"run {run_id}")
    assert drift[1]["decision"]["trigger"] == "run_in_flight" and drift[1]["in_transit_value"] > 1000
    assert plan[0] is False
    assert in_flight_at_end != "completed", "the bridge arrived before the checks ran: lengthen it"
    assert refused[0] is True and refused[1].startswith("RUN_IN_FLIGHT: ") and run_id in refused[1]
    # after the run: the plan made mid-flight is stale, the portfolio is on target and whole
    assert finished["run"]["state"] == "completed"
    assert again[0] is True and again[1].startswith("PLAN_STALE: ")
    assert final[1]["max_drift"] < 0.005 and final[1]["in_transit"] == [] and final[1]["run_in_flight"] is None
    assert journal_rows(portfolio, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert_value_conserved(portfolio / "trimtab-paper.db", 10_000.0)


def test_execute_plan_answers_while_a_bridge_travels_and_the_agent_polls_get_run_to_the_end(tmp_path):
    # Arrange: a rebalance whose first bridge takes 40 s, more than execute_plan waits
    portfolio = make_slow_bridge_portfolio(tmp_path / "p", seconds=40)

    async def scenario():
        async with stdio_session(portfolio) as session:
            plan = (await call(session, "plan_rebalance"))[1]
            started = await call(session, "execute_plan", {"plan_id": plan["plan_id"]})
            run_id = started[1]["run_id"]
            during = await call(session, "get_run", {"run_id": run_id})
            other = (await call(session, "plan_rebalance"))[1]
            blocked = await call(session, "execute_plan", {"plan_id": other["plan_id"]})
            unknown = await call(session, "get_run", {"run_id": "r0000000000"})
            polls = 0
            while True:
                polls += 1
                seen = await call(session, "get_run", {"run_id": run_id})
                if seen[1]["final"] or polls > 240:
                    break
                await anyio.sleep(0.5)
            await anyio.sleep(0.5)  # the driver closes the plan just after the run's last move
            history = await call(session, "get_history", {"limit": 5})
            return started, during, blocked, unknown, seen, history

    # Act
    started, during, blocked, unknown, seen, history = anyio.run(scenario)
    # Assert: the call came back with the run still going, and the guardrails held meanwhile
    assert started[0] is False, started
    assert started[1]["plan_state"] == "executing" and started[1]["run_state"] not in ("completed", "failed")
    assert during[1]["final"] is False and "BTC ethereum->bitcoin" in (during[1]["in_transit"] or "")
    assert during[1]["plan_id"] == started[1]["plan_id"]
    assert blocked[0] is True and blocked[1].startswith("RUN_IN_FLIGHT: ") and "its process is driving it" in blocked[1]
    assert unknown[0] is True and unknown[1].startswith("UNKNOWN_RUN: ")
    # ...and the run ended on its own, its plan closed, the portfolio on target and whole
    assert seen[1]["state"] == "completed" and seen[1]["final"] is True
    plans = {p["plan_id"]: p["state"] for p in history[1]["plans"]}
    assert plans[started[1]["plan_id"]] == "executed"
    assert journal_rows(portfolio, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert trimtab.Rebalancer(portfolio / "trimtab.toml").status().drift.max_drift < 0.005
    assert_value_conserved(portfolio / "trimtab-paper.db", 10_000.0)

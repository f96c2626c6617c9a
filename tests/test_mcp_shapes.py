"""One shape per quantity across CLI, JSON, MCP and Python: the same rounding in MCP results as
in --json, one name for a plan's id, a line saying where `mcp --http` listens (never the token),
and a second approval that says so. Real subprocesses and the MCP SDK's real client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import anyio
from cli_paper import make_portfolio, wait_for
from conftest import run_cli
from mcp_helpers import call, stdio_session
from test_mcp_http import TOKEN, free_port, listening

import trimtab


def cents(x: float) -> bool:
    return round(x, 2) == x


def test_mcp_results_round_money_to_cents_and_weights_like_the_cli(tmp_path):
    # Arrange: a price with many decimals makes raw floats that are not cents
    portfolio = make_portfolio(tmp_path / "p")
    from trimtab.venues.paper import PaperVenue

    venue = PaperVenue(portfolio / "trimtab-paper.db")
    venue.set_prices({"BTC": 65432.123456789, "ETH": 2001.987654321})
    venue.close()

    async def scenario():
        async with stdio_session(portfolio) as session:
            return (await call(session, "get_portfolio"))[1], (await call(session, "plan_rebalance"))[1]

    # Act
    held, plan = anyio.run(scenario)
    cli = json.loads(run_cli("status", "--json", cwd=portfolio).stdout)
    # Assert
    assert cents(held["total_value"]) and all(cents(a["value"]) for a in held["assets"])
    assert all(round(a["weight"], 6) == a["weight"] and round(a["drift"], 6) == a["drift"] for a in held["assets"])
    assert all(cents(leg["value"]) and cents(leg["fee"]) for leg in plan["legs"])
    assert cents(plan["turnover"]) and cents(plan["fees"])
    assert held["total_value"] == cli["total_value"] and held["max_drift"] == cli["max_drift"]


def test_a_python_plan_has_the_plan_id_mcp_and_the_cli_call_it(tmp_path):
    portfolio = make_portfolio(tmp_path / "p")
    stored = trimtab.Rebalancer(portfolio / "trimtab.toml").plan()
    listed = json.loads(run_cli("plans", "--json", cwd=portfolio).stdout)["plans"]
    assert stored.plan_id == stored.id == listed[0]["plan_id"]


def test_approving_an_approved_plan_says_it_was_already_approved(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    stored = trimtab.Rebalancer(portfolio / "trimtab.toml").plan()
    first = run_cli("approve", stored.plan_id, cwd=portfolio)
    # Act
    again = run_cli("approve", stored.plan_id, cwd=portfolio)
    again_json = json.loads(run_cli("approve", stored.plan_id, "--json", cwd=portfolio).stdout)
    # Assert
    assert first.returncode == 0 and first.stdout.startswith(f"approved {stored.plan_id}")
    assert again.returncode == 0
    assert again.stdout.startswith(f"{stored.plan_id} was already approved by ") and "nothing changed" in again.stdout
    assert again_json["already_approved"] is True and again_json["plan"]["state"] == "approved"


def test_mcp_http_says_where_it_listens_and_where_the_token_comes_from_never_the_token(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "trimtab", "mcp", "--http", str(port)], cwd=portfolio,
                              env={**os.environ, "TRIMTAB_MCP_TOKEN": TOKEN}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    lines: list[str] = []  # read as they come: the port alone can be another process's on a busy machine

    def read() -> None:
        for line in iter(server.stderr.readline, ""):
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("/mcp" in line for line in lines) and listening(port), timeout=30)
    finally:
        server.terminate()
        out = server.communicate(timeout=10)[0]
        reader.join(timeout=10)
    err = "".join(lines)
    # Assert
    assert f"http://127.0.0.1:{port}/mcp" in err and "$TRIMTAB_MCP_TOKEN" in err
    assert TOKEN not in err and TOKEN not in out

"""/metrics read from a journal a paper portfolio wrote through the CLI, scraped with httpx over
real HTTP (``serve_metrics`` and ``trimtab run --metrics-port``) and through the ASGI app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import anyio
import httpx
from cli_paper import journal_rows, make_portfolio, wait_for
from conftest import run_cli
from prometheus_client.parser import text_string_to_metric_families

from trimtab.journal import Journal
from trimtab.monitor.metrics import make_metrics_app, serve_metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_served(journal) -> httpx.Response:
    """One GET of /metrics from ``serve_metrics`` on a free port of 127.0.0.1, stopped afterwards."""
    port = free_port()
    server, _thread = serve_metrics(journal, port)
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()


def drive(portfolio) -> None:  # type: ignore[no-untyped-def]
    """A refused check (run cap), then a rebalance that completes."""
    config = portfolio / "trimtab.toml"
    text = config.read_text()
    config.write_text(text.replace("kill_switch = false", "kill_switch = false\nmax_run_value = 1.0"))
    assert run_cli("run", "--once", cwd=portfolio).returncode == 3
    config.write_text(text)
    done = run_cli("rebalance", "--yes", "--json", cwd=portfolio)
    assert done.returncode == 0, done.stderr


def test_metrics_show_the_portfolio_and_the_journals_counts_after_a_paper_run(tmp_path):
    # Arrange: a paper portfolio refused once, then rebalanced, all through the CLI
    portfolio = make_portfolio(tmp_path / "p")
    drive(portfolio)
    journal = Journal.open(f"sqlite:///{portfolio / 'trimtab.db'}")
    # Act
    response = scrape_served(journal)
    # Assert
    assert response.status_code == 200
    got = samples(response.text)
    main = (("portfolio", "main"),)
    (filled,) = journal_rows(portfolio, "SELECT COUNT(*) FROM legs WHERE state = 'filled'")[0:1]
    (fees,) = journal_rows(portfolio, "SELECT SUM(fee) FROM legs")[0:1]
    (value, drift) = journal_rows(portfolio, "SELECT total_value, max_drift FROM checks ORDER BY id DESC LIMIT 1")[0]
    assert got[("trimtab_journal_up", ())] == 1.0
    assert got[("trimtab_rebalances_total", (("outcome", "completed"), *main))] == 1.0
    assert got[("trimtab_rebalances_total", (("outcome", "failed"), *main))] == 0.0
    assert got[("trimtab_legs_total", (("outcome", "filled"), *main))] == filled[0] > 0
    assert abs(got[("trimtab_fees_total", main)] - fees[0]) < 1e-9
    assert got[("trimtab_guard_refusals_total", (("code", "RUN_CAP"), *main))] == 1.0
    assert got[("trimtab_runs", (*main, ("state", "completed")))] == 1.0
    assert got[("trimtab_checks_total", main)] == 1.0
    assert got[("trimtab_portfolio_value", main)] == value and got[("trimtab_max_drift", main)] == drift
    assert got[("trimtab_last_check_timestamp_seconds", main)] > 1.7e9
    assert not any("asset" in dict(labels) or "run" in dict(labels) for _, labels in got)


def test_the_asgi_app_answers_a_scrape_the_dashboard_mounts(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    drive(portfolio)
    app = make_metrics_app(Journal.open(f"sqlite:///{portfolio / 'trimtab.db'}"))

    async def scrape() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get("/")

    # Act
    response = anyio.run(scrape)
    # Assert
    assert response.status_code == 200
    assert samples(response.text)[("trimtab_rebalances_total", (("outcome", "completed"), ("portfolio", "main")))] == 1


def test_run_with_metrics_port_serves_metrics_while_the_loop_runs(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1"}
    loop = subprocess.Popen([sys.executable, "-m", "trimtab", "run", "--interval", "1h", "--metrics-port", str(port)],
                            cwd=portfolio, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Act: wait for the first check's rebalance to complete, then scrape
        wait_for(lambda: journal_rows(portfolio, "SELECT COUNT(*) FROM runs WHERE state = 'completed'") == [(1,)],
                 timeout=60)

        def scraped() -> bool:
            try:
                return "trimtab_checks_total" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.TransportError:
                return False

        wait_for(scraped, timeout=30, every=0.2)
        got = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        loop.send_signal(signal.SIGINT)
        out, err = loop.communicate(timeout=60)
    # Assert
    assert got[("trimtab_checks_total", (("portfolio", "main"),))] == 1.0
    assert got[("trimtab_rebalances_total", (("outcome", "completed"), ("portfolio", "main")))] == 1.0
    assert loop.returncode == 0, err
    assert f"metrics on http://127.0.0.1:{port}/metrics" in out


def test_the_cli_config_and_agent_import_no_monitoring_library():
    # the start-up rule: apprise, prometheus_client and tenacity load only in the commands that use them
    code = ("import sys, trimtab.interfaces.cli.app, trimtab.config, trimtab.engine.agent, trimtab.wiring; "
            "print([m for m in ('apprise', 'prometheus_client', 'tenacity', 'numba', 'pandas') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_an_agents_refusals_over_mcp_are_counted_once_each_in_the_refusal_metric(tmp_path):
    """Refusals an agent meets through MCP tools (journaled as tool calls) count in
    trimtab_guard_refusals_total: a plan over the agent's max_value, and an execute_plan awaiting
    approval (which the watch also journals as an event: counted once); a malformed argument is
    not a refusal."""
    from mcp_helpers import call, stdio_session

    # Arrange: plans need a person's approval
    portfolio = make_portfolio(tmp_path / "p")
    config = portfolio / "trimtab.toml"
    text = config.read_text().replace("require_approval = false", "require_approval = true")
    config.write_text(text)

    async def scenario():
        async with stdio_session(portfolio) as session:
            over = await call(session, "plan_rebalance", {"max_value": 1.0})
            _, plan = await call(session, "plan_rebalance")
            unapproved = await call(session, "execute_plan", {"plan_id": plan["plan_id"]})
            malformed = await call(session, "get_history", {"limit": 0})
            return over, unapproved, malformed

    (over, unapproved, malformed) = anyio.run(scenario)
    journal = Journal.open(f"sqlite:///{portfolio / 'trimtab.db'}")
    # Act
    response = scrape_served(journal)
    # Assert
    assert over[0] and over[1].startswith("OVER_MAX_VALUE") and unapproved[1].startswith("NOT_APPROVED")
    assert malformed[0]
    got = samples(response.text)
    main = (("portfolio", "main"),)
    refusals = {dict(labels)["code"]: n for (name, labels), n in got.items() if name == "trimtab_guard_refusals_total"}
    assert refusals == {"OVER_MAX_VALUE": 1.0, "NOT_APPROVED": 1.0}, refusals
    assert got[("trimtab_guard_refusals_total", (("code", "OVER_MAX_VALUE"), *main))] == 1.0

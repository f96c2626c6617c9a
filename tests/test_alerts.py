"""Alerts end to end: a paper portfolio driven by the CLI, apprise json:// URLs, and a real HTTP
receiver on 127.0.0.1. Each event arrives once, a dead receiver slows no run, no secret leaks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alert_receiver import Receiver, closed_port
from cli_paper import make_portfolio, wait_for
from conftest import run_cli

from trimtab.config import load_config
from trimtab.interfaces.cli.execution import start_alerts
from trimtab.wiring import build_agent

SECRET_PASSWORD = "Pa55w0rdXyZZy"
SECRET_PATH = "T0kenInPathQQ"


def configure(directory: Path, urls: list[str], *, execution: str = "", alerts: str = "") -> Path:
    config = directory / "trimtab.toml"
    text = config.read_text()
    text = text.replace("emergency_band = 0.15", "emergency_band = 0.10")
    text = text.replace("urls = []", "urls = [" + ", ".join(f'"{u}"' for u in urls) + "]\n" + alerts)
    text = text.replace("kill_switch = false", "kill_switch = false\n" + execution)
    config.write_text(text)
    return config


def journal_text(directory: Path) -> str:
    """Every row of every table of the journal, as text."""
    with sqlite3.connect(directory / "trimtab.db") as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}"))


def test_each_event_arrives_once_as_a_paper_portfolio_is_driven_through_the_cli(tmp_path):
    # Arrange: a paper portfolio 15% off target, a run cap that refuses, alerts to a local receiver
    portfolio = make_portfolio(tmp_path / "p")
    with Receiver() as receiver:
        url = f"json://watcher:{SECRET_PASSWORD}@127.0.0.1:{receiver.port}/hook/{SECRET_PATH}"
        config = configure(portfolio, [url], execution="max_run_value = 1.0")
        outputs = []

        def step(*args: str) -> int:
            result = run_cli(*args, cwd=portfolio)
            outputs.append(result.stdout + result.stderr)
            return result.returncode

        # Act
        refused = [step("run", "--once"), step("run", "--once")]           # RUN_CAP twice: one alert
        config.write_text(config.read_text().replace("max_run_value = 1.0\n", ""))
        done = step("run", "--once")                                      # rebalances; refusal clears
        calm = step("run", "--once")                                      # back inside the emergency band
        (portfolio / "trimtab.stop").write_text("stop")
        killed = [step("run", "--once"), step("run", "--once")]           # kill switch on twice: one alert
        (portfolio / "trimtab.stop").unlink()
        back = step("run", "--once")                                      # kill switch off
        tested = step("alerts", "test")
        # Assert: every run went its way, and each condition arrived once when it began and once when it ended
        assert refused == [3, 3] and done == 0, outputs
        assert [calm, back, tested] == [0, 0, 0], outputs[-1]
        assert done == calm == back == tested == 0 and killed == [0, 0]
        titles = [t.removeprefix("[trimtab main] ") for t in receiver.titles]
        expected = ["guard refusal: RUN_CAP: the plan trades", "emergency drift: max drift 15.00% is past",
                    "rebalance r", "guard refusal cleared: RUN_CAP", "emergency drift cleared:",
                    "kill switch: the kill file", "kill switch cleared:", "test alert"]
        assert len(titles) == len(expected), titles
        for title, start in zip(titles, expected, strict=True):
            assert title.startswith(start), title
        assert titles[2].endswith("completed")
        completed = receiver.bodies[2]["message"]
        assert "legs" in completed and "fees" in completed and "sell BTC: filled" in completed
        assert set(receiver.paths) == {f"/hook/{SECRET_PATH}"}
    # ... and the URL's secrets never reached the output or the journal
    shown = "\n".join(outputs)
    assert f"json://127.0.0.1:{receiver.port}/…: arrived" in shown
    for secret in (SECRET_PASSWORD, SECRET_PATH):
        assert secret not in shown
        assert secret not in journal_text(portfolio)


def test_a_run_returns_while_the_receiver_hangs_and_the_alert_arrives_later(tmp_path):
    # Arrange: a receiver that holds every request until released
    portfolio = make_portfolio(tmp_path / "p")
    with Receiver(hold=True) as receiver:
        loaded, path = load_config(configure(portfolio, [f"json://127.0.0.1:{receiver.port}/hook"]))
        agent = build_agent(loaded, path)
        sender = start_alerts(agent, loaded)
        # Act
        result = agent.rebalance()
        # Assert: the run finished while the receiver had answered nothing
        assert result.outcome is not None and result.outcome.state == "completed"
        assert receiver.bodies == [] and not receiver.release.is_set()
        assert receiver.entered.wait(20)  # the sender is inside its first send, still waiting
        receiver.release.set()
        wait_for(lambda: len(receiver.bodies) == 2, timeout=20)
        assert sender.close(wait=10)
        assert receiver.titles[0].startswith("[trimtab main] emergency drift")
        assert receiver.titles[1].startswith("[trimtab main] rebalance") and sender.sent == 2


def test_a_dead_receiver_is_retried_in_the_background_and_never_fails_the_run(tmp_path):
    # Arrange: nothing listens on the alert URL's port; many retries
    portfolio = make_portfolio(tmp_path / "p")
    loaded, path = load_config(configure(portfolio, [f"json://127.0.0.1:{closed_port()}/hook"],
                                         alerts="retries = 10\n"))
    agent = build_agent(loaded, path)
    sender = start_alerts(agent, loaded)
    # Act
    result = agent.rebalance()
    # Assert: the run completed while the sender had neither delivered nor given up
    assert result.outcome is not None and result.outcome.state == "completed"
    assert sender.sent == 0 and sender.failed == 0
    sender.close(wait=0)


def test_alerts_test_says_which_url_did_not_arrive_without_showing_its_secret(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    port = closed_port()
    configure(portfolio, [f"json://me:{SECRET_PASSWORD}@127.0.0.1:{port}/x/{SECRET_PATH}"], alerts="retries = 0\n")
    # Act
    result = run_cli("alerts", "test", "--json", cwd=portfolio)
    # Assert
    assert result.returncode == 4
    assert f'"url": "json://127.0.0.1:{port}/\\u2026"' in result.stdout and '"arrived": false' in result.stdout
    assert SECRET_PASSWORD not in result.stdout + result.stderr and SECRET_PATH not in result.stdout + result.stderr


def test_an_unknown_event_name_is_refused_in_one_sentence(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    configure(portfolio, [], alerts='events = ["rebalance_completed", "rebalance_done"]\n')
    # Act
    result = run_cli("alerts", "test", cwd=portfolio)
    # Assert
    assert result.returncode == 2
    assert "alerts.events: unknown event 'rebalance_done'; choose from rebalance_completed" in result.stderr


def test_alerts_test_without_urls_says_how_to_add_one(tmp_path):
    portfolio = make_portfolio(tmp_path / "p")
    result = run_cli("alerts", "test", cwd=portfolio)
    assert result.returncode == 2 and "names no alert URL; add one to its alerts section" in result.stderr


def test_the_mcp_config_resource_masks_alert_urls(tmp_path):
    from trimtab.interfaces.agent_tools import AgentTools

    portfolio = make_portfolio(tmp_path / "p")
    config = configure(portfolio, [f"json://me:{SECRET_PASSWORD}@127.0.0.1:9/x"])
    document = AgentTools(config).config_document()
    assert SECRET_PASSWORD not in repr(document) and document["alerts"]["urls"] == ["**********"]


@pytest.mark.parametrize("url, shown", [
    ("json://u:p@127.0.0.1:8080/hook?token=abc", "json://127.0.0.1:8080/…"),
    ("tgram://123456:ABCDEF/987", "tgram://…"),
    ("discord://webhook_id/webhook_token", "discord://…"),
    ("mailto://user:pass@example.com", "mailto://…"),
])
def test_redact_keeps_only_the_scheme_and_a_webhooks_address(url, shown):
    from trimtab.monitor.alerts import redact

    assert redact(url) == shown


def test_the_loop_rides_out_a_venue_outage_and_says_so_once_when_it_starts_and_once_when_it_ends(tmp_path):
    # Arrange: a portfolio that must rebalance, on a paper venue whose orders fail until the outage ends
    import os
    import signal
    import subprocess
    import sys

    portfolio = make_portfolio(tmp_path / "p")

    def outage(down: bool) -> None:
        with sqlite3.connect(portfolio / "trimtab-paper.db", timeout=10) as db:
            db.execute("INSERT OR REPLACE INTO controls VALUES ('outage', ?)", ("1" if down else "0",))

    def errors() -> int:
        with sqlite3.connect(portfolio / "trimtab.db", timeout=10) as db:
            return db.execute("SELECT COUNT(*) FROM events WHERE kind = 'venue_error'").fetchone()[0]

    outage(True)
    with Receiver() as receiver:
        config = configure(portfolio, [f"json://127.0.0.1:{receiver.port}/hook"])
        config.write_text(config.read_text().replace("unreachable_after = 3", "unreachable_after = 2"))
        loop = subprocess.Popen([sys.executable, "-m", "trimtab", "run", "--interval", "1s"], cwd=portfolio,
                                env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            # Act: let four checks fail, then end the outage
            wait_for(lambda: (portfolio / "trimtab.db").exists() and _safe(errors) >= 4, timeout=90, every=0.2)
            outage(False)
            wait_for(lambda: any("venue unreachable cleared" in t for t in receiver.titles), timeout=60, every=0.2)
            wait_for(lambda: any(" completed" in t for t in receiver.titles), timeout=30, every=0.2)
        finally:
            loop.send_signal(signal.SIGINT)
            _, err = loop.communicate(timeout=60)
        # Assert
        titles = [t.removeprefix("[trimtab main] ") for t in receiver.titles]
        unreachable = [t for t in titles if t.startswith("venue unreachable")]
        assert len(unreachable) == 2 and unreachable[0].startswith("venue unreachable: the venue failed 2 times")
        assert unreachable[1].startswith("venue unreachable cleared")
        assert loop.returncode == 0, err
        assert "the venue did not answer this check" in err


def _safe(read) -> int:  # type: ignore[no-untyped-def]
    try:
        return read()
    except sqlite3.OperationalError:  # the journal's tables are not there yet
        return 0


def test_an_agents_execute_plan_over_mcp_is_watched_too(tmp_path):
    # Arrange: plans need a person's approval; alerts go to a local receiver
    import anyio
    from mcp_helpers import call, stdio_session

    portfolio = make_portfolio(tmp_path / "p")
    with Receiver() as receiver:
        config = configure(portfolio, [f"json://127.0.0.1:{receiver.port}/hook"])
        config.write_text(config.read_text().replace("require_approval = false", "require_approval = true"))

        async def scenario():
            async with stdio_session(portfolio) as session:
                _, plan = await call(session, "plan_rebalance")
                refused = await call(session, "execute_plan", {"plan_id": plan["plan_id"]})
                approved = await anyio.to_thread.run_sync(
                    lambda: run_cli("approve", plan["plan_id"], cwd=portfolio).returncode)
                done = await call(session, "execute_plan", {"plan_id": plan["plan_id"]})
                await anyio.to_thread.run_sync(lambda: wait_for(lambda: len(receiver.bodies) >= 3, timeout=30))
                return refused, approved, done

        # Act
        (refused_error, _), approved, (done_error, done) = anyio.run(scenario)
        # Assert
        assert refused_error is True and approved == 0 and done_error is False and done["run_state"] == "completed"
        titles = [t.removeprefix("[trimtab main] ") for t in receiver.titles]
        assert titles[0].startswith("guard refusal: NOT_APPROVED")
        assert titles[1].startswith("rebalance r") and titles[1].endswith("completed")
        assert titles[2].startswith("guard refusal cleared: NOT_APPROVED")

"""Who may use the dashboard: the bind rule (a real `trimtab serve` process), the token, the Host
guard against DNS rebinding, and the "rebalance now" button behind the agent guardrails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from cli_paper import make_portfolio
from conftest import run_cli
from dashboard_helpers import demo_journal, free_port, running

from trimtab.interfaces.web.serve import prepare

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_journal(tmp_path_factory.mktemp("demo") / "demo", start="2025-12-01", end="2025-12-31")


def test_a_non_local_bind_without_a_token_refuses_to_start_in_one_sentence(tmp_path, demo):
    env = {k: v for k, v in os.environ.items() if k != "TRIMTAB_DASHBOARD_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "trimtab", "serve", "--host", "0.0.0.0", "--journal",
                             f"sqlite:///{demo / 'demo-journal.db'}"], env={**env, "NO_COLOR": "1"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "TRIMTAB_DASHBOARD_TOKEN" in lines[0] and result.stdout == ""


def test_with_a_token_a_real_serve_process_answers_401_without_it_and_200_with_it(demo):
    # Arrange: `trimtab serve` as a user starts it, with a token
    port = free_port()
    env = {**os.environ, "TRIMTAB_DASHBOARD_TOKEN": TOKEN, "NO_COLOR": "1"}
    server = subprocess.Popen([sys.executable, "-m", "trimtab", "serve", "--port", str(port), "--journal",
                               f"sqlite:///{demo / 'demo-journal.db'}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, server.stderr.read() if server.poll() else ""
            time.sleep(0.1)
        # Act
        page, api = httpx.get(f"{base}/"), httpx.get(f"{base}/api/portfolios")
        bearer = httpx.get(f"{base}/api/portfolios", headers={"Authorization": f"Bearer {TOKEN}"})
        wrong = httpx.get(f"{base}/api/portfolios", headers={"Authorization": "Bearer nope"})
        with httpx.Client(base_url=base) as browser:
            link = browser.get(f"/portfolios/demo?token={TOKEN}")
            after = browser.get("/api/portfolios")
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
    # Assert
    assert page.status_code == api.status_code == wrong.status_code == 401
    assert "token" in api.json()["error"] and TOKEN not in api.text
    assert bearer.status_code == 200 and bearer.json()[0]["portfolio"] == "demo"
    assert link.status_code == 303 and link.headers["location"] == "/portfolios/demo"
    assert "HttpOnly" in link.headers["set-cookie"] and "SameSite=Strict" in link.headers["set-cookie"]
    assert after.status_code == 200  # the cookie the link set
    assert TOKEN not in out


def test_a_foreign_host_header_is_refused(demo):
    with running(prepare(demo_dir=demo)) as base:
        foreign = httpx.get(f"{base}/api/portfolios", headers={"Host": "attacker.example:8787"})
        rebound = httpx.get(f"{base}/", headers={"Host": "rebind.attacker.example"})
        local = httpx.get(f"{base}/api/portfolios", headers={"Host": "localhost:8787"})
    assert foreign.status_code == rebound.status_code == 400
    assert local.status_code == 200


def test_an_extra_host_name_is_allowed_only_when_named(demo, monkeypatch):
    monkeypatch.setenv("TRIMTAB_DASHBOARD_TOKEN", TOKEN)
    app = prepare(demo_dir=demo, host="0.0.0.0", extra_hosts=["trimtab.lan"])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with running(app) as base:
        named = httpx.get(f"{base}/api/portfolios", headers={**auth, "Host": "trimtab.lan:8787"})
        other = httpx.get(f"{base}/api/portfolios", headers={**auth, "Host": "other.lan:8787"})
    assert named.status_code == 200 and other.status_code == 400


def _with_dashboard(directory) -> None:
    config = directory / "trimtab.toml"
    text = config.read_text()
    assert "allow_rebalance = false" in text  # read only unless the owner says otherwise
    config.write_text(text.replace("allow_rebalance = false", "allow_rebalance = true"))


def test_rebalance_now_is_off_unless_the_config_allows_it(tmp_path):
    directory = make_portfolio(tmp_path / "p")
    assert run_cli("run", "--once", cwd=directory).returncode == 0
    with running(prepare(config=directory / "trimtab.toml")) as base:
        refused = httpx.post(f"{base}/api/portfolios/main/plans", json={})
        page = httpx.get(f"{base}/portfolios/main").text
    assert refused.status_code == 403 and "allow_rebalance" in refused.json()["error"]
    assert "plan-button" not in page


def test_rebalance_now_plans_then_executes_that_plan_once_through_the_guardrails(tmp_path):
    # Arrange: a drifted paper portfolio whose config allows the button
    directory = make_portfolio(tmp_path / "p")
    _with_dashboard(directory)
    with running(prepare(config=directory / "trimtab.toml")) as base:
        page = httpx.get(f"{base}/portfolios/main").text
        # Act
        plan = httpx.post(f"{base}/api/portfolios/main/plans", json={}).json()["plan"]
        done = httpx.post(f"{base}/api/portfolios/main/plans/{plan['plan_id']}/execute", json={})
        again = httpx.post(f"{base}/api/portfolios/main/plans/{plan['plan_id']}/execute", json={})
        form = httpx.post(f"{base}/api/portfolios/main/plans", data={"x": "1"})
        cross = httpx.post(f"{base}/api/portfolios/main/plans", json={}, headers={"Origin": "https://evil.example"})
        runs = httpx.get(f"{base}/api/portfolios/main/runs").json()
    # Assert
    assert "plan-button" in page and len(plan["legs"]) == 2
    assert done.status_code == 200 and done.json()["state"] == "completed"
    assert again.status_code == 409 and again.json()["code"] == "PLAN_USED"
    assert form.status_code == 415 and cross.status_code == 403
    assert [r["id"] for r in runs] == [done.json()["run"]]
    assert json.loads(run_cli("status", "--json", cwd=directory).stdout)["max_drift"] < 0.01


@pytest.mark.parametrize("code", ["NOT_APPROVED", "KILL_SWITCH"])
def test_rebalance_now_is_refused_by_the_same_guardrails_as_mcp(tmp_path, code):
    directory = make_portfolio(tmp_path / "p")
    _with_dashboard(directory)
    config = directory / "trimtab.toml"
    text = config.read_text()
    if code == "NOT_APPROVED":
        config.write_text(text.replace("require_approval = false", "require_approval = true"))
    else:
        (directory / "trimtab.stop").write_text("stop")
    assert (config.read_text() != text) == (code == "NOT_APPROVED")
    with running(prepare(config=config)) as base:
        plan = httpx.post(f"{base}/api/portfolios/main/plans", json={})
        plan_id = plan.json()["plan"]["plan_id"] if plan.status_code == 200 else "p000000000000"
        refused = httpx.post(f"{base}/api/portfolios/main/plans/{plan_id}/execute", json={})
        runs = httpx.get(f"{base}/api/portfolios/main/runs").json()
    assert refused.status_code == 409 and refused.json()["code"] == code
    assert runs == []

"""The dashboard's JSON API with httpx against the real app under uvicorn on 127.0.0.1, over real
journals: one written by paper runs (`trimtab run --once`), one by a short `trimtab demo`, and the
same reads on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cli_paper import make_portfolio
from conftest import run_cli
from dashboard_helpers import demo_journal, running

from trimtab.interfaces.web.serve import prepare
from trimtab.journal import CheckRecord, Journal, RunRecord


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """A paper portfolio after two `trimtab run --once`: a check that rebalanced (a run with legs,
    fills and bridges) and a check that held."""
    directory = make_portfolio(tmp_path_factory.mktemp("paper") / "p")
    for _ in range(2):
        result = run_cli("run", "--once", "--json", cwd=directory)
        assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_journal(tmp_path_factory.mktemp("demo") / "demo")


def history(directory) -> dict:
    result = run_cli("history", "--json", "--limit", "1000", cwd=directory)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_portfolios_and_runs_say_what_trimtab_history_says(paper):
    # Arrange
    expected = history(paper)
    app = prepare(config=paper / "trimtab.toml")
    with running(app) as base:
        # Act
        portfolios = httpx.get(f"{base}/api/portfolios").json()
        runs = httpx.get(f"{base}/api/portfolios/main/runs").json()
        detail = httpx.get(f"{base}/api/runs/{runs[0]['id']}").json()
    # Assert
    [row] = portfolios
    assert row["portfolio"] == "main" and row["runs"] == len(expected["runs"]) == 1
    assert row["value"] == pytest.approx(expected["checks"][0]["total_value"])
    assert row["max_drift"] == pytest.approx(expected["checks"][0]["max_drift"])
    assert row["last_run"]["state"] == "completed" and row["needs_attention"] == 0
    assert row["fees_this_month"] == pytest.approx(sum(r["fees"] for r in expected["runs"]), abs=0.005)
    assert [(r["id"], r["state"]) for r in runs] == [(r["id"], r["state"]) for r in expected["runs"]]
    assert [r["fees"] for r in runs] == pytest.approx([r["fees"] for r in expected["runs"]], abs=1e-12)
    assert runs[0]["legs"] == len(expected["runs"][0]["legs"]) and runs[0]["bridges"] >= 1
    assert runs[0]["trigger"] in ("band", "schedule", "emergency_band")
    assert len(detail["fills"]) == sum(1 for leg in detail["legs"] if leg["kind"] == "order")
    assert len(detail["bridges"]) == runs[0]["bridges"]
    assert detail["slippage"] == pytest.approx(sum(f["slippage"] for f in detail["fills"])) and detail["slippage"] > 0


def test_the_portfolio_document_has_targets_bands_holdings_per_chain_and_the_policy_in_words(paper):
    app = prepare(config=paper / "trimtab.toml")
    with running(app) as base:
        doc = httpx.get(f"{base}/api/portfolios/main").json()
    weights = {w["asset"]: w for w in doc["weights"]}
    assert {a: w["target"] for a, w in weights.items()} == {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    assert weights["BTC"]["band_low"] == pytest.approx(0.45) and weights["BTC"]["band_high"] == pytest.approx(0.55)
    assert doc["band"] == 0.05 and doc["emergency_band"] == 0.15
    chains = {(h["asset"], h["chain"]) for h in doc["holdings"]["rows"]}
    assert ("USDC", "base") in chains and ("BTC", "bitcoin") in chains
    assert doc["policy"]["words"].startswith("Check every hour; rebalance at the first check of each month")
    assert doc["can_rebalance"] is False


def test_drift_is_downsampled_on_the_server_and_keeps_every_peak(demo):
    # Arrange: the true series, read straight from the demo's SQLite journal
    with sqlite3.connect(demo / "demo-journal.db") as db:
        truth = [d for (d,) in db.execute("SELECT max_drift FROM checks ORDER BY at")]
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    app = prepare(demo_dir=demo)
    with running(app) as base:
        # Act
        response = httpx.get(f"{base}/api/portfolios/demo/drift", params={"window": "all", "width": 300})
        week = httpx.get(f"{base}/api/portfolios/demo/drift", params={"window": "week", "width": 300}).json()
    # Assert
    doc = response.json()
    assert doc["points_in_window"] == len(truth) > 2000 and doc["downsampled"] is True
    assert doc["points_sent"] <= 600 and len(doc["t"]) == len(doc["max_drift"]) == doc["points_sent"]
    assert max(doc["max_drift"]) == pytest.approx(max(truth), abs=1e-6)
    assert min(doc["max_drift"]) == pytest.approx(min(truth), abs=1e-6)
    assert doc["t"] == sorted(doc["t"]) and set(doc["assets"]) == {"BTC", "ETH", "USDC"}
    assert doc["band"] == 0.05 and doc["emergency_band"] == 0.15
    assert len(doc["rebalances"]) == runs and {m["trigger"] for m in doc["rebalances"]} <= {"schedule", "band",
                                                                                          "emergency_band"}
    assert len(response.content) < 40_000
    assert week["points_in_window"] == 7 * 24 + 1 and week["downsampled"] is False


def test_openapi_lists_the_api_and_unknown_things_are_404(paper):
    with running(prepare(config=paper / "trimtab.toml")) as base:
        schema = httpx.get(f"{base}/api/openapi.json").json()
        missing = httpx.get(f"{base}/api/portfolios/nope/runs")
        no_run = httpx.get(f"{base}/api/runs/r000")
    assert {"/api/portfolios", "/api/portfolios/{name}/drift", "/api/runs/{run_id}", "/healthz"} <= set(schema["paths"])
    assert missing.status_code == 404 and no_run.status_code == 404


def test_advice_page_data_comes_from_the_journal(demo):
    with running(prepare(demo_dir=demo)) as base:
        doc = httpx.get(f"{base}/api/portfolios/demo/advice", params={"days": 36500}).json()
    assert doc["advice"]["action"] in ("raise", "lower", "keep") and doc["advice"]["band"] == 0.05
    assert doc["advice"]["rebalances"] == doc["figures"]["rebalances"] >= 2
    assert doc["figures"]["fees"] > 0 and doc["figures"]["turnover"] > 0


def _check(portfolio: str, at: datetime, drift: float) -> CheckRecord:
    return CheckRecord(portfolio=portfolio, at=at, total_value=1000.0, weights={"BTC": 0.5 + drift, "USDC": 0.5 - drift},
                       drift={"BTC": drift, "USDC": -drift}, max_drift=abs(drift), rebalance=False, trigger="none",
                       reason=f"max drift {drift:.3f} (BTC) is within band 0.050")


def test_a_page_follows_checks_written_while_it_is_open_on_sqlite_and_postgresql(journal_url):
    # Arrange: a journal with one portfolio, served
    writer = Journal.open(journal_url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    writer.record_checks([_check("live", t0 + timedelta(hours=i), 0.01) for i in range(3)])
    with running(prepare(journal=journal_url)) as base:
        first = httpx.get(f"{base}/api/portfolios/live/drift").json()
        # Act: the loop writes two more checks and a run
        writer.record_checks([_check("live", t0 + timedelta(hours=3 + i), 0.02 * (i + 1)) for i in range(2)])
        writer.create_run(RunRecord(id="rlive0001", portfolio="live", state="needs_attention",
                                    created_at=t0 + timedelta(hours=4), updated_at=t0 + timedelta(hours=4),
                                    reason="a bridge did not arrive"))
        new = httpx.get(f"{base}/api/portfolios/live/checks", params={"after": first["last_check_id"]}).json()
        again = httpx.get(f"{base}/api/portfolios/live/drift").json()
        summary = httpx.get(f"{base}/api/portfolios").json()
        runs_page = httpx.get(f"{base}/portfolios/live/runs").text
    writer.close()
    # Assert
    assert first["points_in_window"] == 3
    assert [c["max_drift"] for c in new["checks"]] == [0.02, 0.04] and new["last_run"]["state"] == "needs_attention"
    assert again["points_in_window"] == 5 and again["max_drift"][-1] == 0.04
    assert again["band"] == 0.05  # read off the checks' reasons: no config was given
    assert summary[0]["needs_attention"] == 1
    assert '<tr id="run-rlive0001" class="attention"' in runs_page  # a run waiting for a person stands out


def test_healthz_reports_the_age_of_the_last_check_and_503_when_the_journal_is_gone():
    from postgres_server import postgres_server

    with postgres_server() as url:
        journal = Journal.open(url)
        journal.record_checks([_check("p", datetime.now(UTC) - timedelta(minutes=5), 0.01)])
        journal.close()
        app = prepare(journal=url)
        with running(app) as base:
            healthy = httpx.get(f"{base}/healthz")
    # Act: the database server has stopped
    with running(app) as base:
        down = httpx.get(f"{base}/healthz", timeout=30)
    # Assert
    assert healthy.status_code == 200 and healthy.json()["journal"] == "reachable"
    assert 290 < healthy.json()["last_check_age_seconds"] < 900
    assert down.status_code == 503 and down.json()["journal"] == "unreachable" and down.json()["error"]


def test_the_api_follows_a_live_trimtab_run_writing_to_the_same_journal(tmp_path, journal_url):
    # Arrange: a paper portfolio whose journal is SQLite or a real PostgreSQL, served from its config
    directory = make_portfolio(tmp_path / "p")
    config = directory / "trimtab.toml"
    if journal_url.startswith("postgresql"):
        config.write_text(config.read_text().replace('url = "sqlite:///trimtab.db"', f'url = "{journal_url}"'))
    with running(prepare(config=config)) as base:
        empty = httpx.get(f"{base}/api/portfolios/main/checks", params={"after": 0}).json()
        # Act: the production loop takes a step (a check that rebalances), then another (a hold)
        assert run_cli("run", "--once", cwd=directory).returncode == 0
        first = httpx.get(f"{base}/api/portfolios/main/checks", params={"after": 0}).json()
        assert run_cli("run", "--once", cwd=directory).returncode == 0
        second = httpx.get(f"{base}/api/portfolios/main/checks", params={"after": first["last_check_id"]}).json()
        drift = httpx.get(f"{base}/api/portfolios/main/drift").json()
    # Assert
    assert empty["checks"] == [] and empty["last_run"] is None
    assert [c["rebalance"] for c in first["checks"]] == [True] and first["last_run"]["state"] == "completed"
    assert [c["rebalance"] for c in second["checks"]] == [False] and second["checks"][0]["max_drift"] < 0.01
    assert drift["points_in_window"] == 2 and [m["run"] for m in drift["rebalances"]] == [first["last_run"]["id"]]


def test_the_dashboard_serves_prometheus_metrics_read_from_the_journal(paper):
    # Arrange
    expected = history(paper)
    # Act
    with running(prepare(config=paper / "trimtab.toml")) as base:
        text = httpx.get(f"{base}/metrics/").text
    # Assert
    fees = sum(run["fees"] for run in expected["runs"])
    line = next(line for line in text.splitlines() if line.startswith("trimtab_fees_total{"))
    assert 'portfolio="main"' in line and abs(float(line.split()[-1]) - fees) < 0.005


def test_the_advice_page_carries_the_same_sweep_as_trimtab_advise(paper):
    # Arrange
    cli = run_cli("advise", "--days", "30", "--json", cwd=paper)
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    # Act
    with running(prepare(config=paper / "trimtab.toml")) as base:
        doc = httpx.get(f"{base}/api/portfolios/main/advice", params={"days": 30}, timeout=60).json()
        page = httpx.get(f"{base}/portfolios/main/advice", params={"days": 30}, timeout=60).text
    # Assert
    sweep = doc["sweep"]
    assert [r["policy"] for r in sweep["candidates"]] == [r["policy"] for r in expected["candidates"]]
    assert sweep["verdict"] == expected["verdict"] and sweep["verdict"] in page
    assert 'id="advice-candidates"' in page and "(current)" in page
    assert page.count('id="advice-candidates"') == 1  # once, in the page's body (never in its <title>)
    assert "<h2>" not in page[page.index("<title>"):page.index("</title>")]

"""Returns with deposits taken out on the dashboard: the /api JSON (httpx against the real app under
uvicorn on 127.0.0.1) and the pages in headless Chromium, over a paper journal written by the CLI."""

from __future__ import annotations

import json

import httpx
import playwright.sync_api as playwright_api
import pytest
from cli_paper import make_portfolio
from conftest import run_cli
from dashboard_helpers import CHROMIUM_ARGS, ensure_chromium, running

from trimtab.interfaces.web.serve import prepare
from trimtab.venues.paper import PaperVenue


@pytest.fixture(scope="module")
def deposited(tmp_path_factory):
    """On target at flat prices, a check that holds, a 1,000 USDC deposit, and the check after it
    (which steers with it; its value is read before it trades)."""
    directory = make_portfolio(tmp_path_factory.mktemp("flows") / "p")
    PaperVenue(directory / "trimtab-paper.db").set_prices({"BTC": 65000.0, "ETH": 2000.0})
    for args in (["rebalance", "--yes"], ["run", "--once"], ["deposit", "1000"], ["run", "--once"]):
        result = run_cli(*args, "--json", cwd=directory)
        assert result.returncode == 0, result.stderr
    return directory


def test_a_deposit_is_no_gain_in_the_api(deposited):
    history = json.loads(run_cli("history", "--json", cwd=deposited).stdout)["returns"]
    app = prepare(config=deposited / "trimtab.toml")
    with running(app) as base:
        [row] = httpx.get(f"{base}/api/portfolios").json()
        one = httpx.get(f"{base}/api/portfolios/main").json()["summary"]["returns"]
        day = httpx.get(f"{base}/api/portfolios/main/returns", params={"window": "day"}).json()
        bad = httpx.get(f"{base}/api/portfolios/main/returns", params={"window": "year"})
    returns = row["returns"]
    assert returns["time_weighted_return"] == 0.0  # rounded to 6 decimals: a deposit of 1,000 on ~10,000 is +10%
    assert returns["net_flows"] == 1000.0 and returns["gain"] == pytest.approx(0.0, abs=0.01)
    assert returns["end_value"] == pytest.approx(returns["start_value"] + 1000, abs=0.01)
    assert one == returns
    assert history["time_weighted_return"] == returns["time_weighted_return"]
    assert history["net_flows"] == returns["net_flows"]
    assert day["window"] == "day" and day["net_flows"] == 1000.0 and day["time_weighted_return"] == 0.0
    assert bad.status_code == 422


def test_the_pages_show_the_return_with_flows_taken_out(deposited):
    executable = ensure_chromium()
    app = prepare(config=deposited / "trimtab.toml")
    with running(app) as base, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            overview = page.inner_text("#portfolios tbody tr td.twr")
            page.goto(base + "/portfolios/main")
            card = page.inner_text("#twr")
            flows = page.inner_text("#net-flows")
        finally:
            browser.close()
    assert overview == "0.00%" and card == "0.00%"
    assert flows == "net flows 1,000.00"
    assert errors == []

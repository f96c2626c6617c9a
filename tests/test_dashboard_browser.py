"""End to end in a real headless browser: Playwright driving Debian's Chromium (installed by the
test set-up when missing) over the dashboard on a journal a short `trimtab demo` wrote."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import playwright.sync_api as playwright_api
import pytest
from conftest import run_cli
from dashboard_helpers import CHROMIUM_ARGS, demo_journal, ensure_chromium, running

from trimtab.interfaces.web.serve import prepare
from trimtab.journal import CheckRecord, Journal


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = demo_journal(tmp_path_factory.mktemp("demo") / "demo", start="2025-09-01", end="2025-12-31")
    # a config naming the demo's journal, so `trimtab history` can read it as a user would
    (directory / "trimtab.toml").write_text(
        '[portfolio]\nname = "demo"\nquote = "USDC"\ntargets = { BTC = 0.5, ETH = 0.3, USDC = 0.2 }\n'
        f'[journal]\nurl = "sqlite:///{directory / "demo-journal.db"}"\n')
    return directory


@pytest.fixture(scope="module")
def browser():
    executable = ensure_chromium()
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []  # no JavaScript error on any page


def painted_pixels(page) -> int:  # type: ignore[no-untyped-def]
    """How many pixels of the drift chart's canvas are not blank."""
    return page.evaluate("""() => {
        const c = document.querySelector('#drift-chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
    }""")


def test_the_drift_chart_draws_and_its_markers_open_their_runs(demo, page, tmp_path):
    with running(prepare(demo_dir=demo, poll_seconds=0.5)) as base:
        # Act
        page.goto(f"{base}/portfolios/demo/drift")
        page.wait_for_selector("#drift-chart canvas")
        page.wait_for_selector(".marker")
        page.screenshot(path=str(tmp_path / "drift.png"), full_page=True)
        points = page.evaluate("window.driftChart.data[0].length")
        markers = page.eval_on_selector_all(".marker", "ms => ms.map(m => m.dataset.run)")
        pixels = painted_pixels(page)
        page.click(f".marker[data-run='{markers[-1]}']")
        page.wait_for_url(f"**/runs/{markers[-1]}")
        title = page.text_content("#run-title")
        legs = page.eval_on_selector_all("#legs tbody tr", "rows => rows.length")
    # Assert
    assert (tmp_path / "drift.png").read_bytes()[:4] == b"\x89PNG"
    assert points > 1000 and pixels > 5000
    history = json.loads(run_cli("history", "--json", "--limit", "1000", cwd=demo).stdout)
    assert sorted(markers) == sorted(r["id"] for r in history["runs"])
    assert markers[-1] in title and legs == len(next(r for r in history["runs"] if r["id"] == markers[-1])["legs"])


def test_the_runs_table_shows_every_run_with_the_fees_trimtab_history_shows(demo, page, tmp_path):
    history = json.loads(run_cli("history", "--json", "--limit", "1000", cwd=demo).stdout)
    with running(prepare(demo_dir=demo)) as base:
        page.goto(f"{base}/portfolios/demo/runs")
        rows = page.eval_on_selector_all(
            "#runs tbody tr", "rows => rows.map(r => [r.dataset.run, r.dataset.fees, r.querySelector('.fees').textContent])")
        page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
    assert len(rows) == len(history["runs"]) >= 3
    expected = {r["id"]: r["fees"] for r in history["runs"]}
    for run_id, fees, shown in rows:
        assert float(fees) == pytest.approx(expected[run_id], abs=0.005)
        assert shown == f"{float(fees):,.4f}"  # the page shows the fee it holds; history rounds it to the cent


def test_a_check_written_while_the_page_is_open_appears_without_a_reload(demo, page, tmp_path):
    journal = Journal.open(f"sqlite:///{demo / 'demo-journal.db'}")
    last = journal.checks("demo", limit=1)[0]
    with running(prepare(demo_dir=demo, poll_seconds=0.3)) as base:
        page.goto(f"{base}/portfolios/demo/drift")
        page.wait_for_selector("#drift-chart canvas")
        before = page.evaluate("window.driftChart.data[0].length")
        page.evaluate("window.stillTheSamePage = true")
        # Act: the loop writes a check
        journal.record_checks([CheckRecord(
            portfolio="demo", at=last.at + timedelta(hours=1), total_value=last.total_value,
            weights={"BTC": 0.5 + 0.1234, "ETH": 0.3 - 0.1234, "USDC": 0.2}, drift={"BTC": 0.1234, "ETH": -0.1234, "USDC": 0.0},
            max_drift=0.1234, rebalance=False, trigger="none", reason="max drift 0.123 (BTC) is within band 0.150")])
        page.wait_for_function("document.getElementById('last-check-drift').textContent === '12.34%'", timeout=15_000)
        after = page.evaluate("window.driftChart.data[0].length")
        newest = page.evaluate("window.driftChart.data[1][window.driftChart.data[1].length - 1]")
        same = page.evaluate("window.stillTheSamePage === true")
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    journal.close()
    assert after == before + 1 and newest == pytest.approx(0.1234) and same


def test_every_page_loads_without_errors(demo, page, tmp_path):
    with running(prepare(demo_dir=demo)) as base:
        for name, path, marker in [("portfolios", "/", "#portfolios"), ("portfolio", "/portfolios/demo", "#weights"),
                                   ("advice", "/portfolios/demo/advice?days=36500", "#advice-action")]:
            page.goto(base + path)
            page.wait_for_selector(marker)
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        portfolio_rows = page.goto(base + "/") and page.eval_on_selector_all("#portfolios tbody tr", "r => r.length")
        holdings = page.goto(base + "/portfolios/demo") and page.eval_on_selector_all("#holdings tbody tr", "r => r.length")
    assert portfolio_rows == 1 and holdings >= 5


def test_dragging_across_the_chart_zooms_in_with_the_server_sending_the_range_in_full(demo, page):
    with running(prepare(demo_dir=demo)) as base:
        page.goto(f"{base}/portfolios/demo/drift?window=all")
        page.wait_for_selector("#drift-chart canvas")
        page.wait_for_function("document.querySelector('#drift-chart').dataset.points")
        total = page.evaluate("window.driftChart.data[0].length")
        box = page.locator("#drift-chart .u-over").bounding_box()
        # Act: drag over a tenth of the plot
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.40, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.50, y, steps=5)
        page.mouse.up()
        page.wait_for_function(f"window.driftChart.data[0].length < {total}", timeout=15_000)
        zoomed = page.evaluate("[window.driftChart.scales.x.min, window.driftChart.scales.x.max]")
        shown = page.evaluate("window.driftChart.data[0]")
        page.dblclick("#drift-chart .u-over")
        page.wait_for_function(f"window.driftChart.data[0].length === {total}", timeout=15_000)
    # Assert: the zoomed data is the range at full detail: one check an hour
    assert zoomed[1] - zoomed[0] < (shown[-1] - shown[0]) * 1.5
    assert all(b - a == 3600 for a, b in pairwise(shown))

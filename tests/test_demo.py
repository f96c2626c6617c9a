"""`trimtab demo`: five years of hourly checks through the real executor, venue and journal (its speed is
printed by the demo itself, not asserted here: speed goals live in benchmarks/)."""

import json

from conftest import run_cli


def test_the_demo_runs_five_years_hourly_with_bridges_and_writes_a_summary_and_a_chart(tmp_path):
    # Act
    result = run_cli("demo", "--json", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    # Assert
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["checks"] > 43_000 and summary["wall_seconds"] > 0  # the time is reported
    assert summary["rebalances"] == summary["runs_completed"] > 50
    assert sum(summary["rebalances_by_month"].values()) == summary["rebalances"]
    assert summary["bridges"] > 0 and summary["triggers"]["schedule"] >= 59
    assert summary["journal_checks"] == summary["checks"]  # every check journaled, in batches
    assert 0.05 < summary["max_drift"] < 0.15
    assert summary["fees"] > 0 and summary["final_value"] > 0 and summary["buy_and_hold_value"] > 0
    assert (tmp_path / "demo" / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_the_demo_table_names_rebalances_fees_and_buy_and_hold(tmp_path):
    result = run_cli("demo", "--start", "2025-11-01", "--end", "2025-12-31", "--dir", "d", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for words in ("rebalances", "per month", "max drift", "buy and hold", "demo.png"):
        assert words in result.stdout

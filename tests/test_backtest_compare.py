"""`trimtab compare`: the blog's five policies on real data, beside its claims, with verdicts."""

import json

import pytest

from trimtab.backtest.compare import CLAIMS, RULE, fits, verdict


def test_verdict_agrees_only_when_every_check_holds():
    five = CLAIMS[1]
    assert verdict(five, trades=8, rebalances=4, max_drift=0.08, fee_drag=0.008).startswith("agrees:")
    said = verdict(five, trades=1.0, rebalances=0.5, max_drift=0.068, fee_drag=0.0005)
    assert said.startswith("disagrees:")
    assert "1.0 trades/month (0.5 rebalances), not 6-12" in said and "is far from the claimed 0.6-1.2%" in said


def test_one_rule_decides_every_check_and_the_verdict_states_its_range():
    five = CLAIMS[1]
    daily = verdict(five, trades=1.0, rebalances=0.5, max_drift=0.068, fee_drag=0.0005)
    hourly = verdict(five, trades=1.2, rebalances=0.6, max_drift=0.057, fee_drag=0.0005)
    assert "max drift 6.8% is about 8% [6-10%]" in daily
    assert "max drift 5.7% is not about 8% [6-10%]" in hourly
    assert "not 6-12 [4.5-15]" in daily and "the claimed 0.6-1.2% [0.45-1.5%]" in daily
    assert fits(0.06, 0.08, 0.08) and fits(15, 6, 12) and not fits(15.1, 6, 12) and not fits(0.0599, 0.08, 0.08)


def test_a_monthly_count_of_one_fits_when_the_blog_counts_rebalances():
    monthly = CLAIMS[3]
    said = verdict(monthly, trades=2.0, rebalances=1.0, max_drift=0.25, fee_drag=0.036)
    assert said.startswith("agrees:") and "if the blog counts rebalances" in said


def test_compare_json_reports_the_five_policies_on_the_last_five_years(cli):
    result = cli("compare", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["policy"] for r in doc["rows"]] == ["2% band", "5% band", "10% band", "monthly", "5% band + monthly"]
    assert doc["start"].startswith("2021-01-06") and doc["end"].startswith("2026-01-05")
    monthly = doc["rows"][3]
    assert abs(monthly["rebalances_per_month"] - 1.0) < 0.01  # the first bar of each new month
    for row in doc["rows"]:
        assert {"trades_per_month", "max_drift", "fee_drag_per_year", "annual_return", "volatility", "claim",
                "verdict"} <= set(row)
        assert row["verdict"].split(":")[0] in ("agrees", "disagrees")


def test_compare_table_shows_claims_and_verdicts(cli):
    result = cli("compare")
    assert result.returncode == 0, result.stderr
    for words in ("trades/mo", "(blog)", "25-40", "20%+", "5% band + monthly: ", "The rule for every verdict: "):
        assert words in result.stdout
    assert "stays below 20%+ [from 15%]" in result.stdout or "reaches 20%+ [from 15%]" in result.stdout
    assert json.loads(cli("compare", "--json").stdout)["rule"] == RULE


def test_compare_with_a_monthly_contribution_shows_steer_beside_ignore_and_what_it_saved(cli):
    result = cli("compare", "--contribution", "500", "--every", "month", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["policy"] for r in doc["rows"]] == ["2% band", "5% band", "10% band", "monthly", "5% band + monthly"]
    for row in doc["rows"]:
        steer, ignore = row["steer"], row["ignore"]
        assert steer["net_flows"] == ignore["net_flows"] > 0 and ignore["flow_trade_count"] == 0
        assert row["trades_saved"] == ignore["trade_count"] - steer["trade_count"]
        assert row["fees_saved"] == pytest.approx(ignore["total_fees"] - steer["total_fees"], abs=0.02)
        assert steer["rebalance_count"] < ignore["rebalance_count"]  # the flows did part of the policy's work
    table = cli("compare", "--contribution", "500", "--every", "month").stdout
    assert "steer vs ignore" in table and "fees saved" in table
    refused = cli("compare", "--contribution", "-1", "--every", "month", "--json")
    assert refused.returncode == 2 and "positive amount" in json.loads(refused.stdout)["error"]["message"]

"""`trimtab backtest` as a user runs it: real subprocesses on the shipped daily history."""

import json

import pytest

KEYS = {"final_value", "rebalance_count", "trades_per_month", "max_drift", "total_traded", "total_fees",
        "fee_drag_per_year", "annual_return", "volatility", "max_drawdown", "bars"}


def test_backtest_json_has_the_documented_keys_as_fractions(cli):
    result = cli("backtest", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2", "--start", "2021-01-01", "--end", "2025-12-31",
                 "--band", "0.05", "--fee", "0.001", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert KEYS <= set(doc)
    assert doc["bars"] == 1826 and doc["assets"] == ["BTC", "ETH", "USDC"]
    assert 0 < doc["max_drift"] < 0.1 and doc["fee"] == 0.001 and doc["band"] == 0.05
    assert doc["rebalance_count"] > 10


def test_backtest_table_and_chart_by_default(cli, tmp_path):
    result = cli("backtest", "--policy", "combined", "--start", "2024-01-01", "--end", "2024-12-31")
    assert result.returncode == 0, result.stderr
    for words in ("final value", "rebalances", "fee drag per year", "chart: backtest.png"):
        assert words in result.stdout
    assert (tmp_path / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_reads_a_price_file_in_the_long_format(cli, tmp_path):
    rows = ["date,symbol,close"] + [f"2024-01-{d:02d},BTC,{100 + d * (-1) ** d}" for d in range(1, 31)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    result = cli("backtest", "--prices", "p.csv", "--targets", "BTC=0.5,USDC=0.5", "--band", "0.01",
                 "--min-trade", "0", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bars"] == 30 and doc["rebalance_count"] > 5


@pytest.mark.parametrize("args, sentence", [
    (["--policy", "sometimes"], "Unknown policy 'sometimes'"),
    (["--prices", "nope.csv"], "does not exist"),
    (["--prices", "x.csv", "--data", "daily"], "either --prices PATH or --data"),
    (["--targets", "BTC=0.5,ETH=0.6"], "sum to 1.1"),
    (["--fee-model", "flat"], "Unknown fee model"),
])
def test_backtest_errors_are_one_sentence_and_exit_2(cli, args, sentence):
    result = cli("backtest", *args, "--json")
    assert result.returncode == 2
    assert sentence in json.loads(result.stdout)["error"]["message"]


def test_symbols_may_name_the_quote_which_needs_no_prices(cli):
    result = cli("backtest", "--symbols", "BTC,ETH,USDC", "--start", "2024-01-01", "--end", "2024-03-31", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["assets"] == ["BTC", "ETH", "USDC"]


def test_backtest_shows_buy_and_hold_beside_the_policy_in_json_and_table(cli):
    # Act
    doc = json.loads(cli("backtest", "--start", "2023-01-01", "--end", "2024-12-31", "--json").stdout)
    table = cli("backtest", "--start", "2023-01-01", "--end", "2024-12-31", "--chart", "b.png").stdout
    # Assert
    hold = doc["buy_and_hold"]
    assert KEYS <= set(hold) and hold["rebalance_count"] == 0 and hold["total_fees"] == 0
    assert hold["bars"] == doc["bars"] and hold["max_drift"] > doc["max_drift"]
    header = next(line for line in table.splitlines() if "metric" in line)
    assert "threshold" in header and "buy and hold" in header
    final = next(line for line in table.splitlines() if "final value" in line)
    assert f"{doc['final_value']:,.2f}" in final and f"{hold['final_value']:,.2f}" in final
    assert f"threshold vs buy and hold: final value {(doc['final_value'] / hold['final_value'] - 1) * 100:+.1f}%" in table


def test_a_monthly_contribution_steered_and_ignored_from_the_command_line(cli):
    # Act
    common = ("backtest", "--start", "2021-01-01", "--end", "2025-12-31", "--contribution", "500", "--every", "month",
              "--json")
    steer = json.loads(cli(*common).stdout)
    ignore = json.loads(cli(*common, "--cash-flows", "ignore").stdout)
    table = cli(*common[:-1], "--chart", "dca.png").stdout
    # Assert
    for doc, kind in ((steer, "steer"), (ignore, "ignore")):
        assert doc["cash_flows"] == kind and doc["flow"] == 500 and doc["every"] == "month"
        assert doc["net_flows"] == 500 * 59 and doc["flow_count"] == 59  # every month start after bar 0
        # a deposit is not a gain: the time-weighted return is the policy's, near the no-flow run's
        assert doc["total_return"] < doc["final_value"] / 10_000 - 1
        assert doc["money_weighted_return"] < doc["time_weighted_return"] == pytest.approx(doc["annual_return"])
    assert steer["flow_trade_count"] > 50 and ignore["flow_trade_count"] == 0
    assert steer["rebalance_count"] < ignore["rebalance_count"]
    assert steer["buy_and_hold"]["net_flows"] == steer["net_flows"]
    for words in ("net flows", "29,500.00 USDC in 59 flows", "time-weighted return", "money-weighted return",
                  "contribution 500.00 a month (steer)"):
        assert words in table


@pytest.mark.parametrize("args, sentence", [
    (["--contribution", "-500", "--every", "month"], "--contribution is -500; give a positive amount"),
    (["--withdrawal", "0", "--every", "month"], "--withdrawal is 0; give a positive amount"),
    (["--contribution", "500", "--every", "fortnight"], "every 'fortnight' is not a period"),
    (["--contribution", "500"], "needs a period: add --every"),
    (["--every", "month"], "--every needs an amount"),
    (["--contribution", "5", "--withdrawal", "5", "--every", "week"], "either --contribution or --withdrawal"),
    (["--contribution", "5", "--every", "week", "--cash-flows", "sometimes"], "Unknown cash-flow policy"),
    (["--withdrawal", "5000", "--every", "month"], "is more than the portfolio can pay"),
])
def test_flow_options_refused_in_one_sentence_with_exit_2(cli, args, sentence):
    result = cli("backtest", "--start", "2022-01-01", "--end", "2022-12-31", *args, "--json")
    assert result.returncode == 2, result.stdout
    assert sentence in json.loads(result.stdout)["error"]["message"]
    plain = cli("backtest", "--start", "2022-01-01", "--end", "2022-12-31", *args)
    assert plain.returncode == 2 and sentence in plain.stderr


def test_sweep_with_steer_and_ignore_as_a_dimension(cli):
    result = cli("sweep", "--start", "2022-01-01", "--end", "2024-12-31", "--band", "0.05,0.1", "--contribution",
                 "500", "--every", "month", "--cash-flows", "steer,ignore", "--workers", "1", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(r["band"], r["cash_flows"]) for r in doc["rows"]] == [(0.05, "steer"), (0.05, "ignore"),
                                                                   (0.1, "steer"), (0.1, "ignore")]
    assert all(r["net_flows"] == 500 * 35 for r in doc["rows"])
    refused = cli("sweep", "--cash-flows", "steer,ignore", "--json")
    assert refused.returncode == 2 and "--cash-flows needs a flow" in json.loads(refused.stdout)["error"]["message"]

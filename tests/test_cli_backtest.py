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

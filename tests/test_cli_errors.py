"""What used to be `internal error` is one sentence and exit 2; a chart that cannot be written
still leaves the backtest's results printed; a window too short to annualise says so, never `nan`."""

import json

import pytest
from cli_paper import make_portfolio
from conftest import run_cli

WINDOW = ["--start", "2024-01-01", "--end", "2024-03-31"]


@pytest.mark.parametrize("command", ["backtest", "sweep"])
def test_a_chart_in_a_missing_folder_keeps_the_results_then_says_so(cli, command):
    result = cli(command, *WINDOW, "--chart", "/nonexistent/dir/x.png")
    assert result.returncode == 2
    assert "final value" in result.stdout if command == "backtest" else "fee drag/yr" in result.stdout
    assert result.stderr.strip() == ("error: The chart could not be written to /nonexistent/dir/x.png: No such file "
                                     "or directory; the results are complete without it.")


def test_a_chart_in_a_missing_folder_with_json_is_one_document_with_the_results_and_the_error(cli):
    result = cli("backtest", *WINDOW, "--chart", "/nonexistent/dir/x.png", "--json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["bars"] == 91 and doc["chart"] is None
    assert doc["error"]["message"].startswith("The chart could not be written to /nonexistent/dir/x.png")


@pytest.mark.parametrize("name, kind", [("out.txt", "a .txt file"), ("out", "a name without an extension")])
def test_a_chart_name_that_is_not_a_picture_is_refused_before_any_work(cli, tmp_path, name, kind):
    result = cli("backtest", *WINDOW, "--chart", name)
    assert result.returncode == 2 and result.stdout == ""
    assert f"--chart {name} is {kind}, not a picture: end it in .png, .svg or .pdf." in result.stderr
    assert not (tmp_path / name).exists()


def test_a_price_file_with_a_word_for_a_close_is_one_sentence(cli, tmp_path):
    (tmp_path / "p.csv").write_text("date,symbol,close\n2024-01-01,BTC,100\n2024-01-02,BTC,about 100\n")
    result = cli("backtest", "--prices", "p.csv", "--targets", "BTC=0.5,USDC=0.5", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"] == "p.csv, data row 2: close 'about 100' is not a number."


@pytest.mark.parametrize("command", ["backtest", "sweep"])
def test_dates_outside_the_data_name_the_symbols_and_the_range_covered(cli, command):
    result = cli(command, "--start", "2010-01-01", "--end", "2012-01-01", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"] == (
        "No prices for BTC, ETH between 2010-01-01 and 2012-01-01: the data covers 2017-08-17 to 2026-01-05 "
        "for all of them.")


@pytest.mark.parametrize("command", ["backtest", "sweep"])
def test_a_start_after_the_end_has_its_own_sentence(cli, command):
    result = cli(command, "--start", "2025-01-01", "--end", "2024-01-01")
    assert result.returncode == 2
    assert "The start (2025-01-01) is after the end (2024-01-01)" in result.stderr


def test_a_two_bar_backtest_says_it_is_too_short_to_annualise_and_prints_no_nan(cli):
    table = cli("backtest", "--start", "2025-01-01", "--end", "2025-01-02", "--chart", "x.png")
    doc = json.loads(cli("backtest", "--start", "2025-01-01", "--end", "2025-01-02", "--json").stdout)
    assert table.returncode == 0, table.stderr
    assert "nan" not in table.stdout.lower()
    assert "annual return" in table.stdout and "too short to annualise (30 days or more)" in table.stdout
    assert "total return 2.04%" in table.stdout
    assert doc["bars"] == 2 and doc["annual_return"] is None and doc["volatility"] is None
    assert doc["total_return"] == pytest.approx(0.0204, abs=1e-4)


def test_a_month_long_backtest_is_annualised(cli):
    doc = json.loads(cli("backtest", "--start", "2025-01-01", "--end", "2025-01-31", "--json").stdout)
    assert doc["annual_return"] is not None and doc["volatility"] is not None


def test_acknowledging_a_run_the_journal_does_not_have_is_one_sentence(tmp_path):
    directory = make_portfolio(tmp_path / "p")
    result = run_cli("acknowledge", "r0000000000", "--json", cwd=directory)
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"] == (
        "The journal of main has no run r0000000000; `trimtab history` lists its runs.")


def test_acknowledging_a_completed_run_is_one_sentence(tmp_path):
    directory = make_portfolio(tmp_path / "p")
    done = run_cli("rebalance", "--yes", "--json", cwd=directory)
    run_id = json.loads(done.stdout)["run"]["id"]
    result = run_cli("acknowledge", run_id, cwd=directory)
    assert result.returncode == 2
    assert f"Run {run_id} is completed, not needs_attention; there is nothing to acknowledge." in result.stderr

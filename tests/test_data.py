"""The shipped real price history and its loader."""

import pandas as pd
import pytest

from trimtab.data import SHIPPED, load_prices
from trimtab.errors import InputError


def test_daily_closes_match_the_sources_readme_spot_values():
    close = load_prices("daily", symbols=["BTC", "ETH"])
    assert str(close.index.tz) == "UTC"
    assert close.loc["2021-11-10", "BTC"] == 64882.43
    assert close.loc["2022-11-21", "BTC"] == 15781.29
    assert close.loc["2022-06-18", "ETH"] == 995.13
    assert close["BTC"].max() == 124658.54


def test_ranges_are_inclusive_and_a_bare_end_date_covers_the_whole_day_on_hourly_data():
    close = load_prices("hourly", symbols=["BTC"], start="2021-01-01", end="2021-01-02")
    assert close.index[0] == pd.Timestamp("2021-01-01T00:00Z")
    assert close.index[-1] == pd.Timestamp("2021-01-02T23:00Z")
    assert len(close) == 48


def test_chosen_symbols_only_keep_rows_where_all_have_prices():
    close = load_prices("daily", symbols=["BTC", "MATIC"])
    assert close.index[-1] == pd.Timestamp("2024-09-10", tz="UTC")
    assert not close.isna().any().any()


def test_a_price_file_in_the_long_format_loads_from_a_path(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("date,symbol,close\n2024-01-01,btc,100\n2024-01-01,ETH,10\n2024-01-02,BTC,110\n2024-01-02,ETH,11\n")
    close = load_prices(path=path)
    assert list(close.columns) == ["BTC", "ETH"] and close.loc["2024-01-02", "BTC"] == 110
    again = load_prices(path=path)  # from the binary cache
    pd.testing.assert_frame_equal(close, again)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(freq="minutely"), "Unknown data frequency"),
        (dict(symbols=["BTC", "NOPE"]), "No price history for NOPE"),
        (dict(symbols=["BTC"], start="2030-01-01"), "No prices for BTC from 2030-01-01 on: the data covers 2017-08-17 to "),
        (dict(start="2025-01-01", end="2024-01-01"), r"The start \(2025-01-01\) is after the end \(2024-01-01\)"),
        (dict(path="/nonexistent/prices.csv"), "does not exist"),
        (dict(start="not-a-date"), "is not a date"),
    ],
)
def test_bad_requests_are_one_sentence(kwargs, words):
    with pytest.raises(InputError, match=words):
        load_prices(**kwargs)


def test_both_history_files_ship_inside_the_package():
    assert SHIPPED["daily"].exists() and SHIPPED["hourly"].exists()
    assert (SHIPPED["daily"].parent / "README.md").exists()


def test_load_prices_is_reachable_from_a_bare_import_of_trimtab():
    """As the README writes it: `import trimtab` then `trimtab.data.load_prices(...)`, in a fresh process."""
    import subprocess
    import sys

    code = ("import trimtab; c = trimtab.data.load_prices('daily', symbols=['BTC'], start='2024-01-01', "
            "end='2024-01-05'); print(len(c))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


def test_a_price_file_with_a_word_for_a_close_or_a_date_names_the_row(tmp_path):
    (tmp_path / "close.csv").write_text("date,symbol,close\n2024-01-01,BTC,100\n2024-01-02,BTC,abc\n")
    (tmp_path / "date.csv").write_text("date,symbol,close\n2024-01-01,BTC,100\nyesterday,BTC,101\n")
    with pytest.raises(InputError, match="close.csv, data row 2: close 'abc' is not a number"):
        load_prices(path=tmp_path / "close.csv")
    with pytest.raises(InputError, match="date.csv, data row 2: date 'yesterday' is not a date or time"):
        load_prices(path=tmp_path / "date.csv")


def test_a_range_outside_the_data_names_the_symbols_and_what_the_data_covers():
    with pytest.raises(InputError) as caught:
        load_prices("hourly", ["BTC", "MATIC"], start="2025-01-01")
    assert str(caught.value) == ("No prices for BTC, MATIC from 2025-01-01 on: the data covers 2020-09-20 to "
                                 "2024-09-10 02:00 for all of them.")

"""``load_matrix`` gives exactly ``load_prices``'s answer as arrays; the schedule's bars match the core."""

import numpy as np
import pytest

from trimtab.backtest.screen import period_starts
from trimtab.core.triggers import Period
from trimtab.data import load_prices
from trimtab.data.matrix import load_matrix
from trimtab.errors import InputError


@pytest.mark.parametrize("freq, symbols, start, end", [
    ("daily", ["BTC", "ETH"], None, None),
    ("daily", ["BTC", "MATIC"], "2021-01-01", "2025-12-31"),
    ("hourly", ["BTC", "SOL"], "2024-02-27", "2024-03-02"),
    ("hourly", ["ETH"], "2024-02-27T05:00", "2024-03-02T07:00"),
    ("hourly", ["ETH"], "2024-02-27", "2024-03-02T00:00Z"),  # not a plain date: load_prices answers
])
def test_load_matrix_equals_load_prices(freq, symbols, start, end):
    load_prices(freq, symbols)  # builds the binary cache on a first run
    close = load_prices(freq, symbols, start, end)
    matrix = load_matrix(freq, symbols, start, end)
    assert matrix.columns == tuple(close.columns)
    assert np.array_equal(matrix.prices, close.to_numpy())
    assert np.array_equal(matrix.times, close.index.as_unit("ns").asi8)


def test_load_matrix_refuses_as_load_prices_does():
    load_prices("daily", ["BTC"])
    with pytest.raises(InputError, match="No price history for NOPE"):
        load_matrix("daily", ["BTC", "NOPE"])
    with pytest.raises(InputError, match="No prices for BTC between 2030-01-01 and 2030-02-01: the data covers 2017-08-17"):
        load_matrix("daily", ["BTC"], "2030-01-01", "2030-02-01")
    with pytest.raises(InputError, match=r"The start \(2024-02-01\) is after the end \(2024-01-01\)"):
        load_matrix("daily", ["BTC"], "2024-02-01", "2024-01-01")


@pytest.mark.parametrize("period", list(Period))
def test_schedule_bars_are_where_the_core_period_key_changes(period):
    index = load_prices("hourly", ["BTC"], "2023-12-20", "2024-04-10").index
    keys = [period.key(t) for t in index]
    expected = [False] + [a != b for a, b in zip(keys[1:], keys[:-1])]
    assert period_starts(index, period).tolist() == expected
    assert period_starts(index.as_unit("ns").asi8, period).tolist() == expected

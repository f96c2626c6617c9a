"""Valuation and drift: the seed example exactly, and drift's invariants for any portfolio."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import SEED

from trimtab.core.assets import Targets
from trimtab.core.drift import measure_drift
from trimtab.core.valuation import value_portfolio


def seed_drift():
    targets = Targets.of(SEED["targets"])
    valuation = value_portfolio(SEED["holdings"], SEED["prices"], quote="USDC", assets=targets.assets)
    return valuation, measure_drift(valuation, targets)


def test_seed_example_weights_and_drifts_come_out_exactly():
    # Arrange / Act
    valuation, drift = seed_drift()
    # Assert
    assert valuation.total_value == 10000.0
    assert [round(drift[a].weight, 12) for a in ("BTC", "ETH", "USDC")] == [0.65, 0.25, 0.10]
    assert [round(drift[a].absolute_drift, 12) for a in ("BTC", "ETH", "USDC")] == [0.15, 0.05, 0.10]
    assert round(drift.max_drift, 12) == 0.15
    assert drift.worst.asset == "BTC"


def test_drift_and_relative_drift_are_both_signed_and_their_sizes_are_absolute():
    _, drift = seed_drift()
    assert drift["BTC"].drift == pytest.approx(0.15)
    assert drift["ETH"].drift == pytest.approx(-0.05)
    assert drift["BTC"].relative_drift == pytest.approx(0.30)
    assert drift["USDC"].relative_drift == pytest.approx(-0.50)  # underweight: negative, like its drift
    assert drift["USDC"].absolute_relative_drift == pytest.approx(0.50)
    assert drift.max_relative_drift == pytest.approx(0.50)


def test_relative_drift_is_undefined_for_a_zero_target_instead_of_dividing_by_zero():
    targets = Targets.of({"BTC": 1.0, "ETH": 0.0})
    valuation = value_portfolio({"BTC": 1, "ETH": 10}, {"BTC": 100, "ETH": 10}, quote="USDC", assets=targets.assets)
    drift = measure_drift(valuation, targets)
    assert drift["ETH"].relative_drift is None
    assert drift["ETH"].absolute_drift == pytest.approx(0.5)
    assert drift.max_relative_drift == pytest.approx(0.5)  # BTC: |0.5 - 1| / 1


def test_an_asset_held_but_not_targeted_drifts_by_its_whole_weight():
    targets = Targets.of({"BTC": 1.0})
    valuation = value_portfolio({"BTC": 1, "DOGE": 1000}, {"BTC": 900, "DOGE": 0.1}, quote="USDC", assets=targets.assets)
    drift = measure_drift(valuation, targets)
    assert drift["DOGE"].target == 0
    assert drift["DOGE"].absolute_drift == pytest.approx(0.1)


portfolios = st.lists(
    st.tuples(st.floats(0, 1e6), st.floats(0.01, 1e5), st.floats(0.01, 1)), min_size=1, max_size=6
).filter(lambda rows: sum(q * p for q, p, _ in rows) > 1)


@given(portfolios)
def test_weights_sum_to_one_and_drifts_sum_to_zero(rows):
    names = [f"A{i}" for i in range(len(rows))]
    raw = [w for _, _, w in rows]
    targets = Targets.of({n: w / sum(raw) for n, w in zip(names, raw)})
    valuation = value_portfolio({n: q for n, (q, _, _) in zip(names, rows)},
                                {n: p for n, (_, p, _) in zip(names, rows)}, quote="USDC", assets=targets.assets)
    drift = measure_drift(valuation, targets)
    assert math.fsum(valuation.weights.values()) == pytest.approx(1.0)
    assert math.fsum(a.drift for a in drift.assets) == pytest.approx(0.0, abs=1e-9)
    assert 0 <= drift.max_drift <= 1
    assert drift.max_drift == max(a.absolute_drift for a in drift.assets)

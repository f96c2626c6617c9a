"""Returns with flows: a deposit is never a gain; TWR removes flows, MWR weighs them by time."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trimtab.core.returns import flow_returns, money_weighted, unexplained

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_deposit_alone_is_no_gain():
    r = flow_returns([(T0, 10_000.0), (T0 + timedelta(days=30), 11_000.0)], [(T0 + timedelta(days=1), 1_000.0)])
    assert r.net_flows == 1_000.0 and r.gain == 0.0
    assert r.twr == pytest.approx(0.0) and r.mwr == pytest.approx(0.0, abs=1e-9)


def test_time_weighted_return_chains_the_periods_around_a_flow():
    # +10% on 10,000, then a 10,000 deposit, then -10% on 21,000
    values = [(T0, 10_000.0), (T0 + timedelta(days=10), 11_000.0), (T0 + timedelta(days=20), 18_900.0)]
    r = flow_returns(values, [(T0 + timedelta(days=15), 10_000.0)])
    assert r.twr == pytest.approx(1.1 * 0.9 - 1)
    assert r.gain == pytest.approx(18_900 - 10_000 - 10_000)
    assert r.mwr < r.twr  # more money was in for the loss than for the gain


def test_money_weighted_return_of_a_year_without_flows_is_the_plain_return():
    assert money_weighted(T0, 100.0, [], T0 + timedelta(days=365.25), 110.0) == pytest.approx(0.10, abs=1e-9)


@given(st.floats(0.5, 2.0), st.floats(1.0, 1e6))
def test_twr_ignores_the_size_of_a_deposit(growth, deposit):
    values = [(T0, 1_000.0), (T0 + timedelta(days=1), 1_000.0 * growth),
              (T0 + timedelta(days=2), (1_000.0 * growth + deposit) * growth)]
    r = flow_returns(values, [(T0 + timedelta(days=1, hours=1), deposit)])
    assert r.twr == pytest.approx(growth * growth - 1, rel=1e-9, abs=1e-12)


def test_quantities_not_prices_tell_a_flow():
    before = {"BTC": 0.1, "ETH": 1.0, "USDC": 1_000.0}
    fills = [{"asset": "ETH", "side": "buy", "quantity": 0.5, "value": 1_000.0, "fee": 1.0, "price": 2_000.0}]
    now = {"BTC": 0.1, "ETH": 1.5, "USDC": 1_499.0}  # the buy, and 1,500 USDC that no fill explains
    changes = unexplained(before, fills, [], now, "USDC")
    assert changes == {"BTC": 0.0, "ETH": 0.0, "USDC": pytest.approx(1_500.0)}
    assert unexplained(before, fills, [("USDC", 1_500.0)], now, "USDC")["USDC"] == pytest.approx(0.0)


def test_a_money_weighted_return_under_a_year_is_not_annualised():
    # -0.1% over one day, no flows: the period's return, not (0.999)^365 - 1
    r = flow_returns([(T0, 1_000.0), (T0 + timedelta(days=1), 999.0)], [])
    assert not r.mwr_annual and r.mwr == pytest.approx(-0.001, rel=1e-9)
    year = flow_returns([(T0, 1_000.0), (T0 + timedelta(days=730.5), 1_210.0)], [])
    assert year.mwr_annual and year.mwr == pytest.approx(0.10, abs=1e-9)

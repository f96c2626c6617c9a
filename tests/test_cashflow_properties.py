"""Properties of the cash-flow water-filling: buy-only deposits and sell-only withdrawals."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trimtab.core.cashflow import flow_level, flow_trades
from trimtab.errors import InputError


@st.composite
def portfolios(draw):
    """(values, targets): up to 5 targeted assets, the quote maybe targeted, maybe an untargeted holding."""
    n = draw(st.integers(1, 5))
    names = [f"C{i}" for i in range(n)] + (["USDC"] if draw(st.booleans()) else [])
    raw = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-4, 1.0)), min_size=len(names), max_size=len(names)))
    assume(sum(raw) > 0.05)
    total_raw = math.fsum(raw)
    targets = {a: w / total_raw for a, w in zip(names, raw)}
    held = names + (["OLD"] if draw(st.booleans()) else []) + ["USDC"]
    values = {a: draw(st.one_of(st.just(0.0), st.floats(0.0, 1e6))) for a in dict.fromkeys(held)}
    assume(math.fsum(values.values()) > 1.0)
    return values, targets


def drifts(values, targets):
    total = math.fsum(values.values())
    names = set(values) | set(targets)
    return {a: values.get(a, 0.0) / total - targets.get(a, 0.0) for a in names}


def after(values, trades):
    out = dict(values)
    for a, t in trades.items():
        out[a] = out.get(a, 0.0) + t
    return out


deposits = st.floats(1e-3, 1e7)


@settings(max_examples=400, deadline=None)
@given(portfolios(), deposits)
def test_a_deposit_is_spent_buy_only_and_exactly(portfolio, deposit):
    values, targets = portfolio
    trades = flow_trades(values, targets, deposit)
    assert all(t >= 0 for t in trades.values())
    assert math.fsum(trades.values()) == pytest.approx(deposit, rel=1e-9)
    assert all(trades[a] == 0 for a in trades if targets.get(a, 0.0) == 0)


@settings(max_examples=400, deadline=None)
@given(portfolios(), deposits)
def test_a_deposit_never_increases_the_largest_drift(portfolio, deposit):
    values, targets = portfolio
    before = max(abs(d) for d in drifts(values, targets).values())
    now = max(abs(d) for d in drifts(after(values, flow_trades(values, targets, deposit)), targets).values())
    assert now <= before + 1e-9


@settings(max_examples=400, deadline=None)
@given(portfolios(), st.floats(0.0, 1e6))
def test_a_deposit_that_covers_every_deficit_lands_on_target(portfolio, extra):
    values, targets = portfolio
    values = {a: (v if targets.get(a, 0.0) > 0 else 0.0) for a, v in values.items()}
    total = math.fsum(values.values())
    assume(total > 1.0)
    # the smallest deposit after which no asset is overweight against the new total, and then some
    deposit = max(values.get(a, 0.0) / t for a, t in targets.items() if t > 0) - total + extra
    assume(deposit > 1e-3)
    result = after(values, flow_trades(values, targets, deposit))
    for a, d in drifts(result, targets).items():
        assert d == pytest.approx(0.0, abs=1e-9)


def gaps_after(values, trades, targets, flow):
    """Per asset: what it lacks (a deposit) or holds beyond (a withdrawal) its target after the trades."""
    result = after(values, trades)
    total = math.fsum(values.values()) + flow
    sign = 1 if flow > 0 else -1
    return {a: sign * (targets.get(a, 0.0) * total - result.get(a, 0.0)) for a in set(result) | set(targets)}


@settings(max_examples=400, deadline=None)
@given(portfolios(), deposits)
def test_a_deposit_closes_the_largest_gaps_first(portfolio, deposit):
    """Every asset bought is left with the common gap λ against the new total; none left alone lacks more."""
    values, targets = portfolio
    level = flow_level(values, targets, deposit)
    trades = flow_trades(values, targets, deposit)
    gaps = gaps_after(values, trades, targets, deposit)
    scale = 1e-9 * (math.fsum(values.values()) + deposit)
    for a, gap in gaps.items():
        if trades.get(a, 0.0) > 0:
            assert gap == pytest.approx(level, abs=scale)
        else:
            assert gap <= level + scale


@settings(max_examples=400, deadline=None)
@given(portfolios(), st.floats(0.0, 1.0))
def test_a_withdrawal_is_raised_sell_only_and_exactly(portfolio, share):
    values, targets = portfolio
    total = math.fsum(values.values())
    withdrawal = share * total
    assume(withdrawal > 1e-6)
    trades = flow_trades(values, targets, -withdrawal)
    assert all(t <= 0 for t in trades.values())
    assert -math.fsum(trades.values()) == pytest.approx(withdrawal, rel=1e-9)
    assert all(values.get(a, 0.0) + t >= -1e-9 * total for a, t in trades.items())


@settings(max_examples=400, deadline=None)
@given(portfolios(), st.floats(0.0, 0.999))
def test_a_withdrawal_takes_the_overweights_first(portfolio, share):
    """Every asset sold is left with the common excess λ over its target against the new total (or is
    sold out); none left alone holds more beyond its target: the most overweight go first."""
    values, targets = portfolio
    total = math.fsum(values.values())
    withdrawal = share * total
    assume(withdrawal > 1e-6)
    level = flow_level(values, targets, -withdrawal)
    trades = flow_trades(values, targets, -withdrawal)
    excess = gaps_after(values, trades, targets, -withdrawal)
    scale = 1e-9 * total
    for a, e in excess.items():
        if trades.get(a, 0.0) < 0 and values[a] + trades[a] > scale:
            assert e == pytest.approx(level, abs=scale)
        elif trades.get(a, 0.0) == 0:
            assert e <= level + scale


@given(portfolios(), st.floats(1.0001, 10))
def test_a_withdrawal_beyond_the_total_sells_everything(portfolio, factor):
    values, targets = portfolio
    total = math.fsum(values.values())
    trades = flow_trades(values, targets, -factor * total)
    assert all(values.get(a, 0.0) + t == pytest.approx(0.0, abs=1e-9 * total) for a, t in trades.items())


def test_the_readme_portfolio_with_a_1000_usdc_deposit():
    values = {"BTC": 6500.0, "ETH": 2500.0, "USDC": 1000.0}
    targets = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    assert flow_trades(values, targets, 1000) == {"BTC": 0.0, "ETH": 300.0, "USDC": 700.0}
    assert flow_level(values, targets, 1000) == 500.0
    assert flow_trades(values, targets, -1000) == {"BTC": -1000.0, "ETH": 0.0, "USDC": 0.0}
    assert flow_trades(values, targets, -3000) == {"BTC": -2800.0, "ETH": -200.0, "USDC": 0.0}


def test_untargeted_holdings_are_sold_first_down_to_a_common_value():
    trades = flow_trades({"BTC": 6500.0, "DOGE": 300.0, "XRP": 100.0}, {"BTC": 1.0}, -350)
    assert trades == {"BTC": 0.0, "DOGE": -275.0, "XRP": -75.0}


def test_weights_below_a_billionth_count_as_untargeted():
    trades = flow_trades({"C0": 1.0, "C1": 1.0}, {"C0": 1.0, "C1": 1e-300}, -0.5)
    assert trades == {"C0": 0.0, "C1": -0.5}


@pytest.mark.parametrize(
    ("values", "targets", "flow", "words"),
    [
        ({"BTC": -1.0}, {"BTC": 1.0}, 10, "value of BTC"),
        ({"BTC": 1.0}, {"BTC": 0.5}, 10, "sum to 0.5"),
        ({"BTC": 1.0}, {"BTC": 1.0}, math.nan, "flow is nan"),
    ],
)
def test_bad_input_is_refused_in_one_sentence(values, targets, flow, words):
    with pytest.raises(InputError, match=words):
        flow_trades(values, targets, flow)

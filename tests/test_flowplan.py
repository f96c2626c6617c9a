"""Buy-only and sell-only plans on the core planner: market rules, dust, fees, the sentence that says why."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trimtab.core.assets import Targets
from trimtab.core.band import Band
from trimtab.core.flowplan import plan_buy_only, plan_sell_only, steer
from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.core.valuation import value_portfolio

TARGETS = Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
PRICES = {"BTC": 65_000.0, "ETH": 2_000.0}


def readme(usdc=2_000.0):
    """The README's portfolio (BTC 0.1, ETH 1.25, USDC 1,000) after a 1,000 USDC deposit."""
    return value_portfolio({"BTC": 0.1, "ETH": 1.25, "USDC": usdc}, PRICES, quote="USDC", assets=TARGETS.assets)


def test_a_deposit_buys_only_the_underweight_and_says_what_it_saved():
    plan = plan_buy_only(readme(), TARGETS, fee=0.001)
    assert [(leg.side, leg.asset, leg.value) for leg in plan.legs] == [(Side.BUY, "ETH", pytest.approx(300.0))]
    assert plan.flow == "buy-only"
    assert plan.fees_saved == pytest.approx(1.8 - 0.3)
    assert plan.why.startswith("buy-only: 300.00 of the 2,000.00 USDC in cash buys ETH")
    assert "1.50 saved" in plan.why


def test_steering_falls_back_to_a_full_rebalance_when_the_band_is_still_breached():
    plan, steered = steer(readme(), TARGETS, flow=1_000, band=Band(absolute=0.05), fee=0.001)
    assert not steered
    assert {leg.side for leg in plan.legs} == {Side.SELL, Side.BUY}
    assert "BTC at 59.1%" in plan.why
    plan, steered = steer(readme(), TARGETS, flow=1_000, band=Band(absolute=0.10), fee=0.001)
    assert steered and plan.flow == "buy-only"


def test_a_withdrawal_sells_the_overweight_first_and_leaves_the_cash_to_pay_it():
    valuation = readme()
    plan = plan_sell_only(valuation, TARGETS, withdrawal=1_000, fee=0.001)
    assert [leg.asset for leg in plan.legs] == ["BTC"]
    assert plan.expected_quantities["USDC"] >= 1_000 + 2_000 - 1e-9 - 0  # cash 2,000 + proceeds >= what is paid
    after = {a: q * (1.0 if a == "USDC" else PRICES[a]) for a, q in plan.expected_quantities.items()}
    after["USDC"] -= 1_000
    assert math.fsum(after.values()) == pytest.approx(valuation.total_value - 1_000 - plan.fees)


def test_dust_and_market_minimums_apply_to_flow_plans():
    rules = {"ETH": MarketRules(min_notional=500.0)}
    plan = plan_buy_only(readme(), TARGETS, fee=0.001, rules=rules)
    assert plan.legs == () and [s.code for s in plan.skipped] == ["BELOW_MIN_NOTIONAL"]
    plan = plan_buy_only(readme(usdc=2_000.0), TARGETS, fee=0.001, min_trade=350)
    assert plan.legs == () and [s.code for s in plan.skipped] == ["DUST"]


@st.composite
def portfolios(draw):
    n = draw(st.integers(1, 4))
    names = [f"C{i}" for i in range(n)] + (["USDC"] if draw(st.booleans()) else [])
    raw = draw(st.lists(st.floats(0.01, 1.0), min_size=len(names), max_size=len(names)))
    targets = Targets.of({a: w / math.fsum(raw) for a, w in zip(names, raw)})
    prices = {f"C{i}": draw(st.floats(0.01, 100_000)) for i in range(n)}
    holdings = {a: draw(st.floats(0, 1_000)) for a in prices} | {"USDC": draw(st.one_of(st.just(0.0), st.floats(0.01, 100_000)))}
    assume(math.fsum(holdings[a] * prices[a] for a in prices) + holdings["USDC"] > 100)
    valuation = value_portfolio(holdings, prices, quote="USDC", assets=targets.assets)
    assume(valuation.total_value > 100)
    return targets, valuation


fees = st.sampled_from([0.0, 0.001, 0.01])


@settings(max_examples=200, deadline=None)
@given(portfolios(), fees)
def test_a_buy_only_plan_never_sells_and_never_spends_more_than_the_cash(portfolio, fee):
    targets, valuation = portfolio
    plan = plan_buy_only(valuation, targets, fee=fee, min_trade=0.0)
    assert not plan.sells
    assert math.fsum(leg.value + leg.fee for leg in plan.legs) <= valuation.quantities["USDC"] * (1 + 1e-12)
    assert plan.expected_quantities["USDC"] >= -1e-9


@settings(max_examples=200, deadline=None)
@given(portfolios(), fees, st.floats(0.01, 0.9))
def test_a_sell_only_plan_never_buys_and_raises_the_withdrawal(portfolio, fee, share):
    targets, valuation = portfolio
    withdrawal = share * valuation.total_value
    plan = plan_sell_only(valuation, targets, withdrawal=withdrawal, fee=fee, min_trade=0.0)
    assert not plan.buys
    assert plan.expected_quantities["USDC"] >= withdrawal * (1 - 1e-9)

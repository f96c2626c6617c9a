"""The planner on worked numbers: the seed plan, dust, market minimums, fees, band-edge."""

import pytest
from tests.conftest import SEED

from trimtab.core.assets import Targets
from trimtab.core.band import Band
from trimtab.core.plan import Mode, Side
from trimtab.core.planner import band_edge_weights, plan_rebalance
from trimtab.core.rules import MarketRules
from trimtab.core.valuation import value_portfolio
from trimtab.errors import InputError


def seed(**holdings):
    targets = Targets.of(SEED["targets"])
    valuation = value_portfolio({**SEED["holdings"], **holdings}, SEED["prices"], quote="USDC", assets=targets.assets)
    return targets, valuation


def test_seed_plan_sells_1500_of_btc_then_buys_500_of_eth():
    targets, valuation = seed()
    plan = plan_rebalance(valuation, targets, fee=0.001)
    assert [(leg.side, leg.asset) for leg in plan.legs] == [(Side.SELL, "BTC"), (Side.BUY, "ETH")]
    sell, buy = plan.legs
    assert sell.value == pytest.approx(1500) and sell.quantity == pytest.approx(1500 / 65000)
    assert buy.value == pytest.approx(500) and buy.quantity == pytest.approx(0.25)
    assert plan.fees == pytest.approx(2.0)
    assert plan.turnover == pytest.approx(2000)
    assert plan.expected_quantities["USDC"] == pytest.approx(1000 + 1500 - 1.5 - 500 - 0.5)


def test_legs_below_min_trade_are_skipped_as_dust_with_a_reason():
    targets = Targets.of({"BTC": 0.5, "USDC": 0.5})
    valuation = value_portfolio({"BTC": 1, "USDC": 992}, {"BTC": 1008}, quote="USDC", assets=targets.assets)
    plan = plan_rebalance(valuation, targets, min_trade=10)
    assert plan.is_empty
    assert plan.skipped[0].code == "DUST"
    assert "below min_trade 10" in plan.skipped[0].reason


def test_a_leg_that_rounds_below_the_min_notional_is_dropped_with_its_code():
    targets, valuation = seed()
    rules = {"ETH": MarketRules(amount_step=0.01, min_notional=600)}
    plan = plan_rebalance(valuation, targets, rules=rules)
    assert [leg.asset for leg in plan.legs] == ["BTC"]
    (skipped,) = plan.skipped
    assert skipped.code == "BELOW_MIN_NOTIONAL"
    assert "notional=500.00 min=600" in skipped.reason


def test_quantities_round_down_to_the_lot_size():
    targets, valuation = seed()
    plan = plan_rebalance(valuation, targets, rules={"BTC": MarketRules(amount_step=0.001)})
    assert plan.legs[0].quantity == 0.023  # 0.0230769 rounded down


def test_buys_are_scaled_down_when_fees_would_overspend():
    targets = Targets.of({"BTC": 1.0})
    valuation = value_portfolio({"USDC": 1000}, {"BTC": 100}, quote="USDC", assets=targets.assets)
    plan = plan_rebalance(valuation, targets, fee=0.01, min_trade=0)
    (buy,) = plan.legs
    assert buy.value + buy.fee == pytest.approx(1000, rel=1e-9)
    assert buy.value + buy.fee <= 1000


def test_band_edge_moves_only_to_the_nearest_edge():
    targets, valuation = seed()
    plan = plan_rebalance(valuation, targets, mode=Mode.BAND_EDGE, band=Band(absolute=0.05))
    assert [(leg.side, leg.asset) for leg in plan.legs] == [(Side.SELL, "BTC")]
    assert plan.legs[0].value == pytest.approx(1000)  # 0.65 -> 0.55 of 10,000
    assert plan.expected_weights["BTC"] == pytest.approx(0.55)


def test_band_edge_pulls_everything_in_further_when_the_quote_would_stay_outside_its_band():
    targets = Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
    band = Band(absolute=0.05)
    desired = band_edge_weights({"BTC": 0.56, "ETH": 0.36, "USDC": 0.08}, targets, band)
    assert desired["USDC"] == pytest.approx(0.15)
    for asset, weight in desired.items():
        low, high = band.bounds(targets.weight(asset))
        assert low - 1e-12 <= weight <= high + 1e-12


def test_band_edge_without_a_band_is_refused():
    targets, valuation = seed()
    with pytest.raises(InputError, match="band-edge mode needs a band"):
        plan_rebalance(valuation, targets, mode="band-edge")


def test_a_per_market_taker_fee_overrides_the_default():
    targets, valuation = seed()
    plan = plan_rebalance(valuation, targets, fee=0.001, rules={"BTC": MarketRules(taker_fee=0.002)})
    assert plan.legs[0].fee == pytest.approx(3.0)
    assert plan.legs[1].fee == pytest.approx(0.5)


@pytest.mark.parametrize("fee, words", [(-0.1, "The fee is -0.1"), (1.5, "The fee is 1.5")])
def test_bad_fees_are_refused(fee, words):
    targets, valuation = seed()
    with pytest.raises(InputError, match=words):
        plan_rebalance(valuation, targets, fee=fee)


def test_band_edge_ignores_float_noise_in_the_quote_weight():
    """1 - (sum of the other weights) can be -1e-16 for a quote with target 0: inside [0, band]."""
    from trimtab.core.planner import band_edge_weights

    targets = Targets.of({"BTC": 0.25, "ETH": 0.25, "SOL": 0.25, "BNB": 0.25})
    weights = {"BTC": 0.3, "ETH": 0.2, "SOL": 0.25, "BNB": 0.25 + 2e-16, "USDC": 0.0}
    desired = band_edge_weights(weights, targets, Band(absolute=0.1))
    assert desired["BTC"] == 0.3 and desired["ETH"] == 0.2  # inside their bands: left alone

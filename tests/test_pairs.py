"""Direct pairs (core/pairs.py): pure routing of a sell and a buy through their own market."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.core.pairs import PairMarket, route_through_pairs
from trimtab.core.plan import Leg, Mode, Plan, Side

ETH_BTC = PairMarket(base="ETH", quote="BTC", fee=0.001, min_value=5.0)
PRICES = {"BTC": 65000.0, "ETH": 2000.0, "SOL": 150.0}


def leg(side: Side, asset: str, value: float, fee: float = 0.001) -> Leg:
    return Leg(side=side, asset=asset, quantity=value / PRICES[asset], price=PRICES[asset], value=value,
               fee=value * fee)


def plan_of(*legs: Leg) -> Plan:
    return Plan(quote="USDT", mode=Mode.TARGET, legs=legs, skipped=(), total_value=20_000.0,
                expected_quantities={}, expected_weights={})


def net_change(routing) -> dict[str, float]:
    """Value moved into (+) or out of (-) each asset by the legs and the pair trades."""
    change: dict[str, float] = {}
    for x in routing.plan.legs:
        change[x.asset] = change.get(x.asset, 0.0) + (x.value if x.side is Side.BUY else -x.value)
    for t in routing.trades:
        change[t.sell] = change.get(t.sell, 0.0) - t.value
        change[t.buy] = change.get(t.buy, 0.0) + t.value
    return change


def test_a_sell_of_eth_and_a_buy_of_btc_go_through_eth_btc_and_the_saving_is_shown():
    # Arrange
    plan = plan_of(leg(Side.SELL, "ETH", 1000.0), leg(Side.BUY, "BTC", 1500.0), leg(Side.BUY, "SOL", 300.0))
    # Act
    routing = route_through_pairs(plan, [ETH_BTC], min_trade=10.0)
    # Assert
    (trade,) = routing.trades
    assert (trade.sell, trade.buy, trade.market, trade.side_on_market) == ("ETH", "BTC", "ETH/BTC", Side.SELL)
    assert trade.value == 1000.0 and routing.saving == pytest.approx(1.0)  # 2.00 via USDT, 1.00 via ETH/BTC
    assert [(x.side, x.asset, x.value) for x in routing.plan.legs] == [(Side.BUY, "BTC", 500.0), (Side.BUY, "SOL", 300.0)]


def test_a_pair_dearer_than_two_legs_is_not_used():
    plan = plan_of(leg(Side.SELL, "ETH", 1000.0), leg(Side.BUY, "BTC", 1000.0))
    routing = route_through_pairs(plan, [PairMarket(base="ETH", quote="BTC", fee=0.003)])
    assert routing.trades == () and routing.plan is plan and routing.saving == 0


def test_a_match_under_the_pairs_minimum_stays_two_legs():
    plan = plan_of(leg(Side.SELL, "ETH", 4.0), leg(Side.BUY, "BTC", 100.0))
    assert route_through_pairs(plan, [ETH_BTC]).trades == ()


def test_buying_the_base_sells_the_quote_of_the_pair():
    plan = plan_of(leg(Side.SELL, "BTC", 800.0), leg(Side.BUY, "ETH", 800.0))
    (trade,) = route_through_pairs(plan, [ETH_BTC]).trades
    assert trade.side_on_market is Side.BUY and routing_is_empty(plan)


def routing_is_empty(plan: Plan) -> bool:
    return route_through_pairs(plan, [ETH_BTC]).plan.legs == ()


@settings(max_examples=200, deadline=None)
@given(sell=st.floats(10, 50_000), buy=st.floats(10, 50_000), other=st.floats(10, 5_000),
       pair_fee=st.floats(0, 0.004), min_trade=st.floats(0, 20))
def test_routing_moves_the_same_value_between_assets_and_saves_exactly_the_fee_difference(
        sell, buy, other, pair_fee, min_trade):
    # Arrange
    plan = plan_of(leg(Side.SELL, "ETH", sell), leg(Side.BUY, "BTC", buy), leg(Side.BUY, "SOL", other))
    original = net_change(route_through_pairs(plan, []))
    # Act
    routing = route_through_pairs(plan, [PairMarket(base="ETH", quote="BTC", fee=pair_fee)], min_trade=min_trade)
    # Assert: each asset gains or loses the same value, up to legs dropped under min_trade
    routed = net_change(routing)
    for asset in ("ETH", "BTC", "SOL"):
        assert math.isclose(routed.get(asset, 0.0), original[asset], abs_tol=min_trade + 1e-6)
    fees = sum(x.fee for x in routing.plan.legs) + sum(t.fee for t in routing.trades)
    assert fees <= plan.fees + 1e-9
    assert routing.saving >= 0

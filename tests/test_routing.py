"""Routing sizes each stage's legs from the venue's truth: never more than is there, never more than planned."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.core.plan import Leg, Side
from trimtab.core.rules import MarketRules
from trimtab.engine import routing
from trimtab.venues.base import Market

CHAINS = ["ethereum", "base", "arbitrum", "solana"]
MARKETS = {a: Market(asset=a, chain=c, rules=MarketRules(amount_step=1e-6, min_notional=10))
           for a, c in (("BTC", "ethereum"), ("ETH", "arbitrum"), ("SOL", "solana"))}
amounts = st.floats(0, 50_000, allow_nan=False)
budgets = st.dictionaries(st.sampled_from(list(MARKETS)), st.floats(0, 20_000, allow_nan=False), min_size=1)
quote_held = st.dictionaries(st.sampled_from(CHAINS), amounts)


def buy(asset, cost):
    return Leg(side=Side.BUY, asset=asset, quantity=cost / 100, price=100.0, value=cost / 1.001, fee=cost - cost / 1.001)


@settings(max_examples=200, deadline=None)
@given(budgets, quote_held)
def test_buys_never_spend_more_quote_than_their_chain_holds(budget, held):
    orders, _ = routing.buy_orders([buy(a, b) for a, b in budget.items()], budget, held, MARKETS)
    for chain in CHAINS:
        spent = math.fsum(o.quote_amount for o in orders if o.chain == chain)
        assert spent <= held.get(chain, 0.0) + 1e-9
    for order in orders:
        assert order.quote_amount <= budget[order.asset] + 1e-9


@settings(max_examples=200, deadline=None)
@given(budgets, quote_held)
def test_quote_bridges_take_only_a_chains_surplus_and_never_feed_a_chain_more_than_it_lacks(budget, held):
    transfers = routing.quote_transfers(budget, held, MARKETS, "USDC")
    need = {}
    for asset, b in budget.items():
        need[MARKETS[asset].chain] = need.get(MARKETS[asset].chain, 0.0) + b
    for chain in CHAINS:
        out = math.fsum(t.quantity for t in transfers if t.chain == chain)
        into = math.fsum(t.quantity for t in transfers if t.to_chain == chain)
        assert out <= max(held.get(chain, 0.0) - need.get(chain, 0.0), 0.0) + 1e-6
        assert into <= max(need.get(chain, 0.0) - held.get(chain, 0.0), 0.0) + 1e-6
        assert out == 0 or into == 0


@given(st.floats(0, 10_000), st.floats(1, 10_000), st.floats(0, 20_000))
def test_buy_budgets_shrink_with_short_proceeds_and_never_grow(quote_before, planned, real):
    legs = [buy("BTC", 0.6 * (quote_before + planned)), buy("ETH", 0.4 * (quote_before + planned))]
    spent = routing.buy_budgets(legs, quote_before=quote_before, planned_proceeds=planned, real_proceeds=real)
    for leg in legs:
        assert spent[leg.asset] <= leg.value + leg.fee + 1e-9
    assert math.fsum(spent.values()) <= quote_before + max(real, 0) + 1e-6 or real >= planned


def test_a_sell_is_capped_at_what_sits_on_its_market_chain():
    sell = Leg(side=Side.SELL, asset="BTC", quantity=0.5, price=65000.0, value=32500.0, fee=32.5)
    orders, skipped = routing.sell_orders([sell], {"BTC": {"ethereum": 0.3, "bitcoin": 1.0}}, MARKETS)
    assert [o.quantity for o in orders] == [0.3] and skipped == []
    bridges = routing.gathering_transfers([sell], {"BTC": {"ethereum": 0.3, "bitcoin": 1.0}}, MARKETS)
    assert [(b.chain, b.to_chain, b.quantity) for b in bridges] == [("bitcoin", "ethereum", 0.2)]


def test_planned_bridges_preview_gathering_then_quote_bridges_and_skip_assets_without_a_market():
    from trimtab.core.plan import Leg, Side
    from trimtab.core.rules import MarketRules
    from trimtab.engine.routing import planned_bridges
    from trimtab.venues.base import Market

    markets = {"BTC": Market(asset="BTC", chain="ethereum", rules=MarketRules()),
               "ETH": Market(asset="ETH", chain="arbitrum", rules=MarketRules())}
    legs = [Leg(side=Side.SELL, asset="BTC", quantity=0.02, price=50000.0, value=1000.0, fee=1.0),
            Leg(side=Side.BUY, asset="ETH", quantity=0.25, price=2000.0, value=500.0, fee=0.5),
            Leg(side=Side.BUY, asset="SOL", quantity=1.0, price=100.0, value=100.0, fee=0.1)]
    holdings = {"BTC": {"bitcoin": 0.05, "ethereum": 0.005}, "USDC": {"base": 10.0}}
    bridges = planned_bridges(legs, holdings, markets, "USDC")
    assert [(stage, s.asset, s.chain, s.to_chain) for stage, s in bridges] == [
        ("gathering", "BTC", "bitcoin", "ethereum"), ("bridging", "USDC", "ethereum", "arbitrum")]
    assert bridges[0][1].quantity == 0.015 and bridges[1][1].quantity == 500.5

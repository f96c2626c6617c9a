"""Properties of the router (core/router.py): where each leg of a consolidated plan trades, and which
quote moves between venues it needs."""

import math
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.core.router import MoveCost, quote_moves, route

VENUES = ["a", "b", "c"]
ASSETS = ["BTC", "ETH", "SOL"]


@dataclass(frozen=True)
class L:
    side: str
    asset: str
    quantity: float
    price: float
    value: float
    fee: float


money = st.floats(min_value=0, max_value=50_000, allow_nan=False)


@st.composite
def cases(draw, *, every_market=False):
    held = {v: {"USDC": draw(money), **{a: draw(st.floats(0, 5)) for a in ASSETS}} for v in VENUES}
    fees = {a: {v: draw(st.sampled_from([0.0005, 0.001, 0.002])) for v in VENUES
                if every_market or draw(st.booleans())} for a in ASSETS}
    fees = {a: f or {"a": 0.001} for a, f in fees.items()}
    prices = {a: draw(st.floats(1, 1000)) for a in ASSETS}
    legs = []
    for asset in ASSETS:
        side = draw(st.sampled_from(["buy", "sell", "none"]))
        if side == "sell":
            sellable = sum(held[v][asset] for v in fees[asset])
            quantity = draw(st.floats(0, 1)) * sellable
            if quantity > 0:
                value = quantity * prices[asset]
                legs.append(L("sell", asset, quantity, prices[asset], value, value * 0.001))
        elif side == "buy":
            value = draw(st.floats(1, 20_000))
            legs.append(L("buy", asset, value / prices[asset], prices[asset], value, value * 0.001))
    costs = {(s, d): draw(st.one_of(st.none(), st.builds(MoveCost, fee_rate=st.sampled_from([0.0, 0.001, 0.01]),
                                                           fixed_fee=st.sampled_from([0.0, 1.0]),
                                                           minutes=st.sampled_from([5.0, 60.0]))))
             for s in VENUES for d in VENUES if s != d}
    return held, fees, legs, costs


def quote_change(legs):
    return math.fsum(x.value - x.fee if x.side == "sell" else -(x.value + x.fee) for x in legs)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_never_a_move_the_composite_says_is_impossible_and_never_an_overspent_venue(case):
    held, fees, legs, costs = case
    result = route(legs, held, "USDC", fees, lambda s, d: costs[(s, d)])
    for move in result.moves:
        assert costs[(move.from_venue, move.to_venue)] is not None
        assert move.amount > 0 and 0 <= move.fee <= move.amount
    after = result.quote_after({v: held[v]["USDC"] for v in VENUES})
    assert all(q >= -1e-6 * (1 + held[v]["USDC"]) for v, q in after.items()), after
    for leg in result.legs:  # a leg trades where the asset has a market; a sell where the asset sits
        assert leg.venue in fees[leg.asset]
        if leg.side == "sell":
            assert leg.quantity <= held[leg.venue][leg.asset] * (1 + 1e-12)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_quote_is_conserved_minus_the_moves_fees(case):
    held, fees, legs, costs = case
    result = route(legs, held, "USDC", fees, lambda s, d: costs[(s, d)])
    before = math.fsum(held[v]["USDC"] for v in VENUES)
    after = math.fsum(result.quote_after({v: held[v]["USDC"] for v in VENUES}).values())
    assert math.isclose(after, before + quote_change(result.legs) - result.move_fees, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_total_traded_per_asset_is_the_plans_unless_a_shortfall_is_named(case):
    held, fees, legs, costs = case
    result = route(legs, held, "USDC", fees, lambda s, d: costs[(s, d)])
    short = {s.asset: s.amount for s in result.shortfalls}
    for leg in legs:
        routed = math.fsum(x.value for x in result.legs if x.asset == leg.asset and x.side == leg.side)
        if leg.side == "sell":
            assert math.isclose(routed, leg.value, rel_tol=1e-9, abs_tol=1e-9)
        else:
            missing = (leg.value + leg.fee) - math.fsum(x.value + x.fee for x in result.legs
                                                        if x.asset == leg.asset and x.side == "buy")
            assert missing <= short.get(leg.asset, 0.0) + 1.0 + 1e-6  # at most the named shortfall (or dust)
            assert routed <= leg.value * (1 + 1e-9)


@settings(max_examples=300, deadline=None)
@given(cases(every_market=True))
def test_no_move_when_every_venue_can_fund_its_own_buys(case):
    held, fees, legs, costs = case
    need = math.fsum(x.value + x.fee for x in legs if x.side == "buy")
    rich = {v: {**held[v], "USDC": held[v]["USDC"] + need} for v in VENUES}
    result = route(legs, rich, "USDC", fees, lambda s, d: costs[(s, d)])
    assert result.moves == () and result.shortfalls == ()


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(VENUES), money, min_size=1), st.dictionaries(st.sampled_from(VENUES), money),
       st.sampled_from([0.0, 0.001, 0.01]))
def test_moves_sized_from_balances_only_leave_venues_with_a_surplus(available, need, rate):
    moves = quote_moves(need, available, lambda s, d: MoveCost(fee_rate=rate))
    for v in available:
        out = math.fsum(m.amount for m in moves if m.from_venue == v)
        assert out <= max(available[v] - need.get(v, 0.0), 0.0) + 1e-6
    if all(available.get(v, 0.0) >= n for v, n in need.items()):
        assert moves == []


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(VENUES), st.fixed_dictionaries({"USDC": money, "BTC": st.floats(0, 2),
                                                                       "ETH": st.floats(0, 20)}), min_size=2),
       st.sampled_from([[["a"], ["b"], ["c"]], [["a", "b"], ["c"]], [["a", "b", "c"]]]),
       st.floats(0.05, 0.8), st.floats(0.05, 0.15))
def test_reachable_targets_stay_within_each_islands_capital_and_sum_to_one(held, groups, btc, eth):
    from trimtab.core.assets import Targets
    from trimtab.engine.venue_plan import reachable_targets

    groups = [[v for v in g if v in held] for g in groups]
    groups = [g for g in groups if g]
    prices = {"BTC": 60000.0, "ETH": 3000.0}
    targets = Targets.of({"BTC": btc, "ETH": eth, "USDC": 1 - btc - eth})
    tradeable = {"BTC": [v for v in held if v != "a"] or ["a"], "ETH": list(held)}
    reached, gap = reachable_targets(targets, held, prices, tradeable, groups)
    total = sum(q * (1.0 if x == "USDC" else prices[x]) for v in held.values() for x, q in v.items())
    assert math.isclose(sum(reached.weights.values()), 1.0, abs_tol=1e-9)
    assert all(w >= -1e-12 for w in reached.weights.values())
    if len(groups) == 1:
        assert reached == targets and gap is None
    if total > 0:  # BTC can only sit in islands that trade it, and no more than their whole capital
        room = sum(q * (1.0 if x == "USDC" else prices[x]) for g in groups if any(v in tradeable["BTC"] for v in g)
                   for v in g for x, q in held[v].items())
        dust = max(1.0, total * 1e-6)  # a gap smaller than this leaves the targets as they are
        assert reached.weights["BTC"] * total <= room + dust + 1e-6 * (1 + total)
    if gap is not None:
        assert gap["amount"] > 0 and gap["from"] != gap["to"]


def test_a_sell_goes_where_its_proceeds_can_fund_the_buys_rather_than_where_they_would_be_stranded():
    # BTC sits on perps (cheaper fee, but its margin can go nowhere) and on the exchange, where ETH is bought
    held = {"perps": {"USDC": 0.0, "BTC": 1.0}, "exchange": {"USDC": 0.0, "BTC": 1.0}}
    fees = {"BTC": {"perps": 0.00055, "exchange": 0.001}, "ETH": {"exchange": 0.001}}
    legs = [L("sell", "BTC", 0.5, 60000.0, 30000.0, 30.0), L("buy", "ETH", 9.0, 3000.0, 27000.0, 27.0)]
    result = route(legs, held, "USDC", fees, lambda s, d: None)
    assert [(x.venue, x.side, x.asset) for x in result.legs] == [("exchange", "sell", "BTC"), ("exchange", "buy", "ETH")]
    assert result.moves == () and result.shortfalls == ()

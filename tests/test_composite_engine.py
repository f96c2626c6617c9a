"""Rebalancing one portfolio across venues in process: real paper accounts, real journal, the real
executor; value read from the venues' side."""

import math

import pytest
from composite_setup import make_agent, make_composite, value

from trimtab.core.rules import MarketRules
from trimtab.engine.guards import Guards, VenueGuard
from trimtab.errors import Denied
from trimtab.venues.base import Market, consolidate
from trimtab.venues.composite import CompositeVenue
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings
from paper_setup import START

TARGETS = {"BTC": 0.4, "ETH": 0.3, "SOL": 0.1, "USDC": 0.2}


def lost_to_costs(journal, run_id: str) -> float:
    """What the run's fills and transfers cost, as the journal recorded the venues' answers."""
    fills = journal.fills([run_id])
    transfers = journal.transfers([run_id])
    return (math.fsum(f["fee"] + f["slippage"] for f in fills)
            + math.fsum(t["fee"] for t in transfers if t["asset"] == "USDC"))


def test_a_buy_only_one_venue_trades_is_funded_by_a_move_and_value_is_conserved_to_the_cent(tmp_path):
    # Arrange: ETH trades only on the wallet, whose own quote cannot pay for the buy
    venue = make_composite(tmp_path, exchange_assets=("BTC", "SOL"))
    agent = make_agent(venue, tmp_path, TARGETS)
    before = value(venue)
    # Act
    result = agent.rebalance()
    # Assert
    outcome = result.outcome
    assert outcome.state == "completed", outcome.reason
    moves = [leg for leg in outcome.legs if leg.kind == "transfer" and leg.chain.split(":")[0] != leg.to_chain.split(":")[0]]
    assert [(m.chain, m.to_chain, m.state) for m in moves] == [("exchange:spot", "wallet:arbitrum", "arrived")]
    assert value(venue) == pytest.approx(before - lost_to_costs(agent.journal, outcome.run_id), abs=0.01)
    after = agent.assess()
    assert after.drift.max_drift < 0.01
    assert venue.in_transit() == ()


def test_no_move_when_each_venue_can_fund_its_own_buys(tmp_path):
    venue = make_composite(tmp_path)  # the exchange trades ETH too and holds quote
    agent = make_agent(venue, tmp_path, TARGETS)
    before = value(venue)
    outcome = agent.rebalance().outcome
    assert outcome.state == "completed", outcome.reason
    assert not [leg for leg in outcome.legs if leg.kind == "transfer" and leg.chain[:6] != leg.to_chain[:6]]
    assert value(venue) == pytest.approx(before - lost_to_costs(agent.journal, outcome.run_id), abs=0.01)
    assert agent.assess().drift.max_drift < 0.01


def wallet_and_perps(tmp_path) -> CompositeVenue:
    """Mirrors Purple Flea: a wallet (ETH on ethereum) and a perps account (BTC exposure, USDC margin)
    that can neither send nor receive: no move between them is possible."""
    settings = dict(fee=0.001, slippage_bps=5, clock_speed=0, bridge_fee=0.0005)
    rules = MarketRules(amount_step=1e-5, min_notional=10)
    wallet = PaperVenue.create(tmp_path / "wallet.db", holdings={"ETH": {"ethereum": 3.0}, "USDC": {"ethereum": 1000.0}},
                               prices={"ETH": 2000.0, "BTC": 65000.0},
                               markets={"ETH": Market(asset="ETH", chain="ethereum", rules=rules)},
                               settings=PaperSettings(**settings), start=START)
    perps = PaperVenue.create(tmp_path / "perps.db", holdings={"BTC": {"hyperliquid": 0.01},
                                                              "USDC": {"hyperliquid": 1000.0}},
                              prices={"ETH": 2000.0, "BTC": 65000.0},
                              markets={"BTC": Market(asset="BTC", chain="hyperliquid", rules=rules)},
                              settings=PaperSettings(**settings, can_send=False, can_receive=False), start=START)
    return CompositeVenue({"wallet": wallet, "perps": perps}, kinds={"wallet": "paper", "perps": "paper"})


def test_where_no_move_is_possible_each_venue_rebalances_within_its_own_capital_and_says_which_move_is_missing(tmp_path):
    # Arrange: BTC at 50% needs far more than the perps account's 1,650 of capital
    venue = wallet_and_perps(tmp_path)
    agent = make_agent(venue, tmp_path, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
    wallet_before, perps_before = (value(CompositeVenue({n: venue.members[n]})) for n in ("wallet", "perps"))
    # Act
    assessment = agent.assess()
    outcome = agent.rebalance().outcome
    # Assert: one sentence naming the move and why it cannot be made; no move was tried
    assert assessment.note.count(".") == 1 or assessment.note.endswith("instead.")
    assert "from wallet to perps" in assessment.note and "cannot receive" in assessment.note
    assert outcome.state == "completed", outcome.reason
    assert not [leg for leg in outcome.legs if leg.kind == "transfer"]
    held = consolidate(venue.balances())
    perps_btc_value = held["BTC"] * 65000.0
    assert perps_btc_value == pytest.approx(perps_before, rel=0.01)  # all of perps' capital is BTC exposure
    assert held["ETH"] * 2000.0 == pytest.approx(0.3 * (wallet_before + perps_before), rel=0.01)
    # each venue's capital stayed its own (less fees)
    assert value(CompositeVenue({"wallet": venue.members["wallet"]})) == pytest.approx(wallet_before, rel=0.005)
    assert value(CompositeVenue({"perps": venue.members["perps"]})) == pytest.approx(perps_before, rel=0.005)


def test_a_venues_own_kill_switch_and_cap_refuse_its_part_of_a_plan_naming_it(tmp_path):
    venue = make_composite(tmp_path, exchange_assets=("BTC", "SOL"))
    capped = make_agent(venue, tmp_path, TARGETS, guards=Guards(venues={"exchange": VenueGuard(max_run_value=100.0)}))
    with pytest.raises(Denied) as refused:
        capped.rebalance()
    assert refused.value.code == "RUN_CAP" and "venue exchange" in str(refused.value)
    venue2 = make_composite(tmp_path / "2", exchange_assets=("BTC", "SOL"))
    stopped = make_agent(venue2, tmp_path / "2",
                         TARGETS, guards=Guards(venues={"wallet": VenueGuard(kill_switch=True)}))
    with pytest.raises(Denied) as killed:
        stopped.rebalance()
    assert killed.value.code == "KILL_SWITCH" and "venue wallet" in str(killed.value)
    listed = make_agent(make_composite(tmp_path / "3", exchange_assets=("BTC", "SOL")), tmp_path / "3", TARGETS,
                        guards=Guards(venues={"exchange": VenueGuard(allowed_assets=frozenset({"BTC", "USDC"}))}))
    with pytest.raises(Denied) as outside:
        listed.rebalance()
    assert outside.value.code == "ASSET_NOT_ALLOWED" and "SOL on venue exchange" in str(outside.value)


def test_a_move_on_its_way_is_counted_in_the_portfolios_value_so_it_shows_no_false_loss(tmp_path):
    venue = make_composite(tmp_path)
    agent = make_agent(venue, tmp_path, TARGETS)
    before = agent.assess().valuation.total_value
    venue.transfer("USDC", 500.0, "wallet:ethereum", "exchange:spot", "m-9")
    during = agent.assess()
    assert during.valuation.total_value == pytest.approx(before - 0.5, abs=1e-9)  # only the move's fee is gone
    assert [(t.from_chain, t.to_chain) for t in during.valuation.in_transit] == [("wallet:ethereum", "exchange:spot")]


def test_an_agents_plan_is_refused_at_planning_when_a_venues_part_trades_an_asset_that_venue_does_not_allow(tmp_path):
    from trimtab.engine.approvals import Guardrails, PlanDesk

    venue = make_composite(tmp_path, exchange_assets=("BTC", "SOL"))
    agent = make_agent(venue, tmp_path, TARGETS,
                       guards=Guards(venues={"exchange": VenueGuard(allowed_assets=frozenset({"BTC", "USDC"}))}))
    desk = PlanDesk(agent, Guardrails())
    with pytest.raises(Denied) as refused:
        desk.plan()
    assert refused.value.code == "ASSET_NOT_ALLOWED" and "SOL on venue exchange" in str(refused.value)
    assert agent.journal.plans(agent.portfolio) == []

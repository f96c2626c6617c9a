"""A wallet + perps portfolio on the Purple Flea fakes (127.0.0.1): no move between them is possible
(contract §1, §5), so each venue is rebalanced within its own capital and the plan says which move
would be needed, never trying it."""

import math

import pytest
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from purpleflea_setup import RunningClock, fund_wallet, seed_positions, trading_venue, wallet_venue

from trimtab.core.assets import Targets
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.engine.agent import Agent, Strategy
from trimtab.engine.executor import Executor
from trimtab.journal import Journal
from trimtab.venues.base import consolidate
from trimtab.venues.composite import CompositeVenue


def worth(venue) -> float:
    held = consolidate(venue.balances())
    prices = venue.prices([a for a in held if a != "USDC"])
    return math.fsum(q * (1.0 if a == "USDC" else prices[a].price) for a, q in held.items())


def test_wallet_and_perps_are_balanced_within_their_own_capital_and_the_missing_move_is_named(tmp_path, purpleflea):
    # Arrange: BTC at 80% of the whole needs more than the perps account holds
    fund_wallet(purpleflea.wallet)
    perps = trading_venue(purpleflea.trading, tmp_path)
    seed_positions(perps)
    wallet = wallet_venue(purpleflea.wallet, tmp_path)
    venue = CompositeVenue({"wallet": wallet, "perps": perps},
                           kinds={"wallet": "purpleflea-wallet", "perps": "purpleflea-trading"})
    journal = Journal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    strategy = Strategy(targets=Targets.of({"BTC": 0.8, "ETH": 0.1, "SOL": 0.02, "USDC": 0.08}),
                        policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05), fee=0.001, direct_pairs=False)
    agent = Agent(venue, journal, strategy, Executor(venue, journal), tmp_path / "trimtab.lock")
    wallet_before, perps_before = worth(wallet), worth(perps)
    with RunningClock(purpleflea.clock):
        # Act
        assessment = agent.assess()
        outcome = agent.rebalance().outcome
    # Assert: one sentence, the contract's reason; no move tried; each venue kept its own capital
    note = assessment.note
    assert note is not None and "from wallet to perps" in note and "neither Purple Flea API moves funds into Hyperliquid margin" in note
    assert outcome is not None and outcome.state == "completed", outcome and outcome.reason
    assert not [leg for leg in outcome.legs if leg.kind == "transfer" and leg.chain[:5] != leg.to_chain[:5]]
    assert worth(perps) == pytest.approx(perps_before, rel=0.01)
    assert worth(wallet) == pytest.approx(wallet_before, rel=0.02)
    perps_held = consolidate(perps.balances())
    prices = perps.prices(["BTC"])
    assert perps_held["BTC"] * prices["BTC"].price > 0.9 * worth(perps)  # perps' capital went to BTC exposure


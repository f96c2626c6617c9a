"""How the Purple Flea wallet venue confirms a swap: from a balance the venue shows, never from a
status word alone; not from a deposit someone else made; and within one status budget shared by
every trimtab process on the machine. Against the wallet fake over HTTP on 127.0.0.1, on the fake's
own clock (waits take no real time). Each test failed before its fix.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from purpleflea_setup import SEND, SWAP, evm_wallet, held, paced_wallet_agent, paced_wallet_venue

from trimtab.core.plan import Side
from trimtab.errors import NeedsAttention, VenueUnavailable


@pytest.fixture
def wallet(purpleflea):
    """A wallet holding 0.2 ETH and 20 USDC on base, 3,000 USDC and 0.01 ETH on ethereum."""
    return evm_wallet(purpleflea)


def owner_deposits(wallet, chain: str, asset: str, amount: str) -> None:
    """Someone (the owner, say) sends ``amount`` to the wallet from outside: not a swap of ours."""
    wallet.set_balance(chain, wallet.evm, asset, held(wallet, chain, asset) + Decimal(amount))


# -- (a) a "completed" word is not an arrival ----------------------------------------------------------

def test_a_bridge_whose_status_says_completed_before_the_balance_shows_it_stays_in_transit(wallet, purpleflea,
                                                                                          tmp_path):
    """Wagyu says completed at 180 s but the USDC reaches base only 120 s later: until then the
    bridge is in transit, not arrived with money the wallet does not hold."""
    # Arrange
    wallet.wagyu.credit_lag_seconds = 120
    venue = paced_wallet_venue(purpleflea, tmp_path)
    before = held(wallet, "base", "USDC")
    venue.transfer("USDC", 400.0, "ethereum", "base", "b-00")
    # Act
    purpleflea.clock.advance(200)
    early = venue.transfer_status("b-00")
    purpleflea.clock.advance(120)
    late = venue.transfer_status("b-00")
    # Assert
    assert wallet.wagyu.orders[0].state == "completed"
    assert str(early.status) == "in_transit"
    assert str(late.status) == "arrived"
    assert late.received == pytest.approx(float(held(wallet, "base", "USDC") - before))  # read from the fake


def test_a_sell_whose_status_says_completed_waits_for_the_usdc_to_arrive(wallet, purpleflea, tmp_path):
    """The order is filled only when the USDC it fetched is in the balance (the value is the venue's)."""
    # Arrange
    wallet.wagyu.credit_lag_seconds = 90
    venue = paced_wallet_venue(purpleflea, tmp_path)
    usdc_before = held(wallet, "base", "USDC")
    seen: list[Decimal] = []
    venue.wait = lambda s: (purpleflea.clock.sleep(s), seen.append(held(wallet, "base", "USDC")))
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="s-00")
    # Assert
    received = held(wallet, "base", "USDC") - usdc_before
    assert received > 340 and order.fee == pytest.approx(350.0 - float(received), abs=1e-6)
    assert purpleflea.clock.now() >= wallet.wagyu.orders[0].completed_at + 90  # it waited for the money
    assert len(wallet.requests_to(*SWAP)) == 1 and len(wallet.requests_to(*SEND)) == 1


def test_a_completed_swap_that_never_arrives_needs_attention_and_is_never_sent_again(wallet, purpleflea, tmp_path):
    """A status that says completed while nothing ever arrives is not a fill: after a bounded wait
    the venue raises NeedsAttention, and asking again sends nothing."""
    # Arrange
    wallet.wagyu.credit_lag_seconds = float("inf")
    venue = paced_wallet_venue(purpleflea, tmp_path)
    # Act
    with pytest.raises(NeedsAttention, match="completed"):
        venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="s-01")
    with pytest.raises(NeedsAttention):
        venue.get_order("s-01")
    # Assert
    assert len(wallet.requests_to(*SWAP)) == 1 and len(wallet.requests_to(*SEND)) == 1


def test_a_rebalance_whose_bridge_says_completed_but_never_arrives_parks_in_needs_attention(wallet, purpleflea,
                                                                                            tmp_path, monkeypatch):
    """Through the executor: the run stops in needs_attention (a person must look); the buy that
    would have spent the missing USDC is never sent."""
    # Arrange
    monkeypatch.setattr("time.sleep", purpleflea.clock.sleep)
    wallet.wagyu.credit_lag_seconds = float("inf")
    agent = paced_wallet_agent(purpleflea, tmp_path)
    # Act
    outcome = agent.rebalance().outcome
    # Assert
    assert outcome is not None and outcome.state == "needs_attention", outcome
    assert [(leg.kind, leg.state) for leg in outcome.legs if leg.state != "cancelled"][0] == \
        ("transfer", "needs_attention")
    assert len(wallet.requests_to(*SWAP)) == 1 and len(wallet.requests_to(*SEND)) == 1


# -- (c) someone else's deposit is not our arrival ----------------------------------------------------

def test_an_owners_deposit_during_a_bridge_does_not_confirm_it(wallet, purpleflea, tmp_path):
    """No status can be read; the owner sends 500 USDC to base while 400 USDC travel there: the
    bridge stays in transit (the rise is not what it was to bring), and arrives when Wagyu's status
    and the balance both show it."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.wagyu.other_clients["status"] = 20  # every status read of ours is refused
    wallet.wagyu.delay_seconds = 900
    venue.transfer("USDC", 400.0, "ethereum", "base", "b-01")
    # Act
    purpleflea.clock.advance(300)
    owner_deposits(wallet, "base", "USDC", "500")
    during = venue.transfer_status("b-01")
    purpleflea.clock.advance(700)  # the bridge lands on top of the owner's deposit
    landed_unreadable = venue.transfer_status("b-01")
    wallet.wagyu.other_clients["status"] = 0
    purpleflea.clock.advance(60)
    readable = venue.transfer_status("b-01")
    # Assert
    assert str(during.status) == "in_transit"
    assert str(landed_unreadable.status) == "in_transit"  # 897 USDC more: not proof of 397 by itself
    assert str(readable.status) == "arrived" and readable.received == pytest.approx(400 * 0.993)
    assert held(wallet, "base", "USDC") == Decimal(20) + Decimal(500) + 400 * Decimal("0.993")


def test_an_owners_deposit_during_a_sell_does_not_fill_it_early(wallet, purpleflea, tmp_path):
    """A sell whose status cannot be read: an owner's 1,000 USDC landing before the swap does not
    fill the order; it completes from Wagyu's word once readable, with the balance showing it."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path, swap_timeout=600.0)
    wallet.wagyu.other_clients["status"] = 20
    wallet.wagyu.delay_seconds = 400
    waits: list[float] = []

    def wait(seconds: float) -> None:
        if not waits:
            owner_deposits(wallet, "base", "USDC", "1000")
        waits.append(seconds)
        purpleflea.clock.sleep(seconds)

    venue.wait = wait
    began = purpleflea.clock.now()
    # Act: still pending at swap_timeout (status unreadable, the rise not ours alone), then readable
    with pytest.raises(VenueUnavailable, match="asking again resumes"):
        venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="s-02")
    waited = purpleflea.clock.now() - began
    wallet.wagyu.other_clients["status"] = 0
    purpleflea.clock.advance(60)
    order = venue.get_order("s-02")
    # Assert
    assert waited >= 600  # the owner's deposit in the first minute filled nothing
    assert order.quantity == pytest.approx(0.1) and len(wallet.requests_to(*SEND)) == 1


# -- (b) one status budget for every process sharing the ledger --------------------------------------

def test_two_venues_sharing_one_ledger_keep_to_one_status_budget(wallet, purpleflea, tmp_path):
    """`trimtab run` and an MCP server on one config are two processes, two venues, one ledger file:
    together they read status at most ``status_per_minute`` times in any minute."""
    # Arrange
    first = paced_wallet_venue(purpleflea, tmp_path, status_per_minute=10)
    second = paced_wallet_venue(purpleflea, tmp_path, status_per_minute=10)  # another process's venue
    wallet.wagyu.delay_seconds = 900
    first.transfer("USDC", 400.0, "ethereum", "base", "b-02")
    # Act
    for _ in range(3):
        for _ in range(15):
            first.transfer_status("b-02")
            second.transfer_status("b-02")
        purpleflea.clock.advance(30)
    # Assert
    assert wallet.wagyu.busiest_minute("status") <= 10
    assert all(ok for kind, _, ok in wallet.wagyu.log if kind == "status")

"""Moves between real venues through the composite venue, in process, on the linked fakes: a move
found again by a fresh composite (after a restart) reaches the right venue and is confirmed there,
never sent twice."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from fakes.binance_spot import BinanceSpotFake
from fakes.binance_wire import SpotMarket
from fakes.chain_network import ChainNetwork
from fakes.fixtures import make_ccxt_binance
from fakes.purpleflea import FakeClock, running_purpleflea
from purpleflea_setup import paced_wallet_venue

from trimtab.venues.base import TransferStatus
from trimtab.venues.ccxt_venue import CcxtVenue
from trimtab.venues.composite import CompositeVenue
from trimtab.venues.purpleflea_ledger import Ledger


@pytest.fixture
def linked(tmp_path):
    network = ChainNetwork(FakeClock(time.time()))
    with running_purpleflea(network=network) as pf, BinanceSpotFake(
            markets=[SpotMarket("BTC", "USDC", Decimal(97000))], balances={"USDC": 1000}, network=network) as binance:
        addresses = pf.wallet.create_wallet()["addresses"]
        pf.wallet.set_balance("base", addresses["base"], "ETH", "1")
        pf.wallet.set_balance("base", addresses["base"], "USDC", "500")

        def composite() -> CompositeVenue:  # a new process: new handles on the same ledgers
            wallet = paced_wallet_venue(pf, tmp_path, chains=("base",))
            exchange = CcxtVenue(make_ccxt_binance(binance.url, enableRateLimit=False), quote="USDC", assets=["BTC"],
                                 ledger=Ledger(tmp_path / "binance.db"), history_seconds=0)
            return CompositeVenue({"wallet": wallet, "binance": exchange})

        yield network, pf, binance, addresses, composite


def test_wallet_to_exchange_move_is_confirmed_by_the_exchange_after_a_restart(linked):
    network, pf, binance, _, composite = linked
    started = composite().transfer("USDC", 200.0, "wallet:base", "binance:binance", "mv-1")
    assert started.status is TransferStatus.IN_TRANSIT and started.to_chain == "binance:binance"
    fresh = composite()
    pending = fresh.transfer_status("mv-1")
    assert pending.to_chain == "binance:binance" and pending.status is TransferStatus.IN_TRANSIT
    network.clock.advance(network.delays["base"])
    assert fresh.transfer_status("mv-1").status is TransferStatus.ARRIVED
    assert binance.balances["USDC"] == Decimal(1200)
    assert len(pf.wallet.requests_to("/v1/wallet/send", "POST")) == 1


def test_exchange_to_wallet_move_is_found_by_a_fresh_composite_and_arrives_once(linked):
    network, pf, binance, addresses, composite = linked
    composite().transfer("USDC", 300.0, "binance:binance", "wallet:base", "mv-2")
    fresh = composite()
    assert fresh.transfer_status("mv-2").to_chain == "wallet:base"
    network.clock.advance(binance.withdraw_seconds)
    assert fresh.transfer_status("mv-2").status is TransferStatus.IN_TRANSIT  # broadcast, not confirmed
    network.clock.advance(network.delays["base"])
    done = fresh.transfer_status("mv-2")
    assert done.status is TransferStatus.ARRIVED and done.received == pytest.approx(299.8)
    assert pf.wallet.balance("base", addresses["base"], "USDC") == Decimal("799.8")
    assert len(binance.requests_to("/sapi/v1/capital/withdraw/apply", "POST")) == 1


def test_a_move_into_the_wallet_arrives_when_the_wallet_balance_shows_it_not_when_the_exchange_says_so(linked):
    """Binance says "completed" once its transaction is out; the wallet API lists no incoming
    transfers, so only the wallet's balance proves the move: until it rises the move is in transit."""
    network, pf, binance, addresses, composite = linked
    binance.completes_at_broadcast = True
    composite().transfer("USDC", 300.0, "binance:binance", "wallet:base", "mv-3")
    network.clock.advance(binance.withdraw_seconds)
    fresh = composite()
    assert fresh.members["binance"].sent("mv-3").status is TransferStatus.ARRIVED  # the exchange's word
    assert fresh.transfer_status("mv-3").status is TransferStatus.IN_TRANSIT  # the wallet shows 500 still
    network.clock.advance(network.delays["base"])
    done = composite().transfer_status("mv-3")
    assert done.status is TransferStatus.ARRIVED and done.received == pytest.approx(299.8)
    assert pf.wallet.balance("base", addresses["base"], "USDC") == Decimal("799.8")


def test_a_move_into_the_wallet_is_not_sent_while_the_balance_that_would_prove_it_cannot_be_read(linked):
    from trimtab.errors import VenueUnavailable

    network, pf, binance, addresses, composite = linked
    pf.wallet.fail_lookup("base", addresses["base"])
    with pytest.raises(VenueUnavailable, match="cannot be read"):
        composite().transfer("USDC", 300.0, "binance:binance", "wallet:base", "mv-4")
    assert binance.requests_to("/sapi/v1/capital/withdraw/apply", "POST") == []  # nothing left the exchange
    assert binance.balances["USDC"] == Decimal(1000)


def test_an_owners_deposit_landing_with_the_move_does_not_prove_it_without_the_exchanges_word(linked):
    """A rise larger than our move is someone else's money too: proof only with the exchange's word."""
    network, pf, binance, addresses, composite = linked
    composite().transfer("USDC", 300.0, "binance:binance", "wallet:base", "mv-5")
    pf.wallet.set_balance("base", addresses["base"], "USDC", "1500")  # the owner added 1,000 meanwhile
    assert composite().transfer_status("mv-5").status is TransferStatus.IN_TRANSIT  # the exchange: processing
    network.clock.advance(binance.withdraw_seconds)
    assert composite().transfer_status("mv-5").status is TransferStatus.IN_TRANSIT  # broadcast
    network.clock.advance(network.delays["base"])
    assert composite().transfer_status("mv-5").status is TransferStatus.ARRIVED  # 1,799.8 and Binance's 6

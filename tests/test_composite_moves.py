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

"""The ccxt venue's moves (deposit address, withdrawal, its lookup) against the Binance-dialect fake on
127.0.0.1, through real ccxt: each withdrawal made once, whatever happens to its answer."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest
from fakes.binance_spot import BinanceSpotFake
from fakes.binance_wire import SpotMarket
from fakes.chain_network import ChainNetwork
from fakes.fixtures import make_ccxt_binance

from trimtab.errors import BelowMinimum, OrderRejected, UnknownOrder, Unsupported, VenueUnavailable
from trimtab.venues.base import TransferStatus
from trimtab.venues.ccxt_errors import translate
from trimtab.venues.ccxt_venue import Capability, CcxtVenue
from trimtab.venues.purpleflea_ledger import Ledger

WALLET = "0x" + "ab" * 20
APPLY = "/sapi/v1/capital/withdraw/apply"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()  # the exchange stamps rows with its own (real) clock

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path):
    network = ChainNetwork()
    with BinanceSpotFake(markets=[SpotMarket("ETH", "USDC", Decimal(2000))], balances={"USDC": 1000, "ETH": 1},
                         network=network) as server:
        clock = Clock()

        def venue(**kwargs):
            exchange = make_ccxt_binance(server.url, enableRateLimit=False, timeout=2000)
            return CcxtVenue(exchange, quote="USDC", assets=["ETH"], ledger=Ledger(tmp_path / "ledger.db"),
                             history_seconds=0, clock=clock, retries=0, backoff=0, **kwargs)

        yield server, network, venue, clock


def applies(server):
    return len(server.requests_to(APPLY, "POST"))


def test_deposit_address_per_chain_and_unsupported_network(setup):
    server, _, venue, _ = setup
    v = venue()
    base = v.deposit_address("USDC", "base")
    assert base == server.deposit_address_of("USDC", "BASE")
    assert server.requests_to("/sapi/v1/capital/deposit/address")[-1].query["network"] == "BASE"
    with pytest.raises(Unsupported, match="no network code for chain 'monero'"):
        v.deposit_address("USDC", "monero")


def test_withdrawal_carries_our_id_is_recorded_first_and_never_repeated(setup):
    server, network, venue, clock = setup
    v = venue()
    t = v.send("USDC", 100, "base", WALLET, "mv-1")
    assert t.status is TransferStatus.IN_TRANSIT and t.amount == 100
    body = server.requests_to(APPLY, "POST")[0].body.decode()
    assert "withdrawOrderId=mv-1" in body and "network=BASE" in body
    again = v.send("USDC", 100, "base", WALLET, "mv-1")  # a second call answers from the record
    assert again.client_id == "mv-1" and applies(server) == 1
    assert v.sent("mv-1").fee == pytest.approx(0.2)
    network.clock.advance(server.withdraw_seconds)
    assert v.sent("mv-1").status is TransferStatus.IN_TRANSIT  # broadcast, not yet confirmed
    network.clock.advance(network.delays["base"])
    done = venue().sent("mv-1")  # a new handle (after a restart) reads the same record
    assert done.status is TransferStatus.ARRIVED and done.received == pytest.approx(99.8)
    assert server.balances["USDC"] == Decimal(900) and applies(server) == 1


@pytest.mark.parametrize("mode", ["close", "502", "500"])
def test_lost_answer_is_found_by_client_id_not_sent_again(setup, mode):
    server, _, venue, _ = setup
    server.drop_response_of_next(APPLY, mode)
    v = venue()
    t = v.send("USDC", 100, "base", WALLET, "mv-lost")
    assert t.status is TransferStatus.IN_TRANSIT and t.fee == pytest.approx(0.2)
    assert v.send("USDC", 100, "base", WALLET, "mv-lost").client_id == "mv-lost"
    assert applies(server) == 1 and len(server.withdrawal_by_client_id("mv-lost")) == 1


def test_refused_before_the_effect_stays_pending_until_settled_then_is_unknown(setup):
    server, _, venue, clock = setup
    server.fail_next(APPLY, 503, method="POST")  # refused unprocessed, but the client cannot know that
    v = venue(settle_seconds=120)
    with pytest.raises(VenueUnavailable, match="never withdrawing twice"):
        v.send("USDC", 100, "base", WALLET, "mv-503")
    with pytest.raises(VenueUnavailable):
        v.sent("mv-503")
    assert applies(server) == 1
    clock.now += 121
    with pytest.raises(UnknownOrder, match="never made"):
        v.sent("mv-503")
    v.send("USDC", 100, "base", WALLET, "mv-503")  # only now may it be sent, once
    assert applies(server) == 2 and len(server.withdrawal_by_client_id("mv-503")) == 1


def test_history_read_failing_is_not_news(setup):
    server, _, venue, _ = setup
    v = venue()
    v.send("USDC", 100, "base", WALLET, "mv-r")
    server.fail_next("/sapi/v1/capital/withdraw/history", 429)
    with pytest.raises(Exception) as caught:
        v.sent("mv-r")
    assert getattr(caught.value, "retryable", False)
    assert v.sent("mv-r").client_id == "mv-r" and applies(server) == 1


def test_exchange_without_withdrawal_client_id_matches_address_amount_and_time(setup):
    server, _, venue, _ = setup
    plain = Capability(client_id_param="newClientOrderId", lookup_param="origClientOrderId")
    v = venue(capability=plain)
    v.send("USDC", 50, "base", WALLET, "mv-a")  # an earlier withdrawal to the same address, claimed by mv-a
    server.drop_response_of_next(APPLY, "close")
    t = v.send("USDC", 50, "base", WALLET, "mv-b")
    assert "withdrawOrderId" not in server.requests_to(APPLY, "POST")[-1].body.decode()
    ids = {v.moves._ledger().get(c)[1]["withdrawal_id"] for c in ("mv-a", "mv-b")}
    assert len(ids) == 2 and t.client_id == "mv-b" and applies(server) == 2


def test_failed_withdrawal_is_rejected_with_the_exchange_reason(setup):
    server, network, venue, _ = setup
    server.next_withdrawal_outcome = "fail"
    v = venue()
    v.send("USDC", 100, "base", WALLET, "mv-f")
    network.clock.advance(server.withdraw_seconds)
    with pytest.raises(OrderRejected, match="ended failed .*network rejected"):
        v.sent("mv-f")
    with pytest.raises(OrderRejected):  # remembered, not read again
        v.sent("mv-f")
    assert server.balances["USDC"] == Decimal(1000) and applies(server) == 1


@pytest.mark.parametrize(("amount", "chain", "error"), [(5000, "base", OrderRejected), (0.5, "base", BelowMinimum),
                                                        (100, "arbitrum", OrderRejected)])
def test_refused_withdrawal_leaves_no_record(setup, amount, chain, error):
    server, _, venue, _ = setup
    v = venue()
    with pytest.raises(error):
        v.send("USDC", amount, chain, WALLET, "mv-x")
    with pytest.raises(UnknownOrder):
        v.sent("mv-x")
    assert server.balances["USDC"] == Decimal(1000)


def test_unknown_client_id_is_unknown(setup):
    _, _, venue, _ = setup
    with pytest.raises(UnknownOrder):
        venue().sent("never")


def test_internal_error_code_is_unknown_not_rejected():
    error = translate(ccxt.OperationFailed('binance {"code":-1001,"msg":"Internal error"}'), "withdraw")
    assert isinstance(error, VenueUnavailable) and error.retryable


def test_move_estimate_reads_the_exchange_fee_table(setup):
    _, _, venue, _ = setup
    v = venue()
    assert v.move_estimate("USDC", 1.0, "base")["fixed_fee"] == pytest.approx(0.2)
    assert v.move_estimate("USDC", 1.0)["chain"] == "base"  # the cheapest network trimtab names
    with pytest.raises(Unsupported):
        v.move_estimate("USDC", 1.0, "tron")
    assert v.account_chain == "binance"


def test_received_is_proven_by_a_deposit_of_that_amount_and_claimed_once(setup):
    from datetime import UTC, datetime, timedelta

    from trimtab.venues.base import Transfer

    server, network, venue, _ = setup
    v = venue()
    address = v.deposit_address("USDC", "base")
    started = datetime.now(UTC)
    sent = Transfer(client_id="in-1", asset="USDC", amount=200.0, fee=0.0, from_chain="base", to_chain="base",
                    status=TransferStatus.ARRIVED, started_at=started, arrives_at=started + timedelta(minutes=2))
    twin = Transfer(client_id="in-2", asset="USDC", amount=200.0, fee=0.0, from_chain="base", to_chain="base",
                    status=TransferStatus.ARRIVED, started_at=started, arrives_at=started + timedelta(minutes=2))
    network.broadcast(chain="base", asset="USDC", amount=Decimal(200), to=address, tx_hash="0x" + "1" * 64,
                      sender=WALLET, origin="wallet")
    assert v.received("in-1", sent) is None  # seen on chain, not yet credited
    network.clock.advance(network.delays["base"])
    network.settle()
    assert v.received("in-1", sent) == pytest.approx(200.0)
    assert v.received("in-2", twin) is None  # one deposit proves one move
    assert venue().received("in-1") == pytest.approx(200.0)  # remembered across handles
    assert server.balances["USDC"] == Decimal(1200)

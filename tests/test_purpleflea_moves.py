"""Moves out of the Purple Flea wallet (``/wallet/send`` to another venue's address) and the trading
venue's refusal to receive, against the fakes on 127.0.0.1; each send made once, whatever happens to
its answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from purpleflea_setup import fund_wallet, paced_wallet_venue, trading_venue

from trimtab.errors import InsufficientFunds, OrderRejected, UnknownOrder, Unsupported, VenueUnavailable
from trimtab.venues.base import TransferStatus

SEND = ("/v1/wallet/send", "POST")
ELSEWHERE = "0x" + "cd" * 20


@pytest.fixture
def funded(purpleflea):
    created = fund_wallet(purpleflea.wallet)
    return purpleflea, created["addresses"]


def sends(purpleflea) -> int:
    return len(purpleflea.wallet.requests_to(*SEND))


def test_deposit_address_is_the_wallets_own_per_chain(funded, tmp_path):
    pf, addresses = funded
    venue = paced_wallet_venue(pf, tmp_path, chains=("base", "ethereum", "solana"))
    assert venue.deposit_address("USDC", "base") == addresses["base"]
    assert venue.deposit_address("SOL", "solana") == addresses["solana"]
    with pytest.raises(Unsupported, match="not arbitrum"):
        venue.deposit_address("USDC", "arbitrum")
    with pytest.raises(Unsupported, match="not BTC"):
        venue.deposit_address("BTC", "base")


def test_usdc_send_goes_once_with_its_tx_hash_and_gas_read_from_the_balance(funded, tmp_path):
    pf, addresses = funded
    venue = paced_wallet_venue(pf, tmp_path)
    t = venue.send("USDC", 123.4567891, "base", ELSEWHERE, "mv-w1")
    assert t.amount == pytest.approx(123.456789) and t.fee == 0.0 and t.status is TransferStatus.ARRIVED
    assert venue.send("USDC", 123.4567891, "base", ELSEWHERE, "mv-w1") == t and sends(pf) == 1
    assert pf.wallet.balance("base", ELSEWHERE, "USDC") == Decimal("123.456789")
    assert pf.wallet.balance("base", addresses["base"], "USDC") == Decimal(500) - Decimal("123.456789")
    record = venue.ledger.get("send:mv-w1")[1]
    assert record["tx_hash"] and Decimal(record["gas"]) == pf.wallet.gas["base"]
    assert paced_wallet_venue(pf, tmp_path).sent("mv-w1") == t  # after a restart, from the record


def test_native_send_counts_its_gas_as_the_fee(funded, tmp_path):
    pf, _ = funded
    venue = paced_wallet_venue(pf, tmp_path)
    t = venue.send("ETH", 0.5, "base", ELSEWHERE, "mv-eth")
    assert t.fee == pytest.approx(float(pf.wallet.gas["base"])) and t.received == pytest.approx(0.5)


@pytest.mark.parametrize("fault", ["lose", "500-after"])
def test_lost_answer_after_the_send_is_proven_by_the_balance_not_sent_again(funded, tmp_path, fault):
    pf, _ = funded
    if fault == "lose":
        pf.wallet.lose_response_of_next("/v1/wallet/send")
    else:
        pf.wallet.fail_next("/v1/wallet/send", 500, applied=True)
    venue = paced_wallet_venue(pf, tmp_path)
    t = venue.send("USDC", 100, "base", ELSEWHERE, "mv-lost")
    assert t.status is TransferStatus.ARRIVED and "fell" in venue.ledger.get("send:mv-lost")[1]["evidence"]
    assert venue.sent("mv-lost").amount == pytest.approx(100)
    assert sends(pf) == 1 and pf.wallet.balance("base", ELSEWHERE, "USDC") == Decimal(100)


def test_5xx_before_the_send_stays_pending_then_is_declared_never_made(funded, tmp_path):
    pf, _ = funded
    pf.wallet.fail_next("/v1/wallet/send", 502, code="rpc_error")  # refused unprocessed
    venue = paced_wallet_venue(pf, tmp_path)
    with pytest.raises(VenueUnavailable, match="never sent twice"):
        venue.send("USDC", 100, "base", ELSEWHERE, "mv-502")
    with pytest.raises(VenueUnavailable):
        venue.sent("mv-502")
    pf.clock.advance(venue.sends.settle)
    with pytest.raises(UnknownOrder, match="never made"):
        venue.sent("mv-502")
    venue.send("USDC", 100, "base", ELSEWHERE, "mv-502")
    assert sends(pf) == 2 and pf.wallet.balance("base", ELSEWHERE, "USDC") == Decimal(100)


def test_refused_sends_leave_nothing(funded, tmp_path):
    pf, _ = funded
    venue = paced_wallet_venue(pf, tmp_path, chains=("base", "ethereum", "solana"))
    with pytest.raises(OrderRejected, match="no address"):
        venue.send("USDC", 10, "base", "", "mv-noaddr")
    with pytest.raises(Unsupported, match="cannot send USDC on solana"):
        venue.send("USDC", 10, "solana", ELSEWHERE, "mv-sol")
    with pytest.raises(InsufficientFunds, match="insufficient"):
        venue.send("USDC", 10_000, "base", ELSEWHERE, "mv-big")
    with pytest.raises(UnknownOrder):
        venue.sent("mv-big")
    assert sends(pf) == 1  # only the one the server refused for funds


def test_rate_limited_send_waits_the_window_and_goes_once(funded, tmp_path):
    pf, _ = funded
    pf.wallet.fail_next("/v1/wallet/send", 429, code="rate_limited")
    venue = paced_wallet_venue(pf, tmp_path)
    started = pf.clock.now()
    venue.send("USDC", 10, "base", ELSEWHERE, "mv-429")
    assert pf.clock.now() - started >= 60 and pf.wallet.balance("base", ELSEWHERE, "USDC") == Decimal(10)


def test_move_estimate_prices_the_gas(funded, tmp_path):
    pf, _ = funded
    venue = paced_wallet_venue(pf, tmp_path)
    estimate = venue.move_estimate("USDC", 1.0)
    assert estimate["fixed_fee"] == pytest.approx(0.00001 * 3500)  # gas on base, at the wallet's ETH price


def test_trading_venue_cannot_receive_and_says_why(purpleflea, tmp_path):
    venue = trading_venue(purpleflea.trading, tmp_path)
    with pytest.raises(Unsupported, match="not a margin deposit"):
        venue.deposit_address("USDC", "arbitrum")
    assert not hasattr(venue, "send")

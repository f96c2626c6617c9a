"""The Purple Flea wallet venue under the contract's real limits (issue 10, items 3-8), against the
faithful wallet fake over HTTP on 127.0.0.1, on the fake's own clock (waits take no real time).

Each test names the item it proves; each failed before its fix.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from fakes.purpleflea_wallet import PRICES
from purpleflea_setup import SEND, STATUS, SWAP, evm_wallet, held, paced_wallet_agent, paced_wallet_venue

from trimtab.core.plan import Side
from trimtab.errors import OrderRejected


@pytest.fixture
def wallet(purpleflea):
    """A wallet holding 0.2 ETH and 20 USDC on base, 3,000 USDC and 0.01 ETH on ethereum."""
    return evm_wallet(purpleflea)


def status_reads(wallet) -> int:
    return sum(1 for r in wallet.requests if r.path.startswith(STATUS))


# -- item 3: a status read that fails is not a refusal -------------------------------------------------

def test_a_sell_whose_every_status_read_fails_is_confirmed_by_balance_not_refused(wallet, purpleflea, tmp_path):
    """Item 3: other agents spend Wagyu's 20 status checks every minute, so each of ours is
    400 status_check_failed while the swap completes: the sell ends filled, confirmed by the USDC
    balance, once."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.wagyu.other_clients["status"] = 20
    usdc_before = held(wallet, "base", "USDC")
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="s-00")
    # Assert
    received = held(wallet, "base", "USDC") - usdc_before
    assert order.quantity == pytest.approx(0.1) and order.value == pytest.approx(350.0)
    assert order.fee == pytest.approx(350.0 - float(received), abs=1e-6)  # what the swap kept, read from the fake
    assert len(wallet.requests_to(*SWAP)) == 1 and len(wallet.requests_to(*SEND)) == 1
    assert wallet.wagyu.log and not any(ok for kind, _, ok in wallet.wagyu.log if kind == "status")


def test_a_bridge_whose_status_reads_fail_with_500s_and_timeouts_stays_in_transit_then_arrives(wallet, purpleflea,
                                                                                           tmp_path):
    """Item 3: 500s (§2 internal_error) and a hang on the status path say nothing about the bridge:
    it stays in transit (no refusal), and arrives by balance."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    venue.api._http.timeout = __import__("httpx").Timeout(0.3)
    started = venue.transfer("USDC", 400.0, "ethereum", "base", "b-00")
    wallet.fail_next(STATUS, status=500, code="internal_error", times=100)
    # Act
    during = venue.transfer_status("b-00")
    purpleflea.clock.advance(200)  # the bridge's 180 s pass
    wallet.delay_next(f"{STATUS}{wallet.wagyu.orders[0].order_id}", 1.0)
    arrived = venue.transfer_status("b-00")
    # Assert
    assert str(started.status) == str(during.status) == "in_transit"
    assert str(arrived.status) == "arrived" and arrived.received == pytest.approx(400 * 0.993)
    assert held(wallet, "base", "USDC") == Decimal(20) + 400 * Decimal("0.993")


# -- item 4: polled at the venue's pace, within Wagyu's limits ------------------------------------------

def test_a_cross_chain_rebalance_polls_at_the_venues_pace_within_wagyus_limit(wallet, purpleflea, tmp_path,
                                                                             monkeypatch):
    """Item 4: with the executor's own default wait (its real sleep replaced by the fake's clock), a
    rebalance that bridges USDC ethereum -> base (180 s) then buys ETH there completes, reading status
    at most 10 times in any minute (Wagyu allows 20, shared); at four reads a second it ran out."""
    # Arrange
    monkeypatch.setattr("time.sleep", purpleflea.clock.sleep)
    agent = paced_wallet_agent(purpleflea, tmp_path)
    began = purpleflea.clock.now()
    # Act
    result = agent.rebalance()
    # Assert
    outcome = result.outcome
    assert outcome is not None and outcome.state == "completed", outcome
    assert [(leg.kind, leg.state) for leg in outcome.legs] == [("transfer", "arrived"), ("order", "filled")]
    assert wallet.wagyu.busiest_minute("status") <= 10
    assert all(ok for kind, _, ok in wallet.wagyu.log)  # no Wagyu call was refused
    assert status_reads(wallet) <= 12 and purpleflea.clock.now() - began < 600


# -- item 7: a 500 on the deposit ------------------------------------------------------------------------

def test_a_500_after_the_deposit_left_is_confirmed_by_balance_and_the_swap_completes(wallet, purpleflea, tmp_path):
    """Item 7: the send happened, then the server answered 500: trimtab sees the deposit (the
    order's depositTxHash, or the deposit address's balance) and waits for the swap, sending once."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.fail_next("/v1/wallet/send", applied=True)
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="d-00")
    # Assert
    assert order.quantity == pytest.approx(0.1) and len(wallet.requests_to(*SEND)) == 1
    assert held(wallet, "base", "ETH") == Decimal("0.1") - wallet.gas["base"]


def test_a_500_before_the_deposit_left_is_decided_by_balance_and_not_sent_again(wallet, purpleflea, tmp_path):
    """Item 7: the send failed before anything moved: trimtab looks at the balances for a minute
    (6 x poll_seconds, they may lag the chain); when they still show nothing left, the order is
    refused (left to expire unpaid), never sent twice, and the wallet is free for the next order
    instead of blocked until expiry."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.fail_next("/v1/wallet/send")
    began = purpleflea.clock.now()
    # Act
    with pytest.raises(OrderRejected, match="it did not happen") as refused:
        venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="d-01")
    with pytest.raises(OrderRejected, match="it did not happen"):
        venue.get_order("d-01")
    # Assert
    assert 60 <= purpleflea.clock.now() - began < 120
    assert "expires unpaid" in str(refused.value) and len(wallet.requests_to(*SEND)) == 1
    assert held(wallet, "base", "ETH") == Decimal("0.2")
    assert venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="d-02").quantity == pytest.approx(0.1)


# -- item 8: status words trimtab has never seen -----------------------------------------------------------

def test_status_words_never_seen_are_pending_and_the_balance_shows_the_arrival(wallet, purpleflea, tmp_path):
    """Item 8: Wagyu says "in_flight" then "settled": neither is in the table, so the swap is pending
    until the USDC balance shows it, minutes before swap_timeout (it used to wait the whole hour)."""
    # Arrange
    wallet.wagyu.status_names.update(processing="in_flight", completed="settled")
    venue = paced_wallet_venue(purpleflea, tmp_path)
    began = purpleflea.clock.now()
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="w-00")
    # Assert
    assert order.value == pytest.approx(350.0) and purpleflea.clock.now() - began < 120


def test_the_terminal_table_is_configurable_and_a_failure_by_another_name_is_final(wallet, purpleflea, tmp_path):
    """Item 8: with ``swap_states = {settled = "completed", returned = "refunded"}`` the words decide."""
    # Arrange
    wallet.wagyu.status_names.update(completed="settled", refunded="returned")
    wallet.wagyu.next_outcomes = ["completed", "refunded"]
    venue = paced_wallet_venue(purpleflea, tmp_path, swap_states={"settled": "completed", "returned": "refunded"})
    # Act
    sold = venue.place_order("ETH", Side.SELL, quantity=0.05, client_order_id="t-00")
    with pytest.raises(OrderRejected, match="refunded"):
        venue.place_order("ETH", Side.SELL, quantity=0.05, client_order_id="t-01")
    # Assert
    assert sold.quantity == pytest.approx(0.05)
    assert held(wallet, "base", "ETH") == Decimal("0.15") - 2 * wallet.gas["base"]  # the refund came back


def test_one_arrival_never_confirms_two_swaps_into_the_same_balance(wallet, purpleflea, tmp_path):
    """Items 3 and 8: two bridges of USDC into base travel at once and no status can be read; when
    only the first has arrived, the balance confirms neither alone... until both have."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.wagyu.other_clients["status"] = 20
    venue.transfer("USDC", 400.0, "ethereum", "base", "b-01")
    wallet.wagyu.delay_seconds = 900
    venue.transfer("USDC", 400.0, "ethereum", "base", "b-02")
    # Act
    purpleflea.clock.advance(300)  # the first (180 s) has arrived, the second (900 s) has not
    first, second = venue.transfer_status("b-01"), venue.transfer_status("b-02")
    purpleflea.clock.advance(900)
    later = venue.transfer_status("b-01"), venue.transfer_status("b-02")
    # Assert
    assert (str(first.status), str(second.status)) == ("in_transit", "in_transit")
    assert [str(t.status) for t in later] == ["arrived", "arrived"]


# -- items 5 and 6 at the venue: see test_purpleflea_wallet_venue.py; the deposit amount's unit ------------

def test_a_deposit_amount_given_in_decimals_is_understood_and_sent_once(wallet, purpleflea, tmp_path):
    """§4.6: the unit of deposit.amount is unspecified; decimals that equal our amount are sent as is."""
    # Arrange
    wallet.wagyu.deposit_amount_unit = "decimal"
    venue = paced_wallet_venue(purpleflea, tmp_path)
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="u-00")
    # Assert
    assert order.quantity == pytest.approx(0.1) and len(wallet.requests_to(*SEND)) == 1
    assert wallet.wagyu.orders[0].state == "completed"


def test_value_is_conserved_across_the_faulted_swaps_up_to_fees_and_gas(wallet, purpleflea, tmp_path):
    """Value, read from the fake's own ledger, is conserved up to the fees the venue reported and gas,
    through a status outage, a lost deposit answer and an unknown status word."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)

    def worth() -> Decimal:
        return sum((held(wallet, c, a) * Decimal(str(PRICES[a])) for c in ("base", "ethereum") for a in ("ETH", "USDC")),
                   Decimal(0))

    before = worth()
    # Act
    wallet.wagyu.other_clients["status"] = 20
    one = venue.place_order("ETH", Side.SELL, quantity=0.05, client_order_id="v-00")
    wallet.wagyu.other_clients["status"] = 0
    wallet.lose_response_of_next("/v1/wallet/send")
    two = venue.place_order("ETH", Side.BUY, quote_amount=100.0, client_order_id="v-01")
    wallet.wagyu.status_names["completed"] = "done-and-dusted"
    three = venue.place_order("ETH", Side.SELL, quantity=0.05, client_order_id="v-02")
    # Assert
    fees = sum(Decimal(str(o.fee)) for o in (one, two, three))
    gas = 3 * wallet.gas["base"] * Decimal(str(PRICES["ETH"]))
    assert before - worth() == pytest.approx(fees + gas, abs=Decimal("0.01"))
    assert len(wallet.requests_to(*SWAP)) == 3 and len(wallet.requests_to(*SEND)) == 3


def test_wagyus_429_on_an_order_is_waited_out_and_sent_once_more_creating_one_order(wallet, purpleflea, tmp_path):
    """§4.6: Wagyu's limit (5 orders, 20 quotes a minute, shared) surfaces as 400 swap_failed naming
    a 429. Wagyu refused it, so no order exists: the venue waits the minute out and orders once more,
    and exactly one order is created (it used to be a final refusal that failed the run)."""
    # Arrange
    venue = paced_wallet_venue(purpleflea, tmp_path)
    wallet.wagyu.rate_limited_calls = 1
    began = purpleflea.clock.now()
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="r-00")
    # Assert
    assert order.quantity == pytest.approx(0.1) and purpleflea.clock.now() - began >= 60
    assert len(wallet.requests_to(*SWAP)) == 2 and len(wallet.wagyu.orders) == 1
    assert len(wallet.requests_to(*SEND)) == 1

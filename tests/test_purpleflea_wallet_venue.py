"""The Purple Flea wallet venue against the wallet fake on 127.0.0.1, its clock running in a thread."""

import pytest
from fakes.fixtures import purpleflea  # noqa: F401 - fixture
from fakes.purpleflea_wallet import WALLET_KEY
from purpleflea_setup import RunningClock, fund_wallet, wallet_venue

from trimtab.core.plan import Side
from trimtab.errors import OrderRejected, UnknownOrder, VenueUnavailable
from trimtab.venues.base import TransferStatus, by_chain, consolidate
from trimtab.venues.purpleflea_wallet import consolidated_value

SWAP, SEND = ("/v1/wallet/swap", "POST"), ("/v1/wallet/send", "POST")


@pytest.fixture
def wallet(purpleflea):
    fund_wallet(purpleflea.wallet)
    with RunningClock(purpleflea.clock):
        yield purpleflea.wallet


def worth(venue) -> float:
    holdings = venue.balances()
    return consolidated_value(holdings, venue.prices({h.asset for h in holdings}))


def test_balances_on_every_chain_consolidate_per_asset(wallet, tmp_path):
    # Act
    venue = wallet_venue(wallet, tmp_path)
    # Assert
    assert by_chain(venue.balances())["USDC"] == {"base": 500.0, "ethereum": 1500.0}
    assert consolidate(venue.balances()) == {"ETH": 1.01, "USDC": 2000.0, "SOL": 10.0}
    assert {m.asset: m.chain for m in venue.markets().values()} == {"ETH": "base"}  # SOL: read, not traded


def test_a_sell_and_a_buy_by_swap_conserve_value_up_to_fees_and_gas(wallet, tmp_path):
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    before = worth(venue)
    # Act
    sold = venue.place_order("ETH", Side.SELL, quantity=0.2, client_order_id="w-00")
    bought = venue.place_order("ETH", Side.BUY, quote_amount=300.0, client_order_id="w-01")
    # Assert
    assert sold.quantity == pytest.approx(0.2) and sold.value == pytest.approx(700.0)
    assert sold.fee == pytest.approx(700 * 0.006, rel=1e-6)  # 0.5 % integrator fee + 0.1 % route
    assert bought.value + bought.fee == pytest.approx(300.0)
    gas = 2 * 0.00001 * 3500  # two deposits on base
    assert before - worth(venue) == pytest.approx(sold.fee + bought.fee + gas, abs=0.01)
    assert venue.place_order("ETH", Side.SELL, quantity=0.2, client_order_id="w-00") == sold
    assert len(wallet.requests_to(*SWAP)) == 2


def test_a_bridge_travels_then_arrives_less_its_fee(wallet, tmp_path):
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    # Act
    started = venue.transfer("USDC", 400.0, "ethereum", "base", "t-00")
    again = venue.transfer("USDC", 400.0, "ethereum", "base", "t-00")
    while venue.transfer_status("t-00").status is TransferStatus.IN_TRANSIT:
        pass
    arrived = venue.transfer_status("t-00")
    # Assert
    assert started.status is TransferStatus.IN_TRANSIT and again.client_id == "t-00"
    assert arrived.fee == pytest.approx(400 * 0.007, rel=1e-6) and arrived.received == pytest.approx(397.2)
    assert by_chain(venue.balances())["USDC"] == {"base": pytest.approx(897.2), "ethereum": pytest.approx(1100.0)}
    assert len(wallet.requests_to(*SWAP)) == 1 and len(wallet.requests_to(*SEND)) == 1


def test_a_lost_swap_answer_leaves_the_order_unfunded_and_says_so_never_sending_to_null(wallet, tmp_path):
    """Issue 10 item 5 (TypeError in Swaps.start) and 6 (deposit read from a field the contract does
    not list): the order is found in the activity, but its deposit address is in no guaranteed field,
    so it is refused and left to expire; nothing is sent, and asking again says the same."""
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    wallet.lose_response_of_next("/v1/wallet/swap")
    # Act
    with pytest.raises(VenueUnavailable):
        venue.place_order("ETH", Side.SELL, quantity=0.25, client_order_id="w-02")
    with pytest.raises(OrderRejected, match="deposit address is in no field the API guarantees") as refused:
        venue.place_order("ETH", Side.SELL, quantity=0.25, client_order_id="w-02")
    with pytest.raises(OrderRejected, match="expires unpaid"):
        venue.get_order("w-02")
    # Assert
    assert wallet.wagyu.orders[0].order_id in str(refused.value)
    assert len(wallet.requests_to(*SWAP)) == 1 and wallet.requests_to(*SEND) == []
    assert consolidate(venue.balances())["ETH"] == pytest.approx(1.01)


def test_a_lost_deposit_answer_is_judged_at_once_and_never_sent_twice(wallet, tmp_path):
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    wallet.lose_response_of_next("/v1/wallet/send")
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="w-03")
    again = venue.get_order("w-03")
    # Assert
    assert order.quantity == pytest.approx(0.1) and again == order and len(wallet.requests_to(*SEND)) == 1


def test_a_refunded_swap_is_a_final_refusal_and_the_deposit_comes_back(wallet, tmp_path):
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    wallet.wagyu.next_outcomes = ["refunded"]
    # Act
    with pytest.raises(OrderRejected, match="refunded"):
        venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="w-04")
    # Assert
    assert consolidate(venue.balances())["ETH"] == pytest.approx(1.01 - 0.00001)  # only the gas is gone


def test_a_balance_that_cannot_be_read_is_unknown_not_zero(wallet, tmp_path, purpleflea):
    # Arrange
    venue = wallet_venue(wallet, tmp_path)
    wallet.fail_lookup("ethereum", venue.addresses["ethereum"])
    # Act / Assert
    with pytest.raises(VenueUnavailable, match="USDC on ethereum could not be read"):
        venue.balances()


def test_an_order_never_ordered_is_unknown_and_the_keys_stay_out_of_sight(wallet, tmp_path):
    venue = wallet_venue(wallet, tmp_path)
    with pytest.raises(UnknownOrder):
        venue.get_order("w-99")
    assert WALLET_KEY not in repr(venue) and "private" not in repr(venue)
    assert b"private_key" not in (tmp_path / "wallet-ledger.db").read_bytes()


def test_a_balance_read_as_zero_by_a_failed_rpc_call_is_unknown_not_money_gone(wallet, tmp_path, purpleflea):
    """Contract §4.4: an RPC error *reply* reads as USDC 0 with no error field. A 0 where 500 was seen
    and no swap or send of ours took it is not traded on (nor taken as a swap's baseline)."""
    venue = wallet_venue(wallet, tmp_path)
    assert by_chain(venue.balances())["USDC"]["base"] == 500.0  # seen
    wallet.silent_zero("base", venue.addresses["base"])
    with pytest.raises(VenueUnavailable, match="USDC on base reads 0, but 500"):
        venue.balances()
    assert venue.swaps._balance("base", "USDC") is None  # a baseline of 0 would "prove" any arrival
    wallet.silent.clear()  # the node answers again: nothing happened
    assert by_chain(venue.balances())["USDC"]["base"] == 500.0


def test_a_zero_the_owner_made_is_believed_once_it_persists(wallet, tmp_path, purpleflea):
    venue = wallet_venue(wallet, tmp_path)
    venue.balances()
    wallet.set_balance("base", venue.addresses["base"], "USDC", 0)  # the owner emptied base
    refused = 0
    for _ in range(40):  # the clock runs 2,000x in its thread: 20 minutes pass in under a second
        try:
            held = by_chain(venue.balances())["USDC"]
            break
        except VenueUnavailable:
            refused += 1
            purpleflea.clock.advance(60)
    else:
        pytest.fail("a persistent zero was never believed")
    assert refused >= 2 and "base" not in held and held["ethereum"] == 1500.0


def test_a_zero_left_by_our_own_sell_is_believed_at_once(wallet, tmp_path):
    venue = wallet_venue(wallet, tmp_path)
    venue.balances()
    venue.place_order("ETH", Side.SELL, quantity=1.0 - 0.00002, client_order_id="w-all")  # all but the gas
    wallet.set_balance("base", venue.addresses["base"], "ETH", 0)  # the rest, as gas
    assert "ETH" not in {h.asset for h in venue.balances() if h.chain == "base"}

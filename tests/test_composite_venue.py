"""The composite venue over real paper accounts: locations, dispatch, moves between venues."""

import pytest
from composite_setup import advance, make_composite

from trimtab.core.plan import Side
from trimtab.errors import UnknownOrder, Unsupported
from trimtab.venues.base import TransferStatus, consolidate
from trimtab.venues.composite import CompositeVenue, location, split_location


def test_a_location_is_venue_and_chain():
    assert location("wallet", "base") == "wallet:base"
    assert split_location("perps:hyperliquid") == ("perps", "hyperliquid")


def test_holdings_markets_and_orders_carry_their_location(tmp_path):
    venue = make_composite(tmp_path)
    places = {(h.asset, h.chain) for h in venue.balances()}
    assert ("USDC", "exchange:spot") in places and ("BTC", "wallet:bitcoin") in places
    options = venue.market_options()
    assert {v: m.chain for v, m in options["BTC"].items()} == {"wallet": "wallet:ethereum", "exchange": "exchange:spot"}
    order = venue.place_order("BTC", Side.BUY, quote_amount=500.0, client_order_id="o-1", chain="exchange:spot")
    assert order.chain == "exchange:spot"
    # a fresh composite (a restarted process) finds the order on the venue that has it
    again = CompositeVenue(venue.members, quote="USDC")
    assert again.get_order("o-1") == order
    with pytest.raises(UnknownOrder):
        again.get_order("o-never")


def test_a_move_between_venues_is_debited_at_once_counted_in_transit_and_credited_once_net_of_its_fee(tmp_path):
    # Arrange
    venue = make_composite(tmp_path)
    before = consolidate(venue.balances())["USDC"]
    # Act
    sent = venue.transfer("USDC", 300.0, "wallet:ethereum", "exchange:spot", "m-1")
    travelling = venue.in_transit()
    # Assert: nothing lost while it travels, and it lands once
    assert sent.to_chain == "exchange:spot" and sent.fee == pytest.approx(0.3)
    assert [(t.to_chain, t.quantity) for t in travelling] == [("exchange:spot", pytest.approx(299.7))]
    assert consolidate(venue.balances())["USDC"] + travelling[0].quantity == pytest.approx(before - 0.3)
    advance(venue, 25 * 60)
    restarted = CompositeVenue(venue.members, quote="USDC")
    assert restarted.transfer_status("m-1").status is TransferStatus.ARRIVED
    assert restarted.transfer("USDC", 300.0, "wallet:ethereum", "exchange:spot", "m-1").client_id == "m-1"
    for _ in range(3):
        venue.balances()
    assert consolidate(venue.balances())["USDC"] == pytest.approx(before - 0.3)
    assert venue.in_transit() == ()


def test_a_venue_declared_unable_to_receive_has_no_move_and_refuses_one(tmp_path):
    venue = make_composite(tmp_path, exchange={"can_receive": False})
    assert venue.can_move("USDC", "wallet:ethereum", "exchange:spot") is None
    assert venue.can_move("USDC", "exchange:spot", "wallet:ethereum").fee_rate == pytest.approx(0.001)
    assert "cannot receive" in venue.move_refusal("USDC", "wallet:ethereum", "exchange:spot")
    before = consolidate(venue.balances())["USDC"]
    with pytest.raises(Unsupported):
        venue.transfer("USDC", 100.0, "wallet:ethereum", "exchange:spot", "m-2")
    assert consolidate(venue.balances())["USDC"] == before


class Exchange:
    """A stand-in exchange member (one account chain, deposit addresses per network) over a paper
    account, to check how a fresh composite names a move it finds after a restart."""

    account_chain = "spot"

    def __init__(self, paper):
        self.paper = paper

    def __getattr__(self, name):
        return getattr(self.paper, name)

    def deposit_address(self, asset, chain):
        if chain == "spot":
            raise Unsupported("deposits need a network")
        return f"0xexchange-{asset}-{chain}"


def test_a_fresh_composite_names_a_move_to_and_from_an_exchange_by_its_account_chain(tmp_path):
    venue = make_composite(tmp_path)
    exchange = Exchange(venue.members["exchange"])
    composite = CompositeVenue({"wallet": venue.members["wallet"], "exchange": exchange})
    assert composite._to_location("wallet", "USDC", "0xexchange-USDC-base") == "exchange:spot"
    assert composite._to_location("wallet", "USDC", "base") == "wallet:base"
    sent = venue.members["wallet"].transfer("USDC", 10.0, "ethereum", "base", "b-1")  # a bridge stays on its venue
    again = CompositeVenue({"wallet": venue.members["wallet"], "exchange": exchange})
    found = again.transfer_status("b-1")
    assert (found.from_chain, found.to_chain) == ("wallet:ethereum", "wallet:base") and sent.client_id == "b-1"

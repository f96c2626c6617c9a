"""After a write's answer is lost, the executor asks the venue by client id before it sends again.

The venue here refuses a client id it already has ("duplicate client order id"), as some real venues
do, so a blind re-send would see its own filled order refused and journal a filled leg as rejected.
"""

import sqlite3

import pytest
from ledger import assert_value_conserved
from paper_setup import make_agent

from trimtab.core.plan import Side
from trimtab.errors import OrderRejected
from trimtab.venues.base import consolidate
from trimtab.venues.faulty import Fault, FaultyVenue


def test_a_venue_refusing_repeats_refuses_a_known_client_id_and_moves_nothing(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)
    venue = FaultyVenue(agent.venue, rates={}, refuse_repeats=True)
    first = venue.place_order("BTC", Side.SELL, quantity=0.001, client_order_id="c1")
    venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    held = consolidate(agent.venue.balances())
    # Act / Assert
    with pytest.raises(OrderRejected, match="already has") as order:
        venue.place_order("BTC", Side.SELL, quantity=0.001, client_order_id="c1")
    with pytest.raises(OrderRejected, match="already has") as bridge:
        venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    assert order.value.venue_message == bridge.value.venue_message == "duplicate client order id"
    assert consolidate(agent.venue.balances()) == held and agent.venue.get_order("c1") == first


def test_every_lost_answer_is_found_by_client_id_so_each_leg_is_sent_once_and_ends_filled(tmp_path):
    # Arrange: the seed portfolio (bridges, sells, buys); every write is done at the venue and its
    # answer lost, and the venue refuses a client id it already has
    agent = make_agent(tmp_path)
    paper = agent.venue
    venue = FaultyVenue(paper, rates={Fault.LOST_ANSWER: 1.0}, seed=1, refuse_repeats=True)
    agent.venue = agent.executor.venue = venue
    agent.executor.sleep = lambda seconds: None
    # Act
    result = agent.rebalance()
    # Assert: completed, every leg done, none refused
    assert result.outcome.state == "completed", result.outcome.reason
    legs = agent.journal.legs(result.outcome.run_id)
    orders = [leg for leg in legs if leg.kind == "order"]
    bridges = [leg for leg in legs if leg.kind == "transfer"]
    assert orders and bridges
    assert {leg.state for leg in orders} == {"filled"} and {leg.state for leg in bridges} == {"arrived"}
    # each write sent once (each answer lost once, found by its id) and on the venue's books once
    assert venue.calls["place_order"] == len(orders) and venue.calls["transfer"] == len(bridges)
    assert venue.counts[Fault.LOST_ANSWER] == len(orders) + len(bridges)
    with sqlite3.connect(tmp_path / "paper.db") as db:
        booked = [cid for (cid,) in db.execute("SELECT client_order_id FROM orders")]
    assert sorted(booked) == sorted(leg.client_id for leg in orders)
    for leg in orders:
        assert paper.get_order(leg.client_id).quantity == pytest.approx(leg.filled_quantity)
    # value conserved to the cent, read from the paper venue's own ledger
    assert_value_conserved(tmp_path / "paper.db", 10_000.0)

"""FaultyVenue: each kind of fault does what the real venues do to the caller, on a real paper account."""

from datetime import timedelta

import pytest
from paper_setup import make_agent, make_venue

from trimtab.core.plan import Side
from trimtab.errors import OrderRejected, RateLimited, UnknownOrder, VenueUnavailable
from trimtab.venues.base import TransferStatus, consolidate
from trimtab.venues.faulty import APPLIES, REFUND_PREFIX, Fault, FaultyVenue, spread_rates


@pytest.fixture
def paper(tmp_path):
    venue = make_venue(tmp_path / "paper.db")
    yield venue
    venue.close()


@pytest.mark.parametrize(("kind", "error"), [(Fault.TIMEOUT, VenueUnavailable), (Fault.SERVER_ERROR, VenueUnavailable),
                                             (Fault.RATE_LIMITED, RateLimited)])
def test_a_call_that_never_arrives_raises_a_retryable_error_and_changes_nothing(paper, kind, error):
    # Arrange
    venue = FaultyVenue(paper, rates={kind: 1.0}, seed=1)
    before = paper.balances()
    # Act / Assert
    with pytest.raises(error) as raised:
        venue.place_order("BTC", Side.SELL, quantity=0.001, client_order_id="c1")
    assert raised.value.retryable
    with pytest.raises(UnknownOrder):
        paper.get_order("c1")
    assert paper.balances() == before
    assert venue.counts == {kind: 1}


def test_a_lost_answer_comes_after_the_order_is_filled_and_asking_again_finds_it(paper):
    # Arrange
    venue = FaultyVenue(paper, rates={Fault.LOST_ANSWER: 1.0}, seed=1)
    # Act
    with pytest.raises(VenueUnavailable):
        venue.place_order("BTC", Side.SELL, quantity=0.001, client_order_id="c1")
    # Assert: the venue did it; a second send with the same id returns it and fills nothing more
    order = paper.get_order("c1")
    with pytest.raises(VenueUnavailable):
        venue.place_order("BTC", Side.SELL, quantity=0.001, client_order_id="c1")
    assert paper.get_order("c1") == order
    assert consolidate(paper.balances())["BTC"] == pytest.approx(0.1 - 0.001)
    assert venue.counts[Fault.LOST_ANSWER] == 2


def test_a_partial_fill_fills_half_at_the_venue_and_says_so(paper):
    # Arrange
    venue = FaultyVenue(paper, rates={Fault.PARTIAL_FILL: 1.0}, seed=1)
    # Act
    sell = venue.place_order("BTC", Side.SELL, quantity=0.002, client_order_id="s")
    buy = venue.place_order("BTC", Side.BUY, quote_amount=100.0, client_order_id="b")
    # Assert
    assert sell.quantity == pytest.approx(0.001) and paper.get_order("s") == sell
    assert buy.value + buy.fee <= 50.0 and buy.value + buy.fee > 49.0 and paper.get_order("b") == buy
    assert venue.counts[Fault.PARTIAL_FILL] == 2


def test_a_partial_fill_that_would_break_the_minimum_is_sent_whole(paper):
    venue = FaultyVenue(paper, rates={Fault.PARTIAL_FILL: 1.0}, seed=1)
    order = venue.place_order("ETH", Side.SELL, quantity=0.006, client_order_id="e")  # 12 USDC; half is below 10
    assert order.quantity == pytest.approx(0.006)
    assert venue.counts[Fault.PARTIAL_FILL] == 0


def test_a_refused_bridge_moves_nothing(paper):
    venue = FaultyVenue(paper, rates={Fault.TRANSFER_FAILED: 1.0}, seed=1)
    before = paper.balances()
    with pytest.raises(OrderRejected):
        venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    assert paper.balances() == before
    with pytest.raises(UnknownOrder):
        paper.transfer_status("t1")


def test_a_stalled_bridge_stays_in_transit_past_its_arrival_then_arrives(paper):
    # Arrange
    venue = FaultyVenue(paper, rates={Fault.TRANSFER_STALLED: 1.0}, seed=1)
    sent = venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    # Act: the venue delivered it, the bridge still reports it travelling
    paper.advance((sent.arrives_at - sent.started_at).total_seconds() + 1)
    assert paper.transfer_status("t1").status is TransferStatus.ARRIVED
    stalled = venue.transfer_status("t1")
    paper.advance(timedelta(hours=4).total_seconds())
    # Assert
    assert stalled.status is TransferStatus.IN_TRANSIT and stalled.arrives_at > sent.arrives_at + timedelta(minutes=59)
    assert venue.transfer_status("t1").status is TransferStatus.ARRIVED


def test_a_refunded_bridge_fails_once_it_lands_and_the_money_goes_back(paper, tmp_path):
    # Arrange
    venue = FaultyVenue(paper, rates={Fault.TRANSFER_REFUNDED: 1.0}, seed=1)
    sent = venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    assert venue.transfer_status("t1").status is TransferStatus.IN_TRANSIT
    paper.advance(3600)
    # Act / Assert: refused, and refunded through a bridge back to the source
    with pytest.raises(OrderRejected, match="refunded"):
        venue.transfer_status("t1")
    refund = paper.transfer_status(REFUND_PREFIX + "t1")
    assert (refund.from_chain, refund.to_chain, refund.amount) == ("ethereum", "base", pytest.approx(sent.received))
    # a new process (a new wrapper, no memory) finds the refund at the venue
    with pytest.raises(OrderRejected, match="refunded"):
        FaultyVenue(paper, rates={}).transfer_status("t1")


def test_a_price_off_is_ten_times_too_high_or_too_low(paper):
    venue = FaultyVenue(paper, rates={Fault.PRICE_OFF: 1.0}, seed=1)
    true = {a: q.price for a, q in paper.prices(["BTC", "ETH"]).items()}
    seen = {a: q.price for a, q in venue.prices(["BTC", "ETH"]).items()}
    ratios = sorted(seen[a] / true[a] for a in true)
    assert ratios in ([pytest.approx(0.1), pytest.approx(1.0)], [pytest.approx(1.0), pytest.approx(10.0)])


def test_the_owner_changes_balances_before_the_read(paper):
    def owner(rng):
        paper.set_prices({"BTC": 1.0})  # any visible change stands in for a deposit here
        return "moved"

    venue = FaultyVenue(paper, rates={Fault.OWNER_CHANGE: 1.0}, seed=1, owner=owner)
    venue.balances()
    assert paper.prices(["BTC"])["BTC"].price == 1.0
    assert venue.counts == {Fault.OWNER_CHANGE: 1}
    assert FaultyVenue(paper, rates={Fault.OWNER_CHANGE: 1.0}).balances() == paper.balances()  # no owner: no change


def test_the_same_seed_injects_the_same_faults(paper):
    def faults(seed):
        venue = FaultyVenue(paper, rates=spread_rates(0.3), seed=seed)
        out = []
        for _ in range(200):
            try:
                venue.markets()
                out.append(None)
            except Exception as e:  # noqa: BLE001
                out.append(type(e).__name__)
        return out

    assert faults(5) == faults(5) != faults(6)
    assert 30 < sum(f is not None for f in faults(5)) < 90  # about 30% of 200


def test_rates_that_cannot_be_probabilities_are_refused(paper):
    with pytest.raises(ValueError):
        FaultyVenue(paper, rates={Fault.TIMEOUT: 0.6, Fault.SERVER_ERROR: 0.6})
    with pytest.raises(ValueError):
        FaultyVenue(paper, rates={Fault.TIMEOUT: -0.1})
    assert set(APPLIES) == {"balances", "prices", "markets", "get_order", "transfer_status", "place_order", "transfer"}


def test_a_run_through_lost_answers_and_partial_fills_sends_each_leg_once_and_conserves_value(tmp_path):
    # Arrange: the seed portfolio (bridges, sells, buys) with every write's answer lost or partly filled
    agent = make_agent(tmp_path)
    paper = agent.venue
    venue = FaultyVenue(paper, rates={Fault.LOST_ANSWER: 0.5, Fault.PARTIAL_FILL: 0.5}, seed=3)
    agent.venue = agent.executor.venue = venue
    agent.executor.retries = 6
    # Act
    result = agent.rebalance()
    # Assert
    assert result.outcome.state == "completed"
    assert venue.counts[Fault.LOST_ANSWER] > 0
    legs = agent.journal.legs(result.outcome.run_id)
    for leg in legs:
        if leg.kind == "order":
            assert paper.get_order(leg.client_id).quantity == pytest.approx(leg.filled_quantity)
    rows = paper._db.execute("SELECT fee, quantity, price, mid_price FROM orders").fetchall()
    costs = sum(fee + q * abs(p - m) for fee, q, p, m in rows)
    costs += sum(fee * (65000.0 if a == "BTC" else 2000.0 if a == "ETH" else 1.0)
                 for a, fee in paper._db.execute("SELECT asset, fee FROM transfers"))
    held = consolidate(paper.balances())
    value = held.get("BTC", 0) * 65000 + held.get("ETH", 0) * 2000 + held.get("USDC", 0)
    assert value + costs == pytest.approx(10_000.0, abs=0.005)


def test_a_bridge_the_venue_already_has_is_never_refused_on_a_second_send(paper):
    # Arrange: the first send's answer is lost after the venue started the bridge
    venue = FaultyVenue(paper, rates={Fault.LOST_ANSWER: 1.0}, seed=1)
    with pytest.raises(VenueUnavailable):
        venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    # Act: the retry draws a refusal, which the contract does not allow for a known client id
    venue.rates = {Fault.TRANSFER_FAILED: 1.0}
    again = venue.transfer("USDC", 100.0, "base", "ethereum", "t1")
    # Assert
    assert again == paper.transfer_status("t1")
    assert venue.counts == {Fault.LOST_ANSWER: 1}

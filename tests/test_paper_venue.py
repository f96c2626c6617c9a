"""The paper venue behaves like a small real exchange with chains and bridges, in one SQLite file."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.errors import BelowMinimum, ConfigError, InsufficientFunds, OrderRejected, UnknownOrder
from trimtab.venues.base import Market, TransferStatus, by_chain, consolidate
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

START = datetime(2025, 1, 1, tzinfo=UTC)


def make_venue(path, **settings):
    return PaperVenue.create(
        path,
        holdings={"BTC": {"bitcoin": 0.1}, "ETH": {"ethereum": 1.0, "arbitrum": 0.25},
                  "USDC": {"ethereum": 600.0, "base": 400.0}},
        prices={"BTC": 65000.0, "ETH": 2000.0},
        markets={"BTC": Market(asset="BTC", chain="bitcoin", rules=MarketRules(amount_step=1e-5, min_notional=10)),
                 "ETH": Market(asset="ETH", chain="ethereum", rules=MarketRules(amount_step=1e-4, min_notional=10))},
        settings=PaperSettings(**{"fee": 0.001, "slippage_bps": 10, "clock_speed": 0, **settings}),
        start=START,
    )


def test_a_sell_fills_at_the_price_less_slippage_and_pays_the_fee_on_its_chain(tmp_path):
    # Arrange
    venue = make_venue(tmp_path / "paper.db")
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.5, client_order_id="r1-00")
    # Assert
    assert order.price == pytest.approx(2000 * (1 - 0.001))
    assert order.fee == pytest.approx(order.value * 0.001)
    chains = by_chain(venue.balances())
    assert chains["ETH"] == {"arbitrum": 0.25, "ethereum": 0.5}
    assert chains["USDC"]["ethereum"] == pytest.approx(600 + order.value - order.fee)
    assert order.slippage == pytest.approx(0.5 * 2)


def test_separate_connections_see_one_account(tmp_path):
    make_venue(tmp_path / "paper.db").place_order("ETH", Side.SELL, quantity=0.5, client_order_id="r1-00")
    other = PaperVenue(tmp_path / "paper.db")
    assert other.get_order("r1-00").quantity == 0.5
    with pytest.raises(UnknownOrder):
        other.get_order("r1-01")


def test_a_buy_by_quote_amount_never_spends_more_than_given(tmp_path):
    venue = make_venue(tmp_path / "paper.db")
    order = venue.place_order("ETH", Side.BUY, quote_amount=500.0, client_order_id="r1-00")
    assert order.value + order.fee <= 500.0
    assert order.quantity == pytest.approx(0.2495)  # 500 / (2002 x 1.001) = 0.24950.., rounded down to the 0.0001 lot


def test_the_venue_refuses_what_a_real_exchange_refuses(tmp_path):
    venue = make_venue(tmp_path / "paper.db")
    with pytest.raises(BelowMinimum):
        venue.place_order("ETH", Side.SELL, quantity=0.001, client_order_id="a")
    with pytest.raises(OrderRejected, match="lot size"):
        venue.place_order("ETH", Side.SELL, quantity=0.12345, client_order_id="b")
    with pytest.raises(InsufficientFunds):
        venue.place_order("BTC", Side.BUY, quote_amount=500.0, client_order_id="c")  # no USDC on bitcoin
    venue.set_halted("ETH")
    with pytest.raises(OrderRejected, match="halted"):
        venue.place_order("ETH", Side.SELL, quantity=0.1, client_order_id="d")
    assert consolidate(venue.balances()) == {"BTC": 0.1, "ETH": 1.25, "USDC": 1000.0}


def test_a_bridge_debits_at_once_and_credits_less_its_fee_when_the_clock_passes_arrival(tmp_path):
    # Arrange
    venue = make_venue(tmp_path / "paper.db", bridge_fee=0.001)
    # Act
    transfer = venue.transfer("USDC", 100.0, "base", "bitcoin", "r1-01")
    # Assert
    assert transfer.status is TransferStatus.IN_TRANSIT
    assert timedelta(minutes=2) <= transfer.arrives_at - transfer.started_at <= timedelta(minutes=15)
    assert "bitcoin" not in by_chain(venue.balances())["USDC"]
    venue.advance(15 * 60)
    assert venue.transfer_status("r1-01").status is TransferStatus.ARRIVED
    assert by_chain(venue.balances())["USDC"]["bitcoin"] == pytest.approx(99.9)
    assert venue.transfer("USDC", 100.0, "base", "bitcoin", "r1-01").amount == 100.0  # idempotent
    assert by_chain(venue.balances())["USDC"]["base"] == pytest.approx(300.0)


def test_history_prices_follow_the_simulated_clock(tmp_path):
    venue = make_venue(tmp_path / "paper.db", price_source="history")
    venue.set_time(datetime(2024, 3, 1, 12, 30, tzinfo=UTC))
    quote = venue.prices(["BTC", "USDC"])
    assert list(quote) == ["BTC"] and quote["BTC"].at == datetime(2024, 3, 1, 12, tzinfo=UTC)


@settings(max_examples=25, deadline=None)
@given(quantity=st.integers(min_value=60, max_value=10_000))
def test_orders_conserve_value_up_to_fees_and_slippage(tmp_path_factory, quantity):
    venue = make_venue(tmp_path_factory.mktemp("p") / "paper.db")
    before = consolidate(venue.balances())
    order = venue.place_order("ETH", Side.SELL, quantity=quantity / 10_000, client_order_id="x")
    after = consolidate(venue.balances())
    value = lambda q: q["ETH"] * 2000 + q["USDC"]
    assert value(before) == pytest.approx(value(after) + order.fee + order.slippage, abs=1e-9)


def test_slippage_that_would_sell_below_zero_is_refused_with_the_settings(tmp_path):
    with pytest.raises(ConfigError, match="slippage_bps 20000"):
        make_venue(tmp_path / "paper.db", slippage_bps=20000)
    with pytest.raises(ConfigError, match="finite"):
        make_venue(tmp_path / "paper2.db", clock_speed=float("inf"))


@pytest.mark.parametrize("price", [0.0, -2000.0])
def test_no_fill_at_a_price_that_is_not_positive_and_no_balance_changes(tmp_path, price):
    venue = PaperVenue.create(
        tmp_path / "paper.db", holdings={"ETH": {"ethereum": 1.0}, "USDC": {"ethereum": 100.0}}, prices={"ETH": 2000.0},
        markets={"ETH": Market(asset="ETH", chain="ethereum", rules=MarketRules(amount_step=1e-4, min_notional=0))},
        settings=PaperSettings(fee=0.001, slippage_bps=10, clock_speed=0), start=START)
    venue.set_prices({"ETH": price})
    for side in (Side.SELL, Side.BUY):
        with pytest.raises(OrderRejected, match="positive price"):
            venue.place_order("ETH", side, quantity=0.5, client_order_id=f"x-{side}")
    assert consolidate(venue.balances()) == {"ETH": 1.0, "USDC": 100.0}
    assert all(h.quantity >= 0 for h in venue.balances())

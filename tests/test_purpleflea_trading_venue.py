"""The Purple Flea trading venue against the trading fake (and its Hyperliquid /info stub) on 127.0.0.1."""

import pytest
from fakes.fixtures import purpleflea, trading  # noqa: F401 - fixtures
from fakes.purpleflea_trading import TRADING_KEY
from purpleflea_setup import seed_positions, trading_venue

from trimtab.core.plan import Side
from trimtab.errors import BelowMinimum, KeyRejected, UnknownOrder, VenueUnavailable
from trimtab.venues.base import consolidate
from trimtab.venues.purpleflea_trading import sell_cost

OPEN, CLOSE = ("/v1/trade/open", "POST"), ("/v1/trade/close", "POST")


def worth(venue) -> float:
    held = consolidate(venue.balances())
    prices = venue.prices([a for a in held if a != "USDC"])
    return sum(q * (1.0 if a == "USDC" else prices[a].price) for a, q in held.items())


def test_holdings_are_long_positions_plus_the_unexposed_usdc_and_worth_the_account_value(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    # Act
    seed_positions(venue)
    held = consolidate(venue.balances())
    # Assert
    assert {h.chain for h in venue.balances()} == {"hyperliquid"}
    assert held["BTC"] * 97000.5 == pytest.approx(4000 / 1.00055, rel=0.01)
    assert held["USDC"] == pytest.approx(4000, abs=10)
    assert worth(venue) == pytest.approx(10_000, abs=10)  # the collateral, less fees and slippage


def test_a_buy_and_a_partial_sell_conserve_value_up_to_fees_and_slippage(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    before = worth(venue)
    # Act
    bought = venue.place_order("BTC", Side.BUY, quote_amount=5000.0, client_order_id="o-00")
    sold = venue.place_order("BTC", Side.SELL, quantity=bought.quantity / 5, client_order_id="o-01")
    # Assert
    costs = bought.fee + bought.slippage + sold.fee + sold.slippage
    assert before - worth(venue) == pytest.approx(costs, abs=0.05)
    remaining = consolidate(venue.balances())["BTC"]
    assert remaining == pytest.approx(bought.quantity * 4 / 5, rel=0.001)
    assert len(trading.requests_to(*CLOSE)) == 1 and len(trading.requests_to(*OPEN)) == 2  # closed whole, reopened
    assert sold.fee > 5 * bought.fee / 5  # the round trip costs more than a partial sell would


def test_the_close_and_reopen_cost_is_estimated_for_the_plan():
    assert sell_cost(10_000, 1_000) == pytest.approx(5.5 + 9000 * (0.00055 + 0.001))
    assert sell_cost(1_000, 1_000) == pytest.approx(0.55)


def test_a_lost_open_answer_is_reconciled_from_history_and_the_order_is_not_sent_again(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    trading.lose_response_of_next("/v1/trade/open")
    # Act
    with pytest.raises(VenueUnavailable):
        venue.place_order("ETH", Side.BUY, quote_amount=1000.0, client_order_id="o-02")
    found = venue.get_order("o-02")
    again = venue.place_order("ETH", Side.BUY, quote_amount=1000.0, client_order_id="o-02")
    # Assert
    assert found == again and found.value == pytest.approx(1000 / 1.00055, abs=1)
    assert len(trading.requests_to(*OPEN)) == 1


def test_a_sell_whose_close_answer_was_lost_is_finished_without_a_second_close(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    seed_positions(venue)
    held = consolidate(venue.balances())["BTC"]
    trading.lose_response_of_next("/v1/trade/close")
    # Act
    with pytest.raises(VenueUnavailable):
        venue.place_order("BTC", Side.SELL, quantity=held / 2, client_order_id="o-03")
    order = venue.get_order("o-03")
    # Assert
    assert order.quantity == pytest.approx(held / 2, rel=0.01)
    assert len(trading.requests_to(*CLOSE)) == 1 and len(trading.requests_to(*OPEN)) == 3  # 2 seeds + the reopen
    assert consolidate(venue.balances())["BTC"] == pytest.approx(held / 2, rel=0.01)


def test_an_open_refused_by_the_venue_was_never_placed(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    trading.set_daily_loss(500, 100)
    # Act
    with pytest.raises(Exception) as refused:
        venue.place_order("SOL", Side.BUY, quote_amount=100.0, client_order_id="o-04")
    # Assert
    assert "daily_loss_limit_reached" in str(refused.value)
    with pytest.raises(UnknownOrder):
        venue.get_order("o-04")


def test_orders_under_the_usd_floor_are_refused_before_sending(trading, tmp_path):
    venue = trading_venue(trading, tmp_path)
    with pytest.raises(BelowMinimum):
        venue.place_order("BTC", Side.BUY, quote_amount=5.0, client_order_id="o-05")
    assert trading.requests_to(*OPEN) == []


def test_positions_answered_from_the_database_are_not_trusted(trading, tmp_path):
    # Arrange
    venue = trading_venue(trading, tmp_path)
    trading.hyperliquid_up = False
    # Act / Assert
    with pytest.raises(VenueUnavailable, match="trusts only Hyperliquid"):
        venue._positions()


def test_a_bad_key_is_key_rejected_and_the_key_is_never_shown(trading, tmp_path):
    venue = trading_venue(trading, tmp_path, key="sk_trade_" + "0" * 48)
    with pytest.raises(KeyRejected):
        venue.balances()
    assert TRADING_KEY not in repr(venue) and TRADING_KEY not in repr(venue.api)


def test_an_open_refused_with_429_waits_out_the_window_and_is_sent_once_more(trading, tmp_path, purpleflea):
    # Arrange: one open per 60 s; the client's wait moves the fake clock instead of sleeping
    venue = trading_venue(trading, tmp_path)
    venue.api.sleep = purpleflea.clock.advance
    trading.LIMITS = {**trading.LIMITS, "/v1/trade/open": 1}
    venue.place_order("BTC", Side.BUY, quote_amount=1000.0, client_order_id="o-06")
    # Act
    second = venue.place_order("ETH", Side.BUY, quote_amount=1000.0, client_order_id="o-07")
    # Assert
    assert second.value == pytest.approx(1000 / 1.00055, abs=1)
    assert len(trading.requests_to(*OPEN)) == 3  # the first, the one refused with 429, the one resent
    assert len(trading.book.orders) == 2

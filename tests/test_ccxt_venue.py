"""The ccxt venue through real ccxt against the Binance spot fake on 127.0.0.1 (no mock of ccxt)."""

from decimal import Decimal

import ccxt
import pytest
from fakes.binance_spot import API_KEY, SECRET
from fakes.fixtures import binance_server  # noqa: F401 - fixture
from pydantic import SecretStr

from trimtab.core.plan import Side
from trimtab.errors import (
    BelowMinimum,
    ConfigError,
    InsufficientFunds,
    KeyRejected,
    OrderRejected,
    RateLimited,
    UnknownOrder,
    Unsupported,
    VenueUnavailable,
)
from trimtab.venues.base import consolidate
from trimtab.venues.ccxt_errors import retrying, translate
from trimtab.venues.ccxt_venue import Capability, CcxtVenue, make_exchange

PRICES = {"BTC": 65000.0, "ETH": 2000.0, "SOL": 150.0, "USDT": 1.0}
ORDER = ("/api/v3/order", "POST")


def venue_on(server, *, key: str = API_KEY, **kw) -> CcxtVenue:
    exchange = make_exchange("binance", api_key=SecretStr(key), secret=SecretStr(SECRET), api_url=server.url,
                             rate_limit=False, timeout_ms=3000)
    return CcxtVenue(exchange, quote="USDT", assets=["BTC", "ETH", "SOL"], backoff=0.01, **kw)


def value(server) -> Decimal:
    return sum((q * Decimal(str(PRICES[a])) for a, q in server.balances.items()), Decimal(0))


def test_markets_carry_the_exchanges_step_minimums_and_taker_fee(binance_server):
    # Act
    markets = venue_on(binance_server).markets()
    # Assert
    btc = markets["BTC"]
    assert btc.chain == "binance" and set(markets) == {"BTC", "ETH", "SOL"}
    assert btc.rules.amount_step == pytest.approx(1e-5)
    assert btc.rules.min_notional == 5.0 and btc.rules.taker_fee == pytest.approx(0.001)


def test_balances_are_the_portfolios_assets_on_one_chain_named_after_the_exchange(binance_server):
    # Arrange
    binance_server.set_balance("DOGE", 100)
    # Act
    holdings = venue_on(binance_server).balances()
    # Assert
    assert {h.chain for h in holdings} == {"binance"}
    assert consolidate(holdings) == {"BTC": 0.1, "ETH": 1.25, "USDT": 10000.0}


def test_a_sell_and_a_buy_by_quote_amount_conserve_value_up_to_fees(binance_server):
    # Arrange
    venue, before = venue_on(binance_server), value(binance_server)
    # Act
    sold = venue.place_order("BTC", Side.SELL, quantity=0.0123456, client_order_id="v-00")
    bought = venue.place_order("SOL", Side.BUY, quote_amount=500.0, client_order_id="v-01")
    # Assert
    assert sold.quantity == pytest.approx(0.01234)  # rounded down to the 0.00001 lot before sending
    assert bought.value + bought.fee <= 500.0 + 1e-9  # the fee is inside the amount
    assert float(before - value(binance_server)) == pytest.approx(sold.fee + bought.fee, abs=0.01)
    assert venue.get_order("v-01") == bought


def test_a_buy_is_sized_from_the_ticker_where_the_exchange_takes_no_quote_size(binance_server):
    # Arrange
    venue = venue_on(binance_server, capability=Capability(client_id_param="newClientOrderId",
                                                           lookup_param="origClientOrderId"))
    # Act
    order = venue.place_order("ETH", Side.BUY, quote_amount=300.0, client_order_id="v-02")
    # Assert
    assert order.quantity == pytest.approx(0.1498)  # 300 / 1.001 / 2000 rounded down to 0.0001
    assert order.value + order.fee <= 300.0


def test_a_lost_order_answer_is_found_by_client_id_and_the_order_is_not_sent_again(binance_server):
    # Arrange
    venue = venue_on(binance_server)
    binance_server.drop_response_of_next_order()
    # Act
    order = venue.place_order("ETH", Side.SELL, quantity=0.5, client_order_id="v-03")
    again = venue.place_order("ETH", Side.SELL, quantity=0.5, client_order_id="v-03")
    # Assert
    assert order == again and order.quantity == 0.5
    assert len(binance_server.requests_to(*ORDER)) == 1
    assert binance_server.balances["ETH"] == Decimal("0.75")


def test_a_502_after_the_order_executed_is_found_by_client_id(binance_server):
    # Arrange
    venue = venue_on(binance_server)
    binance_server.drop_response_of_next_order(mode="502")
    # Act
    order = venue.place_order("BTC", Side.SELL, quantity=0.01, client_order_id="v-04")
    # Assert
    assert order.value == pytest.approx(650.0) and len(binance_server.requests_to(*ORDER)) == 1


def test_an_order_refused_with_429_is_not_resent_by_the_venue_and_is_retryable(binance_server):
    # Arrange
    venue = venue_on(binance_server)
    binance_server.fail_next("/api/v3/order", 429, method="POST")
    # Act
    with pytest.raises(RateLimited) as caught:
        venue.place_order("ETH", Side.SELL, quantity=0.5, client_order_id="v-05")
    # Assert
    assert caught.value.retryable and len(binance_server.requests_to(*ORDER)) == 1
    assert "sell 0.5 ETH ETH/USDT (client id v-05)" in str(caught.value)
    assert isinstance(caught.value.__cause__, ccxt.DDoSProtection)
    with pytest.raises(UnknownOrder):
        venue.get_order("v-05")


def test_reads_are_retried_with_backoff_after_429_and_418(binance_server):
    # Arrange
    venue = venue_on(binance_server)
    binance_server.fail_next("/api/v3/account", 429)
    binance_server.fail_next("/api/v3/account", 418)
    # Act
    holdings = venue.balances()
    # Assert
    assert consolidate(holdings)["BTC"] == 0.1
    assert len(binance_server.requests_to("/api/v3/account", "GET")) == 3


def test_a_read_that_stays_rate_limited_raises_rate_limited_after_its_retries():
    # Arrange
    waits: list[float] = []

    def always_429():
        raise ccxt.DDoSProtection('binance {"code":-1003,"msg":"Too many requests"}')

    # Act
    with pytest.raises(RateLimited) as caught:
        retrying(always_429, "read balances", retries=3, backoff=0.5, sleep=waits.append)
    # Assert
    assert waits == [0.5, 1.0, 2.0]
    assert caught.value.venue_message == '{"code":-1003,"msg":"Too many requests"}'


def test_refusals_that_are_final_are_never_retried():
    # Arrange
    calls = []

    def refused():
        calls.append(1)
        raise ccxt.InsufficientFunds("binance Account has insufficient balance for requested action.")

    # Act / Assert
    with pytest.raises(InsufficientFunds):
        retrying(refused, "sell 5 ETH/USDT", sleep=lambda s: None)
    assert len(calls) == 1


@pytest.mark.parametrize("error, expected", [
    (ccxt.OrderNotFound("binance Order does not exist."), UnknownOrder),
    (ccxt.InsufficientFunds("binance Account has insufficient balance"), InsufficientFunds),
    (ccxt.BadRequest('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}'), BelowMinimum),
    (ccxt.InvalidOrder('binance {"code":-1013,"msg":"Filter failure: LOT_SIZE"}'), BelowMinimum),
    (ccxt.InvalidOrder("binance Duplicate order sent."), OrderRejected),
    (ccxt.BadSymbol("binance Invalid symbol."), OrderRejected),
    (ccxt.NotSupported("kraken fetchOrder() is not supported"), Unsupported),
    (ccxt.AuthenticationError("binance Invalid API-key"), KeyRejected),
    (ccxt.PermissionDenied("binance not allowed"), KeyRejected),
    (ccxt.RateLimitExceeded("binance 429"), RateLimited),
    (ccxt.DDoSProtection("binance 418 banned"), RateLimited),
    (ccxt.InvalidNonce("binance Timestamp for this request is outside of the recvWindow."), VenueUnavailable),
    (ccxt.RequestTimeout("binance timed out"), VenueUnavailable),
    (ccxt.ExchangeNotAvailable("binance 503"), VenueUnavailable),
    (ccxt.NetworkError("binance connection reset"), VenueUnavailable),
])
def test_each_ccxt_exception_becomes_one_trimtab_error_with_the_operation_and_the_exchanges_words(error, expected):
    # Act
    translated = translate(error, "binance: sell 0.5 ETH ETH/USDT (client id r1-00)")
    # Assert
    assert type(translated) is expected
    assert "sell 0.5 ETH ETH/USDT" in str(translated)
    assert translated.venue_message and not translated.venue_message.startswith("binance ")


def test_errors_from_the_exchange_keep_their_cause_and_a_typed_class(binance_server):
    # Arrange
    venue = venue_on(binance_server)
    # Act / Assert
    with pytest.raises(BelowMinimum, match="NOTIONAL") as small:
        venue.place_order("ETH", Side.SELL, quantity=0.001, client_order_id="v-06")
    with pytest.raises(InsufficientFunds, match="insufficient balance") as big:
        venue.place_order("ETH", Side.SELL, quantity=50.0, client_order_id="v-07")
    assert isinstance(small.value.__cause__, ccxt.BadRequest)
    assert isinstance(big.value.__cause__, ccxt.InsufficientFunds)
    with pytest.raises(KeyRejected):
        venue_on(binance_server, key="wrong-key").balances()


def test_a_bridge_is_unsupported_and_no_bridge_is_ever_known(binance_server):
    venue = venue_on(binance_server)
    with pytest.raises(Unsupported, match="no chains"):
        venue.transfer("USDT", 50.0, "binance", "ethereum", "t-00")
    with pytest.raises(UnknownOrder):
        venue.transfer_status("t-00")


def test_pair_markets_between_portfolio_assets_are_listed_with_their_rules(binance_server):
    pairs = venue_on(binance_server).pair_markets()
    assert set(pairs) == {("ETH", "BTC")}
    assert pairs["ETH", "BTC"].amount_step == pytest.approx(1e-4)


def test_an_unknown_exchange_name_is_a_config_error():
    with pytest.raises(ConfigError, match="no exchange called 'notanexchange'"):
        make_exchange("notanexchange")


def test_the_venue_never_shows_its_keys(binance_server):
    venue = venue_on(binance_server)
    assert API_KEY not in repr(venue) and SECRET not in repr(venue)

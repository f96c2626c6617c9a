"""Real ccxt against the fake Binance spot server: every call trimtab's ccxt venue will make."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest

import ccxt  # noqa: E402
import httpx  # noqa: E402

from .binance_spot import API_KEY, SECRET, BinanceSpotFake
from .fixtures import make_ccxt_binance

BTC = "BTC/USDT"


def test_load_markets_turns_exchange_info_filters_into_limits_and_precision(binance_server, binance):
    markets = binance.load_markets()

    btc = markets[BTC]
    assert (btc["base"], btc["quote"], btc["spot"], btc["active"]) == ("BTC", "USDT", True, True)
    assert btc["limits"]["amount"]["min"] == 0.00001 and btc["limits"]["amount"]["max"] == 9000
    assert btc["limits"]["cost"]["min"] == 5
    assert btc["precision"]["amount"] == 0.00001 and btc["precision"]["price"] == 0.01
    assert markets["ETH/BTC"]["limits"]["cost"]["min"] == 0.0001
    assert [r.path for r in binance_server.requests] == [
        "/api/v3/exchangeInfo", "/sapi/v1/margin/allPairs", "/sapi/v1/margin/isolated/allPairs"]


def test_fetch_balance_reads_the_signed_account(binance_server, binance):
    binance_server.set_balance("SOL", "3.5")

    balance = binance.fetch_balance()

    assert balance["free"]["BTC"] == 0.1 and balance["total"]["USDT"] == 10_000 and balance["SOL"]["free"] == 3.5
    account = binance_server.requests_to("/api/v3/account")[0]
    assert account.header("X-MBX-APIKEY") == API_KEY and "signature=" in account.query_string


def test_tickers_follow_set_price(binance_server, binance):
    binance_server.set_price(BTC, 70_000)

    one = binance.fetch_ticker(BTC)
    some = binance.fetch_tickers([BTC, "ETH/USDT"])
    every = binance.fetch_tickers()

    assert one["last"] == one["bid"] == one["ask"] == 70_000
    assert set(some) == {BTC, "ETH/USDT"} and some["ETH/USDT"]["last"] == 2000
    assert len(every) == 4
    tickers = [r for r in binance_server.requests if r.path.startswith("/api/v3/ticker")]
    assert [(r.path, r.query) for r in tickers] == [
        ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}),
        ("/api/v3/ticker/24hr", {"symbols": '["BTCUSDT","ETHUSDT"]'}),
        ("/api/v3/ticker/24hr", {}),
    ]


def test_market_buy_with_client_id_fills_at_the_price_and_pays_the_fee_in_quote(binance_server, binance):
    binance.load_markets()

    order = binance.create_order(BTC, "market", "buy", 0.01, None, {"newClientOrderId": "tt-1-buy-btc"})

    assert order["clientOrderId"] == "tt-1-buy-btc" and order["status"] == "closed"
    assert order["filled"] == 0.01 and order["cost"] == 650 and order["average"] == 65_000
    assert order["fee"] == {"currency": "USDT", "cost": 0.65}
    assert binance_server.balances["USDT"] == Decimal(10000) - Decimal("650.65")
    assert binance_server.balances["BTC"] == Decimal("0.11")


def test_market_buy_by_quote_amount_rounds_the_quantity_down_to_the_step(binance_server, binance):
    binance.load_markets()

    order = binance.create_order(BTC, "market", "buy", None, None, {"quoteOrderQty": 100})

    assert order["amount"] == 0.00153 and order["cost"] == pytest.approx(99.45)


def test_market_sell_credits_quote_less_fee(binance_server, binance):
    binance.load_markets()

    binance.create_order("ETH/USDT", "market", "sell", 1, None, {"newClientOrderId": "tt-sell-eth"})

    assert binance_server.balances["ETH"] == Decimal("0.25")
    assert binance_server.balances["USDT"] == Decimal(10000) + Decimal(2000) - Decimal(2)


@pytest.mark.parametrize("key", ["origClientOrderId", "clientOrderId"])
def test_fetch_order_by_client_id_without_an_order_id(binance_server, binance, key):
    binance.load_markets()
    placed = binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-find-me"})

    found = binance.fetch_order(None, BTC, {key: "tt-find-me"})

    assert found["id"] == placed["id"] and found["clientOrderId"] == "tt-find-me" and found["filled"] == 0.001
    assert binance_server.requests_to("/api/v3/order", "GET")[-1].query["origClientOrderId"] == "tt-find-me"


def test_unknown_client_id_is_order_not_found(binance):
    binance.load_markets()

    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        binance.fetch_order(None, BTC, {"origClientOrderId": "never-sent"})


def test_duplicate_client_id_is_invalid_order_and_places_nothing(binance_server, binance):
    binance.load_markets()
    binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-once"})

    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-once"})

    assert len(binance_server.orders) == 1


def test_non_strict_mode_like_real_binance_lets_a_filled_orders_id_place_a_second_order():
    with BinanceSpotFake(strict_client_ids=False) as server:
        exchange = make_ccxt_binance(server.url, enableRateLimit=False)
        exchange.load_markets()
        for _ in range(2):
            exchange.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-twice"})

        assert [o["clientOrderId"] for o in server.orders] == ["tt-twice", "tt-twice"]


def test_below_min_notional_is_rejected_with_filter_failure_notional(binance_server, binance):
    # ccxt maps code -1013 to BadRequest (not InvalidOrder); both are ExchangeError.
    binance.load_markets()

    with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL") as caught:
        binance.create_order(BTC, "market", "buy", 0.00005, None, {"newClientOrderId": "tt-dust"})

    assert not isinstance(caught.value, ccxt.InvalidOrder)
    assert binance_server.orders == []


def test_insufficient_balance_is_insufficient_funds(binance_server, binance):
    binance.load_markets()

    with pytest.raises(ccxt.InsufficientFunds):
        binance.create_order(BTC, "market", "buy", 1, None, {"newClientOrderId": "tt-too-big"})

    assert binance_server.orders == [] and binance_server.balances["USDT"] == 10_000


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limit_status_is_ddos_protection_and_the_order_is_not_placed(binance_server, binance, status):
    binance.load_markets()
    binance_server.fail_next("/api/v3/order", status=status)

    with pytest.raises(ccxt.DDoSProtection, match=str(status)):
        binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-limited"})
    assert binance_server.orders == []

    binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-limited"})
    assert len(binance_server.orders) == 1


def test_a_fault_limited_to_post_spares_the_get_on_the_same_path(binance_server, binance):
    binance.load_markets()
    binance_server.fail_next("/api/v3/order", status=429, method="POST")

    with pytest.raises(ccxt.OrderNotFound):
        binance.fetch_order(None, BTC, {"origClientOrderId": "tt-missing"})
    with pytest.raises(ccxt.DDoSProtection):
        binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-post"})
    assert binance_server.orders == []


def test_429_body_and_retry_after_header_are_binances(binance_server):
    binance_server.fail_next("/api/v3/ticker/24hr")

    reply = httpx.get(binance_server.url + "/api/v3/ticker/24hr")

    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"
    assert reply.json()["code"] == -1003


def test_wrong_secret_is_authentication_error(binance_server):
    exchange = make_ccxt_binance(binance_server.url, secret="not-the-secret", enableRateLimit=False,
                                 options={"fetchMargins": False})

    with pytest.raises(ccxt.AuthenticationError, match="Signature for this request is not valid"):
        exchange.fetch_balance()


def test_wrong_api_key_is_authentication_error(binance_server):
    exchange = make_ccxt_binance(binance_server.url, api_key="someone-else", enableRateLimit=False,
                                 options={"fetchMargins": False})

    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        exchange.fetch_balance()


def test_client_clock_outside_recv_window_is_invalid_nonce(binance_server, binance):
    binance_server.clock_offset_ms = 20_000  # the server is 20 s ahead; ccxt sends recvWindow=10000

    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        binance.fetch_balance()


def test_lost_response_is_a_network_error_yet_the_order_exists_and_is_found_by_client_id(binance_server, binance):
    binance.load_markets()
    binance_server.drop_response_of_next_order()

    with pytest.raises(ccxt.NetworkError):
        binance.create_order(BTC, "market", "buy", 0.01, None, {"newClientOrderId": "tt-lost"})

    found = binance.fetch_order(None, BTC, {"origClientOrderId": "tt-lost"})
    assert found["status"] == "closed" and found["filled"] == 0.01
    assert len(binance_server.orders) == 1 and binance_server.balances["BTC"] == Decimal("0.11")


def test_lost_response_as_502_is_exchange_not_available(binance_server, binance):
    binance.load_markets()
    binance_server.drop_response_of_next_order(mode="502")

    with pytest.raises(ccxt.ExchangeNotAvailable):
        binance.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-502"})

    assert binance_server.order_by_client_id("tt-502")["status"] == "FILLED"


def test_response_slower_than_the_client_timeout_is_request_timeout(binance_server):
    exchange = make_ccxt_binance(binance_server.url, enableRateLimit=False, timeout=300)
    exchange.load_markets()
    binance_server.drop_response_of_next_order(delay=0.8)

    with pytest.raises(ccxt.RequestTimeout):
        exchange.create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": "tt-slow"})

    assert binance_server.order_by_client_id("tt-slow") is not None


def test_plain_httpx_client_can_sign_and_gets_binance_error_bodies(binance_server):
    query = urlencode({"timestamp": int(time.time() * 1000)})
    good = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": API_KEY}

    ok = httpx.get(f"{binance_server.url}/api/v3/account?{query}&signature={good}", headers=headers)
    bad = httpx.get(f"{binance_server.url}/api/v3/account?{query}&signature={'0' * 64}", headers=headers)
    missing = httpx.get(f"{binance_server.url}/api/v3/order?{query}&signature={good}", headers=headers)

    assert ok.status_code == 200 and ok.json()["accountType"] == "SPOT"
    assert bad.status_code == 400 and bad.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert missing.status_code == 400 and missing.json()["code"] == -1102


def test_my_trades_carry_the_commission(binance_server, binance):
    binance.load_markets()
    placed = binance.create_order(BTC, "market", "sell", 0.01, None, {"newClientOrderId": "tt-trade"})

    trades = binance.fetch_my_trades(BTC)

    assert [t["order"] for t in trades] == [placed["id"]]
    assert trades[0]["fee"] == {"currency": "USDT", "cost": 0.65} and trades[0]["side"] == "sell"


def test_concurrent_orders_keep_balances_consistent(binance_server, binance):
    binance.load_markets()
    clients = [make_ccxt_binance(binance_server.url, enableRateLimit=False) for _ in range(8)]
    for client in clients:
        client.markets, client.markets_by_id, client.symbols = binance.markets, binance.markets_by_id, binance.symbols

    def buy(i: int) -> None:
        clients[i].create_order(BTC, "market", "buy", 0.001, None, {"newClientOrderId": f"tt-par-{i}"})

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(binance_server.orders) == 8
    assert binance_server.balances["BTC"] == Decimal("0.108")
    assert binance_server.balances["USDT"] == Decimal(10000) - 8 * Decimal("65.065")


def test_weight_limit_answers_429_once_the_minute_is_used_up(binance_server, binance):
    binance_server.weight_limit = 2

    first = httpx.get(binance_server.url + "/api/v3/time")
    httpx.get(binance_server.url + "/api/v3/time")
    with pytest.raises(ccxt.DDoSProtection):
        binance.fetch_time()

    assert first.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    assert len(binance_server.requests_to("/api/v3/time")) == 3


def test_status_fees_and_book_for_a_venue_check(binance_server, binance):
    binance.load_markets()

    fees = binance.fetch_trading_fees()
    book = binance.fetch_order_book(BTC, 5)
    status = binance.fetch_status()["status"]
    binance_server.maintenance = True

    assert fees[BTC]["taker"] == fees["ETH/BTC"]["maker"] == 0.001
    assert book["bids"][0][0] == book["asks"][0][0] == 65_000
    assert (status, binance.fetch_status()["status"]) == ("ok", "maintenance")


def test_garbage_parameter_is_illegal_characters(binance_server):
    query = urlencode({"timestamp": int(time.time() * 1000), "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                       "quantity": "lots"})
    signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()

    reply = httpx.post(f"{binance_server.url}/api/v3/order", content=f"{query}&signature={signature}",
                       headers={"X-MBX-APIKEY": API_KEY, "Content-Type": "application/x-www-form-urlencoded"})

    assert (reply.status_code, reply.json()["code"]) == (400, -1100) and binance_server.orders == []


def test_direct_pair_moves_eth_into_btc_with_the_fee_in_btc(binance_server, binance):
    binance.load_markets()

    order = binance.create_order("ETH/BTC", "market", "sell", 1, None, {"newClientOrderId": "tt-direct"})

    assert order["cost"] == pytest.approx(0.03077) and order["fee"]["currency"] == "BTC"
    assert binance_server.balances["ETH"] == Decimal("0.25")
    assert binance_server.balances["BTC"] == Decimal("0.1") + Decimal("0.03077") * Decimal("0.999")

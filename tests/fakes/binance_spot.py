"""A fake Binance spot REST server on 127.0.0.1, driven by real ccxt or a plain HTTP client.

State (markets, prices, balances, orders, trades) lives in memory behind one lock. Every order is
a MARKET order that fills at once, whole, at the configured price, with a fee in the quote asset.

ccxt 4.5 calls -> endpoints, as observed by ``test_binance_spot.py`` (ccxt built by
``fixtures.make_ccxt_binance``; "signed" = HMAC-SHA256 of the query/body with the secret):

    load_markets()                        GET /api/v3/exchangeInfo, and with keys also (signed)
                                          GET /sapi/v1/margin/allPairs, /sapi/v1/margin/isolated/allPairs
    fetch_time()                          GET /api/v3/time
    fetch_ticker("BTC/USDT")              GET /api/v3/ticker/24hr?symbol=BTCUSDT
    fetch_tickers() / fetch_tickers([..]) GET /api/v3/ticker/24hr  (symbols=["BTCUSDT",..])
    fetch_bids_asks()                     GET /api/v3/ticker/bookTicker
    fetch_balance()                       GET /api/v3/account (signed)
    create_order(s, "market", side, amount, None, {"newClientOrderId": cid})
                                          POST /api/v3/order (signed, form body, newOrderRespType=FULL)
    create_order(s, "market", "buy", None, None, {"quoteOrderQty": 100})   the same, by quote amount
    fetch_order(None, s, {"origClientOrderId": cid})  (``{"clientOrderId": cid}`` works too)
                                          GET /api/v3/order?symbol=..&origClientOrderId=cid (signed)
    fetch_order(order_id, s)              GET /api/v3/order?orderId=.. (signed)
    fetch_my_trades(s)                    GET /api/v3/myTrades (signed)
    fetch_open_orders(s) / fetch_orders(s)  GET /api/v3/openOrders / allOrders (signed)
    fetch_status()                        GET /sapi/v1/system/status
    fetch_trading_fees() / fetch_trading_fee(s)  GET /sapi/v1/asset/tradeFee (signed)
    fetch_order_book(s)                   GET /api/v3/depth?symbol=..

Errors use Binance's codes and messages; ccxt maps them (see the tests): -1022 -> AuthenticationError,
-1021 -> InvalidNonce, -2010 "Duplicate order sent." -> InvalidOrder, -2010 insufficient balance ->
InsufficientFunds, -1013 "Filter failure: NOTIONAL" -> BadRequest (not InvalidOrder: ccxt maps code
-1013 to BadRequest), -2013 -> OrderNotFound, -1121 -> BadSymbol, HTTP 429/418 -> DDoSProtection,
a dropped connection -> NetworkError.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from decimal import ROUND_DOWN, Decimal
from typing import Any

from . import binance_wire as wire
from ._http import FakeServer, Request, Response
from .binance_capital import WEIGHTS, CapitalMixin
from .binance_wire import SpotMarket, s8
from .chain_network import ChainNetwork

API_KEY = "fake-binance-key"
SECRET = "fake-binance-secret"


def default_markets() -> list[SpotMarket]:
    return [
        SpotMarket("BTC", "USDT", Decimal(65000)),
        SpotMarket("ETH", "USDT", Decimal(2000), step_size=Decimal("0.0001"), min_qty=Decimal("0.0001")),
        SpotMarket("SOL", "USDT", Decimal(150), step_size=Decimal("0.001"), min_qty=Decimal("0.001")),
        SpotMarket("ETH", "BTC", Decimal("0.03077"), step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"),
                   tick_size=Decimal("0.00001"), min_notional=Decimal("0.0001")),
    ]


def error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"code": code, "msg": msg}, headers or {})


RATE_LIMITED = {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                "minute. Please use the websocket for live updates to avoid polling the API."}
BANNED = {"code": -1003, "msg": "Way too much request weight used; IP banned until 1767225600000. "
          "Please use WebSocket Streams for live updates to avoid bans."}
BAD_SIGNATURE = (400, -1022, "Signature for this request is not valid.")
BAD_KEY = (401, -2015, "Invalid API-key, IP, or permissions for action.")
NO_ORDER = (400, -2013, "Order does not exist.")
INSUFFICIENT = (400, -2010, "Account has insufficient balance for requested action.")


class BinanceSpotFake(CapitalMixin, FakeServer):
    """Binance spot REST on 127.0.0.1. Knobs: ``set_price``, ``set_balance``, ``fail_next``,
    ``drop_response_of_next_order``, ``clock_offset_ms``, ``weight_limit``, ``maintenance``; the log
    is ``requests``.

    Every request weighs 1 (Binance weighs endpoints 1-80); ``X-MBX-USED-WEIGHT-1M`` reports the
    minute's total, and past ``weight_limit`` the fake answers 429 -1003 with ``Retry-After``. The
    capital endpoints (``binance_capital.py``) carry their documented weights on top.

    ``network`` (a ``chain_network.ChainNetwork``) links this fake to others: withdrawals are
    broadcast on it and transfers to our deposit addresses are credited from it.

    ``strict_client_ids`` (default True) rejects any reused ``newClientOrderId`` with -2010
    "Duplicate order sent.". Real Binance only rejects an id of a still *open* order; a market order
    is filled at once, so there a reused id places a second order: pass False to get that behaviour.
    """

    def __init__(self, markets: list[SpotMarket] | None = None, balances: dict[str, Any] | None = None,
                 api_key: str = API_KEY, secret: str = SECRET, fee_rate: Any = "0.001",
                 strict_client_ids: bool = True, network: ChainNetwork | None = None) -> None:
        super().__init__()
        self.api_key, self.secret = api_key, secret
        self.fee_rate = Decimal(str(fee_rate))
        self.strict_client_ids = strict_client_ids
        self.clock_offset_ms = 0
        self.maintenance = False  # GET /sapi/v1/system/status says "system_maintenance"
        self.markets = {m.symbol: m for m in (markets or default_markets())}
        self.balances: dict[str, Decimal] = {}
        for asset, free in (balances or {"USDT": 10_000, "BTC": "0.1", "ETH": "1.25"}).items():
            self.set_balance(asset, free)
        self.orders: list[dict] = []
        self.trades: list[dict] = []
        self._faults: dict[str, list[Response]] = {}
        self._drop_next: dict[str, Response] = {}  # path -> the answer that replaces an applied one
        self._ids = itertools.count(1)
        self.weight_limit: int | None = None  # requests per clock minute before an automatic 429
        self._weight_minute, self._weight_used = 0, 0
        self._init_capital(network)

    # -- knobs -----------------------------------------------------------------------------
    def set_price(self, symbol: str, price: Any) -> None:
        with self.lock:
            self.markets[symbol.replace("/", "")].price = Decimal(str(price))

    def set_balance(self, asset: str, free: Any) -> None:
        with self.lock:
            self.balances[asset] = Decimal(str(free))

    def fail_next(self, path: str, status: int = 429, body: Any = None, times: int = 1,
                  headers: dict[str, str] | None = None, method: str | None = None) -> None:
        """Answer the next ``times`` requests on ``path`` with ``status`` and ``body``, unprocessed.

        ``method`` ("POST") limits the fault to that method (a GET lookup of an order passes).

        Defaults follow Binance: 429 -> -1003 "Too many requests..." with ``Retry-After``, 418 -> the
        IP-ban text, 5xx -> -1001 "Internal error...".
        """
        if body is None:
            body = {429: RATE_LIMITED, 418: BANNED}.get(
                status, {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."})
        if headers is None:
            headers = {"Retry-After": "1"} if status in (418, 429) else {}
        with self.lock:
            key = f"{method.upper()} {path}" if method else path
            self._faults.setdefault(key, []).extend(Response(status, body, dict(headers)) for _ in range(times))

    def drop_response_of_next_order(self, mode: str = "close", delay: float = 0.0) -> None:
        """Execute the next accepted POST /api/v3/order, then lose its response (see ``drop_response_of_next``)."""
        self.drop_response_of_next("/api/v3/order", mode, delay)

    def drop_response_of_next(self, path: str, mode: str = "close", delay: float = 0.0) -> None:
        """Execute the next accepted (200) request on ``path``, then lose its response.

        ``mode="close"`` closes the connection without a byte (after ``delay`` seconds, so a client
        timeout shorter than ``delay`` also works); ``mode="502"`` answers 502 with an HTML body;
        ``mode="500"`` answers 500 -1001 (Binance's "Internal error; unable to process your request").
        """
        if mode not in ("close", "502", "500"):
            raise ValueError("mode is 'close', '502' or '500'")
        answers = {"close": Response(drop=True, delay=delay),
                   "502": Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                                   {"Content-Type": "text/html"}, delay=delay),
                   "500": Response(500, {"code": -1001, "msg": "Internal error; unable to process your request. "
                                         "Please try again."}, delay=delay)}
        with self.lock:
            self._drop_next[path] = answers[mode]

    def server_time_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def order_by_client_id(self, client_order_id: str) -> dict | None:
        with self.lock:
            return next((o for o in self.orders if o["clientOrderId"] == client_order_id), None)

    # -- dispatch --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if self.network is not None:
            self.network.settle()  # outside our lock: a delivery may take another fake's lock
        with self.lock:
            try:
                response = self._route(request)
            except (ValueError, ArithmeticError):  # e.g. quantity=abc, timestamp=soon
                response = error(400, -1100, "Illegal characters found in a parameter.")
            if response.status == 200 and request.path in self._drop_next:
                response = self._drop_next.pop(request.path)
            if request.path in WEIGHTS:
                for name, value in self._weight_headers(request.path).items():
                    response.headers.setdefault(name, value)
            response.headers.setdefault("X-MBX-USED-WEIGHT-1M", str(self._weight_used))
            return response

    def _route(self, request: Request) -> Response:
        minute = self.server_time_ms() // 60_000
        if minute != self._weight_minute:
            self._weight_minute, self._weight_used = minute, 0
        self._weight_used += 1
        self._advance_capital()
        queued = self._faults.get(f"{request.method} {request.path}") or self._faults.get(request.path)
        if queued:
            return queued.pop(0)
        if self.weight_limit is not None and self._weight_used > self.weight_limit:
            return Response(429, RATE_LIMITED, {"Retry-After": str(60 - self.server_time_ms() // 1000 % 60)})
        route = ROUTES.get((request.method, request.path))
        if route is None:
            return error(404, -1, f"fake: {request.method} {request.path} is not implemented")
        handler, signed = route
        params = dict(request.query)
        if request.body:
            params.update(_form(request.body.decode()))
        if signed:
            refused = self._check_signature(request)
            if refused is not None:
                return refused
        if request.path in WEIGHTS:
            limited = self._capital_weight(request.path)
            if limited is not None:
                return limited
        try:
            return handler(self, params)
        except _Refused as refusal:
            return refusal.response

    def _check_signature(self, request: Request) -> Response | None:
        if request.header("X-MBX-APIKEY") != self.api_key:
            return error(*BAD_KEY)
        raw = _unsigned(request.query_string) + _unsigned(request.body.decode())
        params = _form(raw)
        sent = _form(request.query_string + "&" + request.body.decode()).get("signature")
        if not sent:
            return error(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        if "timestamp" not in params:
            return error(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        expected = hmac.new(self.secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sent.lower()):
            return error(*BAD_SIGNATURE)
        now, stamp = self.server_time_ms(), int(params["timestamp"])
        window = int(params.get("recvWindow", 5000))
        if window > 60000:
            return error(400, -1131, "recvWindow must be less than 60000")
        if stamp >= now + 1000 or now - stamp > window:
            return error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    # -- public endpoints ------------------------------------------------------------------
    def _time(self, params: dict) -> Response:
        return Response(200, {"serverTime": self.server_time_ms()})

    def _exchange_info(self, params: dict) -> Response:
        symbols = [wire.symbol_info(m) for m in self._select(params)]
        return Response(200, {"timezone": "UTC", "serverTime": self.server_time_ms(), "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ], "exchangeFilters": [], "symbols": symbols})

    def _select(self, params: dict) -> list[SpotMarket]:
        """Markets named by ``symbol`` or ``symbols`` (a JSON array), else all; -1121 if unknown."""
        if "symbol" in params:
            names = [params["symbol"]]
        elif "symbols" in params:
            names = json.loads(params["symbols"])
        else:
            return list(self.markets.values())
        unknown = [n for n in names if n not in self.markets]
        if unknown:
            raise _Refused(error(400, -1121, "Invalid symbol."))
        return [self.markets[n] for n in names]

    def _one_or_list(self, params: dict, row) -> Response:
        rows = [row(m) for m in self._select(params)]
        return Response(200, rows[0] if "symbol" in params else rows)

    def _ticker_price(self, params: dict) -> Response:
        return self._one_or_list(params, lambda m: {"symbol": m.symbol, "price": s8(m.price)})

    def _book_ticker(self, params: dict) -> Response:
        return self._one_or_list(params, lambda m: {"symbol": m.symbol,
                                                    "bidPrice": s8(m.price), "bidQty": "10.00000000",
                                                    "askPrice": s8(m.price), "askQty": "10.00000000"})

    def _ticker_24hr(self, params: dict) -> Response:
        now = self.server_time_ms()
        return self._one_or_list(params, lambda m: wire.ticker_24hr(m, now))

    # -- signed endpoints ------------------------------------------------------------------
    def _account(self, params: dict) -> Response:
        balances = [{"asset": a, "free": s8(v), "locked": "0.00000000"} for a, v in sorted(self.balances.items())]
        if params.get("omitZeroBalances") == "true":
            balances = [b for b in balances if Decimal(b["free"])]
        return Response(200, wire.account(balances, self.fee_rate, self.server_time_ms()))

    def _new_order(self, params: dict) -> Response:
        return self._place_market_order(params)

    def _place_market_order(self, params: dict) -> Response:
        """Validate like Binance (params, duplicate id, LOT_SIZE, NOTIONAL, balance), then fill whole."""
        m = self._select({"symbol": params.get("symbol", "")})[0]
        side, kind = params.get("side", ""), params.get("type", "")
        if side not in ("BUY", "SELL"):
            return error(400, -1117, "Invalid side.")
        if kind != "MARKET":
            return error(400, -1116, "Invalid orderType.")  # fake-only: real Binance also takes LIMIT etc.
        client_id = params.get("newClientOrderId") or f"fake{next(self._ids):018d}"
        if self.strict_client_ids and self.order_by_client_id(client_id) is not None:
            return error(400, -2010, "Duplicate order sent.")
        if params.get("quantity"):
            qty = Decimal(params["quantity"])
            if qty < m.min_qty or qty > m.max_qty or qty % m.step_size:
                return error(400, -1013, "Filter failure: LOT_SIZE")
        elif params.get("quoteOrderQty"):
            qty = floor_to_step(Decimal(params["quoteOrderQty"]) / m.price, m.step_size)
        else:
            return error(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
        notional = qty * m.price
        if notional < m.min_notional:
            return error(400, -1013, "Filter failure: NOTIONAL")
        if qty < m.min_qty:
            return error(400, -1013, "Filter failure: LOT_SIZE")
        fee = notional * self.fee_rate
        if side == "BUY":
            if self.balances.get(m.quote, Decimal(0)) < notional + fee:
                return error(*INSUFFICIENT)
            self.balances[m.quote] -= notional + fee
            self.balances[m.base] = self.balances.get(m.base, Decimal(0)) + qty
        else:
            if self.balances.get(m.base, Decimal(0)) < qty:
                return error(*INSUFFICIENT)
            self.balances[m.base] -= qty
            self.balances[m.quote] = self.balances.get(m.quote, Decimal(0)) + notional - fee
        now = self.server_time_ms()
        order_id, trade_id = next(self._ids), next(self._ids)
        fill = {"price": s8(m.price), "qty": s8(qty), "commission": s8(fee), "commissionAsset": m.quote,
                "tradeId": trade_id}
        order = {"symbol": m.symbol, "orderId": order_id, "orderListId": -1, "clientOrderId": client_id,
                 "price": "0.00000000", "origQty": s8(qty), "executedQty": s8(qty),
                 "cummulativeQuoteQty": s8(notional), "status": "FILLED", "timeInForce": "GTC", "type": "MARKET",
                 "side": side, "stopPrice": "0.00000000", "icebergQty": "0.00000000", "time": now,
                 "updateTime": now, "isWorking": True, "workingTime": now,
                 "origQuoteOrderQty": s8(Decimal(params.get("quoteOrderQty") or 0)),
                 "selfTradePreventionMode": "EXPIRE_MAKER", "fills": [fill]}
        self.orders.append(order)
        self.trades.append({"symbol": m.symbol, "id": trade_id, "orderId": order_id, "orderListId": -1,
                            "price": fill["price"], "qty": fill["qty"], "quoteQty": s8(notional),
                            "commission": fill["commission"], "commissionAsset": m.quote, "time": now,
                            "isBuyer": side == "BUY", "isMaker": False, "isBestMatch": True})
        ack = {k: order[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId")}
        result = {**ack, "transactTime": now, **{k: order[k] for k in (
            "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status", "timeInForce",
            "type", "side", "workingTime", "selfTradePreventionMode")}}
        kind_of_reply = params.get("newOrderRespType", "FULL")
        if kind_of_reply == "ACK":
            return Response(200, {**ack, "transactTime": now})
        return Response(200, {**result, "fills": [fill]} if kind_of_reply == "FULL" else result)

    def _find_order(self, params: dict) -> dict:
        market = self._select({"symbol": params.get("symbol", "")}) if "symbol" in params else None
        if market is None:
            raise _Refused(error(400, -1102,
                                 "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
        symbol = market[0].symbol
        for order in self.orders:
            if order["symbol"] == symbol and (str(order["orderId"]) == params.get("orderId")
                                              or order["clientOrderId"] == params.get("origClientOrderId")):
                return order
        if "orderId" not in params and "origClientOrderId" not in params:
            raise _Refused(error(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                             "empty/null!"))
        raise _Refused(error(*NO_ORDER))

    def _query_order(self, params: dict) -> Response:
        order = self._find_order(params)
        return Response(200, {k: v for k, v in order.items() if k != "fills"})

    def _my_trades(self, params: dict) -> Response:
        symbol = self._select({"symbol": params.get("symbol", "")})[0].symbol
        rows = [t for t in self.trades if t["symbol"] == symbol
                and ("orderId" not in params or str(t["orderId"]) == params["orderId"])]
        return Response(200, rows[-int(params.get("limit", 500)):])

    def _open_orders(self, params: dict) -> Response:
        return Response(200, [])  # every order fills at once

    def _all_orders(self, params: dict) -> Response:
        symbol = self._select({"symbol": params.get("symbol", "")})[0].symbol
        rows = [{k: v for k, v in o.items() if k != "fills"} for o in self.orders if o["symbol"] == symbol]
        return Response(200, rows)


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _form(raw: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(raw, keep_blank_values=True))


def _unsigned(raw: str) -> str:
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


B = BinanceSpotFake
ROUTES = {
    ("GET", "/api/v3/ping"): (lambda self, params: Response(200, {}), False),
    ("GET", "/api/v3/time"): (B._time, False),
    ("GET", "/api/v3/exchangeInfo"): (B._exchange_info, False),
    ("GET", "/api/v3/ticker/price"): (B._ticker_price, False),
    ("GET", "/api/v3/ticker/bookTicker"): (B._book_ticker, False),
    ("GET", "/api/v3/ticker/24hr"): (B._ticker_24hr, False),
    ("GET", "/api/v3/account"): (B._account, True),
    ("POST", "/api/v3/order"): (B._new_order, True),
    ("GET", "/api/v3/order"): (B._query_order, True),
    ("GET", "/api/v3/myTrades"): (B._my_trades, True),
    ("GET", "/api/v3/openOrders"): (B._open_orders, True),
    ("GET", "/api/v3/allOrders"): (B._all_orders, True),
    # ccxt's load_markets asks for margin pairs when it has keys (options.fetchMargins); a spot-only
    # account on Binance gets the list too, but trimtab never trades margin, so the fake lists none.
    ("GET", "/sapi/v1/margin/allPairs"): (lambda self, params: Response(200, []), True),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): (lambda self, params: Response(200, []), True),
    ("GET", "/sapi/v1/system/status"): (lambda self, params: Response(200, wire.system_status(self.maintenance)),
                                        False),
    ("GET", "/sapi/v1/asset/tradeFee"): (lambda self, params: Response(200, [
        wire.trade_fee(m, self.fee_rate) for m in self._select(params)]), True),
    ("GET", "/api/v3/depth"): (lambda self, params: Response(200, wire.depth(self._select(params)[0])), False),
    ("GET", "/sapi/v1/capital/config/getall"): (B._config_getall, True),
    ("GET", "/sapi/v1/capital/deposit/address"): (B._deposit_address, True),
    ("POST", "/sapi/v1/capital/withdraw/apply"): (B._withdraw_apply, True),
    ("GET", "/sapi/v1/capital/withdraw/history"): (B._withdraw_history, True),
    ("GET", "/sapi/v1/capital/deposit/hisrec"): (B._deposit_history, True),
}


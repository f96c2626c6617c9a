"""The ccxt venue: any spot exchange ccxt supports, chosen by name (``exchange = "binance"``).

One account on one exchange is one chain, named after the exchange: balances, markets and orders
all sit on ``chain == exchange id``, so the executor never plans a bridge here; asking for one
raises ``Unsupported``.

| Venue method        | ccxt calls                                                         |
| ------------------- | ------------------------------------------------------------------ |
| ``balances``        | ``fetch_balance`` (free amounts)                                   |
| ``prices``          | ``fetch_tickers`` (``last``, stamped with the ticker's timestamp)  |
| ``markets``         | ``load_markets``: step/precision, min amount, min cost, taker fee  |
| ``place_order``     | lookup by client id, then ``create_order`` market, with our id     |
| ``get_order``       | ``fetch_order`` by client id (+ ``fetch_my_trades`` for the fee)   |
| ``transfer``        | raises ``Unsupported``: an exchange account has no chains to bridge |
| ``deposit_address`` | ``fetch_deposit_address(code, {"network"})`` (``ccxt_moves``)      |
| ``send``/``sent``   | ``withdraw`` recorded first / ``fetch_withdrawals`` (``ccxt_moves``) |
| ``deposits``        | ``fetch_deposits`` (arrivals by transaction)                       |

Idempotency: ``place_order`` first asks the exchange for an order with that client id and returns
it when found; only then is ``create_order`` sent, once, never retried blindly. When its answer is
lost (a timeout, a dropped connection, a 5xx) the venue asks again by client id before raising
``VenueUnavailable``, so a retry by the executor finds the order instead of placing a second one.
Reads are retried with backoff on 429/418 and network errors (``ccxt_errors.retrying``) on top
of ccxt's own rate limiter (``enableRateLimit``).

Per-exchange differences live in :data:`CAPABILITIES`: the parameter carrying our client id, the
one looking an order up by it, and whether a market buy can be sized in the quote.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt
from pydantic import SecretStr

from trimtab.core.pairs import PairMarket
from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.errors import ConfigError, OrderRejected, UnknownOrder, Unsupported, VenueError, VenueUnavailable
from trimtab.venues.base import Holding, Market, Order, OrderStatus, Quote, Transfer
from trimtab.venues.ccxt_errors import retrying, translated
from trimtab.venues.ccxt_moves import CcxtMoves
from trimtab.venues.purpleflea_ledger import Ledger


@dataclass(frozen=True, kw_only=True)
class Capability:
    """How one exchange takes our client id: ``client_id_param`` on create, ``lookup_param`` in
    ``fetch_order(None, symbol, {lookup_param: id})`` (None: scan ``fetch_orders``), and
    ``cost_param`` sizing a market buy in the quote (None: sized in the base from the ticker)."""

    client_id_param: str = "clientOrderId"
    lookup_param: str | None = None
    cost_param: str | None = None
    withdraw_id_param: str | None = None  # the withdraw parameter carrying our client id, if any


#: Exchanges whose parameters are known; any other uses ccxt's unified ``clientOrderId``.
CAPABILITIES: dict[str, Capability] = {
    "binance": Capability(client_id_param="newClientOrderId", lookup_param="origClientOrderId",
                          cost_param="quoteOrderQty", withdraw_id_param="withdrawOrderId"),
    "binanceus": Capability(client_id_param="newClientOrderId", lookup_param="origClientOrderId",
                            cost_param="quoteOrderQty"),
    "bybit": Capability(client_id_param="clientOrderId", lookup_param="clientOrderId"),
    "okx": Capability(client_id_param="clientOrderId", lookup_param="clientOrderId"),
}

#: Quote amounts sent with at most this many decimals (rounded down).
_QUOTE_STEP = Decimal("0.000001")


def make_exchange(exchange_id: str, *, api_key: SecretStr | None = None, secret: SecretStr | None = None,
                  api_url: str | None = None, timeout_ms: int = 10_000, rate_limit: bool = True) -> Any:
    """A ccxt exchange for ``exchange_id``, spot only, with ccxt's limiter on.

    ``api_url`` (tests only) replaces the host of every REST endpoint and keeps the path, so ccxt
    talks to a fake server on 127.0.0.1. Raise ``ConfigError`` for a name ccxt does not know.
    """
    factory = getattr(ccxt, exchange_id, None)
    if exchange_id not in ccxt.exchanges or factory is None:
        raise ConfigError(f"ccxt knows no exchange called {exchange_id!r}; see ccxt.exchanges for the names.")
    config: dict[str, Any] = {
        "enableRateLimit": rate_limit, "timeout": timeout_ms,
        "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                    "fetchMargins": False},
    }
    if api_key is not None and secret is not None:
        config.update(apiKey=api_key.get_secret_value(), secret=secret.get_secret_value())
    exchange = factory(config)
    if api_url:
        base = api_url.rstrip("/")
        api = exchange.urls["api"]
        exchange.urls["api"] = (base + urlsplit(api).path if isinstance(api, str) else
                                {name: base + urlsplit(url).path for name, url in api.items()
                                 if isinstance(url, str)})
    return exchange


class CcxtVenue:
    """A spot account on one exchange, through ``exchange`` (a ccxt instance; see the module docstring).

    ``quote`` is what sells turn into; ``assets`` limits markets (and order lookups) to the
    portfolio's assets; ``retries``/``backoff`` shape the retrying of reads; ``ledger`` records
    each withdrawal before it is sent (without one the venue makes none); ``moves`` tunes
    ``ccxt_moves.CcxtMoves`` (``settle_seconds``, ``history_seconds``).
    """

    def __init__(self, exchange: Any, *, quote: str, assets: Iterable[str] = (), retries: int = 3,
                 backoff: float = 0.5, capability: Capability | None = None, ledger: Ledger | Path | None = None,
                 **moves: Any) -> None:
        self.exchange = exchange
        self.name: str = exchange.id
        self.quote = quote
        self.assets = tuple(a for a in assets if a != quote)
        self.capability = capability or CAPABILITIES.get(self.name, Capability())
        self.retries, self.backoff = retries, backoff
        self._symbols: dict[str, str] = {}  # client id -> symbol, for orders this handle placed or found
        self.moves = CcxtMoves(exchange, ledger, name=self.name, read=self._read,
                               client_id_param=self.capability.withdraw_id_param, **moves)

    def __repr__(self) -> str:  # never the exchange object: it holds the keys
        return f"CcxtVenue({self.name!r}, quote={self.quote!r})"

    def close(self) -> None:
        close = getattr(self.exchange, "close", None)
        if callable(close):
            close()
        self.moves.close()

    def _read(self, call, operation: str):  # type: ignore[no-untyped-def]
        return retrying(call, f"{self.name}: {operation}", retries=self.retries, backoff=self.backoff)

    # -- reading -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    def balances(self) -> tuple[Holding, ...]:
        """Free amounts of the portfolio's assets and the quote (of everything when no assets were
        named): other coins in the account are not the portfolio's business."""
        free = self._read(self.exchange.fetch_balance, "read balances").get("free", {})
        wanted = {*self.assets, self.quote} if self.assets else None
        return tuple(Holding(asset=a, chain=self.name, quantity=float(q)) for a, q in sorted(free.items())
                     if q and float(q) > 0 and (wanted is None or a in wanted))

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        wanted = [a for a in dict.fromkeys(assets) if a != self.quote]
        if not wanted:
            return {}
        symbols = [self._symbol(a) for a in wanted]
        tickers = self._read(lambda: self.exchange.fetch_tickers(symbols), f"read prices of {', '.join(symbols)}")
        quotes = {}
        for asset, symbol in zip(wanted, symbols):
            ticker = tickers.get(symbol) or {}
            price = ticker.get("last") or ticker.get("close")
            if not price:
                raise OrderRejected(f"{self.name} gave no price for {symbol}.")
            stamp = ticker.get("timestamp")
            at = datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else self.now()
            quotes[asset] = Quote(price=float(price), at=at)
        return quotes

    def markets(self) -> Mapping[str, Market]:
        loaded = self._load_markets()
        result = {}
        for market in loaded.values():
            if market.get("quote") != self.quote or not market.get("spot", True) or market.get("active") is False:
                continue
            if self.assets and market["base"] not in self.assets:
                continue
            result[market["base"]] = Market(asset=market["base"], chain=self.name, rules=self._rules(market))
        return result

    def pair_markets(self) -> Mapping[tuple[str, str], MarketRules]:
        """Markets between two of the portfolio's assets (neither the quote): ``{(base, quote): rules}``,
        e.g. ``{("ETH", "BTC"): ...}`` on Binance."""
        held = set(self.assets)
        return {(m["base"], m["quote"]): self._rules(m) for m in self._load_markets().values()
                if m.get("base") in held and m.get("quote") in held and m.get("active") is not False}

    def direct_pairs(self, prices: Mapping[str, float]) -> list[PairMarket]:
        """The pair markets as ``core.pairs.PairMarket``, minimums valued in our quote at ``prices``."""
        return [PairMarket(base=base, quote=quote, fee=rules.taker_fee or 0.0,
                           min_value=rules.min_notional * prices.get(quote, 0.0))
                for (base, quote), rules in self.pair_markets().items()]

    def _load_markets(self) -> Mapping[str, Any]:
        return self._read(self.exchange.load_markets, "load markets")

    def _rules(self, market: Mapping[str, Any]) -> MarketRules:
        precision = (market.get("precision") or {}).get("amount")
        limits = market.get("limits") or {}
        step = places = None
        if precision is not None:
            if self.exchange.precisionMode == ccxt.TICK_SIZE:
                step = float(precision)
            elif self.exchange.precisionMode == ccxt.DECIMAL_PLACES:
                places = int(precision)
        taker = market.get("taker")
        return MarketRules(amount_step=step, amount_precision=places,
                           min_quantity=float((limits.get("amount") or {}).get("min") or 0.0),
                           min_notional=float((limits.get("cost") or {}).get("min") or 0.0),
                           taker_fee=float(taker) if taker is not None else None)

    def _symbol(self, asset: str) -> str:
        return f"{asset}/{self.quote}"

    def clock_skew(self) -> float:
        """Seconds the exchange's clock is ahead of this computer's (negative: behind)."""
        import time

        asked = time.time()
        server = self._read(self.exchange.fetch_time, "read the exchange's clock")
        return server / 1000 - (asked + time.time()) / 2

    def rate_limit_state(self) -> dict[str, Any]:
        """ccxt's limiter setting and the weight the exchange last reported used (Binance's header)."""
        headers = {k.lower(): v for k, v in (self.exchange.last_response_headers or {}).items()}
        used = {k: v for k, v in headers.items() if "used-weight" in k or "ratelimit" in k}
        return {"limiter": bool(self.exchange.enableRateLimit), "ms_between_requests": self.exchange.rateLimit, **used}

    # -- orders ------------------------------------------------------------------------------

    def place_order(
        self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
        client_order_id: str,
    ) -> Order:
        """Place a market order carrying ``client_order_id``, or return the order already placed with it.

        Give ``quantity`` (rounded down to the market's step here) or, for a buy, ``quote_amount``
        (the most to spend, fee included). Raise ``BelowMinimum``, ``InsufficientFunds`` or
        ``OrderRejected`` with the exchange's words; ``VenueUnavailable``/``RateLimited`` when the
        order's fate is unknown or it was not accepted (asking again is safe: the id is looked up first).
        """
        side = Side(side)
        if (quantity is None) == (quote_amount is None):
            raise OrderRejected("Give exactly one of quantity or quote_amount.")
        symbol = self._symbol(asset)
        existing = self._find(client_order_id, [symbol])
        if existing is not None:
            return existing
        market = self.markets().get(asset)
        if market is None:
            raise OrderRejected(f"{self.name} has no {symbol} market.")
        amount, params, what = self._sizing(asset, side, market.rules, quantity, quote_amount)
        params[self.capability.client_id_param] = client_order_id
        operation = f"{self.name}: {side} {what} {symbol} (client id {client_order_id})"
        try:
            answer = translated(lambda: self.exchange.create_order(symbol, "market", str(side), amount, None, params),
                                operation)
        except VenueError as e:
            if not isinstance(e, VenueUnavailable) and "duplicate" not in e.venue_message.lower():
                raise
            found = self._find(client_order_id, [symbol])  # the answer was lost: did it arrive?
            if found is not None:
                return found
            raise
        self._symbols[client_order_id] = symbol
        return self._order(answer, client_order_id, asset, symbol)

    def _sizing(self, asset: str, side: Side, rules: MarketRules, quantity: float | None,
                quote_amount: float | None) -> tuple[float | None, dict[str, Any], str]:
        """``(amount, params, description)`` for create_order, rounded with the market's rules."""
        fee = rules.taker_fee or 0.0
        if quantity is not None:
            rounded = float(rules.round_quantity(quantity))
            return rounded, {}, f"{rounded:g} {asset}"
        spend = Decimal(repr(quote_amount / (1 + fee))).quantize(_QUOTE_STEP, rounding=ROUND_DOWN)
        if side is Side.BUY and self.capability.cost_param:
            return None, {self.capability.cost_param: float(spend)}, f"{float(spend):g} {self.quote} of {asset}"
        price = self.prices([asset])[asset].price
        rounded = float(rules.round_quantity(float(spend) / price))
        return rounded, {}, f"{rounded:g} {asset} (for {float(spend):g} {self.quote})"

    def place_pair_order(self, symbol: str, side: Side, quantity: float, client_order_id: str) -> Order:
        """A market order on a pair of two portfolio assets (``"ETH/BTC"``), ``quantity`` in its base,
        or the order already placed with that id. The ``Order`` is in our quote: ``price`` is the
        base's value in the quote (pair price x the pair quote's price), ``fee`` likewise."""
        side = Side(side)
        existing = self._find(client_order_id, [symbol])
        if existing is not None:
            return existing
        base, pair_quote = symbol.split("/")
        rules = self.pair_markets().get((base, pair_quote))
        if rules is None:
            raise OrderRejected(f"{self.name} has no {symbol} market.")
        amount = float(rules.round_quantity(quantity))
        operation = f"{self.name}: {side} {amount:g} {base} on {symbol} (client id {client_order_id})"
        params = {self.capability.client_id_param: client_order_id}
        try:
            answer = translated(lambda: self.exchange.create_order(symbol, "market", str(side), amount, None, params),
                                operation)
        except VenueUnavailable:
            found = self._find(client_order_id, [symbol])
            if found is not None:
                return found
            raise
        self._symbols[client_order_id] = symbol
        return self._order(answer, client_order_id, base, symbol)

    def get_order(self, client_order_id: str) -> Order:
        """The order placed with ``client_order_id``; raise ``UnknownOrder`` when the exchange has none
        in the portfolio's markets (its pairs included)."""
        known = self._symbols.get(client_order_id)
        pairs = [f"{b}/{q}" for b, q in self.pair_markets()] if not known else []
        symbols = [known] if known else [self._symbol(a) for a in self.assets] + pairs
        listed = self._load_markets()  # an asset the exchange does not list has no order here (not an error)
        found = self._find(client_order_id, [s for s in symbols if s in listed])
        if found is None:
            raise UnknownOrder(f"{self.name} has no order with client id {client_order_id}.")
        return found

    def _find(self, client_order_id: str, symbols: Iterable[str]) -> Order | None:
        for symbol in symbols:
            operation = f"look up order {client_order_id} on {symbol}"
            try:
                if self.capability.lookup_param:
                    raw = self._read(lambda symbol=symbol: self.exchange.fetch_order(
                        None, symbol, {self.capability.lookup_param: client_order_id}), operation)
                else:
                    rows = self._read(lambda symbol=symbol: self.exchange.fetch_orders(symbol), operation)
                    raw = next((r for r in rows if r.get("clientOrderId") == client_order_id), None)
                    if raw is None:
                        continue
            except UnknownOrder:
                continue
            self._symbols[client_order_id] = symbol
            return self._order(raw, client_order_id, symbol.split("/")[0], symbol)
        return None

    def _order(self, raw: Mapping[str, Any], client_order_id: str, asset: str, symbol: str) -> Order:
        """A trimtab ``Order`` from ccxt's order structure; the fee converted into the quote."""
        filled = float(raw.get("filled") or 0.0)
        if raw.get("status") == "open":
            raise VenueUnavailable(f"{self.name}: order {client_order_id} on {symbol} is still open; asking again later.")
        if filled <= 0:
            raise OrderRejected(f"{self.name}: order {client_order_id} on {symbol} ended {raw.get('status')} unfilled.",
                                venue_message=str(raw.get("status")))
        cost = float(raw.get("cost") or 0.0)
        price = float(raw.get("average") or (cost / filled if cost else raw.get("price") or 0.0))
        value = cost or filled * price
        fee = self._fee(raw, symbol, asset, price, value)
        pair_quote = symbol.split("/")[1]
        if pair_quote != self.quote:  # a pair order: value it in our quote at the pair quote's price
            rate = self.prices([pair_quote])[pair_quote].price
            price, value, fee, asset = price * rate, value * rate, fee * rate, symbol
        stamp = raw.get("timestamp") or raw.get("lastTradeTimestamp")
        return Order(client_order_id=client_order_id, asset=asset, side=Side(raw["side"]), chain=self.name,
                     quantity=filled, price=price, mid_price=price, value=value,
                     fee=fee, status=OrderStatus.FILLED,
                     at=datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else self.now())

    def _fee(self, raw: Mapping[str, Any], symbol: str, asset: str, price: float, value: float) -> float:
        fees = list(raw.get("fees") or ([raw["fee"]] if raw.get("fee") else []))
        if not any(f and f.get("cost") is not None for f in fees) and raw.get("id"):
            trades = self._read(lambda: self.exchange.fetch_my_trades(symbol, None, None, {"orderId": raw["id"]}),
                                f"read the trades of order {raw['id']} on {symbol}")
            fees = [t["fee"] for t in trades if t.get("fee")]
        if not fees:
            taker = self.markets().get(asset)
            return value * ((taker.rules.taker_fee if taker else None) or 0.0)
        total = 0.0
        for fee in fees:
            cost, currency = float(fee.get("cost") or 0.0), fee.get("currency")
            if currency == asset:
                total += cost * price
            elif currency in (self.quote, None, symbol.split("/")[1]):
                total += cost
            else:  # paid in a third asset (BNB): valued at the taker rate instead
                taker = self.markets().get(asset)
                return value * ((taker.rules.taker_fee if taker else None) or 0.0)
        return math.fsum([total])

    # -- transfers ---------------------------------------------------------------------------

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        """Always raise ``Unsupported``: an exchange account is one place, with no chains to bridge."""
        raise Unsupported(f"bridge of {amount:g} {asset} from {from_chain} to {to_chain}: {self.name} is an exchange "
                          "account with no chains; trimtab cannot move assets out of it. Move them yourself, or use "
                          "the purpleflea-wallet venue for on-chain holdings.")

    def transfer_status(self, client_id: str) -> Transfer:
        """Always raise ``UnknownOrder``: no bridge is ever made on this venue."""
        raise UnknownOrder(f"{self.name} makes no bridges; there is no transfer {client_id}.")

    # -- moves between venues (ccxt_moves.py) ------------------------------------------------

    def deposit_address(self, asset: str, chain: str) -> str:
        """Where ``asset`` sent on ``chain`` is credited to this account."""
        return self.moves.deposit_address(asset, chain)

    def send(self, asset: str, amount: float, chain: str, address: str, client_id: str) -> Transfer:
        """Withdraw ``amount`` of ``asset`` on ``chain`` to ``address`` under ``client_id`` (once)."""
        return self.moves.send(asset, amount, chain, address, client_id)

    def sent(self, client_id: str) -> Transfer:
        """The withdrawal under ``client_id`` as the exchange shows it."""
        return self.moves.sent(client_id)

    @property
    def account_chain(self) -> str:
        """The chain of every holding here: the account, not a network (a move takes the network
        from the other side)."""
        return self.name

    @property
    def networks(self) -> tuple[str, ...]:
        """The chains (trimtab's names) a move into or out of this account may travel on."""
        from trimtab.venues.ccxt_moves import NETWORKS

        return tuple(NETWORKS)

    def move_estimate(self, asset: str, amount: float, chain: str | None = None) -> dict[str, float]:
        """The withdrawal fee and usual time of sending ``asset`` out (``ccxt_moves.CcxtMoves``)."""
        return self.moves.move_estimate(asset, amount, chain)

    def received(self, client_id: str, sent: Transfer | None = None) -> float | None:
        """What the move ``client_id`` (the sender's ``sent``) has credited here, or None yet."""
        return self.moves.received(client_id, sent)

    def deposits(self, asset: str, since: datetime) -> list[dict[str, Any]]:
        """Deposits of ``asset`` since ``since`` (ccxt's transaction structures)."""
        return self.moves.deposits(asset, since)

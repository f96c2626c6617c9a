"""Fake Purple Flea trading API (contract §3) plus a stub of Hyperliquid ``POST /info``.

State: markets (mid, ``szDecimals``, max leverage, dex); per account the USDC collateral and **one
net position per coin** (what Hyperliquid holds), kept apart from the position/order/trade *rows*
(what Purple Flea's database holds), so rows can drift from the venue as in §3.4.

Prices: ``set_price`` moves Hyperliquid's live mid. The API sizes and limits orders with a mid
cached for 30 s of fake-clock time (§3.2); fills happen at the *live* mid moved by
``fill_slippage`` against the taker, and an IoC whose fill would cross the limit (cached mid
±0.5 %) does not fill: that is how a price jump between quote and fill shows up.

Knobs: ``hyperliquid_up`` (with ``hyperliquid_failure``), ``set_price``, ``fill_slippage``, ``partial_fill_ratio``,
``set_daily_loss``, ``add_account`` and (from ``PurpleFleaServer``) ``lose_response_of_next``,
``delay_next``. ``POST /info`` on this server answers ``clearinghouseState`` and ``allMids`` the way
api.hyperliquid.xyz does (§5), so its URL doubles as the Hyperliquid base URL.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._http import Request, Response
from .purpleflea import ApiError, FakeClock, PurpleFleaServer, json_body, new_hex, route
from .purpleflea_positions import Account, Market, PositionBook, hyperliquid_info

TRADING_KEY = "sk_trade_" + "a1" * 24
TRADING_INFO = {"service": "agent-trading", "docs": "https://trading.purpleflea.com/llms.txt",
                "referral": "GET /v1/gossip for passive income info", "version": "3.0.0"}


HYPERLIQUID_FAILURES = {"unreachable": "fetch failed: Hyperliquid allMids unreachable",
                        "non_json": "Unexpected token '<', \"<html>\" is not valid JSON"}


def default_markets() -> list[Market]:
    return [
        Market("BTC", "main", "crypto", 40, 5, 97000.5),
        Market("ETH", "main", "crypto", 25, 4, 3500.0),
        Market("SOL", "main", "crypto", 20, 2, 150.0),
        Market("xyz:TSLA", "xyz", "stocks", 10, 3, 251.2),
        Market("xyz:GOLD", "xyz", "commodities", 20, 4, 2400.0),
    ]


@dataclass
class _MidCache:
    mids: dict[str, float] = field(default_factory=dict)
    fetched_at: float | None = None


class TradingFake(PurpleFleaServer):
    INFO = TRADING_INFO
    LIMITS: ClassVar[dict[str, int]] = {"/v1/auth/register": 10, "/v1/trade/open": 30, "/v1/trade/close": 30,
                                        "/v1/referral/withdraw": 5}

    def __init__(self, clock: FakeClock | None = None, markets: list[Market] | None = None) -> None:
        super().__init__(clock)
        self.markets = {m.coin: m for m in (markets or default_markets())}
        self.book = PositionBook(self.clock)
        self.hyperliquid_up = True
        self.hyperliquid_failure = "unreachable"  # or "non_json": an HTML error page, which §2 turns into 400
        self.fill_slippage = 0.0002
        self.partial_fill_ratio = 1.0
        self._cache = _MidCache()
        self.add_account(TRADING_KEY)
        self.routes = [
            route("POST", "/v1/auth/register", self._register, auth=False),
            route("GET", "/v1/auth/account", self._account),
            route("GET", "/v1/auth/deposit-address", self._deposit_address),
            route("GET", "/v1/markets/multi-price", self._multi_price, auth=False),
            route("GET", "/v1/markets/:coin/price", self._price, auth=False),
            route("GET", "/v1/markets/:coin", self._market, auth=False),
            route("POST", "/v1/trade/open", self._open),
            route("POST", "/v1/trade/close", self._close),
            route("GET", "/v1/trade/positions", self._positions),
            route("GET", "/v1/trade/history", self._history),
            route("GET", "/v1/trade/risk-settings", self._risk_settings),
            route("POST", "/v1/trade/risk-settings", self._risk_settings),
        ]

    # -- knobs -----------------------------------------------------------------------------
    def add_account(self, api_key: str | None = None, signing_key_stored: bool = True,
                    collateral_usdc: float = 10_000.0) -> str:
        """Create an account (free tier) and return its key, ``sk_trade_<48 hex>``."""
        key = api_key or "sk_trade_" + new_hex(48)
        with self.lock:
            self.book.accounts[key] = Account(
                agent_id="ag_" + new_hex(12), address="0x" + new_hex(40),
                signing_key_stored=signing_key_stored, collateral=collateral_usdc)
        return key

    def account(self, api_key: str = TRADING_KEY) -> Account:
        return self.book.accounts[api_key]

    def set_price(self, coin: str, mid: float | None) -> None:
        """Move Hyperliquid's live mid; the API sees it once its 30 s cache expires."""
        with self.lock:
            self._resolve(coin).mid = mid

    def set_daily_loss(self, current_loss_usd: float, limit_usd: float | None, api_key: str = TRADING_KEY) -> None:
        with self.lock:
            acct = self.account(api_key)
            acct.current_daily_loss, acct.max_daily_loss_usd = current_loss_usd, limit_usd

    # -- plumbing --------------------------------------------------------------------------
    def authorize(self, request: Request) -> Account:
        header = request.header("authorization") or ""
        if not header.startswith("Bearer "):
            raise ApiError(401, "unauthorized", "Provide Authorization: Bearer <api_key>")
        account = self.book.accounts.get(header[len("Bearer "):].strip())
        if account is None:
            raise ApiError(401, "invalid_key")
        return account

    def handle(self, request: Request) -> Response:
        if request.path == "/info" and request.method == "POST":
            with self.lock:
                return hyperliquid_info(self, request)
        return super().handle(request)

    def _resolve(self, coin: str) -> Market | None:
        """Bare names, case-insensitive; ``xyz:`` optional for HIP-3 markets (§3.2)."""
        name = coin.strip().upper()
        bare = name.removeprefix("XYZ:")
        for market in self.markets.values():
            if market.ticker.upper() == bare:
                return market
        return None

    def cached_mid(self, market: Market) -> float | None:
        """The API's view of a mid: Hyperliquid ``allMids``, fetched at most every 30 s (§3.2)."""
        now = self.clock.now()
        if self._cache.fetched_at is None or now - self._cache.fetched_at >= 30:
            if not self.hyperliquid_up:
                raise RuntimeError(HYPERLIQUID_FAILURES[self.hyperliquid_failure])
            self._cache = _MidCache({c: m.mid for c, m in self.markets.items()}, now)
        return self._cache.mids.get(market.coin)

    # -- auth and markets ------------------------------------------------------------------
    def _register(self, request: Request, _: None) -> tuple[int, dict]:
        body = json_body(request) if request.body else {}
        key = self.add_account(signing_key_stored=True)
        acct = self.account(key)
        if body.get("hl_wallet_address"):
            acct.address = body["hl_wallet_address"]
        return 201, {"agent_id": acct.agent_id, "api_key": key, "deposit_address": acct.address,
                     "message": "Store your API key: it is shown once."}

    def _account(self, request: Request, acct: Account) -> dict:
        return {"agent_id": acct.agent_id, "tier": acct.tier, "max_leverage": acct.max_leverage,
                "max_position_usd": acct.max_position_usd, "total_volume": round(acct.total_volume, 2),
                "total_fees_paid": round(acct.total_fees, 2), "total_pnl": round(acct.total_pnl, 2),
                "referral_code": acct.agent_id[3:11],
                "hl_wallet": {"address": acct.address, "connected": True, "generated": True,
                              "signing_key_stored": acct.signing_key_stored, "builder_fee_approved": False,
                              "execution": "real" if acct.signing_key_stored else "simulated"}}

    def _deposit_address(self, request: Request, acct: Account) -> dict:
        return {"deposit_address": acct.address, "generated": True,
                "message": "Send USDC on Hyperliquid to this address to fund trading.",
                "instructions": ["Send USDC on Hyperliquid (not Arbitrum) to deposit_address", "Minimum deposit: $10"]}

    def _multi_price(self, request: Request, _: None) -> tuple[int, dict] | dict:
        raw = request.query.get("coins")
        if not raw:
            raise ApiError(400, "missing_coins", "Provide ?coins=BTC,ETH")
        names = [c.strip().upper() for c in raw.split(",") if c.strip()][:20]
        prices, not_found = [], []
        for name in names:
            market = self._resolve(name)
            if market is None:
                not_found.append(name)
                continue
            prices.append({"coin": market.coin, "ticker": market.ticker, "price": self.cached_mid(market),
                           "category": market.category, "max_leverage": market.max_leverage})
        body: dict[str, Any] = {"prices": prices}
        if not_found:
            body["not_found"] = not_found
        return {**body, "count": len(prices), "timestamp": self.clock.iso()}

    def _price(self, request: Request, _: None, coin: str) -> dict:
        market = self._resolve(coin)
        price = self.cached_mid(market) if market else None
        if market is None or price is None:
            raise ApiError(404, "no_price", f"No price for {coin}", coin=coin)
        return {"coin": market.coin, "ticker": market.ticker, "price": price, "timestamp": self.clock.ms()}

    def _market(self, request: Request, _: None, coin: str) -> dict:
        market = self._resolve(coin)
        if market is None:
            raise ApiError(404, "market_not_found", f"Market {coin} not found")
        return {"coin": market.coin, "ticker": market.ticker, "category": market.category, "dex": market.dex,
                "max_leverage": market.max_leverage, "price": self.cached_mid(market)}

    # -- trading ---------------------------------------------------------------------------
    def _open(self, request: Request, acct: Account) -> dict:
        """POST /v1/trade/open with the checks in the order of §3.3."""
        body = json_body(request)
        coin, side, size_usd = body.get("coin"), body.get("side"), body.get("size_usd")
        if not coin or not side or not size_usd:
            raise ApiError(400, "invalid_request", "coin, side and size_usd are required")
        if not _is_number(size_usd) or not math.isfinite(size_usd) or size_usd <= 0:
            raise ApiError(400, "invalid_size", "size_usd must be a positive number")
        if side not in ("long", "short"):
            raise ApiError(400, "invalid_side", "side must be 'long' or 'short'")
        leverage = body.get("leverage", 5)
        if not _is_number(leverage) or leverage < 1:
            raise ApiError(400, "invalid_leverage", "leverage must be a number >= 1")
        if size_usd > acct.max_position_usd:
            raise ApiError(400, "position_too_large", f"Max position size is ${acct.max_position_usd}",
                           max_position_usd=acct.max_position_usd)
        if acct.max_daily_loss_usd is not None and acct.current_daily_loss >= acct.max_daily_loss_usd:
            raise ApiError(403, "daily_loss_limit_reached", "Daily loss limit reached",
                           daily_loss_limit_usd=acct.max_daily_loss_usd,
                           current_daily_loss_usd=acct.current_daily_loss,
                           resets_at=FakeClock((self.clock.now() // 86400 + 1) * 86400).iso())
        if not acct.signing_key_stored:
            raise ApiError(400, "wallet_not_configured", "No Hyperliquid signing key stored for this account")
        leverage = min(leverage, acct.max_leverage)
        try:
            return self._execute_open(acct, coin, side, float(size_usd), leverage)
        except TradeFailed as e:
            raise ApiError(400, "trade_failed", str(e)) from None

    def _execute_open(self, acct: Account, coin: str, side: str, size_usd: float, leverage: float) -> dict:
        market = self._resolve(coin)
        if market is None:
            raise TradeFailed(f"Market not found: {coin}")
        if leverage > market.max_leverage:
            raise TradeFailed(f"Max leverage for {market.ticker} is {market.max_leverage}x")
        try:
            mid = self.cached_mid(market)
        except RuntimeError as e:
            raise TradeFailed(str(e)) from None
        coins = round(size_usd / mid, market.sz_decimals) if mid else 0
        if coins <= 0:
            raise TradeFailed(f"Position size too small: ${size_usd} is less than one {market.ticker} lot")
        self.book.leverage_updates.append((acct.agent_id, market.coin, leverage))
        filled, avg_px = self._fill(market, side == "long", coins, mid)
        return self.book.open(acct, market, side, filled, avg_px, leverage, _hl_order_id())

    def _fill(self, market: Market, buy: bool, coins: float, cached_mid: float) -> tuple[float, float]:
        """An IoC at cached mid ±0.5 %: fills at the live mid ± slippage, or not at all."""
        if not self.hyperliquid_up or market.mid is None:
            raise TradeFailed("Hyperliquid rejected the order: exchange unreachable")
        px = market.round_px(market.mid * (1 + self.fill_slippage if buy else 1 - self.fill_slippage))
        limit = cached_mid * (1.005 if buy else 0.995)
        filled = round(coins * self.partial_fill_ratio, market.sz_decimals)
        if (px > limit if buy else px < limit) or filled <= 0:
            raise TradeFailed(f"Order not filled: IoC at {limit:.6g} found no liquidity")
        return filled, px

    def _close(self, request: Request, acct: Account) -> dict:
        body = json_body(request)
        position_id = body.get("position_id")
        if not position_id:
            raise ApiError(400, "provide position_id")
        row = self.book.open_row(acct, position_id)
        if row is None:
            raise ApiError(404, "position_not_found")
        if not acct.signing_key_stored:
            raise ApiError(400, "wallet_not_configured", "No Hyperliquid signing key stored for this account")
        market = self._resolve(row["coin"])
        net = self.book.net.get((acct.agent_id, market.coin))
        if not self.hyperliquid_up:
            raise ApiError(400, "close_failed", "fetch failed: Hyperliquid unreachable")
        if net is None or net.szi == 0:
            raise ApiError(400, "close_failed", f"No open position for {market.ticker} on Hyperliquid")
        buy = net.szi < 0
        px = market.round_px(market.mid * (1 + self.fill_slippage if buy else 1 - self.fill_slippage))
        return self.book.close(acct, market, row, px, _hl_order_id())

    def _positions(self, request: Request, acct: Account) -> dict:
        if self.hyperliquid_up and request.query.get("status") != "all":
            items = self.book.live_positions(acct, self.markets)
            return {"positions": items, "count": len(items), "source": "hyperliquid"}
        rows = self.book.rows_for(acct, include_closed=request.query.get("status") == "all")[:50]
        items = []
        for row in rows:
            price = self.cached_mid(self._resolve(row["coin"]))  # a price failure here is a 500 (§3.5)
            items.append({**row, "ticker": self._resolve(row["coin"]).ticker, "current_price": price,
                          "unrealized_pnl": self.book.row_pnl(row, price) if row["status"] == "open" else 0})
        return {"positions": items, "count": len(items), "source": "database"}

    def _history(self, request: Request, acct: Account) -> dict:
        limit = max(1, min(int(request.query.get("limit") or 50), 200))
        trades = [t for t in reversed(self.book.trades) if t["agentId"] == acct.agent_id][:limit]
        return {"trades": trades, "count": len(trades)}

    def _risk_settings(self, request: Request, acct: Account) -> dict:
        if request.method == "POST":
            body = json_body(request)
            caps = {"max_leverage": 20, "max_position_usd": 50_000} if acct.tier == "free" else {}
            for name, cap in caps.items():
                value = body.get(name)
                if value is not None and (not _is_number(value) or value <= 0 or value > cap):
                    raise ApiError(400, "invalid_request", f"{name} must be between 0 and {cap} on the free tier")
            for name in ("max_daily_loss_usd", "max_leverage", "max_position_usd"):
                if body.get(name) is not None:
                    setattr(acct, name, body[name])
        return {"max_daily_loss_usd": acct.max_daily_loss_usd, "max_leverage": acct.max_leverage,
                "max_position_usd": acct.max_position_usd, "tier": acct.tier}


class TradeFailed(Exception):
    pass


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _hl_order_id() -> int:
    return 100_000_000 + uuid.uuid4().int % 900_000_000

"""The trading fake's books: Hyperliquid's net positions and Purple Flea's database rows (§3.3-§3.6).

``PositionBook.net`` is what Hyperliquid holds: one signed size per (agent, coin), netted, flipped
by an oversized opposite open, flattened whole by a close. ``rows`` and ``trades`` are the
database: a row per open, closed one at a time by ``/trade/close``, so rows can go stale (§3.4).
Raw rows are camelCase; computed responses are snake_case (§2).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._http import Request, Response

TAKER_FEE = 0.00035  # the server's assumed Hyperliquid taker fee (§3.6)
BUILDER_FEE = {"free": 0.0002, "pro": 0.0001, "whale": 0.0}


@dataclass
class Market:
    coin: str  # canonical: "BTC", "xyz:TSLA"
    dex: str  # "main" or "xyz"
    category: str
    max_leverage: int
    sz_decimals: int
    mid: float | None  # Hyperliquid's live mid

    @property
    def ticker(self) -> str:
        return self.coin.split(":")[-1]

    def round_px(self, px: float) -> float:
        """Hyperliquid's perp price rule: at most 5 significant figures and 6 - szDecimals decimals."""
        return float(f"{round(px, 6 - self.sz_decimals):.5g}")


@dataclass
class Account:
    agent_id: str
    address: str
    signing_key_stored: bool = True
    collateral: float = 10_000.0  # USDC on Hyperliquid, not readable through the API
    tier: str = "free"
    max_leverage: float = 10
    max_position_usd: float = 10_000
    max_daily_loss_usd: float | None = None
    current_daily_loss: float = 0.0
    total_volume: float = 0.0
    total_fees: float = 0.0
    total_pnl: float = 0.0


@dataclass
class NetPosition:
    szi: float = 0.0  # signed size in coins, > 0 long
    entry_px: float = 0.0
    leverage: float = 1


def _uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def liquidation_estimate(entry: float, leverage: float, long: bool) -> float:
    """The server's estimate: 97010 at 5x long -> 78093.05 (entry x (1 - 0.975/leverage))."""
    return round(entry * (1 - 0.975 / leverage) if long else entry * (1 + 0.975 / leverage), 2)


@dataclass
class PositionBook:
    clock: Any
    accounts: dict[str, Account] = field(default_factory=dict)  # api key -> account
    net: dict[tuple[str, str], NetPosition] = field(default_factory=dict)  # (agent, coin) -> position
    rows: list[dict] = field(default_factory=list)  # position rows, oldest first
    orders: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    leverage_updates: list[tuple[str, str, float]] = field(default_factory=list)
    row_fees: dict[str, float] = field(default_factory=dict)

    def open(self, acct: Account, market: Market, side: str, filled: float, px: float, leverage: float,
             hl_order_id: int) -> dict:
        long = side == "long"
        size_usd = round(filled * px, 2)
        builder = BUILDER_FEE[acct.tier]
        fee = round(size_usd * (TAKER_FEE + builder), 2)
        self._net_fill(acct, market, filled if long else -filled, px, leverage, fee)
        now = int(self.clock.now())
        position_id, order_id = _uid("pos"), _uid("ord")
        margin_used, liq = round(size_usd / leverage, 2), liquidation_estimate(px, leverage, long)
        self.rows.append({"id": position_id, "agentId": acct.agent_id, "coin": market.coin, "side": side,
                          "sizeUsd": size_usd, "entryPrice": px, "leverage": leverage, "marginUsed": margin_used,
                          "liquidationPrice": liq, "unrealizedPnl": 0, "status": "open", "hlOrderId": hl_order_id,
                          "openedAt": now, "closedAt": None})
        self.row_fees[position_id] = fee
        self.orders.append({"id": order_id, "agentId": acct.agent_id, "coin": market.coin, "side": side,
                            "sizeUsd": size_usd, "status": "filled", "hlOrderId": hl_order_id, "createdAt": now})
        self._trade(acct, order_id, market.coin, "buy" if long else "sell", size_usd, px, fee, 0)
        acct.total_volume += size_usd
        acct.total_fees += fee
        return {"position_id": position_id, "order_id": order_id, "coin": market.coin, "ticker": market.ticker,
                "category": market.category, "dex": market.dex, "side": side, "size_usd": size_usd,
                "entry_price": px, "leverage": leverage, "max_leverage": market.max_leverage,
                "margin_used": margin_used, "liquidation_price": liq, "fee": fee,
                "fee_breakdown": {"hyperliquid": round(size_usd * TAKER_FEE, 2),
                                  "purple_flea_builder": round(size_usd * builder, 2)},
                "hl_order_id": hl_order_id, "execution": "real", "status": "open"}

    def close(self, acct: Account, market: Market, row: dict, px: float, hl_order_id: int) -> dict:
        """Flatten the whole net position in the coin; mark only ``row`` closed (§3.4)."""
        net = self.net[(acct.agent_id, market.coin)]
        close_fee = abs(net.szi) * px * (TAKER_FEE + BUILDER_FEE[acct.tier])
        self._net_fill(acct, market, -net.szi, px, net.leverage, close_fee)
        entry, long = row["entryPrice"], row["side"] == "long"
        move = (px - entry) / entry
        pnl = round(move * row["sizeUsd"] * (1 if long else -1), 2)
        row.update(status="closed", closedAt=int(self.clock.now()))
        fee = self.row_fees.get(row["id"], 0.0)
        self._trade(acct, _uid("ord"), market.coin, "sell" if long else "buy", row["sizeUsd"], px, fee, pnl)
        acct.total_pnl += pnl
        acct.current_daily_loss += max(0.0, -pnl)
        return {"position_id": row["id"], "coin": market.coin, "ticker": market.ticker, "side": row["side"],
                "entry_price": entry, "exit_price": px, "size_usd": row["sizeUsd"], "leverage": row["leverage"],
                "pnl": pnl, "pnl_percent": round(move * 100, 2), "fee": fee, "hl_order_id": hl_order_id,
                "execution": "real", "status": "closed"}

    def external_position(self, acct: Account, coin: str, szi: float, entry_px: float, leverage: float = 1) -> None:
        """A position opened outside Purple Flea: on Hyperliquid, with no database row."""
        self.net[(acct.agent_id, coin)] = NetPosition(szi, entry_px, leverage)

    def _net_fill(self, acct: Account, market: Market, signed: float, px: float, leverage: float, fee: float) -> None:
        pos = self.net.setdefault((acct.agent_id, market.coin), NetPosition())
        realized = 0.0
        if pos.szi == 0 or (pos.szi > 0) == (signed > 0):
            total = abs(pos.szi) + abs(signed)
            pos.entry_px = market.round_px((abs(pos.szi) * pos.entry_px + abs(signed) * px) / total)
        else:
            closing = min(abs(pos.szi), abs(signed))
            realized = closing * (px - pos.entry_px) * (1 if pos.szi > 0 else -1)
            if abs(signed) > abs(pos.szi):
                pos.entry_px = px  # flipped: the remainder opened at this fill
        pos.szi = round(pos.szi + signed, market.sz_decimals)
        if pos.szi == 0:
            pos.entry_px = 0.0
        pos.leverage = leverage
        acct.collateral += realized - fee

    def _trade(self, acct: Account, order_id: str, coin: str, side: str, size_usd: float, px: float, fee: float,
               realized: float) -> None:
        self.trades.append({"id": _uid("trd"), "agentId": acct.agent_id, "orderId": order_id, "coin": coin,
                            "side": side, "sizeUsd": size_usd, "price": px, "fee": fee, "realizedPnl": realized,
                            "createdAt": int(self.clock.now())})

    def open_row(self, acct: Account, position_id: str) -> dict | None:
        return next((r for r in self.rows if r["id"] == position_id and r["agentId"] == acct.agent_id
                     and r["status"] == "open"), None)

    def rows_for(self, acct: Account, include_closed: bool) -> list[dict]:
        mine = [r for r in reversed(self.rows) if r["agentId"] == acct.agent_id]
        return [dict(r) for r in mine if include_closed or r["status"] == "open"]

    @staticmethod
    def row_pnl(row: dict, price: float | None) -> float | None:
        if price is None:
            return None
        sign = 1 if row["side"] == "long" else -1
        return round((price - row["entryPrice"]) / row["entryPrice"] * row["sizeUsd"] * sign, 2)

    def live_positions(self, acct: Account, markets: dict[str, Market], dex: str | None = None) -> list[dict]:
        """GET /v1/trade/positions from the net book, ``source: "hyperliquid"`` (§3.5)."""
        items = []
        for (agent, coin), pos in self.net.items():
            market = markets[coin]
            if agent != acct.agent_id or pos.szi == 0 or (dex is not None and market.dex != dex):
                continue
            row = next((r for r in self.rows if r["agentId"] == agent and r["coin"] == coin
                        and r["status"] == "open"), None)
            size_usd = round(abs(pos.szi) * pos.entry_px, 2)
            margin = round(size_usd / pos.leverage, 2)
            upnl = round(pos.szi * (market.mid - pos.entry_px), 2) if market.mid is not None else 0.0
            items.append({"position_id": row["id"] if row else None, "coin": coin, "ticker": market.ticker,
                          "side": "long" if pos.szi > 0 else "short", "size": abs(pos.szi), "size_usd": size_usd,
                          "entry_price": pos.entry_px, "current_price": market.mid, "leverage": pos.leverage,
                          "margin_used": margin,
                          "liquidation_price": liquidation_estimate(pos.entry_px, pos.leverage, pos.szi > 0),
                          "unrealized_pnl": upnl, "return_on_equity": f"{upnl / margin if margin else 0:.4f}",
                          "source": "hyperliquid"})
        return items


def hyperliquid_info(fake: Any, request: Request) -> Response:
    """Hyperliquid ``POST /info``: ``clearinghouseState`` (per dex) and ``allMids``, numbers as strings."""
    if not fake.hyperliquid_up:
        return Response(502, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"})
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return Response(422, b"Failed to deserialize the JSON body", {"Content-Type": "text/plain"})
    dex = body.get("dex") or "main"
    if body.get("type") == "allMids":
        return Response(200, {m.coin: str(m.mid) for m in fake.markets.values() if m.dex == dex and m.mid})
    if body.get("type") != "clearinghouseState":
        return Response(422, b"Failed to deserialize the JSON body", {"Content-Type": "text/plain"})
    acct = next((a for a in fake.book.accounts.values() if a.address.lower() == str(body.get("user")).lower()), None)
    positions = fake.book.live_positions(acct, fake.markets, dex) if acct else []
    asset_positions = [{"type": "oneWay", "position": {
        "coin": p["coin"], "szi": str(p["size"] if p["side"] == "long" else -p["size"]),
        "leverage": {"type": "cross", "value": p["leverage"]}, "entryPx": str(p["entry_price"]),
        "positionValue": str(round(p["size"] * (p["current_price"] or 0), 2)),
        "unrealizedPnl": str(p["unrealized_pnl"]),
        "returnOnEquity": p["return_on_equity"], "liquidationPx": str(p["liquidation_price"]),
        "marginUsed": str(p["margin_used"]), "maxLeverage": fake.markets[p["coin"]].max_leverage,
        "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}}} for p in positions]
    collateral = acct.collateral if acct and dex == "main" else sum(p["margin_used"] for p in positions)
    upnl = sum(p["unrealized_pnl"] for p in positions)
    margin = sum(p["margin_used"] for p in positions)
    ntl = sum(p["size"] * (p["current_price"] or 0) for p in positions)
    summary = {"accountValue": f"{collateral + upnl:.6f}", "totalNtlPos": f"{ntl:.6f}",
               "totalRawUsd": f"{collateral:.6f}", "totalMarginUsed": f"{margin:.6f}"}
    return Response(200, {"marginSummary": summary, "crossMarginSummary": dict(summary),
                          "crossMaintenanceMarginUsed": f"{margin / 2:.6f}",
                          "withdrawable": f"{max(0.0, collateral + upnl - margin):.6f}",
                          "assetPositions": asset_positions, "time": fake.clock.ms()})

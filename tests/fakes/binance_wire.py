"""Binance spot JSON shapes: pure functions from the fake's state to what api.binance.com sends."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class SpotMarket:
    """One symbol's rules; the fake quotes and fills at ``price``."""

    base: str
    quote: str
    price: Decimal
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal(9000)
    tick_size: Decimal = Decimal("0.01")
    min_notional: Decimal = Decimal(5)

    @property
    def symbol(self) -> str:
        return self.base + self.quote


def s8(value: Decimal) -> str:
    """Binance's 8-decimal string form: Decimal('65000') -> '65000.00000000'."""
    return f"{value:.8f}"


def symbol_info(m: SpotMarket) -> dict:
    """One ``symbols[]`` entry of GET /api/v3/exchangeInfo, with the filters ccxt turns into limits."""
    return {
        "symbol": m.symbol, "status": "TRADING", "baseAsset": m.base, "baseAssetPrecision": 8,
        "quoteAsset": m.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": s8(m.tick_size), "maxPrice": "1000000.00000000",
             "tickSize": s8(m.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": s8(m.min_qty), "maxQty": s8(m.max_qty), "stepSize": s8(m.step_size)},
            {"filterType": "MIN_NOTIONAL", "minNotional": s8(m.min_notional), "applyToMarket": True,
             "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": s8(m.min_notional), "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": s8(m.max_qty),
             "stepSize": "0.00000000"},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def ticker_24hr(m: SpotMarket, now_ms: int) -> dict:
    """A GET /api/v3/ticker/24hr row: a flat day at ``m.price`` (bid = ask = last)."""
    p = s8(m.price)
    return {"symbol": m.symbol, "priceChange": "0.00000000", "priceChangePercent": "0.000",
            "weightedAvgPrice": p, "prevClosePrice": p, "lastPrice": p, "lastQty": "0.01000000",
            "bidPrice": p, "bidQty": "10.00000000", "askPrice": p, "askQty": "10.00000000",
            "openPrice": p, "highPrice": p, "lowPrice": p, "volume": "1000.00000000",
            "quoteVolume": s8(m.price * 1000), "openTime": now_ms - 86_400_000, "closeTime": now_ms,
            "firstId": 1, "lastId": 1000, "count": 1000}


def account(balances: list[dict], fee_rate: Decimal, now_ms: int) -> dict:
    """GET /api/v3/account around the ``balances`` rows; commissions from ``fee_rate`` (0.001 = 10 bps)."""
    rate = s8(fee_rate)
    return {
        "makerCommission": int(fee_rate * 10_000), "takerCommission": int(fee_rate * 10_000),
        "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now_ms,
        "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 1000001,
    }


def system_status(maintenance: bool) -> dict:
    """GET /sapi/v1/system/status: 0 normal, 1 system maintenance."""
    return {"status": 1, "msg": "system_maintenance"} if maintenance else {"status": 0, "msg": "normal"}


def trade_fee(m: SpotMarket, fee_rate: Decimal) -> dict:
    """A GET /sapi/v1/asset/tradeFee row: the fake charges ``fee_rate`` as maker and taker."""
    return {"symbol": m.symbol, "makerCommission": s8(fee_rate), "takerCommission": s8(fee_rate)}


def depth(m: SpotMarket) -> dict:
    """GET /api/v3/depth: one deep level each side at the price the fake fills at."""
    return {"lastUpdateId": 1, "bids": [[s8(m.price), "1000.00000000"]], "asks": [[s8(m.price), "1000.00000000"]]}

"""Orders on the Purple Flea trading venue as recorded steps, so a lost answer is reconciled, not resent.

A buy is one step: ``opening`` -> done. A sell is ``closing`` -> ``closed`` -> ``reopening`` ->
done (the reopen is skipped when the remainder is under the USD floor). Each step is written to the
ledger before its POST; the answer is written after. Reconciliation compares trade history and
the position with what the intent saw before its POST.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol

from trimtab.core.plan import Side
from trimtab.errors import BelowMinimum, InsufficientFunds, OrderRejected, VenueError
from trimtab.venues.base import Order, OrderStatus, Quote
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger

#: Where Hyperliquid positions sit, as a chain of the trading venue.
CHAIN = "hyperliquid"


class PurpleFleaTradingVenue(Protocol):
    """What the order steps need of the trading venue (``purpleflea_trading.PurpleFleaTradingVenue``);
    a protocol, so that the venue can import these steps and not the other way round."""

    api: PurpleFleaClient
    ledger: Ledger
    fee_rate: float
    min_order_usd: float

    def prices(self, assets: list[str]) -> dict[str, Quote]: ...
    def order_from(self, *args: Any, **kwargs: Any) -> Order: ...
    def _positions(self) -> dict[str, dict[str, Any]]: ...
    def _trade_ids(self, *args: Any, **kwargs: Any) -> Any: ...
    def _new_trades(self, *args: Any, **kwargs: Any) -> Any: ...

_CENT = Decimal("0.01")
#: A position counts as closed below this fraction of its size before the close.
_CLOSED = 1e-6


def _usd(amount: float) -> float:
    return float(Decimal(repr(amount)).quantize(_CENT, rounding=ROUND_DOWN))


def place(venue: PurpleFleaTradingVenue, asset: str, side: Side, quantity: float | None, quote_amount: float | None,
          cid: str) -> Order:
    known = lookup(venue, cid)
    if known is not None:
        return known
    if (quantity is None) == (quote_amount is None):
        raise OrderRejected("Give exactly one of quantity or quote_amount.")
    mid = venue.prices([asset])[asset].price
    if side is Side.BUY:
        spend = quote_amount / (1 + venue.fee_rate) if quote_amount is not None else quantity * mid
        if spend < venue.min_order_usd:
            raise BelowMinimum(f"buy {spend:.2f} USD of {asset}: under the {venue.min_order_usd:g} USD floor",
                               venue_message="Position size too small")
        intent = {"asset": asset, "side": "buy", "mid": mid, "size_usd": _usd(spend), "seen": venue._trade_ids()}
        return _open(venue, cid, intent, step="opening")
    position = venue._positions().get(asset)
    held = position["size"] if position else 0.0
    if quantity is None:
        raise OrderRejected(f"sell {asset}: give the quantity to sell.")
    if position is None or position.get("position_id") is None:
        raise OrderRejected(f"sell {quantity:g} {asset}: there is no Purple Flea position in {asset} to close"
                            + (" (it was opened outside Purple Flea)" if position else ""))
    if quantity > held * (1 + 1e-9):
        raise InsufficientFunds(f"sell {quantity:g} {asset}: the position holds only {held:g}",
                                venue_message=f"position size {held:g}")
    sold = quantity
    if sold * mid < venue.min_order_usd:
        raise BelowMinimum(f"sell {sold:g} {asset}: worth {sold * mid:.2f} USD, under the {venue.min_order_usd:g} USD "
                           "floor (the API hides lot sizes)", venue_message="Position size too small")
    remainder_usd = _usd((held - sold) * mid)
    intent = {"asset": asset, "side": "sell", "mid": mid, "held": held, "quantity": sold,
              "remainder_usd": remainder_usd if remainder_usd >= venue.min_order_usd else 0.0,
              "position_id": position["position_id"], "seen": venue._trade_ids()}
    return _close_then_reopen(venue, cid, intent)


def lookup(venue: PurpleFleaTradingVenue, cid: str) -> Order | None:
    """The finished order under ``cid``, reconciling (and finishing) one whose answer was lost; None
    when nothing under ``cid`` ever reached the venue."""
    record = venue.ledger.get(cid)
    if record is None:
        return None
    step, intent, result = record
    if result is not None:
        return _order(cid, result)
    asset = intent["asset"]
    if step == "opening":  # a buy: did the open happen?
        trades = [t for t in venue._new_trades(asset, intent["seen"]) if t["side"] == "buy"]
        if not trades:
            venue.ledger.forget(cid)
            return None
        return _finish_buy(venue, cid, intent, trades[0]["sizeUsd"], trades[0]["price"], trades[0]["fee"])
    if step == "closing":  # a sell: did the close happen?
        position = venue._positions().get(asset)
        if position is not None and position["size"] > intent["held"] * _CLOSED:
            venue.ledger.forget(cid)
            return None
        closes = [t for t in venue._new_trades(asset, intent["seen"]) if t["side"] == "sell"]
        exit_price = closes[0]["price"] if closes else intent["mid"]
        intent = {**intent, "exit_price": exit_price, "seen": venue._trade_ids()}
        venue.ledger.record(cid, "order", "closed", intent)
        return _reopen(venue, cid, intent)
    if step == "closed":
        return _reopen(venue, cid, intent)
    # reopening: did the reopen happen?
    trades = [t for t in venue._new_trades(asset, intent["seen"]) if t["side"] == "buy"]
    if trades:
        return _finish_sell(venue, cid, intent, trades[0]["sizeUsd"], trades[0]["price"], trades[0]["fee"])
    return _reopen(venue, cid, intent)


def _open(venue: PurpleFleaTradingVenue, cid: str, intent: dict[str, Any], *, step: str) -> Order:
    venue.ledger.record(cid, "order", step, intent)
    what = f"buy {intent['size_usd']:.2f} USD of {intent['asset']} (client id {cid})"
    try:
        answer = venue.api.post("/v1/trade/open", {"coin": intent["asset"], "side": "long",
                                                   "size_usd": intent["size_usd"], "leverage": 1}, operation=what)
    except VenueError as e:
        if not e.retryable:  # refused: it never happened
            venue.ledger.forget(cid)
        raise
    return _finish_buy(venue, cid, intent, answer["size_usd"], answer["entry_price"], answer["fee"])


def _finish_buy(venue: PurpleFleaTradingVenue, cid: str, intent: dict[str, Any], size_usd: float, price: float,
                fee: float) -> Order:
    order = venue.order_from(cid, intent["asset"], Side.BUY, size_usd / price, price, intent["mid"], fee)
    venue.ledger.record(cid, "order", "done", intent, _result(order))
    return order


def _close_then_reopen(venue: PurpleFleaTradingVenue, cid: str, intent: dict[str, Any]) -> Order:
    venue.ledger.record(cid, "order", "closing", intent)
    what = f"sell {intent['quantity']:g} {intent['asset']}: close the whole {intent['held']:g} (client id {cid})"
    try:
        answer = venue.api.post("/v1/trade/close", {"position_id": intent["position_id"]}, operation=what)
    except VenueError as e:
        if not e.retryable:
            venue.ledger.forget(cid)
        raise
    intent = {**intent, "exit_price": answer["exit_price"], "seen": venue._trade_ids()}
    venue.ledger.record(cid, "order", "closed", intent)
    return _reopen(venue, cid, intent)


def _reopen(venue: PurpleFleaTradingVenue, cid: str, intent: dict[str, Any]) -> Order:
    if not intent["remainder_usd"]:
        return _finish_sell(venue, cid, intent, 0.0, intent["exit_price"], 0.0)
    venue.ledger.record(cid, "order", "reopening", intent)
    what = f"sell {intent['asset']}: reopen the remaining {intent['remainder_usd']:.2f} USD (client id {cid})"
    answer = venue.api.post("/v1/trade/open", {"coin": intent["asset"], "side": "long",
                                               "size_usd": intent["remainder_usd"], "leverage": 1}, operation=what)
    return _finish_sell(venue, cid, intent, answer["size_usd"], answer["entry_price"], answer["fee"])


def _finish_sell(venue: PurpleFleaTradingVenue, cid: str, intent: dict[str, Any], reopened_usd: float,
                 reopen_price: float, reopen_fee: float) -> Order:
    """The sell as one order: the coins that left the position, at the close's price; its fee is the
    close fee on the whole position, the reopen fee and the spread paid to reopen the remainder."""
    exit_price, held = intent["exit_price"], intent["held"]
    reopened = reopened_usd / reopen_price if reopened_usd else 0.0
    close_fee = held * exit_price * venue.fee_rate
    spread = reopened * max(reopen_price - exit_price, 0.0)
    fee = math.fsum([close_fee, reopen_fee, spread])
    order = venue.order_from(cid, intent["asset"], Side.SELL, held - reopened, exit_price, intent["mid"], fee)
    venue.ledger.record(cid, "order", "done", intent, _result(order))
    return order


def _result(order: Order) -> dict[str, Any]:
    return {"asset": order.asset, "side": str(order.side), "quantity": order.quantity, "price": order.price,
            "mid_price": order.mid_price, "value": order.value, "fee": order.fee, "at": order.at.isoformat()}


def _order(cid: str, r: dict[str, Any]) -> Order:
    from datetime import datetime


    return Order(client_order_id=cid, asset=r["asset"], side=Side(r["side"]), chain=CHAIN, quantity=r["quantity"],
                 price=r["price"], mid_price=r["mid_price"], value=r["value"], fee=r["fee"], status=OrderStatus.FILLED,
                 at=datetime.fromisoformat(r["at"]))

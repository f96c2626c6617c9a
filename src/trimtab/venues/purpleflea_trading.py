"""The Purple Flea trading venue: Hyperliquid perpetuals held as long exposure at leverage 1.

One chain, ``hyperliquid``. A holding of an asset is the long perp position in its coin (in coins,
from ``GET /v1/trade/positions`` with ``source == "hyperliquid"`` only); the quote (USDC) is what
is not exposed: Hyperliquid's ``accountValue`` minus the positions' value at their current price,
so the holdings are worth exactly the account's value.

* A buy opens ``size_usd = quote_amount / (1 + fee)`` long at leverage 1 (``POST /v1/trade/open``).
* A sell closes the coin's **whole** position (``POST /v1/trade/close``: the API has no partial
  close) and reopens the remainder long. Its ``fee`` is the close fee on the whole position, the
  reopen fee, and the spread paid to reopen the remainder: the cost of the round trip, which
  :func:`sell_cost` estimates for the plan.

Idempotency: the API has no client id and no order lookup. The venue records its intent under our
client id in a ledger *before* each POST (with the position size and the trade ids it saw) and the
answer after. A client id with an intent and no answer is reconciled from positions and trade
history before anything is sent: a new trade in that coin that was not there before means the
order happened. The window that remains: an order still in flight at the server when
reconciliation reads (a timeout shorter than the server's own work) is judged not placed and may be
sent again; another client trading the same coin on the same account in that moment would confuse
it too. See docs/VENUES.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.errors import OrderRejected, UnknownOrder, VenueError, VenueUnavailable
from trimtab.venues.base import Holding, Market, Order, OrderStatus, Quote, Transfer
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_trading_orders import CHAIN, lookup, place

#: The server's assumed taker fee plus the free tier's builder fee (contract §3.6).
FEE_RATE = 0.00035 + 0.0002
#: The mid the API prices with may be this old (contract §3.2).
MID_CACHE = timedelta(seconds=30)


def sell_cost(position_value: float, sold_value: float, fee_rate: float = FEE_RATE, spread: float = 0.001) -> float:
    """What selling ``sold_value`` of a ``position_value`` position costs here, in USDC.

    The whole position is closed and the remainder reopened: fees on ``position_value`` and on the
    remainder, plus ``spread`` (the round trip's slippage, 2 x 0.05 %) on the remainder. Selling
    1,000 of a 10,000 position at 0.055 %: 5.50 + 4.95 + 9.00 = 19.45, against 0.55 for a
    partial sell where an exchange allows one.
    """
    remainder = max(position_value - sold_value, 0.0)
    return position_value * fee_rate + remainder * (fee_rate + spread)


class PurpleFleaTradingVenue:
    """Long exposure per asset on Purple Flea's trading API (see the module docstring).

    ``api`` speaks to the trading API with the key; ``hyperliquid`` to Hyperliquid's ``/info`` (no
    key); ``ledger`` keeps the intents; ``assets`` are the portfolio's coins.
    """

    #: The server signs orders itself and every timestamp here is the venue's: skew does no harm.
    max_clock_skew = None

    def __init__(self, api: PurpleFleaClient, hyperliquid: PurpleFleaClient, ledger: Ledger, *, quote: str = "USDC",
                 assets: Iterable[str] = (), min_order_usd: float = 10.0, fee_rate: float = FEE_RATE) -> None:
        self.api, self.hyperliquid, self.ledger = api, hyperliquid, ledger
        self.quote, self.assets = quote, tuple(a for a in assets if a != quote)
        self.min_order_usd, self.fee_rate = min_order_usd, fee_rate
        self._address: str | None = None
        self._offset: float | None = None  # venue clock minus ours, in seconds

    def __repr__(self) -> str:
        return f"PurpleFleaTradingVenue({self.api.base_url!r})"

    def close(self) -> None:
        self.api.close()
        self.hyperliquid.close()
        self.ledger.close()

    # -- reading -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """Hyperliquid's clock (its ``time``), kept as an offset from ours after the first read."""
        if self._offset is None:
            self._account_state()
        return datetime.fromtimestamp(time.time() + (self._offset or 0.0), tz=UTC)

    def clock_skew(self) -> float:
        """Seconds the venue's clock is ahead of this computer's (negative: behind)."""
        self._account_state()
        return self._offset or 0.0

    def rate_limit_state(self) -> dict[str, Any]:
        """The API's limits (it sends no headers): per IP per fixed 60 s window."""
        return {"open_per_minute": 30, "close_per_minute": 30, "headers": "none; a 429 means wait 60 s"}

    def balances(self) -> tuple[Holding, ...]:
        """Long positions in coins, and the USDC not exposed (account value minus positions)."""
        positions = self._positions()
        state = self._account_state()
        value = float(state["marginSummary"]["accountValue"])
        holdings = [Holding(asset=coin, chain=CHAIN, quantity=p["size"]) for coin, p in sorted(positions.items())]
        exposed = math.fsum(p["size"] * (p["current_price"] or p["entry_price"]) for p in positions.values())
        holdings.append(Holding(asset=self.quote, chain=CHAIN, quantity=max(value - exposed, 0.0)))
        return tuple(h for h in holdings if h.quantity > 0)

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        """Mids from ``multi-price``, stamped 30 s before the answer (the API's cache may be that old)."""
        wanted = [a for a in dict.fromkeys(assets) if a != self.quote]
        if not wanted:
            return {}
        body = self.api.get("/v1/markets/multi-price", {"coins": ",".join(wanted)},
                            operation=f"read prices of {', '.join(wanted)}")
        at = datetime.fromisoformat(body["timestamp"]) - MID_CACHE
        found = {p["ticker"].upper(): p.get("price") for p in body.get("prices", [])}
        missing = [a for a in wanted if not found.get(a)]
        if missing:
            raise OrderRejected(f"Purple Flea trading has no price for {', '.join(missing)}.")
        return {a: Quote(price=float(found[a]), at=at) for a in wanted}

    def markets(self) -> Mapping[str, Market]:
        """Each asset's perp; lot sizes are hidden by the API, so only a USD floor and the fee."""
        rules = MarketRules(min_notional=self.min_order_usd, taker_fee=self.fee_rate)
        return {a: Market(asset=a, chain=CHAIN, rules=rules) for a in self.assets}

    def _positions(self) -> dict[str, dict[str, Any]]:
        body = self.api.get("/v1/trade/positions", operation="read positions")
        if body.get("source") != "hyperliquid":
            raise VenueUnavailable("Purple Flea answered positions from its database (Hyperliquid is unreachable "
                                   "from it); trimtab trusts only Hyperliquid's positions, so it waits.",
                                   venue_message=f"source={body.get('source')}")
        positions = {}
        for p in body.get("positions", []):
            if p["side"] != "long":
                raise OrderRejected(f"There is a short position in {p['ticker']}: trimtab holds long exposure only; "
                                    "close it first.")
            positions[p["ticker"].upper()] = p
        return positions

    def _account_state(self) -> dict[str, Any]:
        if self._address is None:
            self._address = self.api.get("/v1/auth/deposit-address", operation="read the account's address")[
                "deposit_address"]
        asked = time.time()
        state = self._hyperliquid_post({"type": "clearinghouseState", "user": self._address})
        if state.get("time"):
            self._offset = state["time"] / 1000 - (asked + time.time()) / 2
        return state

    def _hyperliquid_post(self, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(3):  # a read, though it is a POST: safe to repeat
            try:
                return self.hyperliquid.post("/info", body, operation="read the account on Hyperliquid")
            except VenueError as e:
                if not e.retryable or attempt == 2:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _trade_ids(self) -> list[str]:
        body = self.api.get("/v1/trade/history", {"limit": 200}, operation="read trade history")
        return [t["id"] for t in body.get("trades", [])]

    def _new_trades(self, coin: str, seen: Iterable[str]) -> list[dict[str, Any]]:
        known = set(seen)
        body = self.api.get("/v1/trade/history", {"limit": 200}, operation="read trade history")
        return [t for t in body.get("trades", []) if t["id"] not in known and t["coin"].split(":")[-1].upper() == coin]

    def plan_costs(self, legs: Iterable[Any]) -> list[dict[str, Any]]:
        """What each planned leg (``core.plan.Leg``) really costs here: a sell closes the whole
        position and reopens the rest (:func:`sell_cost`), a buy pays the fee on its value."""
        positions = self._positions()
        costs = []
        for leg in legs:
            if str(leg.side) == "sell":
                held = positions.get(leg.asset, {}).get("size", 0.0) * leg.price
                costs.append({"leg": f"sell {leg.asset}", "planned_fee": leg.fee,
                              "venue_cost": sell_cost(held, leg.value, self.fee_rate),
                              "note": f"closes the whole {held:,.2f} position and reopens {max(held - leg.value, 0):,.2f}"})
            else:
                costs.append({"leg": f"buy {leg.asset}", "planned_fee": leg.fee,
                              "venue_cost": leg.value * self.fee_rate, "note": "opens a long at leverage 1"})
        return costs

    # -- orders: see purpleflea_trading_orders for the steps ---------------------------------

    def place_order(self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
                    client_order_id: str) -> Order:
        """Open (buy) or close-and-reopen (sell) under ``client_order_id``; a known id returns its order
        (reconciled first when its answer was lost). Raise the translated refusal otherwise."""
        return place(self, asset, Side(side), quantity, quote_amount, client_order_id)

    def get_order(self, client_order_id: str) -> Order:
        """The order recorded under ``client_order_id``; one whose answer was lost is reconciled from
        positions and history (and a sell stopped between close and reopen is finished). Raise
        ``UnknownOrder`` when it never happened."""
        found = lookup(self, client_order_id)
        if found is None:
            raise UnknownOrder(f"Purple Flea trading has no order {client_order_id}.")
        return found

    # -- transfers ---------------------------------------------------------------------------

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        from trimtab.errors import Unsupported

        raise Unsupported(f"bridge of {amount:g} {asset} from {from_chain} to {to_chain}: the trading API cannot move "
                          "funds between chains or to the wallet; use the purpleflea-wallet venue for that.")

    def transfer_status(self, client_id: str) -> Transfer:
        raise UnknownOrder(f"Purple Flea trading makes no bridges; there is no transfer {client_id}.")

    def deposit_address(self, asset: str, chain: str) -> str:
        """Always ``Unsupported``: no Purple Flea API moves funds into Hyperliquid margin (contract §1,
        §5), and a USDC send from an EVM chain to the account's Hyperliquid address is not a margin
        deposit (margin is funded through Hyperliquid's Arbitrum bridge, which neither API drives)."""
        from trimtab.errors import Unsupported

        raise Unsupported(f"Purple Flea trading cannot receive {asset} on {chain}: neither Purple Flea API moves funds "
                          "into Hyperliquid margin, and a USDC send to the account's Hyperliquid address from an EVM "
                          "chain is not a margin deposit (it would be stranded), so trimtab never makes one")

    def order_from(self, client_order_id: str, asset: str, side: Side, quantity: float, price: float, mid: float,
                   fee: float) -> Order:
        """An ``Order`` for this venue's chain, stamped with its clock."""
        return Order(client_order_id=client_order_id, asset=asset, side=side, chain=CHAIN, quantity=quantity,
                     price=price, mid_price=mid, value=quantity * price, fee=fee, status=OrderStatus.FILLED,
                     at=self.now())

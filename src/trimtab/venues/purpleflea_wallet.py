"""The Purple Flea wallet venue: holdings on several chains, traded and bridged through Wagyu swaps.

Chains: ethereum and base (ETH and USDC) and solana (SOL), the sources ``/send`` can fund
(contract §4.1, §4.5). Orders trade on ethereum and base only: USDC on solana cannot be sent, so a
SOL market could sell but never buy back. Balances come from ``/wallet/balance`` (natives) and
``/wallet/usdc-balance`` per chain and are consolidated per asset by the engine; a read that carries an ``error`` is
*unknown*, never zero, and stops the venue (``VenueUnavailable``). Prices come from
``/wallet/prices``.

* An order is a same-chain swap on the asset's market chain (a sell: asset -> USDC; a buy: USDC ->
  asset, the whole ``quote_amount`` deposited, fees inside the quote), waited for until it has
  completed: by the destination balance, after a word of the terminal table (``swap_states``) or,
  when the status cannot be read or its word is unknown, by that balance alone (a completed word
  the balance does not show within ``ARRIVAL_GRACE_POLLS`` x ``poll_seconds`` raises
  ``NeedsAttention``; see ``purpleflea_swap``); read every ``poll_seconds``, doubling to 8x,
  within ``status_per_minute``, up to ``swap_timeout`` (then ``VenueUnavailable``: asking again
  resumes the wait). Its ``fee`` is what the swap kept: ``quantity x price - USDC received`` for
  a sell, ``USDC paid - quantity x price`` for a buy (integrator fee 0.5 % plus the route's cost).
  Deposit gas is paid in the chain's native asset and is not in the fee.
* A transfer (bridge) is a cross-chain swap of the same asset: ordered, its deposit sent, then
  ``transfer_status`` asks once per call (the executor paces the calls by ``poll_seconds``); ``fee = amount - received``; ``arrives_at`` from the quote's
  ``estimatedTime``.

* A send to another venue's address (``deposit_address`` / ``send`` / ``sent``, MOVES.md) is a
  ``/wallet/send`` recorded before it is made (``purpleflea_send``); ``deposit_address`` is the
  wallet's own address on the chain.

Every step is recorded under our client id before its POST (``purpleflea_swap``), so a crash
resumes where it stopped and a lost answer is reconciled, not repeated. The wallet's private keys
come from ``/wallet/export`` into memory only: never logged, journaled or stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.errors import (
    ConfigError,
    NeedsAttention,
    OrderRejected,
    UnknownOrder,
    Unsupported,
    VenueError,
    VenueUnavailable,
)
from trimtab.venues.base import Holding, Market, Order, OrderStatus, Quote, Transfer, TransferStatus
from trimtab.venues.purpleflea_balances import NATIVE, read_balance, smallest, whole
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_incoming import Incoming
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_send import GAS, MINUTES, Sends
from trimtab.venues.purpleflea_swap import UNPROVEN, Swaps
from trimtab.venues.purpleflea_zero import ZeroGuard
from trimtab.venues.retry import pace

#: Purple Flea's integrator fee plus a route cost of about 0.1 %: the planner's fee for a swap.
SWAP_FEE = 0.006
#: Chains where both sides of an order can be funded: ``/send`` pays USDC only as an ERC-20 (so
#: SOL on solana can be held and read, and bridged, but not bought or sold here against USDC).
TRADING_CHAINS = ("ethereum", "base")
#: Wagyu's minimum is about $15; a little above it so rounding never lands under.
MIN_ORDER_USD = 16.0
#: How long (in ``poll_seconds``: 5 minutes by default) a swap whose status says completed may go
#: unseen in the balance before it needs a person (``NeedsAttention``).
ARRIVAL_GRACE_POLLS = 30


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class PurpleFleaWalletVenue:
    """One Purple Flea wallet on ``chains`` (see the module docstring).

    ``markets`` names the chain each asset trades on (default: the first chain whose native it is);
    ``wait(seconds)`` passes time while a swap travels; ``swap_timeout`` bounds one order's wait;
    ``clock()`` is the time in Unix seconds (tests hand in the fake's clock, so minutes pass at once).
    """

    def __init__(self, api: PurpleFleaClient, ledger: Ledger, *, quote: str = "USDC", assets: Iterable[str] = (),
                 chains: Iterable[str] = ("base", "ethereum", "solana"), markets: Mapping[str, str] | None = None,
                 wait: Callable[[float], Any] = time.sleep, poll_seconds: float = 10.0,
                 swap_timeout: float = 3600.0, swap_states: Mapping[str, str] | None = None,
                 status_per_minute: int = 10, clock: Callable[[], float] = time.time) -> None:
        if quote != "USDC":
            raise ConfigError("The purpleflea-wallet venue trades against USDC; set portfolio.quote = \"USDC\".")
        self.api, self.ledger, self.quote = api, ledger, quote
        self.chains = tuple(c for c in chains if c in NATIVE)
        self.assets = tuple(a for a in assets if a != quote)
        self.wait, self.poll_seconds, self.swap_timeout, self.clock = wait, poll_seconds, swap_timeout, clock
        self._markets = dict(markets or {})
        self._offset = 0.0
        wallet = self.api.get("/v1/wallet/export", operation="read the wallet's addresses")
        self.addresses = {c: wallet["addresses"][c] for c in self.chains}
        keys = wallet.get("private_keys", {})
        by_chain = {c: keys["ethereum_and_base"] if c in ("ethereum", "base") else keys["solana"] for c in self.chains}
        self.zeros = ZeroGuard(ledger, clock=lambda: self.now().timestamp())
        self.sends = Sends(api, ledger, self.addresses, by_chain, settle=max(120.0, 6 * poll_seconds),
                           clock=lambda: self.now().timestamp(), zeros=self.zeros)
        self.swaps = Swaps(api, ledger, self.addresses, by_chain,
            terminal=swap_states, status_per_minute=status_per_minute, settle=6 * poll_seconds,
            arrival_grace=ARRIVAL_GRACE_POLLS * poll_seconds, clock=lambda: self.now().timestamp(), wait=wait,
            zeros=self.zeros)
        self.incoming = Incoming(ledger, self._own_balance, clock=lambda: self.now().timestamp())

    def __repr__(self) -> str:
        return f"PurpleFleaWalletVenue({self.api.base_url!r}, chains={self.chains})"

    def close(self) -> None:
        self.api.close()
        self.ledger.close()

    # -- reading -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The wallet API's clock (from its answers' timestamps), as an offset from ours."""
        return datetime.fromtimestamp(self.clock() + self._offset, tz=UTC)

    def _sync(self, stamp: str | None) -> None:
        if stamp:
            self._offset = _iso(stamp).timestamp() - self.clock()

    def _own_balance(self, chain: str, asset: str) -> Decimal | None:
        """``asset`` at the wallet's address on ``chain``; None when unknown (a failed read, or a 0
        that ``purpleflea_zero`` cannot believe yet)."""
        amount = read_balance(self.api, chain, asset, self.addresses[chain])
        return None if amount is None else self.zeros.judge(chain, asset, amount)

    def _believed(self, chain: str, asset: str, amount: Any) -> float:
        """A balance from a read of many; raise ``VenueUnavailable`` for a 0 that cannot be believed yet."""
        if self.zeros.judge(chain, asset, Decimal(str(amount))) is None:
            raise VenueUnavailable(self.zeros.refusal(chain, asset) + ".", venue_message="balance read as 0")
        return float(amount)

    def balances(self) -> tuple[Holding, ...]:
        """Natives and USDC per chain (of the portfolio's assets, when named); a read with an ``error``
        raises ``VenueUnavailable`` (unknown is not 0), and so does a 0 that may be a failed RPC call
        read as 0 (``purpleflea_zero``)."""
        holdings = []
        usdc_chains = {c: self.addresses[c] for c in self.chains}
        body = self.api.get("/v1/wallet/usdc-balance", usdc_chains, operation="read USDC balances")
        self._sync(body.get("timestamp"))
        for row in body.get("balances", []):
            if row.get("error"):
                raise VenueUnavailable(f"USDC on {row['chain']} could not be read ({row['error']}); trimtab does not "
                                       "trade on a balance it cannot see.", venue_message=str(row["error"]))
            holdings.append(Holding(asset="USDC", chain=row["chain"],
                                    quantity=self._believed(row["chain"], "USDC", row["usdc_balance"])))
        for chain in self.chains:
            answer = self.api.get(f"/v1/wallet/balance/{self.addresses[chain]}", {"chain": chain},
                                  operation=f"read the {NATIVE[chain][0]} balance on {chain}")
            native = answer["balance"]["native"]
            holdings.append(Holding(asset=native["symbol"], chain=chain,
                                    quantity=self._believed(chain, native["symbol"], native["amount"])))
        wanted = {*self.assets, self.quote} if self.assets else None
        return tuple(h for h in holdings if h.quantity > 0 and (wanted is None or h.asset in wanted))

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        wanted = [a for a in dict.fromkeys(assets) if a != self.quote]
        if not wanted:
            return {}
        body = self.api.get("/v1/wallet/prices", {"symbols": ",".join(wanted)}, operation="read prices")
        self._sync(body.get("timestamp"))
        at = _iso(body["timestamp"])
        found = {p["symbol"]: p.get("price_usd") for p in body.get("prices", [])}
        missing = [a for a in wanted if not found.get(a)]
        if missing:
            raise VenueUnavailable(f"The wallet API gave no price for {', '.join(missing)} (its price source failed).",
                                   venue_message="price_usd null")
        return {a: Quote(price=float(found[a]), at=at) for a in wanted}

    def markets(self) -> Mapping[str, Market]:
        rules = MarketRules(amount_precision=8, min_notional=MIN_ORDER_USD, taker_fee=SWAP_FEE)
        result = {}
        for asset in self.assets:
            chain = self._markets.get(asset) or next((c for c in self.chains if NATIVE[c][0] == asset), None)
            if chain in TRADING_CHAINS:
                result[asset] = Market(asset=asset, chain=chain, rules=rules)
        return result

    def plan_costs(self, legs: Iterable[Any]) -> list[dict[str, Any]]:
        """Fees and estimated times from Wagyu's quotes for the planned legs (``core.plan.Leg``) and
        for the bridges their chains will need (USDC moved to a buy chain that lacks it)."""
        legs = list(legs)
        markets = self.markets()
        held = {(h.asset, h.chain): h.quantity for h in self.balances()}
        costs, need = [], {}
        for leg in legs:
            chain = markets[leg.asset].chain
            asset_from, asset_to = (leg.asset, "USDC") if str(leg.side) == "sell" else ("USDC", leg.asset)
            amount = leg.quantity if str(leg.side) == "sell" else leg.value + leg.fee
            costs.append(self._cost(f"{leg.side} {leg.asset} on {chain}", asset_from, asset_to, amount, chain, chain,
                                    leg.fee))
            need[chain] = need.get(chain, 0.0) + (-(leg.value - leg.fee) if str(leg.side) == "sell" else amount)
        for chain, wanted in need.items():
            short = wanted - held.get(("USDC", chain), 0.0)
            sources = sorted((q, c) for (a, c), q in held.items() if a == "USDC" and c != chain)
            if short >= 1.0 and sources:
                source = sources[-1][1]
                costs.append(self._cost(f"bridge USDC {source} -> {chain}", "USDC", "USDC",
                                        min(short, sources[-1][0]), source, chain, 0.0))
        return costs

    def _cost(self, what: str, asset_from: str, asset_to: str, amount: float, from_chain: str, to_chain: str,
              planned_fee: float) -> dict[str, Any]:
        try:
            quote = self.api.get("/v1/wallet/swap/quote", {
                "from_chain": from_chain, "to_chain": to_chain, "from_token": asset_from, "to_token": asset_to,
                "amount": str(smallest(amount, from_chain, asset_from))}, operation=f"quote {what}",
                retries=0)["quote"]  # a dry run shows "no quote" rather than wait out a limit
        except VenueError as e:
            return {"leg": what, "planned_fee": planned_fee, "venue_cost": None, "eta_seconds": None,
                    "note": f"no quote: {e.venue_message}"}
        cost = float(quote["fromAmountUsd"]) - float(quote["toAmountUsd"])
        return {"leg": what, "planned_fee": planned_fee, "venue_cost": cost, "eta_seconds": quote.get("estimatedTime"),
                "note": f"Wagyu quote: {quote['fromAmountUsd']} USD in, {quote['toAmountUsd']} USD out"}

    # -- orders ------------------------------------------------------------------------------

    def place_order(self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
                    client_order_id: str) -> Order:
        """Swap on the asset's market chain and wait for it; a known id resumes or returns its order.

        Raise ``OrderRejected`` when Wagyu fails, refunds or lets the order expire, ``BelowMinimum``
        under its minimum, ``VenueUnavailable`` when the swap is still travelling at ``swap_timeout``
        (asking again resumes the wait; nothing is sent twice).
        """
        side = Side(side)
        done = self.ledger.get(client_order_id)
        if done is not None and done[0] == "done":
            return _order(client_order_id, done[2] or {})
        market = self.markets().get(asset)
        if market is None:
            raise OrderRejected(f"The wallet has no market for {asset} on {', '.join(self.chains)}.")
        if (quantity is None) == (quote_amount is None):
            raise OrderRejected("Give exactly one of quantity or quote_amount.")
        mid = self.prices([asset])[asset].price
        amount = quantity if side is Side.SELL else quote_amount
        if amount is None:
            raise OrderRejected(f"{side} {asset}: give {'quantity' if side is Side.SELL else 'quote_amount'}.")
        pair = (asset, "USDC") if side is Side.SELL else ("USDC", asset)
        record = self.swaps.start(client_order_id, from_chain=market.chain, to_chain=market.chain, from_asset=pair[0],
                                  to_asset=pair[1], amount=amount, now=self.now())
        return self._await_order(client_order_id, record, asset, side, market.chain, mid)

    def get_order(self, client_order_id: str) -> Order:
        """The order under ``client_order_id``, waiting for its swap if it travels; ``UnknownOrder`` if
        no swap was ever ordered for it."""
        found = self.ledger.get(client_order_id)
        if found is None:
            raise UnknownOrder(f"The wallet has no order {client_order_id}.")
        step, record, result = found
        if step == "done":
            return _order(client_order_id, result or {})
        if step == "intent" and self.swaps._adopt(client_order_id, record) is None:  # the answer was lost
            self.ledger.forget(client_order_id)
            raise UnknownOrder(f"The wallet has no order {client_order_id} (its request never created one).")
        asset = record["from_asset"] if record["to_asset"] == "USDC" else record["to_asset"]
        side = Side.SELL if record["to_asset"] == "USDC" else Side.BUY
        record = self.swaps.resume(client_order_id)  # an abandoned order raises; an unsent deposit is judged
        return self._await_order(client_order_id, record, asset, side, record["request"]["from_chain"],
                                 record.get("mid") or self.prices([asset])[asset].price)

    def _await_order(self, cid: str, record: dict[str, Any], asset: str, side: Side, chain: str, mid: float) -> Order:
        started, reads = self.clock(), 0
        pacing = pace(self.poll_seconds)
        while True:
            state = self.swaps.state(cid)
            reads += 1
            if state is None:
                raise UnknownOrder(f"The wallet has no order {cid}.")
            if state.outcome == "completed":
                break
            if state.outcome == UNPROVEN:
                raise NeedsAttention(f"{side} {asset} on {chain} (client id {cid}): {state.status}.",
                                     venue_message=state.status)
            if state.outcome is not None:
                raise OrderRejected(f"{side} {asset} on {chain} (client id {cid}): the swap ended {state.outcome}"
                                    + ("; the deposit was returned" if state.outcome == "refunded" else ""),
                                    venue_message=state.status)
            if self.clock() - started > self.swap_timeout:
                raise VenueUnavailable(f"{side} {asset} (client id {cid}): the swap is still {state.status or 'pending'}; "
                                       "asking again resumes the wait.", venue_message=state.status)
            self.wait(pacing.delay(reads))
        received = whole(state.record["actual_output"] or state.record.get("expected") or 0, chain, record["to_asset"])
        paid = whole(record["request"]["amount"], chain, record["from_asset"])
        if side is Side.SELL:
            quantity, value = float(paid), float(paid) * mid
            fee = value - float(received)
        else:
            quantity, value = float(received), float(received) * mid
            fee = float(paid) - value
        order = Order(client_order_id=cid, asset=asset, side=side, chain=chain, quantity=quantity, price=mid,
                      mid_price=mid, value=value, fee=max(fee, 0.0), status=OrderStatus.FILLED, at=self.now())
        self.ledger.record(cid, "swap", "done", {**record, "mid": mid}, _result(order))
        return order

    # -- transfers ---------------------------------------------------------------------------

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        """Bridge ``amount`` of ``asset`` by a cross-chain swap; a known id returns its transfer."""
        found = self.ledger.get(client_id)
        if found is None:
            for chain in (from_chain, to_chain):
                if chain not in self.chains:
                    raise OrderRejected(f"bridge of {asset} to or from {chain}: the wallet venue serves "
                                        f"{', '.join(self.chains)}.")
            quote = self._quote(asset, amount, from_chain, to_chain)
            self.swaps.start(client_id, from_chain=from_chain, to_chain=to_chain, from_asset=asset, to_asset=asset,
                             amount=amount, now=self.now(),
                             extra={"eta": quote.get("estimatedTime", 300), "started": self.now().timestamp()})
        elif found[0] in ("intent", "ordered", "sending", "abandoned"):
            if found[0] == "intent" and self.swaps._adopt(client_id, found[1]) is None:
                self.ledger.forget(client_id)
                return self.transfer(asset, amount, from_chain, to_chain, client_id)
            self.swaps.resume(client_id)
        return self.transfer_status(client_id)

    def _quote(self, asset: str, amount: float, from_chain: str, to_chain: str) -> dict[str, Any]:
        params = {"from_chain": from_chain, "to_chain": to_chain, "from_token": asset, "to_token": asset,
                  "amount": str(smallest(amount, from_chain, asset))}
        return self.api.get("/v1/wallet/swap/quote", params, operation=f"quote a bridge of {amount:g} {asset} "
                            f"from {from_chain} to {to_chain}")["quote"]

    def transfer_status(self, client_id: str) -> Transfer:
        """The bridge under ``client_id``: in transit, or arrived with what was received; raise
        ``OrderRejected`` when it failed, was refunded or expired, ``UnknownOrder`` if never ordered."""
        if self.swaps.step(client_id) in ("ordered", "sending", "abandoned"):
            self.swaps.resume(client_id)  # its deposit was not known to be sent: carry on (or refuse)
        state = self.swaps.state(client_id)
        if state is None:
            raise UnknownOrder(f"The wallet has no bridge {client_id}.")
        record = state.record
        request = record["request"]
        if state.outcome == UNPROVEN:
            raise NeedsAttention(f"bridge {client_id} of {record['from_asset']} from {request['from_chain']} to "
                                 f"{request['to_chain']}: {state.status}.", venue_message=state.status)
        if state.outcome not in (None, "completed"):
            raise OrderRejected(f"bridge {client_id} of {record['from_asset']} from {request['from_chain']} to "
                                f"{request['to_chain']} ended {state.outcome}", venue_message=state.status)
        amount = float(whole(request["amount"], request["from_chain"], record["from_asset"]))
        out = state.record.get("actual_output") or record.get("expected") or request["amount"]
        received = float(whole(out, request["to_chain"], record["to_asset"]))
        started = datetime.fromtimestamp(record.get("started") or record["asked_at"], tz=UTC)
        return Transfer(client_id=client_id, asset=record["from_asset"], amount=amount, fee=max(amount - received, 0.0),
                        from_chain=request["from_chain"], to_chain=request["to_chain"],
                        status=TransferStatus.ARRIVED if state.outcome == "completed" else TransferStatus.IN_TRANSIT,
                        started_at=started, arrives_at=started + timedelta(seconds=record.get("eta") or 300))


    # -- moves to and from other venues (MOVES.md; purpleflea_send) --------------------------

    def deposit_address(self, asset: str, chain: str) -> str:
        """The wallet's own address on ``chain`` (where ``asset`` sent there lands); ``Unsupported``
        for a chain this venue does not serve or an asset it cannot hold there."""
        if chain not in self.chains:
            raise Unsupported(f"the wallet venue serves {', '.join(self.chains)}, not {chain}")
        if asset not in (NATIVE[chain][0], "USDC"):
            raise Unsupported(f"the wallet venue reads only {NATIVE[chain][0]} and USDC on {chain}, not {asset}")
        return self.addresses[chain]

    def expect(self, client_id: str, asset: str, chain: str, amount: float) -> None:
        """Before a move of ``amount`` ``asset`` into the wallet on ``chain`` is sent: record the
        balance that will prove it arrived (``purpleflea_incoming``); raise when it cannot be read."""
        self.incoming.expect(client_id, asset, chain, amount)

    def received(self, client_id: str, sent: Transfer | None = None) -> float | None:
        """What the move ``client_id`` (the sender's ``sent``) credited, once the wallet's balance
        proves it; None until then."""
        return self.incoming.received(client_id, sent)

    def send(self, asset: str, amount: float, chain: str, address: str, client_id: str) -> Transfer:
        """``/wallet/send`` of ``amount`` of ``asset`` on ``chain`` to ``address``, once per client id."""
        return self.sends.send(asset, amount, chain, address, client_id)

    def sent(self, client_id: str) -> Transfer:
        """The send under ``client_id`` as the wallet can prove it (its tx hash or its balance)."""
        return self.sends.sent(client_id)

    def send_refusal(self, asset: str, chain: str) -> str | None:
        """Why ``asset`` cannot be sent from ``chain`` through ``/wallet/send`` (None: it can)."""
        try:
            self.sends.check(asset, chain)
        except Unsupported as e:
            return str(e)
        return None

    def move_estimate(self, asset: str, amount: float, chain: str | None = None) -> dict[str, float]:
        """A send's cost: the gas, in the quote (the native priced by the wallet API), and its minutes."""
        chains = [chain] if chain else [c for c in self.chains if (asset, c) in _sendable()]
        if not chains:
            raise Unsupported(f"the wallet API cannot send {asset} from {', '.join(self.chains)}")
        best = min(chains, key=lambda c: GAS.get(c, 0.0))
        native = NATIVE[best][0]
        gas = GAS.get(best, 0.0) * self.prices([native])[native].price
        minutes = MINUTES.get(best, 5.0)
        return {"fee": gas, "fixed_fee": gas, "fee_rate": 0.0, "seconds_low": minutes * 30,
                "seconds_high": minutes * 90}


def _sendable() -> set[tuple[str, str]]:
    from trimtab.venues.purpleflea_send import SENDABLE
    return SENDABLE


def _result(order: Order) -> dict[str, Any]:
    return {"asset": order.asset, "side": str(order.side), "chain": order.chain, "quantity": order.quantity,
            "price": order.price, "value": order.value, "fee": order.fee, "at": order.at.isoformat()}


def _order(cid: str, r: dict[str, Any]) -> Order:
    return Order(client_order_id=cid, asset=r["asset"], side=Side(r["side"]), chain=r["chain"], quantity=r["quantity"],
                 price=r["price"], mid_price=r["price"], value=r["value"], fee=r["fee"], status=OrderStatus.FILLED,
                 at=datetime.fromisoformat(r["at"]))


def consolidated_value(holdings: Iterable[Holding], prices: Mapping[str, Quote]) -> float:
    """Total value of ``holdings`` at ``prices`` (USDC at 1)."""
    return math.fsum(h.quantity * (1.0 if h.asset == "USDC" else prices[h.asset].price) for h in holdings)


__all__ = ["PurpleFleaWalletVenue", "VenueError"]

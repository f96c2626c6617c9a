"""A venue that fails the way real venues fail: a wrapper around any venue for soak and fault tests.

``FaultyVenue(inner, rates={Fault.TIMEOUT: 0.01}, seed=7)`` passes every call to ``inner``, except
that each call fails, with a seeded random draw, in one of the ways below that apply to it, each
kind at its own rate (the chance per call it applies to; ``spread_rates`` makes a set). The errors
are the ones from ``trimtab.errors`` that the real venues raise, so the engine sees what it sees in
production. ``counts`` says what was injected, ``calls`` how many calls were made.

| kind               | calls                      | what the caller sees                                       |
| ------------------ | -------------------------- | ---------------------------------------------------------- |
| timeout            | every call but ``now``     | ``VenueUnavailable`` (timed out); the call never arrived    |
| server_error       | every call but ``now``     | ``VenueUnavailable`` (a 5xx); the call never arrived        |
| rate_limited       | every call but ``now``     | ``RateLimited`` (a 429); the call never arrived             |
| lost_answer        | ``place_order``, ``transfer`` | the write is done at the venue, the caller gets a timeout |
| partial_fill       | ``place_order``            | the venue fills half the quantity (or spends half the amount) |
| transfer_stalled   | ``transfer``               | the bridge reports in transit for 1-4 hours past its arrival |
| transfer_failed    | ``transfer``               | ``OrderRejected``: the bridge refused it; nothing moved (never for a client id the venue knows) |
| transfer_refunded  | ``transfer``               | the bridge is sent, then fails: the amount goes back to the source chain (a bridge ``refund-<id>``) and its status is ``OrderRejected`` |
| price_off          | ``prices``                 | one asset's price 10x too high or too low                   |
| owner_change       | ``balances``               | the owner moved money first: ``owner(rng)`` changes the inner venue (only with an ``owner``) |

``refuse_repeats=True`` makes the venue break the idempotency the protocol promises, as some real
venues do: a ``place_order`` or ``transfer`` under a client id the venue already knows is refused with
``OrderRejected`` ("duplicate client order id") instead of answered with the existing record, and
nothing more is done. A caller that re-sends a write after a lost answer then sees its filled order
refused; one that looks the id up first (as the executor does) never sends it twice.

Stalls are remembered by this object only (a restarted process sees the bridge as the venue
has it); a refund is found again at the venue by its ``refund-`` client id.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from trimtab.core.plan import Side
from trimtab.errors import BelowMinimum, InsufficientFunds, OrderRejected, RateLimited, UnknownOrder, VenueUnavailable
from trimtab.venues.base import Holding, Market, Order, Quote, Transfer, TransferStatus, Venue


class Fault(StrEnum):
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    LOST_ANSWER = "lost_answer"
    PARTIAL_FILL = "partial_fill"
    TRANSFER_STALLED = "transfer_stalled"
    TRANSFER_FAILED = "transfer_failed"
    TRANSFER_REFUNDED = "transfer_refunded"
    PRICE_OFF = "price_off"
    OWNER_CHANGE = "owner_change"


_UNREACHED = (Fault.TIMEOUT, Fault.SERVER_ERROR, Fault.RATE_LIMITED)
#: The kinds that apply to each call.
APPLIES: dict[str, tuple[Fault, ...]] = {
    "balances": (*_UNREACHED, Fault.OWNER_CHANGE),
    "prices": (*_UNREACHED, Fault.PRICE_OFF),
    "markets": _UNREACHED,
    "get_order": _UNREACHED,
    "transfer_status": _UNREACHED,
    "place_order": (*_UNREACHED, Fault.LOST_ANSWER, Fault.PARTIAL_FILL),
    "transfer": (*_UNREACHED, Fault.LOST_ANSWER, Fault.TRANSFER_STALLED, Fault.TRANSFER_FAILED,
                 Fault.TRANSFER_REFUNDED),
}
REFUND_PREFIX = "refund-"

#: ``owner(rng)`` changes the inner venue's balances as the account's owner would (a deposit, a
#: withdrawal) and returns a sentence saying what it did, or None when it did nothing.
Owner = Callable[[random.Random], "str | None"]


def spread_rates(total: float = 0.01, writes: float = 0.05) -> dict[Fault, float]:
    """Rates that fail ``total`` of the calls with a timeout, a 5xx or a 429 (a third each), give a
    quarter of ``total`` to ``owner_change`` and ``price_off``, and ``writes`` to each kind that
    only writes have (orders and bridges are few, so a small rate would seldom reach them)."""
    return {Fault.TIMEOUT: total / 3, Fault.SERVER_ERROR: total / 3, Fault.RATE_LIMITED: total / 3,
            Fault.OWNER_CHANGE: total / 4, Fault.PRICE_OFF: total / 4, Fault.LOST_ANSWER: writes,
            Fault.PARTIAL_FILL: writes, Fault.TRANSFER_STALLED: writes, Fault.TRANSFER_FAILED: writes,
            Fault.TRANSFER_REFUNDED: writes}


class FaultyVenue:
    """``inner`` with its calls failing at ``rates`` (see the module docstring).

    ``owner`` is needed for ``owner_change``; ``on_fault(kind, call, detail)`` is told of each
    fault as it is injected (a soak writes them down so that they survive its process).
    """

    def __init__(self, inner: Venue, *, rates: Mapping[Fault | str, float] | None = None, seed: int | None = None,
                 owner: Owner | None = None, on_fault: Callable[[Fault, str, str], None] | None = None,
                 refuse_repeats: bool = False) -> None:
        self.inner, self.owner, self.on_fault, self.refuse_repeats = inner, owner, on_fault, refuse_repeats
        self.rates = {Fault(k): float(v) for k, v in (spread_rates() if rates is None else rates).items()}
        for call, kinds in APPLIES.items():
            if not 0 <= sum(self.rates.get(k, 0.0) for k in kinds) <= 1 or min(self.rates.values(), default=0) < 0:
                raise ValueError(f"fault rates for {call} must be between 0 and 1 and add up to at most 1")
        self.rng = random.Random(seed)
        self.counts: Counter[Fault] = Counter()
        self.calls: Counter[str] = Counter()
        self._stalled: dict[str, timedelta] = {}

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        """Anything else the inner venue offers (``advance``, ``close``, ...) passes through."""
        return getattr(self.inner, name)

    # -- drawing -----------------------------------------------------------------------------

    def _draw(self, call: str) -> Fault | None:
        self.calls[call] += 1
        draw = self.rng.random()
        for kind in APPLIES[call]:
            if kind is Fault.OWNER_CHANGE and self.owner is None:
                continue
            draw -= self.rates.get(kind, 0.0)
            if draw < 0:
                return kind
        return None

    def _note(self, kind: Fault, call: str, detail: str = "") -> None:
        self.counts[kind] += 1
        if self.on_fault is not None:
            self.on_fault(kind, call, detail)

    def _unreached(self, kind: Fault | None, call: str) -> None:
        """Raise the error for a call that never reached the venue."""
        if kind is Fault.TIMEOUT:
            self._note(kind, call)
            raise VenueUnavailable(f"{call}: the venue did not answer in time (simulated timeout).",
                                   venue_message="timed out")
        if kind is Fault.SERVER_ERROR:
            self._note(kind, call)
            raise VenueUnavailable(f"{call}: the venue answered 503 (simulated).", venue_message="503 Service Unavailable")
        if kind is Fault.RATE_LIMITED:
            self._note(kind, call)
            raise RateLimited(f"{call}: the venue answered 429 (simulated).", venue_message="429 Too Many Requests")

    def _refuse_repeat(self, call: str, client_id: str, known: Callable[[str], object]) -> None:
        """With ``refuse_repeats``: refuse a write under a client id the venue already has."""
        if not self.refuse_repeats:
            return
        try:
            known(client_id)
        except UnknownOrder:
            return
        raise OrderRejected(f"{call} {client_id}: the venue refused a client id it already has (simulated).",
                            venue_message="duplicate client order id")

    def _lost(self, call: str, client_id: str) -> VenueUnavailable:
        self._note(Fault.LOST_ANSWER, call, client_id)
        return VenueUnavailable(f"{call} {client_id}: the venue did not answer in time (simulated; it was done).",
                                venue_message="timed out")

    # -- the protocol ------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.inner.now()

    def balances(self) -> tuple[Holding, ...]:
        kind = self._draw("balances")
        self._unreached(kind, "balances")
        if kind is Fault.OWNER_CHANGE and self.owner is not None:
            done = self.owner(self.rng)
            if done:
                self._note(kind, "balances", done)
        return self.inner.balances()

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        kind = self._draw("prices")
        self._unreached(kind, "prices")
        quotes = dict(self.inner.prices(assets))
        if kind is Fault.PRICE_OFF and quotes:
            asset = self.rng.choice(sorted(quotes))
            factor = self.rng.choice((10.0, 0.1))
            quotes[asset] = replace(quotes[asset], price=quotes[asset].price * factor)
            self._note(kind, "prices", f"{asset} x{factor:g}")
        return quotes

    def markets(self) -> Mapping[str, Market]:
        self._unreached(self._draw("markets"), "markets")
        return self.inner.markets()

    def get_order(self, client_order_id: str) -> Order:
        self._unreached(self._draw("get_order"), "get_order")
        return self.inner.get_order(client_order_id)

    def place_order(self, asset: str, side: Side, *, quantity: float | None = None,
                    quote_amount: float | None = None, client_order_id: str) -> Order:
        kind = self._draw("place_order")
        self._unreached(kind, "place_order")
        self._refuse_repeat("place_order", client_order_id, self.inner.get_order)
        if kind is Fault.PARTIAL_FILL:
            partial = self._partial(asset, side, quantity, quote_amount, client_order_id)
            if partial is not None:
                return partial
        order = self.inner.place_order(asset, side, quantity=quantity, quote_amount=quote_amount,
                                       client_order_id=client_order_id)
        if kind is Fault.LOST_ANSWER:
            raise self._lost("place_order", client_order_id)
        return order

    def _partial(self, asset: str, side: Side, quantity: float | None, quote_amount: float | None,
                 cid: str) -> Order | None:
        """Fill half at the venue; None (send it whole) when half would break the market's rules."""
        try:
            self.inner.get_order(cid)
            return None  # the venue knows it already: it answers with what it did
        except UnknownOrder:
            pass
        rules = self.inner.markets()[asset].rules
        try:
            if quantity is not None:
                half = float(rules.round_quantity(quantity / 2))
                if half <= 0:
                    return None
                order = self.inner.place_order(asset, side, quantity=half, client_order_id=cid)
            else:
                order = self.inner.place_order(asset, side, quote_amount=(quote_amount or 0.0) / 2,
                                               client_order_id=cid)
        except (BelowMinimum, OrderRejected):
            return None
        self._note(Fault.PARTIAL_FILL, "place_order", f"{cid} {order.quantity:g} of {quantity or quote_amount:g}")
        return order

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        kind = self._draw("transfer")
        self._unreached(kind, "transfer")
        self._refuse_repeat("transfer", client_id, self.inner.transfer_status)
        if kind is Fault.TRANSFER_FAILED and self._known_transfer(client_id):
            kind = None  # the contract: a known client id returns the existing bridge, never a refusal
        if kind is Fault.TRANSFER_FAILED:
            self._note(kind, "transfer", client_id)
            raise OrderRejected(f"bridge {client_id} of {amount:g} {asset} {from_chain} -> {to_chain} was refused "
                                "(simulated: no route).", venue_message="no route available")
        sent = self.inner.transfer(asset, amount, from_chain, to_chain, client_id)
        if kind is Fault.LOST_ANSWER:
            raise self._lost("transfer", client_id)
        if kind is Fault.TRANSFER_STALLED:
            self._stalled[client_id] = timedelta(minutes=self.rng.uniform(60, 240))
            self._note(kind, "transfer", f"{client_id} {self._stalled[client_id]}")
        if kind is Fault.TRANSFER_REFUNDED:
            self._stalled[client_id] = timedelta(0)  # marked: refunded once it lands
            self._note(kind, "transfer", client_id)
        return self._as_seen(sent)

    def _known_transfer(self, client_id: str) -> bool:
        try:
            self.inner.transfer_status(client_id)
            return True
        except UnknownOrder:
            return False

    def transfer_status(self, client_id: str) -> Transfer:
        self._unreached(self._draw("transfer_status"), "transfer_status")
        return self._as_seen(self.inner.transfer_status(client_id))

    def _as_seen(self, transfer: Transfer) -> Transfer:
        """The transfer as this venue reports it: stalled, refunded, or as the inner venue has it."""
        cid = transfer.client_id
        refund = REFUND_PREFIX + cid
        refunded = self._known_transfer(refund)
        if not refunded and self._stalled.get(cid) == timedelta(0) and transfer.status is TransferStatus.ARRIVED:
            try:
                self.inner.transfer(transfer.asset, transfer.received, transfer.to_chain, transfer.from_chain, refund)
                refunded = True
            except (InsufficientFunds, OrderRejected):  # the funds moved on already: it simply arrived
                del self._stalled[cid]
        if refunded:
            raise OrderRejected(f"bridge {cid} failed and was refunded to {transfer.from_chain} (simulated).",
                                venue_message="bridge failed; refunded")
        stall = self._stalled.get(cid)
        if stall and transfer.status is TransferStatus.ARRIVED and self.inner.now() < transfer.arrives_at + stall:
            return replace(transfer, status=TransferStatus.IN_TRANSIT, arrives_at=transfer.arrives_at + stall)
        return transfer

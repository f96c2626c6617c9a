"""The composite venue: several venues presented as one portfolio.

A **location** is (venue name, chain), written ``"wallet:ethereum"``, ``"perps:hyperliquid"``,
``"binance:binance"``; the composite reports every holding, market, order and transfer with its
location as the ``chain``, so the executor, the journal and the routing of bridges work unchanged.

* ``balances()``: every member's holdings, each on its location; ``in_transit()``: each member's
  bridges and moves on their way (a paper send names the receiving location).
* ``markets()``: one market per asset (the first member, in config order, that trades it: the venue
  contract's view); ``market_options()``: every (asset, venue) market, which the router chooses from.
* ``prices(assets)``: each asset from the first member that trades it.
* ``place_order(..., chain=location)``: sent to that location's venue (no ``chain``: the asset's
  market in ``markets()``); ``get_order`` asks the venue that got it (after a restart, each member).
* ``transfer(asset, amount, from_location, to_location, client_id)``: on one venue, its own bridge;
  between venues, a **move** (MOVES.md): ``sender.send(asset, amount, chain, receiver.deposit_address(
  asset, chain), client_id)``. ``transfer_status`` finds either by client id (the sender's ``sent``);
  a move has arrived when the receiver proves it (``received(client_id, sent)``, ``sent`` the sender's
  record: an exchange matches a deposit of ``sent.received``; the Purple Flea wallet, whose API lists
  no incoming transfers, sees its balance rise from the one its ``expect(client_id, ...)`` recorded
  right before the send), else the sender's word (only a receiver with no ``received``: none yet).
* ``can_move(asset, from_location, to_location)``: a ``MoveCost`` or None (never planned): a member
  can send when it has ``send`` (and its optional ``send_refusal(asset, chain)`` says nothing), and
  receive when its ``deposit_address(asset, chain)`` does not raise ``Unsupported``; the fee and time
  come from the sender's optional ``move_estimate(asset, amount)`` (``fee_rate``, ``fixed_fee``,
  ``seconds_low``, ``seconds_high``).

The network of a move: a member whose location chain is an account, not a network (an exchange:
``account_chain`` names it), takes the network from the other side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from trimtab.core.plan import Side
from trimtab.core.router import MoveCost
from trimtab.errors import OrderRejected, UnknownOrder, Unsupported, VenueError
from trimtab.venues.base import Holding, InTransit, Market, Order, Quote, Transfer, Venue

SEPARATOR = ":"


def location(venue: str, chain: str) -> str:
    """``location("wallet", "base") == "wallet:base"``."""
    return f"{venue}{SEPARATOR}{chain}"


def split_location(place: str) -> tuple[str, str]:
    """``"wallet:base" -> ("wallet", "base")``; raise ``OrderRejected`` for a string with no venue."""
    venue, sep, chain = place.partition(SEPARATOR)
    if not sep or not venue or not chain:
        raise OrderRejected(f"{place!r} is not a location (venue:chain)")
    return venue, chain


def venue_of(place: str) -> str:
    return place.partition(SEPARATOR)[0]


class CompositeVenue:
    """Several venues as one (see the module docstring). ``members`` in config order; ``kinds`` names
    each member's kind for sentences (``purpleflea-trading``)."""

    def __init__(self, members: Mapping[str, Venue], *, quote: str = "USDC", kinds: Mapping[str, str] | None = None) -> None:
        if not members:
            raise ValueError("a composite venue needs at least one member")
        self.members = dict(members)
        self.quote = quote
        self.kinds = dict(kinds or {})
        self._orders: dict[str, str] = {}  # client id -> member, for this process
        self._transfers: dict[str, tuple[str, str, str]] = {}  # client id -> (sender, receiver, to location)
        self._from: dict[str, str] = {}  # client id of a move -> its from location
        self._markets: dict[str, dict[str, Market]] | None = None
        self._addresses: dict[tuple[str, str], str] = {}  # (asset, address) -> location

    def __repr__(self) -> str:
        return f"CompositeVenue({', '.join(self.members)})"

    @property
    def names(self) -> list[str]:
        return list(self.members)

    def member(self, name: str) -> Venue:
        try:
            return self.members[name]
        except KeyError:
            raise OrderRejected(f"no venue named {name!r} in this portfolio ({', '.join(self.members)})") from None

    def close(self) -> None:
        for venue in self.members.values():
            if hasattr(venue, "close"):
                venue.close()

    # -- reading -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return next(iter(self.members.values())).now()

    def _settle(self) -> None:
        for venue in self.members.values():  # moves due are credited before any balance is read
            if hasattr(venue, "settle"):
                venue.settle()

    def balances(self) -> tuple[Holding, ...]:
        self._settle()
        return tuple(Holding(asset=h.asset, chain=location(name, h.chain), quantity=h.quantity)
                     for name, venue in self.members.items() for h in venue.balances())

    def balances_by_venue(self) -> dict[str, tuple[Holding, ...]]:
        """``{venue: its holdings on its own chains}``."""
        self._settle()
        return {name: tuple(venue.balances()) for name, venue in self.members.items()}

    def in_transit(self) -> tuple[InTransit, ...]:
        items = []
        for name, venue in self.members.items():
            if not hasattr(venue, "in_transit"):
                continue
            for t in venue.in_transit():
                to = self._to_location(name, t.asset, t.to_chain)
                items.append(InTransit(asset=t.asset, quantity=t.quantity, from_chain=location(name, t.from_chain),
                                       to_chain=to, since=t.since, client_id=t.client_id, run_id=t.run_id))
        return tuple(items)

    def reports_in_transit(self, place: str) -> bool:
        """Whether ``in_transit()`` covers what leaves ``place`` (its venue has ``in_transit``); what
        it does not cover is counted from the journal (``Agent.in_transit``)."""
        return hasattr(self.members.get(venue_of(place)), "in_transit")

    def _to_location(self, sender: str, asset: str, chain_or_address: str) -> str:
        """A bridge's destination chain on ``sender``, or the location a move's address belongs to
        (a paper address names its account file; others are matched to the members' deposit
        addresses, remembered); an address no member claims stays on the sender's side, still counted."""
        if (asset, chain_or_address) in self._addresses:
            return self._addresses[(asset, chain_or_address)]
        if chain_or_address.startswith("paper:"):  # paper:<account file>:<chain>
            path, chain = chain_or_address[len("paper:"):].rsplit(":", 1)
            for name, venue in self.members.items():
                if hasattr(venue, "path") and str(venue.path.resolve()) == path:  # type: ignore[attr-defined]
                    return location(name, chain)
        if chain_or_address in self._chains(sender):
            return location(sender, chain_or_address)
        for name, venue in self.members.items():
            if name == sender or not hasattr(venue, "deposit_address"):
                continue
            account = getattr(venue, "account_chain", None)  # an exchange: its deposit address is per network
            networks = self._chains(name) + (self._chains(sender) if account else [])
            for chain in dict.fromkeys(networks):
                try:
                    if venue.deposit_address(asset, chain) == chain_or_address:
                        place = location(name, account or chain)  # an exchange account is one place
                        self._addresses[(asset, chain_or_address)] = place
                        return place
                except VenueError:
                    continue
        return location(sender, chain_or_address)

    def _chains(self, name: str) -> list[str]:
        venue = self.members[name]
        chains = list(getattr(venue, "chains", ()) or ())  # a wallet names its chains; else where it holds
        if not chains:
            chains = [h.chain for h in venue.balances()]
        chains += list(getattr(venue, "networks", ()) or ())  # an exchange account: the networks it receives on
        chains += [m.chain for m in venue.markets().values()]
        return list(dict.fromkeys(chains))

    def market_options(self) -> dict[str, dict[str, Market]]:
        """``{asset: {venue: Market}}``, each market's chain a location; read once per composite."""
        if self._markets is None:
            options: dict[str, dict[str, Market]] = {}
            for name, venue in self.members.items():
                for asset, market in venue.markets().items():
                    options.setdefault(asset, {})[name] = Market(asset=asset, chain=location(name, market.chain),
                                                                rules=market.rules)
            self._markets = options
        return self._markets

    def markets(self) -> Mapping[str, Market]:
        return {asset: next(iter(by_venue.values())) for asset, by_venue in self.market_options().items()}

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        wanted = [a for a in dict.fromkeys(assets) if a != self.quote]
        options = self.market_options()
        first = next(iter(self.members))
        groups: dict[str, list[str]] = {}
        for asset in wanted:
            groups.setdefault(next(iter(options.get(asset, {first: None}))), []).append(asset)
        quotes: dict[str, Quote] = {}
        for name, group in groups.items():
            quotes.update(self.members[name].prices(group))
        return {a: quotes[a] for a in wanted if a in quotes}

    # -- orders ------------------------------------------------------------------------------

    def place_order(self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
                    client_order_id: str, chain: str | None = None) -> Order:
        """Send the order to ``chain``'s venue (a location), or to the asset's market in ``markets()``."""
        place = chain or self.markets().get(asset, Market(asset=asset, chain=location(next(iter(self.members)), "-"),
                                                          rules=None)).chain  # type: ignore[arg-type]
        name = venue_of(place)
        venue = self.member(name)
        self._orders[client_order_id] = name
        order = venue.place_order(asset, side, quantity=quantity, quote_amount=quote_amount,
                                  client_order_id=client_order_id)
        return _relocated_order(order, name)

    def get_order(self, client_order_id: str) -> Order:
        name = self._orders.get(client_order_id)
        if name is not None:
            return _relocated_order(self.members[name].get_order(client_order_id), name)
        failure: VenueError | None = None
        for name, venue in self.members.items():
            try:
                order = venue.get_order(client_order_id)
            except UnknownOrder:
                continue
            except VenueError as e:
                if not e.retryable:
                    raise
                failure = e  # a failed read is not news: it may be there
                continue
            self._orders[client_order_id] = name
            return _relocated_order(order, name)
        if failure is not None:
            raise failure
        raise UnknownOrder(f"No venue of this portfolio ({', '.join(self.members)}) has order {client_order_id}.")

    # -- transfers and moves -----------------------------------------------------------------

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        """A bridge inside one venue, or a move between two (see the module docstring)."""
        sender, from_c = split_location(from_chain)
        receiver, to_c = split_location(to_chain)
        source = self.member(sender)
        if sender == receiver:
            self._transfers[client_id] = (sender, sender, to_chain)
            return _relocated_transfer(source.transfer(asset, amount, from_c, to_c, client_id), sender, to_chain)
        route = self._move_route(asset, sender, from_c, receiver, to_c)
        if isinstance(route, str):
            raise Unsupported(route)
        send_chain, address = route
        self._transfers[client_id] = (sender, receiver, to_chain)
        self._from[client_id] = from_chain
        self._addresses[(asset, address)] = to_chain
        expect = getattr(self.member(receiver), "expect", None)
        if expect is not None:  # a receiver that proves arrivals by its balance records it first
            expect(client_id, asset, to_c, amount)
        sent = source.send(asset, amount, send_chain, address, client_id)  # type: ignore[attr-defined]
        return self._move_record(sent, sender, receiver, from_chain, to_chain)

    def transfer_status(self, client_id: str) -> Transfer:
        known = self._transfers.get(client_id)
        if known is not None:
            sender, receiver, to = known
            if sender == receiver:
                return _relocated_transfer(self.members[sender].transfer_status(client_id), sender, to)
            sent = self.members[sender].sent(client_id)  # type: ignore[attr-defined]
            return self._move_record(sent, sender, receiver, self._from_location(sender, sent), to)
        failure: VenueError | None = None
        for name, venue in self.members.items():  # after a restart: whoever knows the client id
            for kind in ("transfer_status", "sent"):
                if not hasattr(venue, kind):
                    continue
                try:
                    found = getattr(venue, kind)(client_id)
                except (UnknownOrder, Unsupported):
                    continue
                except VenueError as e:
                    if not e.retryable:
                        raise
                    failure = e
                    continue
                if kind == "transfer_status":
                    to = location(name, found.to_chain)
                    self._transfers[client_id] = (name, name, to)
                    return _relocated_transfer(found, name, to)
                to = self._to_location(name, found.asset, found.to_chain)
                self._transfers[client_id] = (name, venue_of(to), to)
                return self._move_record(found, name, venue_of(to), self._from_location(name, found), to)
        if failure is not None:
            raise failure
        raise UnknownOrder(f"No venue of this portfolio ({', '.join(self.members)}) has transfer {client_id}.")

    def _from_location(self, sender: str, sent: Transfer) -> str:
        """Where a move left: as sent in this process, else the sender's account chain (an exchange
        sends on a network but holds on its account), else the chain it was sent on."""
        if sent.client_id in self._from:
            return self._from[sent.client_id]
        account = getattr(self.members[sender], "account_chain", None)
        return location(sender, account or sent.from_chain)

    def _move_record(self, sent: Transfer, sender: str, receiver: str, from_location: str, to: str) -> Transfer:
        status = sent.status
        target = self.members.get(receiver)
        if target is not None and hasattr(target, "received"):
            status = type(sent.status)("arrived" if target.received(sent.client_id, sent) is not None else "in_transit")
        return Transfer(client_id=sent.client_id, asset=sent.asset, amount=sent.amount, fee=sent.fee,
                        from_chain=from_location, to_chain=to, status=status, started_at=sent.started_at,
                        arrives_at=sent.arrives_at)

    def _move_route(self, asset: str, sender: str, from_c: str, receiver: str, to_c: str) -> tuple[str, str] | str:
        """``(chain to send on, address)`` for a move, or the sentence saying why it cannot be made
        (the receiving side is asked first: its refusal says why the move cannot be made at all)."""
        source, target = self.member(sender), self.member(receiver)
        if not hasattr(target, "deposit_address"):
            return (f"{receiver} ({self.kinds.get(receiver, type(target).__name__)}) cannot receive {asset} from "
                    "another venue through its API")
        source_account = getattr(source, "account_chain", None) == from_c
        target_account = getattr(target, "account_chain", None) == to_c
        if source_account and target_account:
            return f"{sender} and {receiver} are both exchange accounts; a move between them needs a network"
        network = to_c if source_account else from_c
        try:
            address = target.deposit_address(asset, network if target_account else to_c)
        except Unsupported as e:
            return f"{receiver} cannot receive {asset}: {e}"
        if not hasattr(source, "send"):
            return (f"{sender} ({self.kinds.get(sender, type(source).__name__)}) cannot send {asset} to another venue "
                    "through its API")
        refusal = source.send_refusal(asset, from_c) if hasattr(source, "send_refusal") else None
        if refusal:
            return f"{sender} cannot send {asset}: {refusal}"
        return (network if source_account else from_c), address

    def can_move(self, asset: str, from_location: str, to_location: str) -> MoveCost | None:
        """What moving ``asset`` between two locations costs, or None when it cannot be done here."""
        sender, from_c = split_location(from_location)
        receiver, to_c = split_location(to_location)
        source = self.member(sender)
        if sender == receiver:
            if from_c == to_c:
                return MoveCost()
            if not hasattr(source, "bridge_estimate"):
                return None
            estimate = source.bridge_estimate(asset, 1.0, from_c, to_c)
            return MoveCost(fee_rate=estimate["fee"], minutes=(estimate["seconds_low"] + estimate["seconds_high"]) / 120)
        try:
            route = self._move_route(asset, sender, from_c, receiver, to_c)
        except VenueError:
            return None
        if isinstance(route, str):
            return None
        if not hasattr(source, "move_estimate"):
            return MoveCost(minutes=30.0)
        e: dict[str, Any] = source.move_estimate(asset, 1.0)
        return MoveCost(fee_rate=float(e.get("fee_rate", e.get("fee", 0.0))), fixed_fee=float(e.get("fixed_fee", 0.0)),
                        minutes=(float(e.get("seconds_low", 0.0)) + float(e.get("seconds_high", 0.0))) / 120)

    def move_refusal(self, asset: str, from_location: str, to_location: str) -> str | None:
        """Why ``asset`` cannot move between two locations (None when it can)."""
        sender, from_c = split_location(from_location)
        receiver, to_c = split_location(to_location)
        if sender == receiver:
            return None
        route = self._move_route(asset, sender, from_c, receiver, to_c)
        return route if isinstance(route, str) else None

    def quote_location(self, name: str) -> str:
        """Where a venue's quote sits and is received: its largest quote holding, else its first
        market's chain."""
        venue = self.member(name)
        held = [h for h in venue.balances() if h.asset == self.quote]
        if held:
            return location(name, max(held, key=lambda h: h.quantity).chain)
        markets = list(venue.markets().values())
        return location(name, markets[0].chain if markets else "-")


def _relocated_order(order: Order, name: str) -> Order:
    return Order(client_order_id=order.client_order_id, asset=order.asset, side=order.side,
                 chain=location(name, order.chain), quantity=order.quantity, price=order.price,
                 mid_price=order.mid_price, value=order.value, fee=order.fee, status=order.status, at=order.at)


def _relocated_transfer(t: Transfer, name: str, to: str) -> Transfer:
    return Transfer(client_id=t.client_id, asset=t.asset, amount=t.amount, fee=t.fee,
                    from_chain=location(name, t.from_chain), to_chain=to if venue_of(to) == name and to.endswith(
                        SEPARATOR + t.to_chain) else location(name, t.to_chain),
                    status=t.status, started_at=t.started_at, arrives_at=t.arrives_at)

"""The router: where each leg of a consolidated plan trades, across several venues (pure).

The planner decides *what* to sell and buy on the consolidated weights; the router decides *where*:

1. Sells trade where the asset sits, never moving the asset between venues: first on venues whose
   proceeds can fund the plan's buys (they trade a bought asset, or can move quote to one that does),
   then the cheapest taker fee, then the largest holding.
2. Buys are netted inside each venue first: a buy goes to a venue that can trade it and holds the
   quote for it (the venue already holding the asset first, then the cheapest fee), buys with the
   fewest venues to choose from first.
3. Only what no venue can fund on its own is moved: quote goes from a venue with a surplus to a venue
   that can trade the asset, the cheapest first (the move's fee, ``TIME_COST_PER_MINUTE`` per minute on
   the way, and the receiving venue's taker fee); a pair of venues between which ``move_cost`` says no
   move can be made is never used.
4. What remains unfunded is a ``Shortfall``: the buy is made smaller, and the shortfall names the
   move that would have been needed (the caller says why it cannot be made).

Amounts are the quote's units. Nothing here reads a venue or a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

#: What an hour on the way is worth, as a fraction of the amount moved (ranks moves by time too).
TIME_COST_PER_MINUTE = 0.000005
#: A move of less quote than this is not worth sending.
MIN_MOVE = 1.0


@dataclass(frozen=True, kw_only=True)
class MoveCost:
    """What moving an asset between two locations costs: ``fee_rate`` x amount + ``fixed_fee`` (in
    the asset) kept on the way, and about ``minutes`` until it arrives."""

    fee_rate: float = 0.0
    fixed_fee: float = 0.0
    minutes: float = 0.0

    def fee(self, amount: float) -> float:
        return amount * self.fee_rate + self.fixed_fee if amount > 0 else 0.0

    def sent_for(self, arriving: float) -> float:
        """How much to send so that ``arriving`` arrives."""
        return (arriving + self.fixed_fee) / (1 - self.fee_rate)

    def arriving(self, sent: float) -> float:
        return max(sent - self.fee(sent), 0.0)

    def rank(self, amount: float) -> float:
        """The cost used to choose between moves: the fee plus the time on the way."""
        return self.fee(amount) + amount * self.minutes * TIME_COST_PER_MINUTE


@dataclass(frozen=True, kw_only=True)
class VenueLeg:
    """A plan leg on one venue: ``quantity`` of ``asset`` (a sell) or ``value`` + ``fee`` of quote
    spent (a buy), at the plan's ``price``."""

    venue: str
    asset: str
    side: str
    quantity: float
    price: float
    value: float
    fee: float


@dataclass(frozen=True, kw_only=True)
class QuoteMove:
    """``amount`` of the quote sent from one venue to another; ``fee`` of it is kept on the way."""

    from_venue: str
    to_venue: str
    amount: float
    fee: float
    minutes: float

    @property
    def received(self) -> float:
        return self.amount - self.fee


@dataclass(frozen=True, kw_only=True)
class Shortfall:
    """``amount`` of quote that a buy of ``asset`` on ``venue`` lacks and no possible move can bring;
    ``source`` is the venue holding spare quote (None when no venue has any)."""

    venue: str
    asset: str
    amount: float
    source: str | None


@dataclass(frozen=True, kw_only=True)
class Routing:
    legs: tuple[VenueLeg, ...]
    moves: tuple[QuoteMove, ...]
    shortfalls: tuple[Shortfall, ...]

    @property
    def move_fees(self) -> float:
        return math.fsum(m.fee for m in self.moves)

    def quote_after(self, quote_before: Mapping[str, float]) -> dict[str, float]:
        """Each venue's quote once every leg and move is done (sells credit value - fee, buys spend
        value + fee, moves carry ``received``)."""
        after = dict(quote_before)
        for leg in self.legs:
            change = leg.value - leg.fee if leg.side == "sell" else -(leg.value + leg.fee)
            after[leg.venue] = after.get(leg.venue, 0.0) + change
        for move in self.moves:
            after[move.from_venue] = after.get(move.from_venue, 0.0) - move.amount
            after[move.to_venue] = after.get(move.to_venue, 0.0) + move.received
        return after


class PlanLeg:  # the shape the router reads from a core ``Leg`` (side, asset, quantity, price, value, fee)
    side: object
    asset: str
    quantity: float
    price: float
    value: float
    fee: float


def route(
    legs: Sequence[PlanLeg], held: Mapping[str, Mapping[str, float]], quote: str,
    fees: Mapping[str, Mapping[str, float]], move_cost: Callable[[str, str], MoveCost | None], *,
    min_move: float = MIN_MOVE,
) -> Routing:
    """Split each consolidated leg over venues (see the module docstring).

    ``held``: ``{venue: {asset: quantity}}`` (quote included); ``fees``: ``{asset: {venue: taker fee}}``
    for every (asset, venue) market; ``move_cost(from_venue, to_venue)``: moving the quote, or None.
    """
    venues = list(held)
    out: list[VenueLeg] = []
    available = {v: max(held[v].get(quote, 0.0), 0.0) for v in venues}
    buyers = {v for x in legs if str(x.side) == "buy" for v in fees.get(x.asset, {})}

    def stranded(v: str) -> bool:  # proceeds there could fund no buy: not a buy venue, and no move out to one
        return bool(buyers) and v not in buyers and all(move_cost(v, d) is None for d in buyers if d != v)

    for leg in (x for x in legs if str(x.side) == "sell"):
        places = [v for v in venues if v in fees.get(leg.asset, {}) and held[v].get(leg.asset, 0.0) > 0]
        places.sort(key=lambda v: (stranded(v), fees[leg.asset][v], -held[v].get(leg.asset, 0.0), v))
        remaining = leg.quantity
        for v in places:
            if remaining <= leg.quantity * 1e-12:
                break
            quantity = min(remaining, held[v][leg.asset])
            share = quantity / leg.quantity
            out.append(VenueLeg(venue=v, asset=leg.asset, side="sell", quantity=quantity, price=leg.price,
                                value=leg.value * share, fee=leg.fee * share))
            available[v] += leg.value * share - leg.fee * share
            remaining -= quantity
    buys = [x for x in legs if str(x.side) == "buy"]
    buys.sort(key=lambda x: (len(fees.get(x.asset, {})), -(x.value + x.fee), x.asset))

    def preference(asset: str) -> list[str]:
        candidates = [v for v in venues if v in fees.get(asset, {})]
        return sorted(candidates, key=lambda v: (-held[v].get(asset, 0.0), fees[asset][v], v))

    funded: dict[tuple[str, str], float] = {}
    short: dict[str, float] = {}
    for leg in buys:  # 1. net inside each venue
        remaining = leg.value + leg.fee
        for v in preference(leg.asset):
            take = min(remaining, available[v])
            if take > 0:
                funded[(leg.asset, v)] = funded.get((leg.asset, v), 0.0) + take
                available[v] -= take
                remaining -= take
        short[leg.asset] = remaining
    moves: list[QuoteMove] = []
    shortfalls: list[Shortfall] = []
    for leg in buys:  # 2. move quote only for what no venue could fund on its own
        remaining = short[leg.asset]
        while remaining >= min_move:
            options = []
            for d in preference(leg.asset):
                for s in venues:
                    cost = move_cost(s, d) if s != d else None
                    if cost is None or available[s] <= 0:
                        continue
                    arriving = min(remaining, cost.arriving(available[s]))
                    if arriving >= min_move:  # per unit bought there: the move's fee and time, and d's taker fee
                        rank = cost.rank(cost.sent_for(arriving)) / arriving + fees[leg.asset][d]
                        options.append((rank, s, d, cost, arriving))
            if not options:
                break
            _, s, d, cost, arriving = min(options, key=lambda o: (o[0], o[1], o[2]))
            sent = min(cost.sent_for(arriving), available[s])
            arriving = cost.arriving(sent)
            moves.append(QuoteMove(from_venue=s, to_venue=d, amount=sent, fee=sent - arriving, minutes=cost.minutes))
            available[s] -= sent
            funded[(leg.asset, d)] = funded.get((leg.asset, d), 0.0) + arriving
            remaining -= arriving
        if remaining >= min_move:
            target = next(iter(preference(leg.asset)), "")
            spare = max((v for v in venues if v != target and available[v] >= min_move), key=lambda v: available[v],
                        default=None)
            shortfalls.append(Shortfall(venue=target, asset=leg.asset, amount=remaining, source=spare))
    for leg in buys:
        total = leg.value + leg.fee
        for v in preference(leg.asset):
            spend = funded.get((leg.asset, v), 0.0)
            if spend > 0 and total > 0:
                share = spend / total
                out.append(VenueLeg(venue=v, asset=leg.asset, side="buy", quantity=leg.quantity * share,
                                    price=leg.price, value=leg.value * share, fee=leg.fee * share))
    return Routing(legs=tuple(out), moves=_merged(moves), shortfalls=tuple(shortfalls))


def _merged(moves: list[QuoteMove]) -> tuple[QuoteMove, ...]:
    """One move per pair of venues (several buys may draw on the same pair)."""
    merged: dict[tuple[str, str], QuoteMove] = {}
    for m in moves:
        key = (m.from_venue, m.to_venue)
        if key in merged:
            old = merged[key]
            m = QuoteMove(from_venue=m.from_venue, to_venue=m.to_venue, amount=old.amount + m.amount,
                          fee=old.fee + m.fee, minutes=m.minutes)
        merged[key] = m
    return tuple(merged.values())


def quote_moves(
    need: Mapping[str, float], available: Mapping[str, float],
    move_cost: Callable[[str, str], MoveCost | None], *, min_move: float = MIN_MOVE,
) -> list[QuoteMove]:
    """The moves that bring each venue the quote it ``need``s from venues holding more than they
    need, cheapest first; a venue that can fund itself gets nothing (used by the executor when the
    moves are sized from the balances the sells left)."""
    spare = {v: available.get(v, 0.0) - need.get(v, 0.0) for v in available}
    moves: list[QuoteMove] = []
    for d in sorted(need):
        remaining = need[d] - available.get(d, 0.0)
        while remaining >= min_move:
            options = [(cost.rank(cost.sent_for(remaining)), s, cost) for s in sorted(spare)
                       if s != d and spare[s] >= min_move and (cost := move_cost(s, d)) is not None]
            if not options:
                break
            _, s, cost = min(options, key=lambda o: (o[0], o[1]))
            sent = min(cost.sent_for(remaining), spare[s])
            arriving = cost.arriving(sent)
            if arriving < min_move:
                break
            moves.append(QuoteMove(from_venue=s, to_venue=d, amount=sent, fee=sent - arriving, minutes=cost.minutes))
            spare[s] -= sent
            remaining -= arriving
    return moves

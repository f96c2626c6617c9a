"""A plan across venues: reachable targets, routing, and each stage's legs on a composite venue.

The composite venue (``venues/composite.py``) names every place ``venue:chain``. Here:

* ``reachable_targets``: when some venues can move no quote to each other (islands), the targets
  each island's own capital can reach, and one sentence naming the move that would be needed.
* ``route_legs``: the core router (``core/router.py``) fed from the composite's balances, markets
  and ``can_move``: which venue each leg trades on and which quote moves are planned.
* ``size_stage``: a run's stage on the composite, from the balances at that moment: per venue, the
  single-venue sizing of ``engine/routing.py`` (gathering bridges, sells, bridges of the quote,
  buys), plus the quote moves between venues in the bridging stage (sell -> confirm -> move ->
  confirm arrival -> buy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from trimtab.core.assets import Targets
from trimtab.core.plan import Leg, Side
from trimtab.core.router import MoveCost, Routing, quote_moves, route
from trimtab.engine import routing
from trimtab.engine.routing import LegSpec
from trimtab.venues.base import Holding, Market
from trimtab.venues.composite import CompositeVenue, location, venue_of


def is_composite(venue: object) -> bool:
    return hasattr(venue, "market_options") and hasattr(venue, "can_move")


def held_by_venue(balances: Sequence[Holding]) -> dict[str, dict[str, float]]:
    """``{venue: {asset: quantity}}`` from the composite's holdings (chains summed)."""
    held: dict[str, dict[str, float]] = {}
    for h in balances:
        place = held.setdefault(venue_of(h.chain), {})
        place[h.asset] = place.get(h.asset, 0.0) + h.quantity
    return held


def three_levels(balances: Sequence[Holding], prices: Mapping[str, float], quote: str,
                 total: float) -> dict[str, dict[str, Any]]:
    """The consolidated view's three levels: ``{asset: {quantity, value, weight, venues: {venue:
    {quantity, value, weight, chains: {chain: {quantity, value}}}}}}`` (weights of the whole
    portfolio's ``total``, what travels included)."""
    levels: dict[str, dict[str, Any]] = {}
    for h in balances:
        name, _, chain = h.chain.partition(":")
        price = 1.0 if h.asset == quote else prices.get(h.asset, 0.0)
        asset = levels.setdefault(h.asset, {"quantity": 0.0, "value": 0.0, "weight": 0.0, "venues": {}})
        place = asset["venues"].setdefault(name, {"quantity": 0.0, "value": 0.0, "weight": 0.0, "chains": {}})
        place["chains"][chain] = {"quantity": h.quantity, "value": h.quantity * price}
        for level in (asset, place):
            level["quantity"] += h.quantity
            level["value"] += h.quantity * price
            level["weight"] = level["value"] / total if total > 0 else 0.0
    return levels


def move_cost_between(venue: CompositeVenue, quote: str, balances: Sequence[Holding]):  # type: ignore[no-untyped-def]
    """``cost(from_venue, to_venue)``: moving the quote from where it sits on one venue to where the
    other receives it (its quote's largest chain, else its first market's chain), cached."""
    places: dict[str, str] = {}
    for name in venue.names:
        held = [h for h in balances if h.asset == quote and venue_of(h.chain) == name]
        if held:
            places[name] = max(held, key=lambda h: h.quantity).chain
        else:
            chains = [m.chain for by_venue in venue.market_options().values() for v, m in by_venue.items() if v == name]
            places[name] = chains[0] if chains else location(name, "-")
    cache: dict[tuple[str, str], MoveCost | None] = {}

    def cost(source: str, target: str) -> MoveCost | None:
        if (source, target) not in cache:
            cache[(source, target)] = venue.can_move(quote, places[source], places[target])
        return cache[(source, target)]

    cost.places = places  # type: ignore[attr-defined]
    return cost


def islands(names: Sequence[str], cost) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Groups of venues between which quote can move (either way); each venue in exactly one."""
    groups: list[list[str]] = []
    for name in names:
        linked = [g for g in groups if any(cost(name, o) is not None or cost(o, name) is not None for o in g)]
        merged = [name] + [v for g in linked for v in g]
        groups = [g for g in groups if g not in linked] + [merged]
    return groups


def reachable_targets(
    targets: Targets, held: Mapping[str, Mapping[str, float]], prices: Mapping[str, float],
    tradeable: Mapping[str, Sequence[str]], groups: Sequence[Sequence[str]],
) -> tuple[Targets, dict[str, Any] | None]:
    """The targets each island's own capital can reach (pure): assets traded in one island are
    funded from it alone (scaled down together when it is too small), assets traded in several fill
    the room left, the quote takes what remains. Returns the targets and, when they differ from
    ``targets``, ``{"amount", "from", "to"}``: the value that would have to move between islands."""
    if len(groups) <= 1:
        return targets, None
    quote = targets.quote
    value = {v: {a: q * (1.0 if a == quote else prices.get(a, 0.0)) for a, q in held[v].items()} for v in held}
    total = math.fsum(x for v in value.values() for x in v.values())
    if total <= 0:
        return targets, None
    island_of = {v: i for i, g in enumerate(groups) for v in g}
    room = [math.fsum(value[v].get(a, 0.0) for v in g for a in value[v]
                      if a == quote or a in tradeable) for g in groups]
    alloc: dict[str, float] = {}
    for a in value[next(iter(value))].keys() | {a for v in value.values() for a in v}:
        if a != quote and a not in tradeable:  # held where nothing trades it: it stays
            alloc[a] = math.fsum(value[v].get(a, 0.0) for v in value)
    desired = {a: targets.weights.get(a, 0.0) * total for a in targets.assets if a != quote and a in tradeable}
    homes = {a: sorted({island_of[v] for v in tradeable[a] if v in island_of}) for a in desired}
    for i in range(len(groups)):
        single = [a for a in desired if homes[a] == [i]]
        want = math.fsum(desired[a] for a in single)
        scale = 1.0 if want <= room[i] else room[i] / want
        for a in single:
            alloc[a] = desired[a] * scale
        room[i] -= want * scale
    for a in sorted((a for a in desired if len(homes[a]) > 1), key=lambda a: -desired[a]):
        need = desired[a]
        order = sorted(homes[a], key=lambda i: -math.fsum(value[v].get(a, 0.0) for v in groups[i]))
        for i in order:
            take = min(need, room[i])
            alloc[a] = alloc.get(a, 0.0) + take
            room[i] -= take
            need -= take
    short = {a: desired[a] - alloc.get(a, 0.0) for a in desired}
    missing = math.fsum(x for x in short.values() if x > 0)
    if missing < max(1.0, total * 1e-6):
        return targets, None
    weights = {a: x / total for a, x in alloc.items() if a in targets.weights or x > 0}
    weights[quote] = max(0.0, 1.0 - math.fsum(w for a, w in weights.items() if a != quote))
    weights = {a: w for a, w in weights.items() if a in targets.weights}
    weights[quote] = 1.0 - math.fsum(w for a, w in weights.items() if a != quote)
    worst = max(short, key=lambda a: short[a])
    to_island = homes[worst][0] if homes[worst] else 0
    from_island = max((i for i in range(len(groups)) if i != to_island), key=lambda i: room[i])
    return Targets.of(weights, quote), {"amount": missing, "asset": worst, "from": list(groups[from_island]),
                                        "to": list(groups[to_island])}


def unreachable_sentence(venue: CompositeVenue, quote: str, gap: Mapping[str, Any], places: Mapping[str, str]) -> str:
    """One sentence: which move would be needed to reach the targets and why it cannot be made."""
    source, target = gap["from"][0], gap["to"][0]
    why = (venue.move_refusal(quote, places[source], places[target]) or "no move between them is possible").rstrip(".")
    return (f"Reaching the targets needs about {gap['amount']:,.2f} {quote} moved from {', '.join(gap['from'])} to "
            f"{', '.join(gap['to'])} (for {gap['asset']}), which cannot be made through these venues: {why}; each "
            "venue was rebalanced within its own capital instead.")


def route_legs(venue: CompositeVenue, legs: Sequence[Leg], quote: str,
               balances: Sequence[Holding] | None = None) -> Routing:
    """Where each leg of a consolidated plan trades and which quote moves it needs (``core/router.py``)."""
    balances = tuple(balances if balances is not None else venue.balances())
    held = {name: {} for name in venue.names} | held_by_venue(balances)
    fees = {asset: {v: (m.rules.taker_fee if m.rules.taker_fee is not None else 0.001) for v, m in by_venue.items()}
            for asset, by_venue in venue.market_options().items()}
    return route(legs, held, quote, fees, move_cost_between(venue, quote, balances))


def routing_document(result: Routing) -> dict[str, Any]:
    """The routing as the run's plan document keeps it (and ``plan --json`` shows it)."""
    return {
        "legs": [{"venue": x.venue, "side": x.side, "asset": x.asset, "quantity": x.quantity, "price": x.price,
                  "value": x.value, "fee": x.fee} for x in result.legs],
        "moves": [{"from": m.from_venue, "to": m.to_venue, "amount": m.amount, "fee": m.fee, "minutes": m.minutes}
                  for m in result.moves],
        "shortfalls": [{"venue": s.venue, "asset": s.asset, "amount": s.amount, "source": s.source}
                       for s in result.shortfalls],
    }


def turnover_by_venue(document: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for leg in document.get("legs", []):
        out[leg["venue"]] = out.get(leg["venue"], 0.0) + leg["value"]
    return out


def _legs(document: Mapping[str, Any], name: str, side: Side) -> list[Leg]:
    return [Leg(side=side, asset=x["asset"], quantity=x["quantity"], price=x["price"], value=x["value"], fee=x["fee"])
            for x in document.get("legs", []) if x["venue"] == name and x["side"] == str(side)]


def _on(name: str, balances: Sequence[Holding], options: Mapping[str, Mapping[str, Market]]):  # type: ignore[no-untyped-def]
    holdings: dict[str, dict[str, float]] = {}
    for h in balances:
        if venue_of(h.chain) == name:
            holdings.setdefault(h.asset, {})[h.chain] = h.quantity
    markets = {asset: by_venue[name] for asset, by_venue in options.items() if name in by_venue}
    return holdings, markets


def size_stage(stage: str, venue: CompositeVenue, document: Mapping[str, Any], *, quote: str,
               real_proceeds: float) -> tuple[list[LegSpec], list[str]]:
    """The legs of ``stage`` for a run across venues, from the composite's balances now."""
    balances = venue.balances()
    options = venue.market_options()
    specs: list[LegSpec] = []
    notes: list[str] = []
    planned_pool = document["quote_before"] + document["planned_proceeds"]
    scale = 1.0 if planned_pool <= 0 else min(1.0, (document["quote_before"] + real_proceeds) / planned_pool)
    routed = document["venues"]
    budgets_by_venue = {name: {leg.asset: (leg.value + leg.fee) * scale for leg in _legs(routed, name, Side.BUY)}
                        for name in venue.names}
    if stage == "bridging":
        need = {n: math.fsum(b.values()) for n, b in budgets_by_venue.items() if b}
        quote_at: dict[str, dict[str, float]] = {n: {} for n in venue.names}
        for h in balances:
            if h.asset == quote:
                quote_at[venue_of(h.chain)][h.chain] = h.quantity
        available = {n: math.fsum(c.values()) for n, c in quote_at.items()}
        cost = move_cost_between(venue, quote, balances)
        for move in quote_moves(need, available, cost):
            buys_on = budgets_by_venue[move.to_venue]
            target = options[max(buys_on, key=lambda a: buys_on[a])][move.to_venue].chain
            left = move.amount
            for source in sorted(quote_at[move.from_venue], key=lambda c: -quote_at[move.from_venue][c]):
                amount = float(routing.QUOTE_RULES.round_quantity(min(left, quote_at[move.from_venue][source]),
                                                                  strict=True))
                if amount < routing.MIN_TRANSFER_VALUE:
                    continue
                specs.append(LegSpec(kind="transfer", asset=quote, chain=source, to_chain=target, quantity=amount,
                                     price=1.0))
                quote_at[move.from_venue][source] -= amount
                arriving = move.received * amount / move.amount
                quote_at[move.to_venue][target] = quote_at[move.to_venue].get(target, 0.0) + arriving
                left -= amount
        for name in venue.names:
            _, markets = _on(name, balances, options)
            if budgets_by_venue[name]:
                specs += routing.quote_transfers(budgets_by_venue[name], quote_at[name], markets, quote)
        return specs, notes
    for name in venue.names:
        holdings, markets = _on(name, balances, options)
        if stage == "gathering":
            specs += routing.gathering_transfers(_legs(routed, name, Side.SELL), holdings, markets)
        elif stage == "selling":
            orders, skipped = routing.sell_orders(_legs(routed, name, Side.SELL), holdings, markets)
            specs += orders
            notes += [f"{name}: {s}" for s in skipped]
        elif stage == "buying":
            orders, skipped = routing.buy_orders(_legs(routed, name, Side.BUY), budgets_by_venue[name],
                                                 holdings.get(quote, {}), markets)
            specs += orders
            notes += [f"{name}: {s}" for s in skipped]
    return specs, notes

"""Routing: turn the core's plan into the legs of each stage, chain by chain, from the venue's truth.

Pure functions: balances, markets and what already happened go in; leg specs come out. Each stage
is sized once, when the run enters it, from the balances at that moment, and journaled in the
same transaction, so a resumed run sizes nothing twice.

* gathering: a sell needs its asset on its market's chain; what is missing there is bridged
  from the other chains holding it (largest first).
* selling: each planned sell, capped at what really sits on the market's chain, rounded down.
* bridging: each buy's budget is its planned cost scaled by what the sells really fetched
  (never more than planned); the quote is moved from chains with a surplus to buy chains short of it.
* buying: each buy spends its budget, capped by the quote that really arrived on its chain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trimtab.core.plan import Leg, Side
from trimtab.core.rules import MarketRules
from trimtab.venues.base import Market

#: Transfers are sent with at most 8 decimals; quote amounts with 6 (USDC's precision).
TRANSFER_RULES = MarketRules(amount_precision=8)
QUOTE_RULES = MarketRules(amount_precision=6)
#: A bridge worth less than this (in the asset's units x price, or quote units) is not worth sending.
MIN_TRANSFER_VALUE = 1.0


@dataclass(frozen=True, kw_only=True)
class LegSpec:
    """A leg before it has an index: an order (``side``, ``chain`` = market chain) or a transfer."""

    kind: str
    asset: str
    chain: str
    side: str | None = None
    to_chain: str | None = None
    quantity: float | None = None
    quote_amount: float | None = None
    price: float | None = None


def gathering_transfers(
    sells: Sequence[Leg], holdings: Mapping[str, Mapping[str, float]], markets: Mapping[str, Market]
) -> list[LegSpec]:
    """Bridges that bring each sold asset onto its market's chain (see the module docstring)."""
    specs = []
    for leg in sells:
        market_chain = markets[leg.asset].chain
        chains = holdings.get(leg.asset, {})
        missing = leg.quantity - chains.get(market_chain, 0.0)
        for chain, held in sorted(chains.items(), key=lambda kv: -kv[1]):
            if missing <= 0 or chain == market_chain:
                continue
            amount = float(TRANSFER_RULES.round_quantity(min(missing, held), strict=True))
            if amount * leg.price >= MIN_TRANSFER_VALUE:
                specs.append(LegSpec(kind="transfer", asset=leg.asset, chain=chain, to_chain=market_chain,
                                     quantity=amount, price=leg.price))
                missing -= amount
    return specs


def sell_orders(
    sells: Sequence[Leg], holdings: Mapping[str, Mapping[str, float]], markets: Mapping[str, Market]
) -> tuple[list[LegSpec], list[str]]:
    """Each planned sell capped at the holding on its market's chain; ``(orders, skipped reasons)``."""
    specs, skipped = [], []
    for leg in sells:
        market = markets[leg.asset]
        held = holdings.get(leg.asset, {}).get(market.chain, 0.0)
        quantity = float(market.rules.round_quantity(min(leg.quantity, held), strict=held < leg.quantity))
        refusal = market.rules.refusal(quantity, leg.price)
        if refusal:
            skipped.append(f"sell {leg.asset}: {refusal[0]}: {refusal[1]} (held on {market.chain}: {held:g})")
            continue
        specs.append(LegSpec(kind="order", side=str(Side.SELL), asset=leg.asset, chain=market.chain,
                             quantity=quantity, price=leg.price))
    return specs, skipped


def buy_budgets(
    buys: Sequence[Leg], *, quote_before: float, planned_proceeds: float, real_proceeds: float
) -> dict[str, float]:
    """Each buy's spend (fee included): its planned cost, scaled down when the sells fetched less.

    Example: quote 1,000 before, sells planned to fetch 1,500 but fetched 1,250: every buy gets
    2,250 / 2,500 = 90% of its planned cost. Fetching more never raises a budget.
    """
    planned_pool = quote_before + planned_proceeds
    scale = 1.0 if planned_pool <= 0 else min(1.0, (quote_before + real_proceeds) / planned_pool)
    return {leg.asset: (leg.value + leg.fee) * scale for leg in buys}


def quote_transfers(
    budgets: Mapping[str, float], quote_by_chain: Mapping[str, float], markets: Mapping[str, Market], quote: str
) -> list[LegSpec]:
    """Bridges of the quote from chains with a surplus to the chains whose buys are short of it."""
    need: dict[str, float] = {}
    for asset, budget in budgets.items():
        need[markets[asset].chain] = need.get(markets[asset].chain, 0.0) + budget
    surplus = {c: held - need.get(c, 0.0) for c, held in quote_by_chain.items() if held - need.get(c, 0.0) > 0}
    specs = []
    for chain in sorted(need):
        short = need[chain] - quote_by_chain.get(chain, 0.0)
        for source in sorted(surplus, key=lambda c: -surplus[c]):
            if short < MIN_TRANSFER_VALUE:
                break
            amount = float(QUOTE_RULES.round_quantity(min(short, surplus[source]), strict=True))
            if amount < MIN_TRANSFER_VALUE:
                continue
            specs.append(LegSpec(kind="transfer", asset=quote, chain=source, to_chain=chain, quantity=amount, price=1.0))
            surplus[source] -= amount
            short -= amount
    return specs


def buy_orders(
    buys: Sequence[Leg], budgets: Mapping[str, float], quote_by_chain: Mapping[str, float],
    markets: Mapping[str, Market],
) -> tuple[list[LegSpec], list[str]]:
    """Each buy as a quote amount: its budget, scaled down together with the other buys on its
    chain when less quote arrived there; ``(orders, skipped reasons)``."""
    on_chain: dict[str, float] = {}
    for leg in buys:
        on_chain[markets[leg.asset].chain] = on_chain.get(markets[leg.asset].chain, 0.0) + budgets[leg.asset]
    specs, skipped = [], []
    for leg in buys:
        market = markets[leg.asset]
        available = quote_by_chain.get(market.chain, 0.0)
        wanted = on_chain[market.chain]
        scale = 1.0 if wanted <= available else available * (1 - 1e-9) / wanted
        amount = float(QUOTE_RULES.round_quantity(budgets[leg.asset] * scale, strict=True))
        fee = market.rules.taker_fee or 0.0
        if amount <= 0 or amount / (1 + fee) < market.rules.min_notional * 1.01:
            skipped.append(f"buy {leg.asset}: {amount:.2f} available on {market.chain} is below the market minimum")
            continue
        specs.append(LegSpec(kind="order", side=str(Side.BUY), asset=leg.asset, chain=market.chain,
                             quote_amount=amount, price=leg.price))
    return specs, skipped


def pair_orders(pairs: Sequence[Mapping[str, object]], markets: Mapping[str, Market]) -> list[LegSpec]:
    """The direct-pair orders of a run (``core.pairs``), on the chain of the asset they sell."""
    specs = []
    for pair in pairs:
        base, pair_quote = str(pair["market"]).split("/")
        sold = base if pair["side"] == str(Side.SELL) else pair_quote
        specs.append(LegSpec(kind="pair", side=str(pair["side"]), asset=str(pair["market"]), chain=markets[sold].chain,
                             quantity=float(pair["quantity"]), price=float(pair["price"])))  # type: ignore[arg-type]
    return specs


def real_proceeds(fills: Sequence[Mapping[str, float | str]]) -> float:
    """What the sells really credited in the quote: value - fee over sell fills (a pair's sell, on
    ``ETH/BTC``, credits BTC, not the quote, and is left out)."""
    return math.fsum(float(f["value"]) - float(f["fee"]) for f in fills
                     if f["side"] == str(Side.SELL) and "/" not in str(f["asset"]))


def planned_bridges(
    legs: Sequence[Leg], holdings: Mapping[str, Mapping[str, float]], markets: Mapping[str, Market], quote: str
) -> list[tuple[str, LegSpec]]:
    """The bridges a plan would need if run now, as ``(stage, spec)``: the gathering bridges from
    today's balances, then the quote bridges assuming the sells fetch what was planned. A preview
    for a dry run: the run itself sizes each stage again from the balances it finds."""
    legs = [leg for leg in legs if leg.asset in markets]  # no market here: the run refuses it, nothing to bridge
    sells = [leg for leg in legs if leg.side is Side.SELL]
    buys = [leg for leg in legs if leg.side is Side.BUY]
    bridges = [("gathering", spec) for spec in gathering_transfers(sells, holdings, markets)]
    quote_by_chain = dict(holdings.get(quote, {}))
    for leg in sells:
        chain = markets[leg.asset].chain
        quote_by_chain[chain] = quote_by_chain.get(chain, 0.0) + leg.quote_change
    budgets = {leg.asset: leg.value + leg.fee for leg in buys}
    bridges += [("bridging", spec) for spec in quote_transfers(budgets, quote_by_chain, markets, quote)]
    return bridges

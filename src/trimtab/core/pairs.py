"""Direct pairs: a sell of one asset and a buy of another through their own market (ETH/BTC)
instead of two legs through the quote, when that costs less.

Pure: a plan and the pair markets go in, a routed plan and its saving come out. Two legs through
the quote pay the sell's fee and the buy's fee on the matched value; one pair trade pays the pair's
fee once. Selling 1,000 USDC of ETH for BTC at 0.1 % per leg costs 2.00 through the quote and 1.00
through ETH/BTC at 0.1 %: a saving of 1.00.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from trimtab.core.plan import Leg, Plan, Side


@dataclass(frozen=True, kw_only=True)
class PairMarket:
    """A market between two portfolio assets, ``base``/``quote`` (ETH/BTC), its taker fee, and its
    minimum trade expressed in the portfolio's quote asset."""

    base: str
    quote: str
    fee: float
    min_value: float = 0.0

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"


@dataclass(frozen=True, kw_only=True)
class PairTrade:
    """Sell ``value`` (in the portfolio's quote) of ``sell`` for ``buy`` on ``market``; ``fee`` is what
    it pays, ``saving`` what it saves against two legs through the quote."""

    sell: str
    buy: str
    market: str
    value: float
    fee: float
    saving: float

    @property
    def side_on_market(self) -> Side:
        """Selling the base of the market (ETH on ETH/BTC) or buying it."""
        return Side.SELL if self.market.startswith(self.sell + "/") else Side.BUY


@dataclass(frozen=True, kw_only=True)
class PairRouting:
    """The legs left to go through the quote (``plan``), the pair trades, and the total saving."""

    plan: Plan
    trades: tuple[PairTrade, ...]

    @property
    def saving(self) -> float:
        return math.fsum(t.saving for t in self.trades)


def route_through_pairs(plan: Plan, pairs: Iterable[PairMarket], *, min_trade: float = 0.0) -> PairRouting:
    """Route what the plan sells of one asset and buys of another through their pair where cheaper.

    For each pair (cheapest first) with a planned sell of one side and a planned buy of the other,
    the matched value ``v = min(sell value, buy value)`` moves to a pair trade when its fee is
    below the two legs' fees on ``v`` and ``v`` meets the pair's minimum. What remains of each leg
    stays a leg unless it falls under ``min_trade`` (it is then traded in the pair as well, up to
    the whole leg, when the other side covers it). Returns the plan unchanged when nothing saves.
    """
    legs = {(leg.side, leg.asset): leg for leg in plan.legs}
    trades: list[PairTrade] = []
    for pair in sorted(pairs, key=lambda p: p.fee):
        for sell, buy in ((pair.base, pair.quote), (pair.quote, pair.base)):
            out, into = legs.get((Side.SELL, sell)), legs.get((Side.BUY, buy))
            if out is None or into is None:
                continue
            value = min(out.value, into.value)
            rate_out, rate_in = out.fee / out.value, into.fee / into.value
            saving = value * (rate_out + rate_in - pair.fee)
            if saving <= 0 or value < max(pair.min_value, min_trade):
                continue
            trades.append(PairTrade(sell=sell, buy=buy, market=pair.symbol, value=value, fee=value * pair.fee,
                                    saving=saving))
            for key, leg, rate in (((Side.SELL, sell), out, rate_out), ((Side.BUY, buy), into, rate_in)):
                left = leg.value - value
                if left < max(min_trade, 1e-9):
                    del legs[key]
                else:
                    legs[key] = replace(leg, value=left, quantity=left / leg.price, fee=left * rate)
    if not trades:
        return PairRouting(plan=plan, trades=())
    kept = tuple(leg for leg in plan.legs if (leg.side, leg.asset) in legs)
    routed = replace(plan, legs=tuple(legs[(leg.side, leg.asset)] for leg in kept))
    return PairRouting(plan=routed, trades=tuple(trades))


def leg_costs(legs: Iterable[Leg]) -> float:
    """The fees of ``legs`` (to compare a routed plan with the original)."""
    return math.fsum(leg.fee for leg in legs)

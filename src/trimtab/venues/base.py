"""The venue protocol: the one small contract every place where assets live speaks.

A venue holds balances on chains, quotes prices with their timestamps, states its market rules,
fills orders that carry *our* client order id, and moves assets between chains (bridges) under
*our* client id. Every write can be found again by that id, which is what makes execution
crash-safe: the executor records a leg, sends it, and after a crash asks the venue by id.

| method                                              | returns                      | required |
| --------------------------------------------------- | ---------------------------- | -------- |
| ``now()``                                           | the venue's clock (UTC)      | required |
| ``balances()``                                      | ``tuple[Holding, ...]``      | required |
| ``prices(assets)``                                  | ``{asset: Quote}``           | required |
| ``markets()``                                       | ``{asset: Market}``          | required |
| ``place_order(asset, side, quantity=, quote_amount=, client_order_id=)`` | ``Order`` | required |
| ``get_order(client_order_id)``                      | ``Order``                    | required |
| ``transfer(asset, amount, from_chain, to_chain, client_id)`` | ``Transfer``        | required |
| ``transfer_status(client_id)``                      | ``Transfer``                 | required |
| ``in_transit()``                                    | ``tuple[InTransit, ...]``    | optional |
| ``close()``                                         | ``None``                     | optional |

``in_transit()`` reports value that has left one balance and not reached another (bridges,
transfers, swaps on their way), as the venue itself knows it: ``InTransit(asset, quantity (what
will arrive), from_chain, to_chain, since, client_id)``. Read it right after ``balances()``: what
it lists is in no balance yet. A venue without it is covered by the journal: the transfers of an
unfinished run still in transit, each confirmed with ``transfer_status`` (``engine/agent.py``).

Errors (from ``trimtab.errors``), with the venue's own words in ``venue_message``:
``InsufficientFunds``, ``BelowMinimum``, ``OrderRejected`` (final for that order);
``RateLimited``, ``VenueUnavailable`` (temporary, ``retryable``); ``UnknownOrder`` (no order or
transfer with that client id: it was never placed).

Idempotency: ``place_order`` and ``transfer`` with a client id the venue already knows return
the existing record and never fill or move twice.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.core.valuation import InTransit

__all__ = ["Holding", "InTransit", "Market", "Order", "OrderStatus", "Quote", "Transfer", "TransferStatus", "Venue",
           "by_chain", "consolidate"]


@dataclass(frozen=True, kw_only=True)
class Holding:
    """``quantity`` of ``asset`` held on ``chain`` (e.g. 500 USDC on base)."""

    asset: str
    chain: str
    quantity: float


@dataclass(frozen=True, kw_only=True)
class Quote:
    """A price in the quote asset and the moment the venue observed it."""

    price: float
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Market:
    """Where an asset trades against the quote: its chain and its rules."""

    asset: str
    chain: str
    rules: MarketRules


class OrderStatus(StrEnum):
    FILLED = "filled"


@dataclass(frozen=True, kw_only=True)
class Order:
    """A market order as the venue recorded it.

    ``price`` is the fill price (slippage included); ``value`` is quantity x price; ``fee`` is in
    the quote. A sell credits ``value - fee``; a buy debits ``value + fee``. ``mid_price`` is the
    price before slippage, so ``slippage = quantity x |price - mid_price|``.
    """

    client_order_id: str
    asset: str
    side: Side
    chain: str
    quantity: float
    price: float
    mid_price: float
    value: float
    fee: float
    status: OrderStatus
    at: datetime

    @property
    def slippage(self) -> float:
        return self.quantity * abs(self.price - self.mid_price)

    @property
    def quote_change(self) -> float:
        return self.value - self.fee if self.side is Side.SELL else -(self.value + self.fee)


class TransferStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """A bridge of ``amount`` from one chain to another; ``received = amount - fee`` on arrival."""

    client_id: str
    asset: str
    amount: float
    fee: float
    from_chain: str
    to_chain: str
    status: TransferStatus
    started_at: datetime
    arrives_at: datetime

    @property
    def received(self) -> float:
        return self.amount - self.fee


@runtime_checkable
class Venue(Protocol):
    """See the module docstring for the contract of each method."""

    def now(self) -> datetime: ...

    def balances(self) -> tuple[Holding, ...]: ...

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]: ...

    def markets(self) -> Mapping[str, Market]: ...

    def place_order(
        self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
        client_order_id: str,
    ) -> Order: ...

    def get_order(self, client_order_id: str) -> Order: ...

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer: ...

    def transfer_status(self, client_id: str) -> Transfer: ...


def consolidate(holdings: Iterable[Holding]) -> dict[str, float]:
    """Quantities per asset summed over chains: ``USDC 300 on base + 700 on ethereum -> 1000``."""
    totals: dict[str, list[float]] = defaultdict(list)
    for holding in holdings:
        totals[holding.asset].append(holding.quantity)
    return {asset: math.fsum(parts) for asset, parts in totals.items()}


def by_chain(holdings: Iterable[Holding]) -> dict[str, dict[str, float]]:
    """``{asset: {chain: quantity}}``."""
    result: dict[str, dict[str, float]] = defaultdict(dict)
    for holding in holdings:
        result[holding.asset][holding.chain] = holding.quantity
    return dict(result)

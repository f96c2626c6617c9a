"""The static venue: holdings and prices written in the config; it cannot trade."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class StaticVenue:
    """Fixed balances and prices, for what-if checks from a config file."""

    holdings: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holdings", MappingProxyType(dict(self.holdings)))
        object.__setattr__(self, "prices", MappingProxyType(dict(self.prices)))

    def balances(self) -> Mapping[str, float]:
        return self.holdings

    def quotes(self) -> Mapping[str, float]:
        return self.prices

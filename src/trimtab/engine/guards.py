"""Guards: the checks made before any order leaves, each refusing with ``Denied`` and a code.

| code           | refuses when                                                            |
| -------------- | ----------------------------------------------------------------------- |
| KILL_SWITCH    | the config's ``kill_switch`` is on, or the kill file exists              |
| STALE_PRICE    | a price the leg relies on is older than ``max_price_age``                |
| PRICE_MOVED    | a price moved more than ``max_price_move`` since the run was planned     |
| RUN_CAP        | the plan trades more value than ``max_run_value``                        |
| DAILY_CAP      | today's traded value plus the plan's would pass ``max_daily_value``      |
| WITHDRAW_CAP   | a withdrawal is worth more than ``max_withdrawal_value``                 |
| ADDRESS_NOT_ALLOWED | a withdrawal's address is not in ``withdraw_addresses`` (when set)  |

A withdrawal is checked (kill switch, its cap, its address) before its sell-only run starts, so a
refused one sells nothing; the run's own orders then pass the trade guards like any run's.

A portfolio across venues adds the same limits per venue (``VenueGuard``, from its ``[[venues]]``
table): a kill switch, caps on the value traded there, and the assets that may trade there; every
refusal names the venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from trimtab.core.durations import format_duration
from trimtab.errors import Denied
from trimtab.venues.base import Quote


@dataclass(frozen=True, kw_only=True)
class VenueGuard:
    """One venue's own limits; ``None`` disables a cap or the allow-list."""

    max_run_value: float | None = None
    max_daily_value: float | None = None
    kill_switch: bool = False
    allowed_assets: frozenset[str] | None = None


@dataclass(frozen=True, kw_only=True)
class Guards:
    """The limits a run must respect; ``None`` disables a cap."""

    max_price_age: timedelta = timedelta(minutes=5)
    max_price_move: float = 0.02
    max_run_value: float | None = None
    max_daily_value: float | None = None
    kill_switch: bool = False
    kill_file: Path | None = None
    max_withdrawal_value: float | None = None
    withdraw_addresses: frozenset[str] | None = None
    venues: dict[str, VenueGuard] | None = None

    def check_kill_switch(self, venue: str | None = None) -> None:
        """Raise ``Denied(KILL_SWITCH)`` when the flag is set or the kill file exists (or, with
        ``venue``, that venue's own switch is on)."""
        own = (self.venues or {}).get(venue or "")
        if own is not None and own.kill_switch:
            raise Denied("KILL_SWITCH", f"the kill switch of venue {venue} is on in the config ([[venues]] kill_switch); "
                                        "no order was sent there.")
        if self.kill_switch:
            raise Denied("KILL_SWITCH", "the kill switch is on in the config ([execution] kill_switch); no order was sent.")
        if self.kill_file is not None and self.kill_file.exists():
            raise Denied("KILL_SWITCH", f"the kill file {self.kill_file} exists; remove it to trade again. No order was sent.")

    def check_price(self, asset: str, quote: Quote, *, now: datetime, planned_price: float | None) -> None:
        """Raise ``Denied`` when ``quote`` is stale or has moved too far from ``planned_price``."""
        age = now - quote.at
        if age > self.max_price_age:
            raise Denied("STALE_PRICE", f"the {asset} price is {format_duration(_whole(age))} old; "
                                        f"max_price_age is {format_duration(self.max_price_age)}.")
        if planned_price:
            move = abs(quote.price / planned_price - 1)
            if move > self.max_price_move:
                raise Denied("PRICE_MOVED", f"{asset} moved {move:.2%} since planning "
                                            f"({planned_price:g} -> {quote.price:g}); max_price_move is {self.max_price_move:.2%}.")

    def check_caps(self, turnover: float, traded_today: float) -> None:
        """Raise ``Denied(RUN_CAP | DAILY_CAP)`` when a plan of ``turnover`` would pass a cap."""
        if self.max_run_value is not None and turnover > self.max_run_value:
            raise Denied("RUN_CAP", f"the plan trades {turnover:,.2f}; max_run_value is {self.max_run_value:,.2f}.")
        if self.max_daily_value is not None and traded_today + turnover > self.max_daily_value:
            raise Denied("DAILY_CAP", f"today's trades ({traded_today:,.2f}) plus this plan ({turnover:,.2f}) "
                                      f"would pass max_daily_value {self.max_daily_value:,.2f}.")


    def check_venue(self, venue: str, turnover: float, traded_today: float, assets: set[str]) -> None:
        """Raise ``Denied`` (``KILL_SWITCH``, ``ASSET_NOT_ALLOWED``, ``RUN_CAP``, ``DAILY_CAP``) naming
        ``venue`` when its part of a plan passes that venue's own limits."""
        own = (self.venues or {}).get(venue)
        if own is None:
            return
        self.check_kill_switch(venue)
        if own.allowed_assets is not None and assets - own.allowed_assets:
            outside = ", ".join(sorted(assets - own.allowed_assets))
            raise Denied("ASSET_NOT_ALLOWED", f"the plan trades {outside} on venue {venue}, whose allowed_assets "
                                              f"lists {', '.join(sorted(own.allowed_assets))}.")
        if own.max_run_value is not None and turnover > own.max_run_value:
            raise Denied("RUN_CAP", f"the plan trades {turnover:,.2f} on venue {venue}; its max_run_value is "
                                    f"{own.max_run_value:,.2f}.")
        if own.max_daily_value is not None and traded_today + turnover > own.max_daily_value:
            raise Denied("DAILY_CAP", f"today's trades on venue {venue} ({traded_today:,.2f}) plus this plan's "
                                      f"({turnover:,.2f}) would pass its max_daily_value {own.max_daily_value:,.2f}.")


def check_withdrawal(guards: Guards, value: float, address: str | None) -> None:
    """Raise ``Denied`` (KILL_SWITCH, WITHDRAW_CAP, ADDRESS_NOT_ALLOWED) for a withdrawal worth ``value``."""
    guards.check_kill_switch()
    if guards.max_withdrawal_value is not None and value > guards.max_withdrawal_value:
        raise Denied("WITHDRAW_CAP", f"the withdrawal is worth {value:,.2f}; max_withdrawal_value is "
                                     f"{guards.max_withdrawal_value:,.2f}. Nothing was sold or sent.")
    if guards.withdraw_addresses is not None and address is not None and address not in guards.withdraw_addresses:
        raise Denied("ADDRESS_NOT_ALLOWED", "the address is not in [execution] withdraw_addresses; nothing was sold "
                                            "or sent.")


def _whole(age: timedelta) -> timedelta:
    return timedelta(seconds=max(1, int(age.total_seconds())))

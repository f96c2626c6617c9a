"""``trimtab venues check``: is the configured venue reachable, what its keys can see, its clock and limits.

Works through the venue protocol (prices, balances, markets) plus two optional methods a venue may
offer: ``clock_skew()`` (seconds its clock is ahead of ours) and ``rate_limit_state()`` (a small
dict). Every problem is one line saying what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from trimtab.errors import KeyRejected, RateLimited, TrimtabError, VenueUnavailable
from trimtab.venues.base import Venue, consolidate

#: Binance refuses signed requests more than 1 s ahead of its clock; 1 s is a safe bound for all.
MAX_SKEW = 1.0


@dataclass(frozen=True, kw_only=True)
class VenueReport:
    """What ``venues check`` found: facts, and problems (each with what to do)."""

    venue: str
    reachable: bool
    balances: dict[str, float] = field(default_factory=dict)
    markets: list[str] = field(default_factory=list)
    clock_skew: float | None = None
    rate_limit: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"venue": self.venue, "reachable": self.reachable, "balances": self.balances, "markets": self.markets,
                "clock_skew_seconds": self.clock_skew, "rate_limit": self.rate_limit, "problems": self.problems,
                "ok": not self.problems}


def check_venue(venue: Venue, name: str, assets: Iterable[str] | None, quote: str) -> VenueReport:
    """Ask ``venue`` what a rebalance will need, catching each failure as one problem line.
    ``assets`` None (one venue of several): the assets its own markets list, none required."""
    problems: list[str] = []

    def attempt(what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except KeyRejected as e:
            problems.append(f"{what}: the key was refused ({e.venue_message}); check the key and its permissions.")
        except RateLimited as e:
            problems.append(f"{what}: rate limited ({e.venue_message}); wait a minute and check again.")
        except VenueUnavailable as e:
            problems.append(f"{what}: {e}; check the network and the venue's URL, or wait and check again.")
        except TrimtabError as e:
            problems.append(f"{what}: {e}")
        return None

    required = assets is not None
    if assets is None:
        listed = attempt("markets", lambda: venue.markets())
        assets = list(listed or {})
    assets = [a for a in assets if a != quote]
    quotes = attempt("prices", lambda: venue.prices(assets))
    held = attempt("balances", lambda: consolidate(venue.balances()))
    markets = attempt("markets", lambda: venue.markets())
    if markets is not None and required:
        missing = [a for a in assets if a not in markets]
        if missing:
            problems.append(f"markets: no {', '.join(m + '/' + quote for m in missing)} market on {name}; "
                            "remove those assets from the targets or pick another quote.")
    skew = attempt("clock", venue.clock_skew) if hasattr(venue, "clock_skew") else None
    bound = getattr(venue, "max_clock_skew", MAX_SKEW)  # None: the venue signs for us and its clock is used
    if skew is not None and bound is not None and abs(skew) > bound:
        problems.append(f"clock: this computer is {abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} {name}; "
                        "sync it (NTP) or signed requests will be refused.")
    limits = (attempt("rate limit", venue.rate_limit_state) if hasattr(venue, "rate_limit_state") else None) or {}
    return VenueReport(venue=name, reachable=quotes is not None or held is not None, balances=held or {},
                       markets=sorted(markets or {}), clock_skew=skew, rate_limit=limits, problems=problems)


def check_venues(venues: dict[str, Venue | Exception], assets: Iterable[str], quote: str) -> list[VenueReport]:
    """Each venue of a portfolio across venues checked on its own (``venues``: name -> the venue, or
    the error that kept it from opening), every problem line naming its venue; a last report for the
    portfolio names target assets that no venue trades."""
    reports = []
    traded: set[str] = set()
    for name, venue in venues.items():
        if isinstance(venue, Exception):
            reports.append(VenueReport(venue=name, reachable=False, problems=[f"{name}: config: {venue}"]))
            continue
        report = check_venue(venue, name, None, quote)
        traded.update(report.markets)
        reports.append(VenueReport(venue=name, reachable=report.reachable, balances=report.balances,
                                   markets=report.markets, clock_skew=report.clock_skew, rate_limit=report.rate_limit,
                                   problems=[f"{name}: {p}" for p in report.problems]))
    missing = [a for a in assets if a != quote and a not in traded]
    if missing and all(r.reachable for r in reports):
        reports.append(VenueReport(venue="portfolio", reachable=True, problems=[
            f"portfolio: no venue trades {', '.join(m + '/' + quote for m in missing)}; add a venue that does or "
            "remove those assets from the targets."]))
    return reports

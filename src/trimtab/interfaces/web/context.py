"""What the dashboard knows about a portfolio beyond its journal rows: targets, policy, venue.

With ``--config`` the config says it all (and may allow the "rebalance now" button). A portfolio
the dashboard only meets in the journal gets what its checks tell: the targets (weight minus
drift) and the bands named in the decision's reason ("within band 0.050").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.errors import InputError

_BAND = re.compile(r"band (\d+(?:\.\d+)?)")


@dataclass(frozen=True, kw_only=True)
class PortfolioContext:
    """``policy`` None: unknown (only the journal was given). ``open_venue`` returns a venue whose
    ``balances()`` the Portfolio page lists; ``open_desk`` returns the ``PlanDesk`` the "rebalance
    now" button goes through, and is set only when the config allows that button."""

    name: str
    targets: Mapping[str, float] | None = None
    policy: PolicySpec | None = None
    venue_kind: str | None = None
    source: str = "journal"
    open_venue: Callable[[], Any] | None = None
    open_desk: Callable[[], Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def from_config(config_path: Path) -> tuple[PortfolioContext, str, dict[str, Any]]:
    """The context, the journal URL and the ``[dashboard]`` settings of a config file."""
    from trimtab.config import load_config
    from trimtab import wiring

    loaded, path = load_config(config_path)
    settings = loaded.dashboard.model_dump()
    desk = (lambda: wiring.build_desk(loaded, path)) if loaded.dashboard.allow_rebalance else None
    context = PortfolioContext(
        name=loaded.portfolio.name, targets=dict(loaded.targets.weights), policy=loaded.policy.to_spec(),
        venue_kind=loaded.venue_kind, source=str(path), open_venue=lambda: wiring.open_venue(loaded, path),
        open_desk=desk)
    return context, wiring.journal_url(loaded, path), settings


def for_demo(directory: Path) -> PortfolioContext:
    """The demo's portfolio: its targets and policy, and its paper account (read only)."""
    from trimtab.demo import simulation
    from trimtab.venues.paper import PaperVenue
    from trimtab.venues.paper_store import PaperSettings

    account = Path(directory) / "demo-paper.db"
    return PortfolioContext(
        name="demo", targets=dict(simulation.TARGETS), policy=simulation.POLICY, venue_kind="paper",
        source=f"trimtab demo in {directory}",
        open_venue=lambda: PaperVenue(account, PaperSettings(fee=0.001, slippage_bps=5, clock_speed=0,
                                                             price_source="history")))


def inferred(name: str, last_check: Mapping[str, Any] | None) -> PortfolioContext:
    """A portfolio known only from its journal: targets and bands read off its last check."""
    if last_check is None:
        return PortfolioContext(name=name)
    weights, drift = last_check["weights"], last_check["drift"]
    targets = {a: round(weights[a] - drift.get(a, 0.0), 6) for a in weights}
    bands = sorted({float(b) for b in _BAND.findall(last_check.get("reason", ""))})
    policy = None
    if bands:
        try:
            policy = PolicySpec(kind=PolicyKind.THRESHOLD, band=bands[0],
                                emergency_band=bands[-1] if len(bands) > 1 else None)
        except InputError:  # a reason whose numbers make no band: show the journal without one
            policy = None
    return PortfolioContext(name=name, targets=targets, policy=policy, extra={"inferred": True})


def policy_in_words(policy: PolicySpec | None, *, inferred_from_journal: bool = False) -> str:
    """One or two sentences a person reads: when does this portfolio rebalance?"""
    if policy is None:
        return "The policy is not known: start the dashboard with --config to show it."
    every = _duration(policy.check_every.total_seconds())
    band = " and ".join(filter(None, [
        f"any asset's weight is more than {policy.band:.2%} away from its target" if policy.band else None,
        f"more than {policy.relative_band:.0%} of its target away" if policy.relative_band else None]))
    if inferred_from_journal:
        text = f"Read from the journal's last check: a band of {policy.band:.2%}"
        if policy.emergency_band:
            text += f" and an emergency band of {policy.emergency_band:.2%}"
        return text + " (start the dashboard with --config for the whole policy)."
    if policy.kind is PolicyKind.NEVER:
        return "Never rebalance (buy and hold); the checks only measure drift."
    if policy.kind is PolicyKind.CALENDAR:
        text = f"Check every {every}; rebalance at the first check of each {_period(policy)}."
    elif policy.kind is PolicyKind.THRESHOLD:
        text = f"Check every {every}; rebalance when {band}."
    else:
        text = f"Check every {every}; rebalance at the first check of each {_period(policy)}, or at once when {band}"
        if policy.emergency_band:
            text += f"; past the emergency band of {policy.emergency_band:.2%} it acts even within the cooldown"
        text += "."
    if policy.cooldown.total_seconds() > 0:
        text += f" After a rebalance it waits at least {_duration(policy.cooldown.total_seconds())}."
    return text


def _period(policy: PolicySpec) -> str:
    return {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter"}.get(
        str(policy.schedule), str(policy.schedule))


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}" if n != 1 else unit
    return f"{seconds:g} seconds"

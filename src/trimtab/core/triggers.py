"""Triggers: small, pure, composable rules that decide whether to rebalance now.

Each trigger has one method, ``decide(drift, moment) -> Decision``. What a trigger must remember
(the previous check, the last rebalance) is passed in with the ``Moment``: no trigger keeps state.
Compose them with :class:`AnyOf` and :class:`Cooldown`; see ``core/policy.py`` for the
production policy built from these parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Protocol

from trimtab.core.band import Band
from trimtab.core.drift import DriftReport
from trimtab.core.durations import format_duration
from trimtab.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Whether to rebalance, which trigger said so, and a reason a person can read.

    A hold also keeps its parts, so that ``AnyOf`` can say several holds in one sentence without
    repeating the drift: ``drift_text`` ("max drift 0.100 (USDC)") and the bands it is ``within``
    (threshold triggers), and ``notes`` (every other trigger's clause).
    """

    rebalance: bool
    trigger: str
    reason: str
    drift_text: str = ""
    within: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Moment:
    """When a check happens, and what came before it (UTC; naive datetimes are taken as UTC)."""

    now: datetime
    previous_check_at: datetime | None = None
    last_rebalance_at: datetime | None = None


class Trigger(Protocol):
    def decide(self, drift: DriftReport, moment: Moment) -> Decision: ...


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @classmethod
    def parse(cls, name: str) -> Period:
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise InputError(f"Unknown schedule {name!r}: use one of {known}.") from None

    def key(self, moment: datetime) -> tuple[int, ...]:
        """The period ``moment`` falls in: equal keys mean the same day, week, month or quarter."""
        t = _utc(moment)
        if self is Period.DAILY:
            return (t.year, t.month, t.day)
        if self is Period.WEEKLY:
            iso = t.isocalendar()
            return (iso.year, iso.week)
        if self is Period.MONTHLY:
            return (t.year, t.month)
        return (t.year, (t.month - 1) // 3)


@dataclass(frozen=True)
class ThresholdTrigger:
    """Fire when any asset's drift is outside ``band`` (strictly: drift > band)."""

    band: Band
    name: str = "band"

    def decide(self, drift: DriftReport, moment: Moment) -> Decision:
        breaches = [(a, self.band.breach(a)) for a in drift.assets]
        breaches = [(a, why) for a, why in breaches if why]
        if breaches:
            _, why = max(breaches, key=lambda pair: pair[0].absolute_drift)
            return Decision(rebalance=True, trigger=self.name, reason=why)
        worst = drift.worst
        said = f"max drift {worst.absolute_drift:.3f} ({worst.asset})"
        band = ("emergency " if self.name == "emergency_band" else "") + self.band.describe()
        return Decision(rebalance=False, trigger=self.name, reason=f"{said} is within {band}", drift_text=said,
                        within=(band,))


@dataclass(frozen=True)
class CalendarTrigger:
    """Fire at the first check of each new period (compared with the previous check).

    The very first check (no previous one) does not fire: the schedule starts counting there.
    """

    period: Period

    def decide(self, drift: DriftReport, moment: Moment) -> Decision:
        if moment.previous_check_at is None:
            reason = f"the {self.period} schedule starts counting at this first check"
            return Decision(rebalance=False, trigger="schedule", reason=reason, notes=(reason,))
        if self.period.key(moment.now) != self.period.key(moment.previous_check_at):
            return Decision(
                rebalance=True,
                trigger="schedule",
                reason=f"first check of a new {_period_noun(self.period)} ({moment.now:%Y-%m-%d})",
            )
        reason = f"it is not a new {_period_noun(self.period)} yet"
        return Decision(rebalance=False, trigger="schedule", reason=reason, notes=(reason,))


@dataclass(frozen=True)
class AnyOf:
    """Fire when any child fires; the first firing child gives the reason. Every child is asked."""

    triggers: tuple[Trigger, ...]

    def decide(self, drift: DriftReport, moment: Moment) -> Decision:
        decisions = [t.decide(drift, moment) for t in self.triggers]
        for decision in decisions:
            if decision.rebalance:
                return decision
        held_back = [d for d in decisions if d.trigger == "cooldown"]
        drift_text = next((d.drift_text for d in decisions if d.drift_text), "")
        within = tuple(dict.fromkeys(band for d in decisions for band in d.within))
        notes = tuple(dict.fromkeys(note for d in (*held_back, *decisions) for note in _notes(d)))
        return Decision(rebalance=False, trigger="cooldown" if held_back else "none",
                        reason=_sentence(drift_text, within, notes), drift_text=drift_text, within=within, notes=notes)


@dataclass(frozen=True)
class Cooldown:
    """Pass ``inner``'s decision through, except within ``period`` of the last rebalance."""

    inner: Trigger
    period: timedelta

    def decide(self, drift: DriftReport, moment: Moment) -> Decision:
        decision = self.inner.decide(drift, moment)
        last = moment.last_rebalance_at
        if decision.rebalance and last is not None and _utc(moment.now) - _utc(last) < self.period:
            reason = f"{decision.reason}, but the last rebalance was less than {format_duration(self.period)} ago"
            return Decision(rebalance=False, trigger="cooldown", reason=reason, notes=(reason,))
        return decision


@dataclass(frozen=True)
class Never:
    """Never rebalance (buy and hold): the baseline every policy is compared with."""

    def decide(self, drift: DriftReport, moment: Moment) -> Decision:
        return Decision(rebalance=False, trigger="never", reason="the policy never rebalances")


def _notes(decision: Decision) -> tuple[str, ...]:
    """A hold's clauses other than "drift is within a band" (a plain Decision: its whole reason)."""
    if decision.notes or decision.within:
        return decision.notes
    return (decision.reason,)


def _sentence(drift_text: str, within: tuple[str, ...], notes: tuple[str, ...]) -> str:
    """One sentence for a hold: a cooldown first (it is why a breach waits), then the drift and
    every band it is within, said once, then the other clauses: "max drift 0.100 (USDC) is within
    band 0.050 and emergency band 0.150, and it is not a new month yet"."""
    parts = [n for n in notes if "but the last rebalance" in n]
    if drift_text:
        bands = " and ".join(sorted(within, key=lambda band: band.startswith("emergency")))
        parts.append(f"{'it' if parts else drift_text} is within {bands}")  # a cooldown already said the drift
    parts += [n for n in notes if n not in parts]
    if len(parts) <= 2:
        return ", and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _period_noun(period: Period) -> str:
    return {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter"}[period.value]


__all__ = [
    "AnyOf",
    "CalendarTrigger",
    "Cooldown",
    "Decision",
    "Moment",
    "Never",
    "Period",
    "ThresholdTrigger",
    "Trigger",
]

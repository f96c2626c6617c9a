"""Policies: the named trigger set-ups users choose, built from the parts in ``triggers.py``.

``threshold``  rebalance when any drift is outside the band (absolute and/or relative).
``calendar``   rebalance at the first check of each new period (e.g. monthly).
``combined``   the production policy: check every ``check_every``; act at once past the
               emergency band (even within the cooldown), on the schedule, or past the band.
``never``      buy and hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from trimtab.core.band import Band
from trimtab.core.triggers import AnyOf, CalendarTrigger, Cooldown, Never, Period, ThresholdTrigger, Trigger
from trimtab.errors import InputError


class PolicyKind(StrEnum):
    THRESHOLD = "threshold"
    CALENDAR = "calendar"
    COMBINED = "combined"
    NEVER = "never"

    @classmethod
    def parse(cls, name: str) -> PolicyKind:
        try:
            return cls(str(name).strip().lower())
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise InputError(f"Unknown policy {name!r}: use one of {known}.") from None


@dataclass(frozen=True, kw_only=True)
class PolicySpec:
    """Everything that decides *when* to rebalance, as plain values (see module docstring)."""

    kind: PolicyKind = PolicyKind.THRESHOLD
    band: float | None = 0.05
    relative_band: float | None = None
    emergency_band: float | None = None
    schedule: Period | None = None
    check_every: timedelta = timedelta(hours=1)
    cooldown: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) and self.tolerance is None:
            raise InputError(f"The {self.kind} policy needs a band or a relative band.")
        if self.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) and self.schedule is None:
            raise InputError(f"The {self.kind} policy needs a schedule, e.g. monthly.")
        if self.emergency_band is not None:
            Band(absolute=self.emergency_band)  # validates the width
            if self.band is not None and self.emergency_band <= self.band:
                raise InputError(
                    f"The emergency band ({self.emergency_band:g}) must be wider than the band ({self.band:g})."
                )
        if self.check_every <= timedelta(0):
            raise InputError("check_every must be a positive duration, e.g. 1h.")
        if self.cooldown < timedelta(0):
            raise InputError("cooldown cannot be negative.")

    @property
    def tolerance(self) -> Band | None:
        """The normal band, or None when neither width is set."""
        if self.band is None and self.relative_band is None:
            return None
        return Band(absolute=self.band, relative=self.relative_band)

    def trigger(self) -> Trigger:
        """The composed trigger for this policy."""
        if self.kind is PolicyKind.NEVER:
            return Never()
        if self.kind is PolicyKind.THRESHOLD:
            return _with_cooldown(ThresholdTrigger(self.tolerance), self.cooldown)
        if self.kind is PolicyKind.CALENDAR:
            return _with_cooldown(CalendarTrigger(self.schedule), self.cooldown)
        normal = _with_cooldown(AnyOf((CalendarTrigger(self.schedule), ThresholdTrigger(self.tolerance))), self.cooldown)
        if self.emergency_band is None:
            return normal
        emergency = ThresholdTrigger(Band(absolute=self.emergency_band), name="emergency_band")
        return AnyOf((emergency, normal))


def _with_cooldown(trigger: Trigger, cooldown: timedelta) -> Trigger:
    return Cooldown(trigger, cooldown) if cooldown > timedelta(0) else trigger


__all__ = ["PolicyKind", "PolicySpec"]

"""Screening: which bars *might* make the policy fire, computed for many bars at once.

Between rebalances the holdings do not change, so drift over a block of bars is one numpy
expression (the core's formula: ``|value_i / total - target_i|`` over every asset, the quote
included). The screen is deliberately generous (``MARGIN`` wider than the policy): a bar it lets
through is then decided by the core trigger itself, so the simulator's decisions are the core's,
while most bars never build a ``DriftReport``. ``period_starts`` gives the calendar schedule's
bars (the first bar of each new day, week, month or quarter), the same as ``Period.key``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trimtab.core.drift import DRIFT_EPSILON
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period

#: The screen lets through every bar whose numpy drift is within this of firing; numpy's sum and
#: the core's ``math.fsum`` differ by far less (about 1e-16 of the weight).
MARGIN = 1e-9


@dataclass(frozen=True)
class Widths:
    """The narrowest absolute and relative widths any trigger of a policy fires at (inf: none),
    whether a zero-target asset fires on any weight, and whether a schedule can fire."""

    absolute: float
    relative: float
    zero_target_fires: bool
    schedule: Period | None

    @classmethod
    def of(cls, policy: PolicySpec) -> Widths:
        absolute, relative = math.inf, math.inf
        if policy.kind in (PolicyKind.THRESHOLD, PolicyKind.COMBINED):
            if policy.band is not None:
                absolute = policy.band
            if policy.relative_band is not None:
                relative = policy.relative_band
        zero_target_fires = relative < math.inf and absolute == math.inf
        if policy.kind is PolicyKind.COMBINED and policy.emergency_band is not None:
            absolute = min(absolute, policy.emergency_band)
        schedule = policy.schedule if policy.kind in (PolicyKind.CALENDAR, PolicyKind.COMBINED) else None
        return cls(absolute, relative, zero_target_fires, schedule)


def period_starts(times, period: Period | None) -> np.ndarray:
    """True at each bar whose period (UTC) differs from the previous bar's; bar 0 is False.

    ``times`` is a DatetimeIndex or int64 ns since the epoch (UTC). Keys: the day, the ISO week
    (its Monday), the month, or the quarter, as ``Period.key``.
    """
    ns = _as_ns(times)
    out = np.zeros(len(ns), dtype=bool)
    if period is None or len(ns) < 2:
        return out
    moments = ns.astype("datetime64[ns]")
    if period is Period.DAILY:
        key = moments.astype("datetime64[D]").astype(np.int64)
    elif period is Period.WEEKLY:
        days = moments.astype("datetime64[D]").astype(np.int64)
        key = days - (days + 3) % 7  # 1970-01-01 was a Thursday: this is the week's Monday
    elif period is Period.MONTHLY:
        key = moments.astype("datetime64[M]").astype(np.int64)
    else:
        key = moments.astype("datetime64[M]").astype(np.int64) // 3
    out[1:] = key[1:] != key[:-1]
    return out


def _as_ns(times) -> np.ndarray:
    if isinstance(times, np.ndarray) and times.dtype == np.int64:
        return times
    index = times.tz_convert("UTC") if getattr(times, "tz", None) is not None else times
    index = index.as_unit("ns") if hasattr(index, "as_unit") else index
    return np.asarray(index.asi8, dtype=np.int64)


def block_drift(quantities: np.ndarray, cash: float, prices: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Signed drift ``w - t`` per bar (rows) and asset (columns, the quote last) for holdings
    ``quantities`` (non-quote assets) and ``cash`` held unchanged over the bars of ``prices``."""
    values = prices * quantities
    total = values.sum(axis=1) + cash
    weights = np.empty((prices.shape[0], prices.shape[1] + 1))
    np.divide(values, total[:, None], out=weights[:, :-1])
    weights[:, -1] = cash / total
    return weights - targets


def may_fire(drift: np.ndarray, targets: np.ndarray, widths: Widths, starts: np.ndarray) -> np.ndarray:
    """Bars (a bool per row of ``drift``) where the policy might fire; ``starts`` are the block's
    schedule bars. Never False where the core trigger would fire (the cooldown aside, which only
    holds back)."""
    absolute = np.abs(drift)
    out = starts.copy() if widths.schedule is not None else np.zeros(drift.shape[0], dtype=bool)
    if widths.absolute < math.inf:
        out |= absolute.max(axis=1) > widths.absolute + DRIFT_EPSILON - MARGIN
    if widths.relative < math.inf:
        positive = targets > 0
        if positive.any():
            relative = absolute[:, positive] / targets[positive]
            out |= relative.max(axis=1) > widths.relative + DRIFT_EPSILON - MARGIN
        if widths.zero_target_fires and (~positive).any():
            out |= (drift[:, ~positive] > DRIFT_EPSILON / 2).any(axis=1)
    return out

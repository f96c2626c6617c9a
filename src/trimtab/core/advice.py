"""Advice on the band from a portfolio's own history: pure, no journal, no clock.

Two signals, checked in this order:

- **too many rebalances**: more than ``max_per_month`` a month means the band is narrower than
  the market's noise; fees and slippage pay for little. Advice: raise the band by half
  (5% -> 7.5%), at most ``ceiling``.
- **drift ran far**: the largest drift seen at a check went past ``overshoot`` x the band
  (e.g. 10.4% against a 5% band): the band, or the checks, let the portfolio wander. Advice:
  lower the band by a quarter (5% -> 3.75%), at least ``floor``.

Otherwise keep it. With less than ``min_days`` of history there is nothing to say yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True, kw_only=True)
class BandAdvice:
    """``action`` is ``raise``, ``lower`` or ``keep``; ``reason`` is one sentence with the numbers."""

    action: str
    band: float | None
    suggested_band: float | None
    rebalances: int
    months: float
    rebalances_per_month: float
    max_drift: float | None
    reason: str


def advise_band(
    *,
    band: float | None,
    rebalances: Sequence[datetime],
    drifts: Sequence[float],
    start: datetime,
    end: datetime,
    max_per_month: float = 2.0,
    overshoot: float = 2.0,
    floor: float = 0.01,
    ceiling: float = 0.25,
    min_days: float = 7.0,
) -> BandAdvice:
    """Advise on ``band`` from the ``rebalances`` (their times) and the max ``drifts`` seen at the
    checks between ``start`` and ``end``.

    >>> from datetime import datetime, timedelta
    >>> t0 = datetime(2025, 1, 1)
    >>> a = advise_band(band=0.05, rebalances=[t0 + timedelta(days=3 * i) for i in range(10)],
    ...                 drifts=[0.06] * 10, start=t0, end=t0 + timedelta(days=30))
    >>> a.action, round(a.suggested_band, 4)
    ('raise', 0.075)
    """
    days = max((end - start).total_seconds() / 86400.0, 0.0)
    months = days / DAYS_PER_MONTH
    count = len(rebalances)
    rate = count / months if months > 0 else 0.0
    seen = max(drifts) if drifts else None

    def advice(action: str, suggested: float | None, reason: str) -> BandAdvice:
        return BandAdvice(action=action, band=band, suggested_band=suggested, rebalances=count, months=months,
                          rebalances_per_month=rate, max_drift=seen, reason=reason)

    if band is None:
        return advice("keep", None, "The policy has no absolute band to tune; set [policy] band to get advice.")
    if days < min_days:
        return advice("keep", band, f"Only {days:.1f} days of history; advice needs at least {min_days:g} days.")
    if rate > max_per_month:
        suggested = min(band * 1.5, ceiling)
        return advice("raise", suggested, f"{count} rebalances in {months:.1f} months ({rate:.1f} a month) is more "
                                          f"than {max_per_month:g} a month: a band of {suggested:.2%} instead of "
                                          f"{band:.2%} would trade less and pay fewer fees.")
    if seen is not None and seen > overshoot * band:
        suggested = max(band * 0.75, floor)
        return advice("lower", suggested, f"Drift reached {seen:.2%}, more than {overshoot:g} times the {band:.2%} "
                                          f"band: a band of {suggested:.2%} (or more frequent checks) would keep "
                                          "the portfolio closer to its targets.")
    return advice("keep", band, f"{count} rebalances in {months:.1f} months and a largest drift of "
                                f"{(seen or 0.0):.2%}: the {band:.2%} band fits this history.")

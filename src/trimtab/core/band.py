"""Bands: the tolerance around each target weight, absolute and/or relative."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trimtab.core.drift import DRIFT_EPSILON, AssetDrift
from trimtab.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Band:
    """An absolute band (``|w - t| <= absolute``), a relative one (``|w - t| <= relative * t``),
    or both, in which case a weight must satisfy both to be inside.

    A relative band says nothing about an asset with a zero target; there only the absolute
    band applies, and with no absolute band such an asset must sit at exactly 0.
    """

    absolute: float | None = None
    relative: float | None = None

    def __post_init__(self) -> None:
        if self.absolute is None and self.relative is None:
            raise InputError("A band needs an absolute width, a relative width, or both.")
        for name, width in (("band", self.absolute), ("relative band", self.relative)):
            if width is not None and (math.isnan(width) or not 0 < width < 1):
                raise InputError(f"The {name} is {width}; give a fraction between 0 and 1, e.g. 0.05.")

    def bounds(self, target: float) -> tuple[float, float]:
        """The weights allowed for ``target``: e.g. target 0.3 with absolute 0.05 -> (0.25, 0.35)."""
        low, high = 0.0, 1.0
        if self.absolute is not None:
            low, high = max(low, target - self.absolute), min(high, target + self.absolute)
        if self.relative is not None:
            low = max(low, target * (1 - self.relative))
            high = min(high, target * (1 + self.relative))
        return low, high

    def breach(self, drift: AssetDrift) -> str | None:
        """Why ``drift`` is outside this band, in words, or None when it is inside."""
        if self.absolute is not None and drift.absolute_drift > self.absolute + DRIFT_EPSILON:
            return f"{drift.asset} drift {drift.absolute_drift:.3f} > band {self.absolute:.3f}"
        relative = drift.absolute_relative_drift
        if self.relative is not None and relative is not None and relative > self.relative + DRIFT_EPSILON:
            return f"{drift.asset} relative drift {relative:.3f} > relative band {self.relative:.3f}"
        if self.absolute is None and drift.target == 0 and drift.weight > DRIFT_EPSILON:
            return f"{drift.asset} weight {drift.weight:.3f} > its target 0"
        return None

    def describe(self) -> str:
        parts = []
        if self.absolute is not None:
            parts.append(f"band {self.absolute:.3f}")
        if self.relative is not None:
            parts.append(f"relative band {self.relative:.3f}")
        return " and ".join(parts)

"""Drift: how far each current weight is from its target, absolute and relative."""

from __future__ import annotations

from dataclasses import dataclass

from trimtab.core.assets import Targets
from trimtab.core.valuation import Valuation

#: Drift must exceed a band by more than this to count as outside it, so that float noise
#: (0.65 - 0.5 == 0.15000000000000002) does not decide a trade.
DRIFT_EPSILON = 1e-12


@dataclass(frozen=True)
class AssetDrift:
    """One asset's current weight against its target.

    Both per-asset figures are signed, positive when the asset is overweight: ``drift`` is
    ``weight - target`` and ``relative_drift`` is ``drift / target`` (``None`` for a zero target,
    where it is undefined): weight 0.10 on target 0.20 is drift -0.10, relative drift -0.5. Their
    sizes are ``absolute_drift`` and ``absolute_relative_drift``; the report's ``max_drift`` and
    ``max_relative_drift`` are sizes too (never negative).
    """

    asset: str
    weight: float
    target: float

    @property
    def drift(self) -> float:
        return self.weight - self.target

    @property
    def absolute_drift(self) -> float:
        return abs(self.weight - self.target)

    @property
    def relative_drift(self) -> float | None:
        if self.target == 0:
            return None
        return (self.weight - self.target) / self.target

    @property
    def absolute_relative_drift(self) -> float | None:
        relative = self.relative_drift
        return None if relative is None else abs(relative)


@dataclass(frozen=True)
class DriftReport:
    """Drift of every asset in a portfolio (targets first, then other holdings)."""

    assets: tuple[AssetDrift, ...]

    def __getitem__(self, asset: str) -> AssetDrift:
        for item in self.assets:
            if item.asset == asset:
                return item
        raise KeyError(asset)

    @property
    def worst(self) -> AssetDrift:
        """The asset with the largest absolute drift (the first such, on a tie)."""
        return max(self.assets, key=lambda a: a.absolute_drift)

    @property
    def max_drift(self) -> float:
        """The largest absolute drift, e.g. 0.15 for weights 0.65/0.25/0.10 on 0.5/0.3/0.2."""
        return self.worst.absolute_drift

    @property
    def max_relative_drift(self) -> float | None:
        """The largest relative drift over assets with a non-zero target; None if there are none."""
        defined = [a.absolute_relative_drift for a in self.assets if a.absolute_relative_drift is not None]
        return max(defined) if defined else None


def measure_drift(valuation: Valuation, targets: Targets) -> DriftReport:
    """Compare ``valuation``'s weights with ``targets`` over every asset held or targeted."""
    order = list(dict.fromkeys([*targets.assets, *valuation.assets]))
    return DriftReport(
        tuple(
            AssetDrift(asset=a, weight=valuation.weights.get(a, 0.0), target=targets.weight(a))
            for a in order
        )
    )

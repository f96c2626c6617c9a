"""What one check or rebalance of a portfolio came to: the record the agent returns and the watch reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trimtab.core.assessment import Assessment
    from trimtab.engine.executor import RunOutcome


@dataclass(frozen=True, kw_only=True)
class RebalanceResult:
    """What ``rebalance`` did: the assessment it acted on, the run (if any), and a resumed run."""

    assessment: Assessment | None
    outcome: RunOutcome | None
    resumed: RunOutcome | None = None
    dry_run: bool = False

"""Freshness: a plan belongs to the state of the portfolio it was made from.

``Activity`` is what the journal knew when a check was made (how many runs had started, the
newest, and a run still in flight); ``Snapshot`` is one state of the portfolio as a plan records
it (holdings per asset including what is in transit, prices, the value in transit, the activity).
``what_changed(then, now)`` compares the state a plan was made from with the state now and says,
in one sentence, why the plan no longer fits, or returns None.

The rule, in order:

1. a run started after the plan was made ("run r1a2b started after this plan was made");
2. a run was in flight when the plan was made (its remaining legs change the portfolio the plan
   was sized for; plan again once it ended);
3. an asset's holding (in-transit included) changed by more than ``holding_tolerance(...)`` in
   value at today's price: ``max(dust, 0.1% of the portfolio's value when planned)``.
   The dust is the smallest trade the planner makes (``min_trade``): a change below it could not
   change a leg the planner would send, and 0.1% of the value is 50x finer than a 5% band, so the
   drift the plan corrects is the drift there is.

Pure: no clock, no I/O; the engine passes both states in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: A holding may move by this share of the portfolio's value before a plan made from it is stale.
HOLDING_TOLERANCE = 0.001


@dataclass(frozen=True, kw_only=True)
class RunInFlight:
    """A run that started and has not reached a final state (``state`` is its stage)."""

    run_id: str
    state: str


@dataclass(frozen=True, kw_only=True)
class Activity:
    """What the journal knew at a check: runs started so far, the newest, one still in flight."""

    runs_started: int = 0
    latest_run: str | None = None
    latest_run_at: datetime | None = None
    in_flight: RunInFlight | None = None


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One state of the portfolio, as a plan records it (see the module docstring)."""

    quantities: Mapping[str, float]
    prices: Mapping[str, float]
    total_value: float
    in_transit_value: float = 0.0
    activity: Activity = field(default_factory=Activity)

    def to_dict(self) -> dict[str, Any]:
        a = self.activity
        return {
            "quantities": dict(self.quantities), "prices": dict(self.prices), "total_value": self.total_value,
            "in_transit_value": self.in_transit_value, "runs_started": a.runs_started, "latest_run": a.latest_run,
            "latest_run_at": a.latest_run_at.isoformat() if a.latest_run_at else None,
            "run_in_flight": a.in_flight.run_id if a.in_flight else None,
            "run_in_flight_state": a.in_flight.state if a.in_flight else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """The snapshot a stored dict describes (``to_dict``'s inverse)."""
        at = data.get("latest_run_at")
        flight = data.get("run_in_flight")
        activity = Activity(runs_started=int(data.get("runs_started", 0)), latest_run=data.get("latest_run"),
                            latest_run_at=datetime.fromisoformat(at) if at else None,
                            in_flight=RunInFlight(run_id=flight, state=data.get("run_in_flight_state") or "")
                            if flight else None)
        return cls(quantities=dict(data["quantities"]), prices=dict(data["prices"]),
                   total_value=float(data["total_value"]), in_transit_value=float(data.get("in_transit_value", 0.0)),
                   activity=activity)


def holding_tolerance(total_value: float, dust: float) -> float:
    """The value by which one holding may move before a plan is stale: ``max(dust, 0.1% x value)``.

    >>> holding_tolerance(10_000.0, 10.0), holding_tolerance(1_000_000.0, 10.0)
    (10.0, 1000.0)
    """
    return max(dust, HOLDING_TOLERANCE * total_value)


def what_changed(then: Snapshot, now: Snapshot, *, dust: float) -> str | None:
    """Why a plan made at ``then`` does not fit ``now`` (one sentence), or None when it still fits.

    >>> a = Snapshot(quantities={"BTC": 0.1, "USDC": 3500.0}, prices={"BTC": 65000.0, "USDC": 1.0},
    ...              total_value=10_000.0)
    >>> b = Snapshot(quantities={"BTC": 0.07693, "USDC": 5000.0}, prices=a.prices, total_value=10_000.0)
    >>> what_changed(a, b, dust=10.0)
    'BTC holding 0.1 -> 0.07693'
    """
    if now.activity.runs_started > then.activity.runs_started:
        newest = now.activity.latest_run or "another run"
        return f"run {newest} started after this plan was made"
    if then.activity.in_flight is not None:
        return (f"run {then.activity.in_flight.run_id} was in flight when this plan was made, so the plan was "
                "sized for a portfolio still moving")
    tolerance = holding_tolerance(then.total_value, dust)
    for asset in dict.fromkeys([*then.quantities, *now.quantities]):
        before, after = then.quantities.get(asset, 0.0), now.quantities.get(asset, 0.0)
        price = now.prices.get(asset) or then.prices.get(asset) or 0.0
        if not math.isfinite(after) or abs(after - before) * price > tolerance:
            return f"{asset} holding {before:.8g} -> {after:.8g}"
    return None

"""The journal's records: frozen rows as the engine and the interfaces read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; a naive time (as SQLite gives them back) is taken to be UTC already."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class CheckRecord:
    """One check: when, what it was worth, the weights and drift, and the decision with its reason."""

    portfolio: str
    at: datetime
    total_value: float
    weights: Mapping[str, float]
    drift: Mapping[str, float]
    max_drift: float
    rebalance: bool
    trigger: str
    reason: str
    quantities: Mapping[str, float] | None = None


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One rebalance run. ``plan`` is the JSON the run was created from (legs, prices, targets)."""

    id: str
    portfolio: str
    state: str
    created_at: datetime
    updated_at: datetime
    reason: str = ""
    plan: Mapping[str, Any] = field(default_factory=dict)
    value_before: float | None = None
    value_after: float | None = None

    @property
    def run_id(self) -> str:
        """The run's id under the name every interface uses (``RunOutcome.run_id``, MCP ``run_id``)."""
        return self.id


@dataclass(frozen=True, kw_only=True)
class LegRecord:
    """One order (``kind="order"``) or bridge (``kind="transfer"``) of a run.

    ``client_id`` is ``<run id>-<idx>``: deterministic, written before the leg is sent, and the
    key the venue is asked about after a restart. An order has ``side`` and ``chain`` (its
    market's); a transfer has ``chain`` (from) and ``to_chain``. ``planned_quantity`` is what is
    sent (already rounded to the market); a buy may be sent as ``quote_amount`` instead.
    """

    run_id: str
    idx: int
    client_id: str
    kind: str
    stage: str
    asset: str
    state: str
    side: str | None = None
    chain: str | None = None
    to_chain: str | None = None
    planned_quantity: float | None = None
    quote_amount: float | None = None
    planned_price: float | None = None
    filled_quantity: float | None = None
    value: float | None = None
    fee: float | None = None
    error: str | None = None
    updated_at: datetime | None = None


def client_id(run_id: str, idx: int) -> str:
    """The deterministic client id of leg ``idx`` of run ``run_id``: ``"r3f9a-02"``."""
    return f"{run_id}-{idx:02d}"


@dataclass(frozen=True, kw_only=True)
class PlanRecord:
    """A plan stored for an agent by ``plan_rebalance``, executable once before ``expires_at``.

    ``state``: ``planned`` -> (``approved``) -> ``executing`` -> ``executed`` | ``failed``; or
    ``planned``/``approved`` -> ``expired`` | ``stale``. ``document`` holds the legs, the prices at
    planning, fees, turnover and expected weights; ``snapshot`` the state of the portfolio it was
    made from (``core.freshness.Snapshot.to_dict``; None for a plan from before migration 0003).
    """

    id: str
    portfolio: str
    state: str
    created_at: datetime
    expires_at: datetime
    venue: str
    document: Mapping[str, Any] = field(default_factory=dict)
    approved_at: datetime | None = None
    approved_by: str | None = None
    run_id: str | None = None
    reason: str = ""
    snapshot: Mapping[str, Any] | None = None

    @property
    def plan_id(self) -> str:
        """The plan's id under the name every interface uses (MCP ``plan_id``, ``Step.plan_id``)."""
        return self.id


@dataclass(frozen=True, kw_only=True)
class ToolCallRecord:
    """One call an agent made through an interface (``mcp``, ``python``): what, with which
    arguments (never a secret), and how it ended (``ok`` or ``error`` with a code and sentence)."""

    portfolio: str
    at: datetime
    interface: str
    tool: str
    arguments: Mapping[str, Any]
    outcome: str
    code: str | None = None
    message: str = ""
    duration_ms: float = 0.0

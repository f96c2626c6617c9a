"""The MCP tools' arguments and structured results: typed, so every tool publishes a JSON schema.

Arguments are narrow on purpose: symbols match ``^[A-Z0-9]{1,15}$``, plan ids ``^p[0-9a-f]{12}$``,
dates ``YYYY-MM-DD``, amounts are bounded, and no tool takes free text, so nothing an agent sends
can smuggle an instruction through a field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trimtab.engine.approvals import PLAN_ID
from trimtab.interfaces.numbers import round_document
from trimtab.monitor.advice import JournalWindow, PriceWindow  # the journal's figures, as the CLI shows them

Symbol = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,15}$", description="An asset symbol such as BTC.")]
PlanId = Annotated[str, Field(pattern=PLAN_ID.pattern, description="A plan id from plan_rebalance, e.g. p3f9a0c41b2d7.")]
RunId = Annotated[str, Field(pattern=r"^r[0-9a-f]{10}$", description="A run id from execute_plan, e.g. r3f9a0c41b2.")]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A date, YYYY-MM-DD (inclusive).")]
Weight = Annotated[float, Field(ge=0, le=1)]
Amount = Annotated[float, Field(gt=0, le=1e12, description="An amount in the quote asset.")]
Address = Annotated[str, Field(pattern=r"^[A-Za-z0-9:_.-]{4,128}$",
                                description="Where to send: an address the owner allowed in withdraw_addresses.")]
Chain = Annotated[str, Field(pattern=r"^[a-z0-9-]{2,20}$", description="A network such as base or ethereum.")]
Band = Annotated[float, Field(gt=0, lt=1, description="A band as a fraction, e.g. 0.05 for 5 points.")]


class _Result(BaseModel):
    """A tool result: its numbers rounded by the same rule as the CLI's ``--json`` documents
    (``interfaces/numbers.py``: money to the cent, fractions to 6 decimals)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _rounded(cls, data: Any) -> Any:
        return round_document(data) if isinstance(data, dict) else data


class Decision(_Result):
    rebalance: bool = Field(description="Whether the configured policy would rebalance now.")
    trigger: str
    reason: str


class AssetView(_Result):
    asset: str
    quantity: float
    price: float | None
    value: float
    weight: float
    target: float
    drift: float = Field(description="weight - target (signed fraction).")
    chains: dict[str, float] = Field(description="Quantity held per chain.")


class TransitView(_Result):
    asset: str
    quantity: float = Field(description="What will arrive (the bridge's fee already taken).")
    value: float
    from_chain: str
    to_chain: str
    since: str | None
    run_id: str | None = Field(description="The run that sent it, when trimtab did.")


class Portfolio(_Result):
    portfolio: str
    venue: str
    quote: str
    total_value: float = Field(description="Holdings plus what is in transit.")
    in_transit_value: float = Field(description="Value on its way between chains, included in total_value.")
    in_transit: list[TransitView]
    run_in_flight: str | None = Field(description="A run that has not ended, e.g. 'run r1a in flight (gathering): "
                                                  "0.023 BTC bitcoin->ethereum'; no plan executes until it ends.")
    max_drift: float
    assets: list[AssetView]
    decision: Decision


class DriftCheck(_Result):
    max_drift: float
    band: float | None
    relative_band: float | None
    policy: str
    decision: Decision
    total_value: float = Field(description="Holdings plus what is in transit.")
    in_transit_value: float
    run_in_flight: str | None


class PlanLeg(_Result):
    side: Literal["sell", "buy"]
    asset: str
    quantity: float
    price: float
    value: float
    fee: float


class PlanView(_Result):
    plan_id: str
    state: str
    created_at: str
    expires_at: str
    requires_approval: bool = Field(description="True: a person must run `trimtab approve PLAN_ID` first.")
    legs: list[PlanLeg]
    turnover: float
    fees: float
    weights: dict[str, float]
    expected_weights: dict[str, float]
    decision: Decision
    skipped: list[str]


class RunLeg(_Result):
    client_id: str
    stage: str
    kind: str
    side: str | None
    asset: str
    chain: str | None
    to_chain: str | None
    state: str
    filled_quantity: float | None
    value: float | None
    fee: float | None


class ExecutionView(_Result):
    plan_id: str
    plan_state: str
    run_id: str
    run_state: str
    reason: str
    traded_value: float
    fees: float
    legs: list[RunLeg]


class WithdrawalView(_Result):
    """A withdrawal: what was (or, for a dry run, would be) sold to raise it, and the payout."""

    dry_run: bool
    amount: float
    asset: str
    to: str | None
    sells: list[PlanLeg]
    run_id: str | None
    run_state: str | None
    fees: float
    payout_state: str | None
    client_id: str | None
    message: str


class RunView(_Result):
    run_id: str
    state: str = Field(description="created, gathering, selling, bridging, buying, then completed, failed or "
                                   "needs_attention.")
    final: bool = Field(description="True once the run is completed or failed: plan again from here.")
    created_at: str
    updated_at: str
    reason: str
    value_before: float | None
    value_after: float | None
    traded_value: float
    fees: float
    in_transit: str | None = Field(description="What is travelling now, e.g. '0.02307 BTC ethereum->bitcoin'.")
    plan_id: str | None
    plan_state: str | None
    legs: list[RunLeg]


class RunSummary(_Result):
    run_id: str
    state: str
    created_at: str
    reason: str
    value_before: float | None
    value_after: float | None
    fees: float
    legs: int


class PlanSummary(_Result):
    plan_id: str
    state: str
    created_at: str
    expires_at: str
    run_id: str | None
    approved_by: str | None
    reason: str = Field(default="", description="Why it ended as it did, e.g. why it is stale.")


class ToolCallView(_Result):
    at: str
    tool: str
    outcome: str
    code: str | None


class History(_Result):
    runs: list[RunSummary]
    plans: list[PlanSummary]
    tool_calls: list[ToolCallView]
    checks: int = Field(description="How many policy checks the journal holds.")


class AdviceCandidate(_Result):
    policy: str = Field(description="threshold, calendar or combined.")
    band: float | None
    schedule: str | None
    emergency_band: float | None
    rebalances_per_month: float
    fee_drag_per_year: float = Field(description="Fees as a share of the portfolio per year.")
    tracking_error: float = Field(description="Annualised std of the return gap to the on-target portfolio.")
    max_drift: float
    turnover_per_year: float
    score: float = Field(description="fee_drag_per_year + tracking_weight x tracking_error; lowest is best.")
    current: bool = Field(description="True for the configured policy's own row.")


class Advice(_Result):
    portfolio: str
    action: Literal["raise", "lower", "keep"] = Field(description="The rule of thumb on the journal's history.")
    band: float | None
    suggested_band: float | None
    rebalances: int
    months: float
    rebalances_per_month: float
    max_drift: float | None
    reason: str
    window: JournalWindow = Field(description="The journal's figures over the window.")
    tracking_weight: float
    prices: PriceWindow = Field(description="The price history the sweep ran over.")
    current: AdviceCandidate | None = Field(description="The configured policy's own row.")
    suggestion: AdviceCandidate | None = Field(description="The lowest score of the sweep (the grounded advice).")
    candidates: list[AdviceCandidate] = Field(description="The best few of the sweep, best first.")
    verdict: str = Field(description="The grounded suggestion in one sentence, with its figures.")


class BacktestView(_Result):
    start: str
    end: str
    bars: int
    assets: list[str]
    seconds: float
    metrics: dict[str, float | int | None]
    buy_and_hold: dict[str, float | int | None] | None = Field(
        None, description="The same targets never rebalanced, over the same bars: the baseline to read metrics against.")

"""The journal's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

``checks``     one row per check: time, total value, weights, max drift, decision and reason.
``runs``       one row per rebalance run: its state, stage reason, and value before/after.
``legs``       one row per order or transfer of a run, written *before* it is sent.
``fills``      what the venue says an order did (quantity, price, fee, slippage).
``transfers``  what the venue says a bridge did (amount, fee, chains, arrival).
``plans``      plans made for an agent (``plan_rebalance``): legs, prices, expiry, approval, run, and
               the snapshot of the portfolio it was made from (since migration 0003).
``tool_calls`` every call an agent made through an interface: time, tool, arguments, outcome.
``events``     what the engine saw that a check or run does not keep: venue errors, refusals, and the
               start and end of each alert condition (emergency drift, venue unreachable, ...).
``flows``      cash flows (since migration 0005): ``deposit`` and ``withdraw`` (recorded by the commands)
               and ``external`` (a balance change no run explains, found at a check); quantity and
               value signed, + into the portfolio, - out of it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

checks = Table(
    "checks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("total_value", Float, nullable=False),
    Column("weights", JSON, nullable=False),
    Column("drift", JSON, nullable=False),
    Column("max_drift", Float, nullable=False),
    Column("rebalance", Boolean, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("quantities", JSON, nullable=True),  # since 0005: what each asset's balance was
)

runs = Table(
    "runs", metadata,
    Column("id", String(40), primary_key=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("state", String(24), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("plan", JSON, nullable=False),
    Column("value_before", Float, nullable=True),
    Column("value_after", Float, nullable=True),
)

legs = Table(
    "legs", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("kind", String(12), nullable=False),  # order | transfer
    Column("stage", String(24), nullable=False),
    Column("side", String(8), nullable=True),
    Column("asset", String(16), nullable=False),
    Column("chain", String(32), nullable=True),
    Column("to_chain", String(32), nullable=True),
    Column("planned_quantity", Float, nullable=True),
    Column("quote_amount", Float, nullable=True),
    Column("planned_price", Float, nullable=True),
    Column("state", String(16), nullable=False),
    Column("filled_quantity", Float, nullable=True),
    Column("value", Float, nullable=True),
    Column("fee", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

fills = Table(
    "fills", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("run_id", String(40), nullable=False, index=True),
    Column("asset", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("price", Float, nullable=False),
    Column("mid_price", Float, nullable=False),
    Column("value", Float, nullable=False),
    Column("fee", Float, nullable=False),
    Column("slippage", Float, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

transfers = Table(
    "transfers", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("run_id", String(40), nullable=False, index=True),
    Column("asset", String(16), nullable=False),
    Column("amount", Float, nullable=False),
    Column("fee", Float, nullable=False),
    Column("from_chain", String(32), nullable=False),
    Column("to_chain", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("arrived_at", DateTime(timezone=True), nullable=True),
)

plans = Table(
    "plans", metadata,
    Column("id", String(24), primary_key=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("venue", String(32), nullable=False),
    Column("document", JSON, nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("approved_by", String(64), nullable=True),
    Column("run_id", String(40), nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("snapshot", JSON, nullable=True),
)

tool_calls = Table(
    "tool_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("interface", String(16), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("outcome", String(8), nullable=False),  # ok | error
    Column("code", String(32), nullable=True),
    Column("message", Text, nullable=False, server_default=""),
    Column("duration_ms", Float, nullable=False),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(24), nullable=False),  # venue_error | venue_ok | refusal | condition
    Column("code", String(64), nullable=False),  # error class, refusal code, or condition name
    Column("phase", String(8), nullable=False),  # seen | start | clear
    Column("message", Text, nullable=False, server_default=""),
)

flows = Table(
    "flows", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portfolio", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # deposit | withdraw | external
    Column("asset", String(16), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("price", Float, nullable=False),
    Column("value", Float, nullable=False),
    Column("address", String(128), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("state", String(16), nullable=False, server_default="done"),  # done | pending | sending | not_sent
    Column("client_id", String(64), nullable=True, unique=True),  # a withdrawal's id at the venue
)

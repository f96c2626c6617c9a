"""The fleet's tables (SQLAlchemy Core), created on first use beside the journal's.

``fleet_portfolios``  one row per portfolio: its config (TOML text, no secret in it), the folder
                      its relative paths resolve in, its check interval, the next slot to check,
                      whether it is paused, and the last slot's outcome.
``fleet_slots``       one row per slot a worker started: when it started and finished (on the
                      fleet's clock, and on the wall clock), by which worker, how often, and how it
                      ended; lateness is read from it.
``fleet_clock``       the fleet's clock: simulated time = anchor + (database time - wall anchor) x
                      speed (speed 1, no offset: the wall clock); slots are due on this clock.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

portfolios = Table(
    "fleet_portfolios", metadata,
    Column("name", String(64), primary_key=True),
    Column("config", Text, nullable=False),
    Column("home", Text, nullable=False),
    Column("every_seconds", Float, nullable=False),
    Column("next_slot", DateTime(timezone=True), nullable=False, index=True),
    Column("paused", Boolean, nullable=False, server_default="false"),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("last_slot", DateTime(timezone=True), nullable=True),
    Column("last_outcome", String(24), nullable=True),  # checked | rebalanced | failed | needs_attention | ...
    Column("last_error", Text, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
)

slots = Table(
    "fleet_slots", metadata,
    Column("name", String(64), primary_key=True),
    Column("slot", DateTime(timezone=True), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("finished_wall", DateTime(timezone=True), nullable=True),  # the database's wall clock
    Column("worker", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("outcome", String(24), nullable=True),
    Column("error", Text, nullable=True),
)

clock = Table(
    "fleet_clock", metadata,
    Column("id", Integer, primary_key=True),
    Column("sim_anchor", Float, nullable=False),
    Column("wall_anchor", Float, nullable=False),
    Column("speed", Float, nullable=False),
)

"""The journal: checks, runs, legs, fills and transfers (SQLAlchemy 2, Alembic migrations)."""

from trimtab.journal.records import CheckRecord, LegRecord, PlanRecord, RunRecord, ToolCallRecord, client_id
from trimtab.journal.store import Journal, StaleState

__all__ = ["CheckRecord", "Journal", "LegRecord", "PlanRecord", "RunRecord", "ToolCallRecord", "StaleState", "client_id"]

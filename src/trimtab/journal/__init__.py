"""The journal: checks, runs, legs, fills and transfers (SQLAlchemy 2, Alembic migrations).

``Journal`` and ``StaleState`` are imported on first use, so that a command that only reads a SQLite
journal (``status``, through ``sqlite_reader.py``) never imports SQLAlchemy."""

from trimtab.journal.records import CheckRecord, LegRecord, PlanRecord, RunRecord, ToolCallRecord, client_id
from trimtab.lazy import lazy_exports

__all__ = ["CheckRecord", "Journal", "LegRecord", "PlanRecord", "RunRecord", "StaleState", "ToolCallRecord", "client_id"]
__getattr__, __dir__ = lazy_exports(__name__, {"Journal": "trimtab.journal.store", "StaleState": "trimtab.journal.store"},
                                    globals())

"""The Purple Flea venues' own record of writes, because the APIs take no client id.

Before each POST the venue records its *intent* under our client id (what it is about to do and
the state it saw first); after it, the answer. A client id whose intent has no answer is one whose
fate must be reconciled from the venue's positions and history before anything is sent again.
One SQLite file next to the config; every write is one transaction. Keys are never stored here.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS writes (
    client_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    step TEXT NOT NULL,
    intent TEXT NOT NULL,
    result TEXT
);
"""


class Ledger:
    """``client id -> (step, intent, result)`` in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, client_id: str) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
        """``(step, intent, result)`` for ``client_id``, or None when nothing was ever recorded."""
        row = self._db.execute("SELECT step, intent, result FROM writes WHERE client_id = ?", (client_id,)).fetchone()
        if row is None:
            return None
        return row[0], json.loads(row[1]), json.loads(row[2]) if row[2] else None

    def record(self, client_id: str, kind: str, step: str, intent: dict[str, Any],
               result: dict[str, Any] | None = None) -> None:
        """Write (or overwrite) the record of ``client_id`` at ``step``."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO writes VALUES (?, ?, ?, ?, ?)",
                (client_id, kind, step, json.dumps(intent), json.dumps(result) if result is not None else None))

    def records(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(client id, step, intent)`` of every record of ``kind``."""
        rows = self._db.execute("SELECT client_id, step, intent FROM writes WHERE kind = ?", (kind,)).fetchall()
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def forget(self, client_id: str) -> None:
        """Drop an intent that reconciliation proved was never carried out (so it may be sent)."""
        with self._db:
            self._db.execute("DELETE FROM writes WHERE client_id = ?", (client_id,))

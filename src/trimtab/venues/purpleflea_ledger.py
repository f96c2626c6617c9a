"""The Purple Flea venues' own record of writes, because the APIs take no client id.

Before each POST the venue records its *intent* under our client id (what it is about to do and
the state it saw first); after it, the answer. A client id whose intent has no answer is one whose
fate must be reconciled from the venue's positions and history before anything is sent again.
One SQLite file next to the config; every write is one transaction. Keys are never stored here.

It also keeps the pace of calls whose limit is shared (``take``): every trimtab process on one
config (``trimtab run`` and an MCP server, say) opens the same file, so their calls are counted
together, in one transaction each, and together they stay within the limit.
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
CREATE TABLE IF NOT EXISTS paced (
    kind TEXT NOT NULL,
    at REAL NOT NULL
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

    def take(self, kind: str, now: float, per_minute: int) -> bool:
        """Count one ``kind`` call at ``now`` (Unix seconds) and return True, unless ``per_minute``
        of them were already counted in the last 60 s by any process using this file: then False.
        Calls stamped more than 60 s ahead of ``now`` (a clock that went back) stop counting."""
        self._db.execute("BEGIN IMMEDIATE")  # one writer at a time: two processes cannot both take the last
        try:
            self._db.execute("DELETE FROM paced WHERE kind = ? AND (at <= ? OR at > ?)", (kind, now - 60, now + 60))
            (taken,) = self._db.execute("SELECT COUNT(*) FROM paced WHERE kind = ?", (kind,)).fetchone()
            if taken >= per_minute:
                self._db.execute("COMMIT")
                return False
            self._db.execute("INSERT INTO paced VALUES (?, ?)", (kind, now))
            self._db.execute("COMMIT")
            return True
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def forget(self, client_id: str) -> None:
        """Drop an intent that reconciliation proved was never carried out (so it may be sent)."""
        with self._db:
            self._db.execute("DELETE FROM writes WHERE client_id = ?", (client_id,))

"""The journal marker: a small JSON file next to the config that remembers this portfolio has traded.

A journal that was deleted, emptied or moved would otherwise be created afresh without a word, and
with it the daily cap and the history would start again (a rebalance the cap had refused would go
through). The marker lives beside the config, not in the journal or on a venue, so it works the same
for every venue and for a journal on PostgreSQL. See docs/EXECUTION.md, "A journal that went missing".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from trimtab.errors import ConfigError


@dataclass(frozen=True)
class JournalMarker:
    """The marker file at ``path`` (``trimtab.journal.json`` beside ``trimtab.toml``)."""

    path: Path

    @classmethod
    def beside(cls, config_path: Path) -> JournalMarker:
        return cls(config_path.parent / f"{config_path.stem}.journal.json")

    def read(self) -> dict[str, Any] | None:
        """What the marker records, or None when there is no marker (this portfolio never traded,
        or traded before markers existed). Raise ``ConfigError`` for a marker that is not JSON."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ConfigError(f"The journal marker {self.path} cannot be read: {e.strerror}.") from None
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "first_run" not in document:
            raise ConfigError(f"The journal marker {self.path} is damaged; delete it if the journal "
                              "it names is the right one, and trimtab writes it again.")
        return document

    def record(self, *, portfolio: str, journal: str, run_id: str, at: datetime) -> None:
        """Write the marker (atomically) for the first run of ``portfolio`` recorded in ``journal``."""
        document = {"portfolio": portfolio, "journal": journal, "first_run": run_id, "first_run_at": at.isoformat(),
                    "note": "trimtab keeps this file so that a lost or emptied journal is noticed; "
                            "see docs/EXECUTION.md. Do not delete it to get past a refusal: use --new-journal."}
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as e:
            raise ConfigError(f"The journal marker {self.path} cannot be written: {e.strerror}; "
                              "make the config's folder writable.") from None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def hold(self, journal: Any, name: str, portfolio: str, *, new_journal: bool = False) -> bool:
        """Hold ``journal`` (named ``name``) to this marker: refuse a journal with no run of
        ``portfolio`` when the marker says the portfolio has traded (it was deleted, emptied or
        moved), unless ``new_journal``; write the marker now for a journal that has runs but no
        marker yet. Return True when the marker is to be written with the first run from now on.

        Raise ``ConfigError`` (exit 2) naming the marker, the journal and ``--new-journal``.
        ``journal`` is anything with ``runs(portfolio, limit=...)``: the ``Journal``, or the
        ``SqliteReader`` that ``status`` reads with."""
        recorded = self.read()
        newest = journal.runs(portfolio, limit=1)
        if recorded is not None and not newest:
            if not new_journal:
                raise ConfigError(
                    f"This portfolio has traded before (run {recorded['first_run']} on "
                    f"{str(recorded.get('first_run_at', '?'))[:10]}, says {self.path}), but the journal {name} has no "
                    "run of it: it was deleted, emptied or moved, and a new one would reset the daily cap and the "
                    "history. Restore it, or pass --new-journal (to status, rebalance or run) to start a new journal.")
            self.clear()
            recorded = None
        if recorded is None and newest:
            self.record(portfolio=portfolio, journal=name, run_id=newest[0].id, at=newest[0].created_at)
            return False
        return recorded is None

"""The reads ``trimtab status`` makes, straight from a SQLite journal file with the stdlib driver.

``status`` on a paper portfolio has a start-up budget of 0.35 s (issue 16), and importing SQLAlchemy
alone takes about 0.12 s of it. Status only reads: runs, the checks' times and values, the flows and
the bridges of a run in flight. ``SqliteReader.open`` answers those reads from a journal that exists
and is already at the newest schema (``version.HEAD``); for anything else (no file yet, a migration
due, PostgreSQL) it returns None and the caller opens the full ``Journal``, which creates or migrates.

The rows are the ones SQLAlchemy wrote (``journal/schema.py``): times as ``YYYY-MM-DD HH:MM:SS.ffffff``
text in UTC, JSON as text. ``tests/test_journal_sqlite_reader.py`` holds every method here to the
``Journal`` method of the same name on the same databases.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from trimtab.errors import ConfigError
from trimtab.journal.marker import JournalMarker
from trimtab.journal.records import RunRecord, as_utc
from trimtab.journal.unusable import unusable_sentence
from trimtab.journal.version import HEAD

_RUN_FIELDS = {f.name for f in fields(RunRecord)}

#: SQLAlchemy's storage format for ``DateTime`` on SQLite; text in this format sorts as time does.
_STORED = "%Y-%m-%d %H:%M:%S.%f"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL; None for any other URL (a memory or URI database too)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url.removeprefix(prefix)
    return None if path in ("", ":memory:") or path.startswith("file:") else Path(path)


def _stored(moment: datetime) -> str:
    return moment.strftime(_STORED)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else as_utc(datetime.fromisoformat(text))


class SqliteReader:
    """Read-only answers from one SQLite journal at ``HEAD``; see the module docstring."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.name = str(path)  # how errors and the marker name a SQLite journal: its file
        self._connection = connection
        self._declared: dict[str, dict[str, str]] = {}

    @classmethod
    def open(cls, url: str) -> SqliteReader | None:
        """A reader on the journal at ``url``, or None when it is not a SQLite file at ``HEAD``."""
        path = sqlite_path(url)
        if path is None or not path.is_file():
            return None
        try:
            connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
        except sqlite3.Error:
            return None  # the full Journal names the problem
        try:
            head = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:  # no such table (a file being created), damaged, not a database
            head = None
        if head is None or head[0] != HEAD:
            connection.close()
            return None
        return cls(path, connection)

    def close(self) -> None:
        self._connection.close()

    def check_marker(self, marker: JournalMarker, portfolio: str, *, new_journal: bool = False) -> None:
        """As ``Journal.check_marker``; a reader records no run, so there is no first run to mark."""
        marker.hold(self, self.name, portfolio, new_journal=new_journal)

    def _fetch(self, sql: str, parameters: Iterable[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Column names and rows of ``sql``; a journal SQLite cannot read is one ``ConfigError``
        naming it and what to do, as ``Journal`` says it (``journal/unusable.py``)."""
        try:
            cursor = self._connection.execute(sql, list(parameters))
            rows = cursor.fetchall()
        except sqlite3.Error as e:
            raise (unusable_sentence(e, self.name)
                   or ConfigError(f"The journal {self.name} cannot be read ({e}); run the command again.")) from None
        return [d[0] for d in cursor.description or ()], rows

    def _rows(self, table: str, where: str, parameters: list[Any], order: str, limit: int | None = None) -> list[dict]:
        """Rows of ``table`` as dicts, each column converted as SQLAlchemy would read it: a
        ``DATETIME`` as a UTC ``datetime``, ``JSON`` parsed, ``BOOLEAN`` as a bool."""
        sql = f"SELECT * FROM {table} WHERE {where} ORDER BY {order}" + ("" if limit is None else " LIMIT ?")
        names, rows = self._fetch(sql, [*parameters, *([] if limit is None else [limit])])
        convert = [_READ.get(self._types(table).get(name, ""), _same) for name in names]
        return [{name: f(value) for name, f, value in zip(names, convert, row, strict=True)} for row in rows]

    def _types(self, table: str) -> dict[str, str]:
        if table not in self._declared:
            self._declared[table] = {row[1]: row[2].upper() for row in self._fetch(f"PRAGMA table_info({table})")[1]}
        return self._declared[table]

    # -- runs --------------------------------------------------------------------------------------

    def runs(self, portfolio: str, *, states: Iterable[str] | None = None, limit: int = 50) -> list[RunRecord]:
        states = None if states is None else list(states)
        where, parameters = "portfolio = ?" + _state_in(states), [portfolio, *(states or ())]
        rows = self._rows("runs", where, parameters, "created_at DESC, id DESC", limit)
        return [RunRecord(**{k: v for k, v in row.items() if k in _RUN_FIELDS}) for row in rows]

    def count_runs(self, portfolio: str) -> int:
        return self._fetch("SELECT count(*) FROM runs WHERE portfolio = ?", [portfolio])[1][0][0]

    def transfers(self, run_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        ids = None if run_ids is None else list(run_ids)
        where = "1" if ids is None else f"run_id IN ({', '.join('?' * len(ids))})"
        return self._rows("transfers", where, ids or [], "client_id")

    # -- checks ------------------------------------------------------------------------------------

    def last_check_at(self, portfolio: str) -> datetime | None:
        return _moment(self._fetch("SELECT max(at) FROM checks WHERE portfolio = ?", [portfolio])[1][0][0])

    def check_values(self, portfolio: str, *, since: datetime | None = None) -> list[tuple[datetime, float]]:
        sql, parameters = "SELECT at, total_value FROM checks WHERE portfolio = ?", [portfolio]
        if since is not None:
            sql += " AND at > ?"
            parameters.append(_stored(since))
        return [(_moment(at), float(value)) for at, value in self._fetch(sql + " ORDER BY at, id", parameters)[1]]  # type: ignore[misc]

    # -- flows -------------------------------------------------------------------------------------

    def flows(self, portfolio: str, *, since: datetime | None = None,
              states: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """The flows' columns (``journal/flows.py`` makes them ``FlowRow``s), oldest first."""
        where, parameters = "portfolio = ?", [portfolio]
        if since is not None:
            where, parameters = where + " AND at > ?", [*parameters, _stored(since)]
        return self._rows("flows", where + _state_in(states), [*parameters, *(states or ())], "at, id")


def _state_in(states: list[str] | tuple[str, ...] | None) -> str:
    return "" if states is None else f" AND state IN ({', '.join('?' * len(states))})"


def _same(value: Any) -> Any:
    return value


_READ = {"DATETIME": _moment, "JSON": lambda v: None if v is None else json.loads(v),
         "BOOLEAN": lambda v: None if v is None else bool(v)}

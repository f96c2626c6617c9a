"""One run per portfolio at a time: an exclusive ``flock`` on a file next to the config, or, when the
journal is on PostgreSQL, an advisory lock in that database (``DatabaseLock``).

The kernel drops a ``flock`` when its process dies, however it dies, so a killed run never holds
the lock for ever; the file keeps the holder's pid only to name it in the refusal.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Self

from trimtab.errors import Denied


class PortfolioLock:
    """``with PortfolioLock(path):`` holds the lock or raises ``Denied(RUN_LOCKED)`` at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise Denied("RUN_LOCKED", f"another trimtab process (pid {holder}) is already rebalancing this "
                                       "portfolio; wait for it to finish.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class DatabaseLock:
    """``with DatabaseLock(engine, portfolio):`` holds a PostgreSQL session advisory lock on
    ``portfolio`` or raises ``Denied(RUN_LOCKED)`` at once.

    The lock lives on one connection taken from ``engine``'s pool for as long as it is held, so it
    guards every host that uses the same database, and PostgreSQL drops it when that connection
    ends, however the holder died (a killed process, a lost machine once TCP gives up). The key is
    64 bits of SHA-256 over the portfolio's name, so two portfolios practically never share one.
    """

    def __init__(self, engine, portfolio: str) -> None:  # type: ignore[no-untyped-def]
        self.engine, self.portfolio = engine, portfolio
        self._connection = None

    @property
    def key(self) -> int:
        return advisory_key(self.portfolio)

    def __enter__(self) -> Self:
        connection = self.engine.connect()
        try:
            taken = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({self.key})").scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            holder = _lock_holder(connection, self.key)
            connection.close()
            raise Denied("RUN_LOCKED", f"another trimtab process ({holder}) is already rebalancing portfolio "
                                       f"{self.portfolio}; wait for it to finish.")
        self._connection = connection
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({self.key})")
            connection.commit()
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection: drop it, and the lock goes with it
            connection.invalidate()
            connection.close()


def advisory_key(portfolio: str) -> int:
    """The signed 64-bit advisory lock key of ``portfolio`` (stable across processes and hosts)."""
    import hashlib

    digest = hashlib.sha256(b"trimtab-run:" + portfolio.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_holder(connection, key: int) -> str:  # type: ignore[no-untyped-def]
    """``pid N on HOST`` of the session holding advisory lock ``key``, as far as this user may see."""
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    try:
        row = connection.exec_driver_sql(
            "SELECT a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.classid = {classid}::bigint::oid "
            f"AND l.objid = {objid}::bigint::oid AND l.objsubid = 1 AND l.granted LIMIT 1").first()
        connection.rollback()
    except Exception:  # noqa: BLE001 - naming the holder is a courtesy
        return "holder unknown"
    if row is None:
        return "holder unknown"
    return f"database session {row[0]}" + (f" from {row[1]}" if row[1] else "")


def portfolio_lock(journal, portfolio: str, path: Path):  # type: ignore[no-untyped-def]
    """The lock for one portfolio's runs: an advisory lock in the journal's database when the
    journal is on PostgreSQL (so two hosts cannot run one portfolio twice), else the ``flock`` on
    ``path`` beside the config."""
    if journal.engine.dialect.name == "postgresql":
        return DatabaseLock(journal.engine, portfolio)
    return PortfolioLock(path)

"""The paper account's SQLite file: its schema, its settings, and opening it safely from many processes.

One file is one account. Every write runs in ``BEGIN IMMEDIATE`` so two processes never interleave
a read-check-write; readers see committed state only.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trimtab.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 1), sim_anchor REAL NOT NULL,
    wall_anchor REAL NOT NULL);
CREATE TABLE IF NOT EXISTS balances (asset TEXT NOT NULL, chain TEXT NOT NULL, quantity REAL NOT NULL,
    PRIMARY KEY (asset, chain));
CREATE TABLE IF NOT EXISTS prices (asset TEXT PRIMARY KEY, price REAL NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS markets (asset TEXT PRIMARY KEY, chain TEXT NOT NULL, amount_step REAL,
    amount_precision INTEGER, min_quantity REAL NOT NULL, min_notional REAL NOT NULL, taker_fee REAL,
    halted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS orders (client_order_id TEXT PRIMARY KEY, asset TEXT NOT NULL, side TEXT NOT NULL,
    chain TEXT NOT NULL, quantity REAL NOT NULL, price REAL NOT NULL, mid_price REAL NOT NULL,
    value REAL NOT NULL, fee REAL NOT NULL, status TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS controls (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (client_id TEXT PRIMARY KEY, asset TEXT NOT NULL, amount REAL NOT NULL,
    fee REAL NOT NULL, from_chain TEXT NOT NULL, to_chain TEXT NOT NULL, started_at REAL NOT NULL,
    arrives_at REAL NOT NULL, settled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS withdrawals (client_id TEXT PRIMARY KEY, asset TEXT NOT NULL, amount REAL NOT NULL,
    address TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sends (client_id TEXT PRIMARY KEY, asset TEXT NOT NULL, amount REAL NOT NULL,
    fee REAL NOT NULL, chain TEXT NOT NULL, address TEXT NOT NULL, started_at REAL NOT NULL,
    arrives_at REAL NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS deposits (client_id TEXT PRIMARY KEY, asset TEXT NOT NULL, amount REAL NOT NULL,
    chain TEXT NOT NULL, at REAL NOT NULL);
"""


@dataclass(frozen=True, kw_only=True)
class PaperSettings:
    """How the paper venue behaves.

    ``fee``: taker fee rate; ``slippage_bps``: fills are this many basis points worse than the
    mid price; ``order_latency``: real seconds an order takes (half before it is recorded, half
    after, so a run can be killed either side); ``bridge_fee``: fraction of a bridged amount kept
    by the bridge; ``bridge_minutes``: simulated latency range of a bridge (each transfer's is
    fixed by its client id); ``clock_speed``: simulated seconds per real second (0 freezes the
    clock, which then moves only by ``advance``); ``price_source``: ``fixed`` (the prices table),
    ``history`` (the shipped hourly closes at the simulated time) or ``venue`` (live quotes read
    from another venue, the price feed; the clock must then follow the wall clock, speed 1).
    ``move_fee`` / ``move_minutes``: what a send to another venue keeps and how long it travels
    (``send``); ``can_send`` / ``can_receive`` false: this account cannot move funds out / in.
    """

    quote: str = "USDC"
    fee: float = 0.001
    slippage_bps: float = 5.0
    order_latency: float = 0.0
    bridge_fee: float = 0.0005
    bridge_minutes: tuple[float, float] = (2.0, 15.0)
    clock_speed: float = 60.0
    price_source: str = "fixed"
    move_fee: float = 0.001
    move_minutes: tuple[float, float] = (5.0, 30.0)
    can_send: bool = True
    can_receive: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.fee < 1 or not 0 <= self.bridge_fee < 1:
            raise ConfigError("Paper venue: fee and bridge_fee must be fractions between 0 and 1.")
        if not 0 <= self.slippage_bps < 10_000:  # 10,000 bps would sell at a price of zero
            raise ConfigError(f"Paper venue: slippage_bps {self.slippage_bps!r} must be from 0 to below 10000.")
        if not (0 <= self.order_latency < math.inf and 0 <= self.clock_speed < math.inf):
            raise ConfigError("Paper venue: order_latency and clock_speed must be finite and not negative.")
        if not 0 <= self.move_fee < 1 or not 0 <= self.move_minutes[0] <= self.move_minutes[1] < math.inf:
            raise ConfigError(f"Paper venue: move_fee {self.move_fee!r} and move_minutes {self.move_minutes} must be "
                              "a fraction below 1 and [low, high] with 0 <= low <= high.")
        low, high = self.bridge_minutes
        if not 0 <= low <= high < math.inf:
            raise ConfigError(f"Paper venue: bridge_minutes {self.bridge_minutes} must be [low, high] with 0 <= low <= high.")
        if self.price_source not in ("fixed", "history", "venue"):
            raise ConfigError(f"Paper venue: price_source {self.price_source!r} must be fixed, history or venue.")
        if self.price_source == "venue" and self.clock_speed != 1:
            raise ConfigError("Paper venue: prices read from another venue are live, so clock_speed must be 1.")


def damaged(path: Path, error: sqlite3.Error) -> Exception:
    """The one sentence for an account file SQLite cannot use (corrupt, not a database, read-only,
    disk full); other errors (a lock held too long) are returned unchanged."""
    words = str(error)
    if "malformed" in words or "not a database" in words:
        return ConfigError(f"The paper account {path} is damaged ({words}); restore it from a copy, or start a new "
                           "account with `trimtab init --venue paper --force`.")
    if "readonly" in words or "read-only" in words:
        return ConfigError(f"The paper account {path} is read-only ({words}); make it and its folder writable "
                           f"(chmod u+w {path}).")
    if "disk" in words or "unable to open" in words:
        return ConfigError(f"The paper account {path} cannot be used ({words}); check the disk and the file.")
    return error


class _Cursor(sqlite3.Cursor):
    """A cursor whose SQLite errors name the account file (see :func:`damaged`)."""

    def _guard(self, call, *args):  # type: ignore[no-untyped-def]
        try:
            return call(*args)
        except sqlite3.Error as e:
            raise damaged(self.connection.path, e) from None  # type: ignore[attr-defined]

    def execute(self, *args):  # type: ignore[no-untyped-def, override]
        return self._guard(super().execute, *args)

    def executemany(self, *args):  # type: ignore[no-untyped-def, override]
        return self._guard(super().executemany, *args)

    def executescript(self, *args):  # type: ignore[no-untyped-def, override]
        return self._guard(super().executescript, *args)

    def fetchone(self):  # type: ignore[no-untyped-def]
        return self._guard(super().fetchone)

    def fetchall(self):  # type: ignore[no-untyped-def]
        return self._guard(super().fetchall)

    def __next__(self):  # type: ignore[no-untyped-def]
        return self._guard(super().__next__)


class _Connection(sqlite3.Connection):
    """A connection to one account file whose every statement goes through :class:`_Cursor`."""

    path: Path

    def execute(self, *args):  # type: ignore[no-untyped-def, override]
        return self.cursor(_Cursor).execute(*args)

    def executemany(self, *args):  # type: ignore[no-untyped-def, override]
        return self.cursor(_Cursor).executemany(*args)

    def executescript(self, *args):  # type: ignore[no-untyped-def, override]
        return self.cursor(_Cursor).executescript(*args)


def connect(path: Path) -> sqlite3.Connection:
    """Open the account file in autocommit mode (transactions are explicit), waiting on locks.

    A file SQLite cannot use raises ``ConfigError`` naming it and what to do, at open or at any
    later statement."""
    connection = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False,
                                 factory=_Connection)
    connection.path = path  # type: ignore[attr-defined]
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


@contextmanager
def write(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def save_settings(connection: sqlite3.Connection, settings: PaperSettings) -> None:
    rows = [(key, json.dumps(value)) for key, value in asdict(settings).items()]
    connection.executemany("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", rows)


def load_settings(connection: sqlite3.Connection, path: Path) -> PaperSettings:
    try:
        rows = dict(connection.execute("SELECT key, value FROM settings").fetchall())
    except sqlite3.OperationalError as e:  # no settings table: another kind of SQLite file
        raise ConfigError(f"{path} is not a paper account ({e}); create one with `trimtab init --venue paper`.") from None
    if not rows:
        raise ConfigError(f"{path} is not a paper account; create one with `trimtab init --venue paper`.")
    values = {key: json.loads(value) for key, value in rows.items()}
    values["bridge_minutes"] = tuple(values.get("bridge_minutes", (2.0, 15.0)))
    values["move_minutes"] = tuple(values.get("move_minutes", (5.0, 30.0)))
    return PaperSettings(**values)

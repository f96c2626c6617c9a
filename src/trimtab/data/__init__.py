"""Real price history shipped with trimtab (Binance spot closes; see README.md beside this file).

``load_prices`` returns a wide DataFrame of closes: a UTC DatetimeIndex and one column per asset.
The first read of a CSV builds a binary cache (keyed by the file's size and mtime) so later loads
take milliseconds instead of about a second.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from trimtab.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR = Path(__file__).resolve().parent
SHIPPED = {"daily": DATA_DIR / "prices_daily.csv", "hourly": DATA_DIR / "prices_hourly.csv.gz"}


def load_prices(
    freq: str = "daily",
    symbols: list[str] | tuple[str, ...] | None = None,
    start: str | None = None,
    end: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Closes as a wide DataFrame (UTC index, one column per asset), from the shipped history
    (``freq`` daily or hourly) or from ``path``: a CSV or CSV.gz in the shipped long format
    (``date`` or ``timestamp``, ``symbol``, ``close``, ...).

    ``start`` and ``end`` are inclusive; a bare date as ``end`` on hourly data means through the
    last hour of that day. With ``symbols`` given, rows where one of them has no price (before
    its listing, after its delisting) are dropped, so every row has a price for every column;
    without, every asset is returned and missing prices are NaN. Raise ``InputError``
    for an unknown frequency or symbol, a missing or malformed file (naming the first bad row), a
    start after the end, or a range with no rows (naming the symbols and the range the data covers).
    """
    import pandas as pd

    close = _read_wide(Path(path) if path else _shipped(freq))
    if symbols:
        close = close[chosen_symbols(symbols, list(close.columns))]
    first, last = _bound(start, close.index, end=False), _bound(end, close.index, end=True)
    if first is not None and last is not None and first > last:
        raise start_after_end(start, end)
    covered = close.dropna(how="any" if symbols else "all")
    close = covered.loc[first:last]
    if close.empty:
        raise no_prices(list(close.columns) if symbols else None, start, end,
                        covered.index.asi8[[0, -1]] if len(covered) else None)
    assert isinstance(close.index, pd.DatetimeIndex)
    return close


def start_after_end(start: str | None, end: str | None) -> InputError:
    return InputError(f"The start ({start}) is after the end ({end}): give a start on or before the end.")


def no_prices(symbols: list[str] | None, start: str | None, end: str | None, covered) -> InputError:  # type: ignore[no-untyped-def]
    """The sentence for a range with no rows: which symbols, and what range the data covers for
    them (``covered``: the first and last time in ns where all have prices, or None)."""
    names = ", ".join(symbols) if symbols else "any asset"
    wanted = (f"between {start} and {end}" if start and end else f"from {start} on" if start
              else f"up to {end}" if end else "at all")
    if covered is None:
        return InputError(f"No prices for {names} {wanted}: this data never has a price for all of them at once.")
    first, last = (_moment_text(int(t)) for t in covered)
    return InputError(f"No prices for {names} {wanted}: the data covers {first} to {last}"
                      f"{' for all of them' if symbols and len(symbols) > 1 else ''}.")


def _moment_text(ns: int) -> str:
    """A time in ns as ``YYYY-MM-DD``, with ``HH:MM`` when it is not midnight (UTC)."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return f"{moment:%Y-%m-%d}" if (moment.hour, moment.minute) == (0, 0) else f"{moment:%Y-%m-%d %H:%M}"


def _shipped(freq: str) -> Path:
    try:
        return SHIPPED[str(freq).lower()]
    except KeyError:
        raise InputError(f"Unknown data frequency {freq!r}: use daily or hourly.") from None


def _bound(text: str | None, index: pd.DatetimeIndex, *, end: bool) -> pd.Timestamp | None:
    import pandas as pd

    if text is None or text == "":
        return None
    try:
        moment = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(f"{text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    bare_date = len(str(text).strip()) <= 10
    if end and bare_date:
        moment = moment + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return moment


def _read_wide(path: Path) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if not path.exists():
        raise InputError(f"Price file {path} does not exist.")
    cache = _cache_path(path)
    cached = read_cache(cache)
    if cached is not None:
        times, columns, close = cached
        index = pd.DatetimeIndex(times.astype("datetime64[ns]"), tz="UTC", name="time")
        return pd.DataFrame(close, index=index, columns=columns)
    try:
        long = pd.read_csv(path)
    except Exception as e:
        raise InputError(f"Cannot read price file {path}: {e}") from e
    time_column = next((c for c in ("timestamp", "date", "time", "datetime") if c in long.columns), None)
    missing = [c for c in ("symbol", "close") if c not in long.columns]
    if time_column is None or missing:
        raise InputError(
            f"{path} is not in the long price format: it needs columns date (or timestamp), symbol and close."
        )
    try:
        long[time_column] = pd.to_datetime(long[time_column], utc=True)
    except (ValueError, TypeError):  # find the first row that is not a time, and name it
        times = pd.to_datetime(long[time_column], utc=True, errors="coerce", format="mixed")
        _refuse_first(path, long, times.isna(), time_column, "is not a date or time")
        raise InputError(f"{path}: the {time_column} column mixes time zones or formats; use one, e.g. "
                         "2024-01-31 or 2024-01-31T13:00:00Z.") from None
    long["symbol"] = long["symbol"].astype(str).str.upper()
    if long.duplicated([time_column, "symbol"]).any():
        raise InputError(f"{path} has more than one close for the same symbol and time.")
    close = pd.to_numeric(long["close"], errors="coerce")
    _refuse_first(path, long, close.isna() & long["close"].notna(), "close", "is not a number")
    long["close"] = close
    if (long["close"] <= 0).any() or long["close"].isna().any():
        raise InputError(f"{path} has a zero, negative or missing close price.")
    wide = long.pivot(index=time_column, columns="symbol", values="close").sort_index().astype("float64")
    wide.index = wide.index.as_unit("ns")
    wide.index.name = "time"
    wide.columns.name = None
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp.npz")
            np.savez(
                tmp,
                close=wide.to_numpy(dtype="float64"),
                index=wide.index.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype("int64"),
                columns=np.array(wide.columns, dtype=str),
            )
            tmp.replace(cache)
        except OSError:
            pass
    return wide


def _refuse_first(path: Path, long: pd.DataFrame, bad: pd.Series, column: str, what: str) -> None:
    """Raise ``InputError`` naming the first row where ``bad`` holds (its line in the file)."""
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputError(f"{path}, data row {row + 1}: {column} {long[column].iloc[row]!r} {what}.")


def chosen_symbols(symbols: list[str] | tuple[str, ...], columns: list[str]) -> list[str]:
    """``symbols`` as canonical column names; raise ``InputError`` naming any the data lacks."""
    wanted = [str(s).strip().upper() for s in symbols]
    unknown = [s for s in wanted if s not in columns]
    if unknown:
        raise InputError(f"No price history for {', '.join(unknown)}; the data has {', '.join(columns)}.")
    return wanted


def read_cache(cache: Path | None):  # type: ignore[no-untyped-def]
    """``(times in ns, columns, closes)`` from a binary cache, or None when it is missing or broken
    (it is then rebuilt from the CSV)."""
    import numpy as np

    if cache is None or not cache.exists():
        return None
    try:
        with np.load(cache, allow_pickle=False) as saved:
            return saved["index"].astype(np.int64), [str(c) for c in saved["columns"]], saved["close"]
    except (OSError, ValueError, KeyError):
        return None


def _cache_path(path: Path) -> Path | None:
    root = os.environ.get("TRIMTAB_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "trimtab"
    )
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    return Path(root) / f"prices-{key}.npz"

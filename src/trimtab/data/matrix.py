"""Closes as plain numpy arrays, without importing pandas when the binary cache exists.

``load_matrix`` answers exactly what ``load_prices`` answers (same symbols, same inclusive range,
a bare end date covering its whole day, rows with a missing price dropped), as ``PriceMatrix``.
It reads the ``.npz`` cache ``load_prices`` writes; on a first run (no cache yet), or for a date
it does not parse itself, it asks ``load_prices``. Sweeps use it so a whole ``trimtab sweep``
process does not pay about 0.25 s to import pandas.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SIMPLE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True, eq=False)
class PriceMatrix:
    """``prices[bar, column]`` with ``times`` in ns since the epoch (UTC)."""

    times: np.ndarray
    columns: tuple[str, ...]
    prices: np.ndarray


def load_matrix(
    freq: str = "daily",
    symbols: list[str] | tuple[str, ...] | None = None,
    start: str | None = None,
    end: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> PriceMatrix:
    """``load_prices(freq, symbols, start, end, path)`` as arrays; raise ``InputError`` as it does."""
    from trimtab.data import _cache_path, _shipped, chosen_symbols, no_prices, read_cache, start_after_end

    source = Path(path) if path else _shipped(freq)
    cache = _cache_path(source) if source.exists() else None
    simple = all(t is None or t == "" or _SIMPLE_DATE.match(str(t).strip()) for t in (start, end))
    cached = read_cache(cache) if simple and symbols else None
    if cached is None:
        return _from_pandas(freq, symbols, start, end, path)
    times, columns, close = cached
    wanted = chosen_symbols(symbols, columns)
    prices = close[:, [columns.index(s) for s in wanted]]
    covered = ~np.isnan(prices).any(axis=1)
    keep = covered.copy()
    first = _ns(start) if start else None
    if end:
        bound = _ns(end)
        last = bound + _DAY_NS - 1000 if len(str(end).strip()) <= 10 else bound
        if first is not None and first > last:
            raise start_after_end(start, end)
        keep &= times <= last
    if first is not None:
        keep &= times >= first
    if not keep.any():
        raise no_prices(list(wanted), start, end, times[covered][[0, -1]] if covered.any() else None)
    return PriceMatrix(np.ascontiguousarray(times[keep]), tuple(wanted), np.ascontiguousarray(prices[keep]))


def _ns(text: str) -> int:
    return int(np.datetime64(str(text).strip().replace(" ", "T"), "ns").astype(np.int64))


def _from_pandas(freq, symbols, start, end, path) -> PriceMatrix:
    from trimtab.data import load_prices

    close = load_prices(freq, symbols, start, end, path=path)
    index = close.index.as_unit("ns") if hasattr(close.index, "as_unit") else close.index
    return PriceMatrix(np.ascontiguousarray(index.asi8), tuple(str(c) for c in close.columns),
                       np.ascontiguousarray(close.to_numpy(np.float64)))

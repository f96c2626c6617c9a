"""Prices for the paper venue replayed from the shipped hourly history at a simulated time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from trimtab.errors import OrderRejected
from trimtab.venues.base import Quote


@dataclass(frozen=True)
class HistoryPrices:
    """The last close at or before a moment, per asset, from a wide close table."""

    times: np.ndarray  # int64 nanoseconds since the epoch, sorted
    closes: dict[str, np.ndarray]
    stamps: tuple[datetime, ...]

    @classmethod
    def load(cls, symbols: Iterable[str] | None = None) -> HistoryPrices:
        from trimtab.data import load_prices

        frame = load_prices("hourly", list(symbols) if symbols else None)
        times = frame.index.as_unit("ns").asi8
        return cls(times, {c: frame[c].to_numpy() for c in frame.columns}, tuple(frame.index.to_pydatetime()))

    def at(self, moment: datetime, assets: Iterable[str]) -> Mapping[str, Quote]:
        """Quotes stamped with their bar's time; raise ``OrderRejected`` before the history starts."""
        import pandas as pd

        position = int(np.searchsorted(self.times, pd.Timestamp(moment).value, side="right")) - 1
        if position < 0:
            raise OrderRejected(f"No price history before {moment:%Y-%m-%d %H:%M}.")
        quotes = {}
        for asset in assets:
            series = self.closes.get(asset)
            if series is None or np.isnan(series[position]):
                raise OrderRejected(f"No {asset} price at {moment:%Y-%m-%d %H:%M} in the history.")
            quotes[asset] = Quote(price=float(series[position]), at=self.stamps[position])
        return quotes

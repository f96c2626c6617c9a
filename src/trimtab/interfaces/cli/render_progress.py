"""Progress lines for a run in flight: the executor's events (``engine/progress.py``) as one line
each on stderr, so stdout keeps only the result (one JSON document with ``--json``).

A bridge waits for minutes: it gets a line when sent (route, amount, expected arrival) and a
"still waiting" line at most every ``every`` seconds of real time, then one when it arrives.
Times are the venue's clock, as the journal records them.
"""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Console

from trimtab.engine.progress import ProgressEvent, ProgressKind


class ProgressPrinter:
    """A progress listener that prints each event on ``console`` (see the module docstring)."""

    def __init__(self, console: Console, *, every: float = 30.0) -> None:
        self.console, self.every = console, every
        self._last_wait: dict[tuple, float] = {}

    def __call__(self, event: ProgressEvent) -> None:
        line = self.line(event)
        if line is not None:
            self.console.print(line, markup=False, highlight=False)

    def line(self, event: ProgressEvent) -> str | None:
        """The line for ``event``, or None when a waiting line was printed too recently."""
        kind = event.kind
        if kind is ProgressKind.STAGE_STARTED:
            legs = f"{event.legs} leg" + ("" if event.legs == 1 else "s")
            return f"run {event.run_id}: {event.stage} ({legs}) at {_clock(event.at)}"
        if kind is ProgressKind.ORDER_SENT:
            return f"  sent: {event.side} {event.asset} on {event.chain}"
        if kind is ProgressKind.ORDER_FILLED:
            return f"  filled: {event.side} {event.quantity:.8g} {event.asset} on {event.chain} for {event.value:,.2f}"
        between = ":" in (event.chain or "") and (event.chain or "").split(":")[0] != (event.to_chain or "").split(":")[0]
        route = (f"{'move' if between else 'bridge'} of {_amount(event.quantity)}{event.asset} {event.chain} -> "
                 f"{event.to_chain}")
        if kind is ProgressKind.BRIDGE_SENT:
            self._last_wait[_key(event)] = time.monotonic()  # the next "waiting" line comes ``every`` s later
            return f"  sent: {route}; expected at {_arrival(event)}"
        if kind is ProgressKind.BRIDGE_ARRIVED:
            self._last_wait.pop(_key(event), None)
            return f"  arrived: {route} at {_clock(event.at)}"
        key, now = _key(event), time.monotonic()
        if key in self._last_wait and now - self._last_wait[key] < self.every:
            return None
        self._last_wait[key] = now
        return f"  waiting: {route}; expected at {_arrival(event)}"


def _key(event: ProgressEvent) -> tuple:
    return (event.run_id, event.asset, event.chain, event.to_chain)


def _amount(quantity: float | None) -> str:
    return "" if quantity is None else f"{quantity:.8g} "


def _clock(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _arrival(event: ProgressEvent) -> str:
    if event.eta is None:
        return "an unknown time"
    left = (event.eta - event.at).total_seconds()
    return f"{_clock(event.eta)} (in about {_duration(left)}, venue clock)" if left > 0 else \
        f"{_clock(event.eta)} (due now, venue clock)"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

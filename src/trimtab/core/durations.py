"""Durations as users write them: 30s, 15m, 1h, 2d, 1w."""

from __future__ import annotations

import math
from datetime import timedelta

from trimtab.errors import InputError

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``90s``, ``15m``, ``1h``, ``2d``, ``1w`` (or a number of seconds) into a timedelta.

    Raise ``InputError`` for anything else, including NaN, infinity and durations too long for a
    ``timedelta`` (about 2.7 million years), e.g. ``1e9d``.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        raw = str(text).strip().lower()
        number, unit = (raw, "s") if raw[-1:].isdigit() else (raw[:-1], raw[-1:])
        try:
            seconds = float(number) * _UNITS[unit]
        except (KeyError, ValueError, OverflowError):
            raise InputError(f"{text!r} is not a duration: use e.g. 30s, 15m, 1h, 1d or 1w.") from None
    if not math.isfinite(seconds):
        raise InputError(f"{text!r} is not a duration: it must be a finite number, e.g. 30s, 15m, 1h, 1d or 1w.")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise InputError(f"{text!r} is too long to be a duration; use e.g. 30s, 15m, 1h, 1d or 1w.") from None


def format_duration(period: timedelta) -> str:
    """The shortest exact form: 1 day -> ``1d``, 90 minutes -> ``90m``, 0 -> ``0s``."""
    seconds = int(period.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"

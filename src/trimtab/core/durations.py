"""Durations as users write them: 30s, 15m, 1h, 2d, 1w."""

from __future__ import annotations

from datetime import timedelta

from trimtab.errors import InputError

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``90s``, ``15m``, ``1h``, ``2d``, ``1w`` (or a number of seconds) into a timedelta."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, (int, float)):
        return timedelta(seconds=float(text))
    raw = str(text).strip().lower()
    number, unit = (raw, "s") if raw[-1:].isdigit() else (raw[:-1], raw[-1:])
    try:
        return timedelta(seconds=float(number) * _UNITS[unit])
    except (KeyError, ValueError):
        raise InputError(f"{text!r} is not a duration: use e.g. 30s, 15m, 1h, 1d or 1w.") from None


def format_duration(period: timedelta) -> str:
    """The shortest exact form: 1 day -> ``1d``, 90 minutes -> ``90m``, 0 -> ``0s``."""
    seconds = int(period.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"

"""Options shared by ``backtest``, ``sweep`` and ``compare``: parsing them into core values and
loading the prices they name. Raise ``InputError`` with one sentence on bad input."""

from __future__ import annotations

from pathlib import Path

from trimtab.backtest.spec import BacktestSpec, FeeModel
from trimtab.core.assets import Targets, asset_symbol
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period
from trimtab.errors import InputError
from trimtab.interfaces.parsing import parse_pairs


def parse_targets(text: str, quote: str = "USDC") -> Targets:
    return Targets.of(parse_pairs(text, "targets"), quote)


def parse_symbols(text: str | None, targets: list[Targets]) -> list[str]:
    """``BTC,ETH`` (or space-separated) -> symbols, the quote left out; default: every non-quote
    asset of the targets."""
    if text:
        quotes = {t.quote for t in targets}  # the quote is cash at 1: it has no price series
        return list(dict.fromkeys(s for s in map(asset_symbol, text.replace(",", " ").split()) if s not in quotes))
    return list(dict.fromkeys(a for t in targets for a in t.assets if a != t.quote))


def policy_spec(kind: str, band: float | None, relative_band: float | None, schedule: str | None) -> PolicySpec:
    """The policy the options describe: a threshold policy with no width gets the 5% band;
    calendar and combined default to the monthly schedule; extra widths are ignored where unused."""
    parsed = PolicyKind.parse(kind)
    uses_band = parsed in (PolicyKind.THRESHOLD, PolicyKind.COMBINED)
    uses_schedule = parsed in (PolicyKind.CALENDAR, PolicyKind.COMBINED)
    if uses_band and band is None and relative_band is None:
        band = 0.05
    return PolicySpec(
        kind=parsed,
        band=band,
        relative_band=relative_band,
        schedule=Period.parse(schedule or "monthly") if uses_schedule else None,
    )


def backtest_spec(*, targets: Targets, policy: PolicySpec, mode: str, fee: float, fee_model: str,
                  slippage: float, capital: float, min_trade: float) -> BacktestSpec:
    try:
        parsed_mode = Mode(mode)
    except ValueError:
        raise InputError(f"Unknown mode {mode!r}: use target or band-edge.") from None
    return BacktestSpec(targets=targets, policy=policy, mode=parsed_mode, fee=fee,
                        fee_model=FeeModel.parse(fee_model), slippage=slippage, capital=capital,
                        min_trade=min_trade)


def load_close(*, prices: Path | None, data: str | None, symbols: list[str], start: str | None, end: str | None):
    """The wide close matrix from ``--prices PATH`` or the shipped ``--data`` (daily by default)."""
    from trimtab.data import load_prices

    if prices is not None and data is not None:
        raise InputError("Give either --prices PATH or --data daily|hourly, not both.")
    if not symbols:
        raise InputError("No symbols to backtest: name at least one non-quote asset in --targets or --symbols.")
    return load_prices(data or "daily", symbols, start, end, path=prices)


def parse_range(text: str | None, what: str) -> list[float]:
    """``0.01:0.20:50`` (start:stop:count, both ends included), ``0.02,0.05`` or ``0.05`` -> floats."""
    if text is None or not str(text).strip():
        return []
    raw = str(text).strip()
    if any(word in raw.lower() for word in ("nan", "inf")):
        raise InputError(f"{raw!r} is not a {what} range: every value must be a finite number.")
    try:
        if ":" in raw:
            parts = raw.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1:
                raise ValueError
            if count == 1:
                return [start]
            step = (stop - start) / (count - 1)
            return [start + i * step for i in range(count - 1)] + [stop]
        return [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise InputError(
            f"{raw!r} is not a {what} range: use start:stop:count (e.g. 0.01:0.20:50) or a list (0.02,0.05)."
        ) from None


def parse_names(text: str | None, default: str) -> list[str]:
    """``monthly,quarterly`` -> ``["monthly", "quarterly"]``; empty -> ``[default]``."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    return names or [default]

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
from trimtab.parsing import parse_pairs


def parse_targets(text: str, quote: str = "USDC") -> Targets:
    return Targets.of(parse_pairs(text, "targets"), quote)


def parse_symbols(text: str | None, targets: list[Targets]) -> list[str]:
    """``BTC,ETH`` (or space-separated) -> symbols, the quote left out; default: every non-quote
    asset of the targets. A symbol no target holds is refused: it would only sit at weight 0 and
    move the start to its first price."""
    held = list(dict.fromkeys(a for t in targets for a in t.assets if a != t.quote))
    if not text:
        return held
    quotes = {t.quote for t in targets}  # the quote is cash at 1: it has no price series
    symbols = list(dict.fromkeys(s for s in map(asset_symbol, text.replace(",", " ").split()) if s not in quotes))
    extra = [s for s in symbols if s not in held]
    if extra:
        raise InputError(f"--symbols names {', '.join(extra)}, which no target holds: give "
                         f"{'it' if len(extra) == 1 else 'them'} a weight in --targets "
                         f"(e.g. {extra[0]}=0.1) or leave {'it' if len(extra) == 1 else 'them'} out.")
    return symbols


def policy_spec(kind: str, band: float | None, relative_band: float | None, schedule: str | None,
                mode: str = "target") -> PolicySpec:
    """The policy the options describe: a threshold policy with no width gets the 5% band;
    calendar and combined default to the monthly schedule. A band given to a policy that has no
    use for it (never; calendar unless ``mode`` is band-edge, which trades to the band's edge), or
    a schedule to one without one (threshold, never), is refused."""
    parsed = PolicyKind.parse(kind)
    uses_band = parsed in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) or (
        parsed is PolicyKind.CALENDAR and mode == Mode.BAND_EDGE.value)
    uses_schedule = parsed in (PolicyKind.CALENDAR, PolicyKind.COMBINED)
    if not uses_band and (band is not None or relative_band is not None):
        flag = "--band" if band is not None else "--relative-band"
        if parsed is PolicyKind.NEVER:
            raise InputError(f"--policy never never rebalances, so {flag} would do nothing.")
        raise InputError(f"--policy calendar trades on its schedule, back to the targets, so {flag} would do "
                         "nothing: use --policy threshold or combined, or add --mode band-edge to trade only back "
                         "to the band's edge.")
    if not uses_schedule and schedule is not None:
        does = "never rebalances" if parsed is PolicyKind.NEVER else "acts on its band alone"
        raise InputError(f"--policy {parsed.value} {does}, so --schedule would do nothing: use --policy calendar "
                         "or combined.")
    if uses_band and band is None and relative_band is None and parsed is not PolicyKind.CALENDAR:
        band = 0.05
    return PolicySpec(
        kind=parsed,
        band=band,
        relative_band=relative_band,
        schedule=Period.parse(schedule or "monthly") if uses_schedule else None,
    )


def refuse_unused_sweep_options(kinds: list[PolicyKind], modes: list[Mode], *, bands: bool, schedules: bool) -> None:
    """A sweep combines every option, and drops a band or schedule where a policy has no use for it;
    refuse bands or schedules that no policy of the sweep would use at all."""
    uses_band = any(k in (PolicyKind.THRESHOLD, PolicyKind.COMBINED) for k in kinds) or (
        PolicyKind.CALENDAR in kinds and Mode.BAND_EDGE in modes)
    uses_schedule = any(k in (PolicyKind.CALENDAR, PolicyKind.COMBINED) for k in kinds)
    names = ",".join(k.value for k in kinds)
    if bands and not uses_band:
        raise InputError(f"--policy {names} would use none of the bands: add threshold or combined to --policy, "
                         "or --mode band-edge for calendar.")
    if schedules and not uses_schedule:
        raise InputError(f"--policy {names} would use none of the schedules: add calendar or combined to --policy.")


def backtest_spec(*, targets: Targets, policy: PolicySpec, mode: str, fee: float, fee_model: str,
                  slippage: float, capital: float, min_trade: float, flows: dict | None = None) -> BacktestSpec:
    try:
        parsed_mode = Mode(mode)
    except ValueError:
        raise InputError(f"Unknown mode {mode!r}: use target or band-edge.") from None
    return BacktestSpec(targets=targets, policy=policy, mode=parsed_mode, fee=fee,
                        fee_model=FeeModel.parse(fee_model), slippage=slippage, capital=capital,
                        min_trade=min_trade, **(flows or {}))


def flow_options(contribution: float | None, withdrawal: float | None, every: str | None,
                 cash_flows: str | None) -> dict:
    """``--contribution``/``--withdrawal AMOUNT --every PERIOD [--cash-flows steer|ignore]`` as
    ``BacktestSpec`` fields (``spec.flow_fields``)."""
    from trimtab.backtest.spec import flow_fields

    return flow_fields(contribution, withdrawal, every, cash_flows, prefix="--")


def load_close(*, prices: Path | None, data: str | None, symbols: list[str], start: str | None, end: str | None):
    """The wide close matrix from ``--prices PATH`` or the shipped ``--data`` (daily by default)."""
    from trimtab.data import load_prices

    if prices is not None and data is not None:
        raise InputError("Give either --prices PATH or --data daily|hourly, not both.")
    if not symbols:
        raise InputError("No symbols to backtest: name at least one non-quote asset in --targets or --symbols.")
    return load_prices(data or "daily", symbols, start, end, path=prices)


def chart_path(chart: Path | None, as_json: bool, default: str) -> Path | None:
    """Where the chart goes: ``--chart``, else ``default`` (none with --json); refuse a file name
    whose extension is not a picture format, before any work is done."""
    path = chart if chart is not None else (None if as_json else Path(default))
    if path is None:
        return None
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = path.suffix.lower().removeprefix(".")
    if suffix not in FigureCanvasBase.get_supported_filetypes():
        kind = f"a .{suffix} file" if suffix else "a name without an extension"
        raise InputError(f"--chart {path} is {kind}, not a picture: end it in .png, .svg or .pdf.")
    return path


def say_if_start_moved(start: str | None, first_ns: int, symbols: list[str]) -> None:
    """A note on stderr when the prices begin more than a day after ``--start`` (an asset listed
    later), so a moved start is never silent."""
    import numpy as np

    if not start:
        return
    try:
        asked = int(np.datetime64(str(start).strip().replace(" ", "T").removesuffix("Z"), "ns").astype(np.int64))
    except ValueError:
        return
    if first_ns - asked > 86_400 * 10**9:
        from datetime import UTC, datetime

        from trimtab.interfaces.output import stderr

        first = datetime.fromtimestamp(first_ns / 1e9, tz=UTC)
        who = f"{symbols[0]} has prices" if len(symbols) == 1 else f"{', '.join(symbols)} have prices together"
        stderr.print(f"note: {who} only from {first:%Y-%m-%d}, so the backtest starts there, not on {start}.")


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

"""The Advice page's one data call: the rules of thumb (``core.advice.advise_band``) over the
journal's window, with its figures, and, when the portfolio's targets are known, the grounded
answer of ``trimtab advise`` (``monitor.advice.advise``: a sweep of bands and schedules over the
same assets' recent prices, the current policy's own row, the suggestion) under ``sweep``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from trimtab.core.advice import advise_band


def band_advice(data: Any, portfolio: str, days: float | None = 30.0) -> dict[str, Any]:
    """Advice on ``portfolio``'s band from the last ``days`` of its journal (None: all of it),
    ending at its last check: the advice, and the figures it stands on."""
    series = data._load_series(portfolio)
    context = data.context(portfolio)
    band = context.policy.band if context.policy else None
    if not len(series.times):
        end = start = datetime.now(UTC)
        drifts: list[float] = []
    else:
        end = datetime.fromtimestamp(float(series.times[-1]), UTC)
        first = datetime.fromtimestamp(float(series.times[0]), UTC)
        start = max(first, end - timedelta(days=days)) if days else first
        mask = series.times >= start.timestamp()
        drifts = [float(x) for x in series.values[mask, 0]]
    rebalances = [datetime.fromtimestamp(m["t"], UTC) for m in data.rebalances(portfolio)
                  if m["state"] == "completed" and start.timestamp() <= m["t"] <= end.timestamp()]
    advice = advise_band(band=band, rebalances=rebalances, drifts=drifts, start=start, end=end)
    runs = [r for r in data.runs(portfolio) if start.isoformat() <= (r["created_at"] or "") <= end.isoformat()]
    years = max((end - start).total_seconds() / (365.25 * 86400), 1e-9)
    fees = sum(r["fees"] for r in runs)
    return {
        "sweep": _grounded(data, portfolio, context, days),
        "portfolio": portfolio, "source": "core.advice.advise_band",
        "window": {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).total_seconds() / 86400},
        "advice": asdict(advice),
        "figures": {"checks": len(drifts), "rebalances": len(rebalances),
                    "time_past_band": (sum(1 for d in drifts if band is not None and d > band) / len(drifts))
                    if drifts and band is not None else None,
                    "fees": fees, "fees_per_year": fees / years,
                    "slippage": sum(r["slippage"] for r in runs),
                    "turnover": sum(r["traded"] for r in runs)},
    }


def _grounded(data: Any, portfolio: str, context: Any, days: float | None) -> dict[str, Any]:
    """``trimtab advise``'s document for ``portfolio`` (the same answer as the CLI, MCP and Python),
    or ``{"error": sentence}`` when it cannot be given (targets unknown, assets without history)."""
    from trimtab.errors import TrimtabError
    from trimtab.monitor.advice import advise

    if not context.targets:
        return {"error": "the portfolio's targets are unknown (serve it with --config to get the sweep)."}
    try:
        report = advise(data.journal, portfolio=portfolio, targets=context.targets, policy=context.policy,
                        days=min(days or 365.0, 365.0))
    except TrimtabError as e:
        return {"error": str(e)}
    return report.to_dict()

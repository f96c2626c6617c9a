"""``trimtab advise``: is my band right? The journal's own figures, the rules of thumb, and a sweep.

One function, ``advise``, gives the same answer to the CLI (``--json`` too), the MCP tool
``advise_threshold``, the Python API (``trimtab.advise``) and the dashboard:

1. **The journal over the window** (the last ``days`` days up to its newest check or run): checks
   (and an agent's stored plans, which carry the drift they were made at),
   completed rebalances per month, the largest drift, the hours drift stayed past the band, fees
   and slippage (total and per year) and turnover (traded value per year as a share of the average
   value).
2. **The rules of thumb** (``core/advice.py``): too many rebalances, raise the band; drift ran far,
   lower it. They give ``action``, ``suggested_band`` and ``reason``.
3. **The grounded suggestion**: the fast kernel (``backtest/fast.py``) runs a grid of threshold,
   calendar and combined policies, and the current policy itself, over the same assets' hourly
   prices (the shipped history, the last ``max(days, 90)`` days up to the window's end or the
   data's end), with the config's fee and slippage. Each is scored

       score = fee_drag_per_year + tracking_weight x tracking_error

   where ``tracking_error`` is the annualised standard deviation of the difference between the
   policy's bar returns and those of the portfolio held exactly on its targets (rebalanced every
   bar for free): how far, in return, drift lets the portfolio wander from what its owner chose.
   Both terms are fractions of the portfolio per year. The lowest score is ``suggestion``; the
   best few are ``candidates``; the current policy's own row is ``current``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from trimtab.core.advice import advise_band

if TYPE_CHECKING:
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicySpec
    from trimtab.journal import Journal

DEFAULT_TRACKING_WEIGHT = 0.1
MIN_PRICE_DAYS = 90
TOP = 5
BANDS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20)
SCHEDULES = ("weekly", "monthly", "quarterly")
COMBINED_SCHEDULES = ("monthly", "quarterly")
SECONDS_PER_YEAR = 365.25 * 86_400


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One policy's figures over the price window (rates per year as fractions)."""

    policy: str
    band: float | None
    schedule: str | None
    emergency_band: float | None
    rebalances_per_month: float
    fee_drag_per_year: float
    tracking_error: float
    max_drift: float
    turnover_per_year: float
    score: float
    current: bool = False


@dataclass(frozen=True, kw_only=True)
class JournalWindow:
    """What the journal holds for the window: ``start``/``end`` (ISO), ``days`` covered (first
    record to end), per-year rates (None when less than a day is covered), ``hours_past_band``
    (time from each check past the band to the next check), ``turnover_per_year`` (traded value
    per year / the average value at the checks)."""

    start: str
    end: str
    days: float
    checks: int
    rebalances: int
    rebalances_per_month: float | None
    max_drift: float | None
    hours_past_band: float
    share_past_band: float
    fees: float
    fees_per_year: float | None
    slippage: float
    slippage_per_year: float | None
    traded: float
    turnover_per_year: float | None


@dataclass(frozen=True, kw_only=True)
class PriceWindow:
    source: str
    start: str | None
    end: str | None
    bars: int
    assets: list[str]


@dataclass(frozen=True, kw_only=True)
class AdviceReport:
    """The whole answer; ``to_dict`` is the JSON document every interface shows."""

    portfolio: str
    action: str
    band: float | None
    suggested_band: float | None
    rebalances: int
    months: float
    rebalances_per_month: float
    max_drift: float | None
    reason: str
    window: JournalWindow
    tracking_weight: float
    prices: PriceWindow
    current: Candidate | None
    suggestion: Candidate | None
    candidates: list[Candidate] = field(default_factory=list)
    verdict: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def advise(journal: Journal, *, portfolio: str, targets: Targets | Mapping[str, float], policy: PolicySpec | None,
           band: float | None = None, fee: float = 0.001, slippage: float = 0.0, days: float = 30,
           tracking_weight: float = DEFAULT_TRACKING_WEIGHT, capital: float = 10_000.0,
           price_path: str | None = None) -> AdviceReport:
    """Advice for ``portfolio`` in ``journal`` (see the module docstring); the dashboard's one call.

    ``targets``: a ``Targets`` or a weights mapping (quote USDC); ``policy``: the current policy
    (None when unknown: no ``current`` row); ``band``: the band the rules of thumb tune (default:
    the policy's); ``fee`` and ``slippage`` as fractions of a leg's notional. Raise ``InputError``
    for a window under a day or a negative tracking weight."""
    from trimtab.core.assets import Targets
    from trimtab.errors import InputError

    if not isinstance(targets, Targets):
        targets = Targets.of(targets)
    if band is None and policy is not None:
        band = policy.band
    if days < 1:
        raise InputError("--days must be at least 1.")
    if not (tracking_weight >= 0 and math.isfinite(tracking_weight)):
        raise InputError("--tracking-weight must be a number >= 0, e.g. 0.1.")
    window, checks, runs = _journal_window(journal, portfolio, days, band)
    end = datetime.fromisoformat(window.end)
    first = min([at for at, _ in checks] + runs, default=end)
    rule = advise_band(band=band, rebalances=runs, drifts=[d for _, d in checks], start=first, end=end)
    prices, rows, note = _sweep(targets, policy, fee, slippage, capital, end, days, tracking_weight, price_path)
    current = next((r for r in rows if r.current), None)
    ranked = sorted((r for r in rows if not r.current), key=lambda r: (r.score, r.fee_drag_per_year))
    suggestion = ranked[0] if ranked else None
    if current is not None and suggestion is not None and current.score <= suggestion.score:
        suggestion = current
    verdict = note or _verdict(suggestion, current, tracking_weight, prices)
    return AdviceReport(portfolio=portfolio, action=rule.action, band=rule.band, suggested_band=rule.suggested_band,
                        rebalances=rule.rebalances, months=rule.months, rebalances_per_month=rule.rebalances_per_month,
                        max_drift=rule.max_drift, reason=rule.reason, window=window, tracking_weight=tracking_weight,
                        prices=prices, current=current, suggestion=suggestion, candidates=ranked[:TOP],
                        verdict=verdict)


# -- the journal ---------------------------------------------------------------------------------

def _journal_window(journal: Journal, portfolio: str, days: float, band: float | None):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from trimtab.journal import schema

    c_, r_, f_, l_ = schema.checks, schema.runs, schema.fills, schema.legs
    with journal.engine.connect() as c:
        newest = [c.execute(select(func.max(c_.c.at)).where(c_.c.portfolio == portfolio)).scalar(),
                  c.execute(select(func.max(r_.c.created_at)).where(r_.c.portfolio == portfolio)).scalar(),
                  c.execute(select(func.max(schema.plans.c.created_at))
                            .where(schema.plans.c.portfolio == portfolio)).scalar()]
        known = [_utc(t) for t in newest if t is not None]
        # a paper or demo journal keeps the venue's clock: the window ends at its newest record
        end = max(known) if known else datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=days)
        checks = [(_utc(at), float(d), float(v)) for at, d, v in c.execute(
            select(c_.c.at, c_.c.max_drift, c_.c.total_value)
            .where(c_.c.portfolio == portfolio, c_.c.at >= start, c_.c.at <= end).order_by(c_.c.at, c_.c.id))]
        runs = [_utc(at) for (at,) in c.execute(select(r_.c.created_at).where(
            r_.c.portfolio == portfolio, r_.c.state == "completed", r_.c.created_at >= start, r_.c.created_at <= end))]
        p_ = schema.plans  # an agent's plans carry the drift they were made at (no check is journaled)
        planned = [(_utc(at), float((doc or {}).get("max_drift") or 0.0)) for at, doc in c.execute(
            select(p_.c.created_at, p_.c.document).where(p_.c.portfolio == portfolio, p_.c.created_at >= start,
                                                         p_.c.created_at <= end))]
        ids = select(r_.c.id).where(r_.c.portfolio == portfolio, r_.c.created_at >= start, r_.c.created_at <= end)
        traded, slippage = c.execute(select(func.coalesce(func.sum(f_.c.value), 0.0),
                                            func.coalesce(func.sum(f_.c.slippage), 0.0))
                                     .where(f_.c.run_id.in_(ids))).one()
        fees = c.execute(select(func.coalesce(func.sum(l_.c.fee), 0.0)).where(l_.c.run_id.in_(ids))).scalar_one()
    drifts = [(at, d) for at, d, _ in checks if math.isfinite(d)] + [(at, d) for at, d in planned if math.isfinite(d)]
    first = min([at for at, _ in drifts] + runs, default=end)
    span = max((end - first).total_seconds(), 0.0)
    years = span / SECONDS_PER_YEAR
    past = 0.0
    if band is not None:
        for (at, drift, _), (following, _, _) in itertools.pairwise(checks):
            if drift > band:
                past += (following - at).total_seconds()
    values = [v for _, _, v in checks if v > 0]
    average = sum(values) / len(values) if values else 0.0

    def per_year(x: float) -> float | None:  # a rate over less than a day says nothing
        return x / years if span >= 86_400 else None

    window = JournalWindow(
        start=start.isoformat(), end=end.isoformat(), days=span / 86_400, checks=len(checks), rebalances=len(runs),
        rebalances_per_month=per_year(len(runs)) / 12 if span >= 86_400 else None,
        max_drift=max((d for _, d in drifts), default=None),
        hours_past_band=past / 3600, share_past_band=past / span if span > 0 else 0.0,
        fees=float(fees), fees_per_year=per_year(float(fees)), slippage=float(slippage),
        slippage_per_year=per_year(float(slippage)), traded=float(traded),
        turnover_per_year=per_year(float(traded) / average) if average > 0 else None)
    return window, drifts, runs


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- the sweep -----------------------------------------------------------------------------------

_SWEEPS: dict[str, tuple] = {}


def _sweep(targets, policy, fee, slippage, capital, end, days, weight, price_path):  # type: ignore[no-untyped-def]
    """(PriceWindow, candidate rows, a note when no sweep could run); the same question is answered
    once per process (a server asked again gets the kept answer: the prices are the shipped ones)."""
    key = repr((sorted(targets.weights.items()), targets.quote, policy, fee, slippage, capital,
                end, days, weight, price_path))
    if key not in _SWEEPS:
        if len(_SWEEPS) > 64:
            _SWEEPS.clear()
        _SWEEPS[key] = _run_sweep(targets, policy, fee, slippage, capital, end, days, weight, price_path)
    return _SWEEPS[key]


def _run_sweep(targets, policy, fee, slippage, capital, end, days, weight, price_path):  # type: ignore[no-untyped-def]
    from trimtab.errors import InputError

    assets = [a for a in targets.assets if a != targets.quote]
    if not assets:
        return PriceWindow(source="none", start=None, end=None, bars=0, assets=[]), [], \
            "The targets hold only the quote asset: there is nothing to sweep."
    try:
        prepared = _prices(assets, end, max(days, MIN_PRICE_DAYS), price_path)
    except InputError as e:
        return PriceWindow(source="none", start=None, end=None, bars=0, assets=assets), [], \
            f"No price history to sweep ({e}); the rules of thumb stand alone."
    prices = PriceWindow(source="shipped hourly history", start=_iso(prepared.times[0]),
                         end=_iso(prepared.times[-1]), bars=len(prepared.times), assets=list(prepared.columns))
    rows = [_score(prepared, spec, weight, capital, current=False) for spec in _grid(targets, fee, slippage, capital)]
    if policy is not None:
        rows.append(_score(prepared, _spec(targets, policy, fee, slippage, capital), weight, capital, current=True))
    return prices, rows, ""


def _prices(assets: list[str], end: datetime, days: float, path: str | None):  # type: ignore[no-untyped-def]
    import numpy as np

    from trimtab.backtest.fast import Prepared
    from trimtab.errors import InputError

    whole = Prepared.load("hourly", assets, path=path)
    last = min(int(whole.times[-1]), int(end.timestamp() * 1e9))
    first = last - int(days * 86_400 * 10**9)
    keep = (whole.times >= first) & (whole.times <= last)
    if keep.sum() < 48:  # the window is older than the data: take the data's last `days` days instead
        last = int(whole.times[-1])
        keep = (whole.times >= last - int(days * 86_400 * 10**9)) & (whole.times <= last)
    if keep.sum() < 48:
        raise InputError(f"fewer than 48 hourly prices for {', '.join(assets)}")
    return Prepared(np.ascontiguousarray(whole.times[keep]), whole.columns, np.ascontiguousarray(whole.prices[keep]))


def _iso(ns: Any) -> str:
    return datetime.fromtimestamp(int(ns) / 1e9, UTC).isoformat()


def _grid(targets, fee, slippage, capital):  # type: ignore[no-untyped-def]
    from trimtab.core.policy import PolicyKind, PolicySpec
    from trimtab.core.triggers import Period

    policies = [PolicySpec(kind=PolicyKind.THRESHOLD, band=b) for b in BANDS]
    policies += [PolicySpec(kind=PolicyKind.CALENDAR, band=None, schedule=Period(s)) for s in SCHEDULES]
    policies += [PolicySpec(kind=PolicyKind.COMBINED, band=b, schedule=Period(s)) for b in BANDS
                 for s in COMBINED_SCHEDULES]
    return [_spec(targets, p, fee, slippage, capital) for p in policies]


def _spec(targets, policy, fee, slippage, capital):  # type: ignore[no-untyped-def]
    from trimtab.backtest.spec import BacktestSpec

    return BacktestSpec(targets=targets, policy=policy, fee=fee, slippage=slippage, capital=capital)


def _score(prepared, spec, weight: float, capital: float, *, current: bool) -> Candidate:  # type: ignore[no-untyped-def]
    from trimtab.backtest.fast import run_fast

    metrics, values = run_fast(prepared, spec, keep_values=True)
    error = tracking_error(prepared, spec, values)
    p = spec.policy
    years = metrics.years
    turnover = metrics.total_traded / capital / years if years > 0 else 0.0
    return Candidate(policy=str(p.kind), band=p.band, schedule=str(p.schedule) if p.schedule else None,
                     emergency_band=p.emergency_band, rebalances_per_month=metrics.rebalances_per_month,
                     fee_drag_per_year=metrics.fee_drag_per_year, tracking_error=error, max_drift=metrics.max_drift,
                     turnover_per_year=turnover, score=metrics.fee_drag_per_year + weight * error, current=current)


def tracking_error(prepared, spec, values) -> float:  # type: ignore[no-untyped-def]
    """Annualised std of (policy's bar return - on-target portfolio's bar return); see the docstring."""
    import numpy as np

    weights = np.array([spec.targets.weight(a) for a in prepared.columns])
    asset_returns = prepared.prices[1:] / prepared.prices[:-1] - 1.0
    target_returns = asset_returns @ weights  # the quote's share earns nothing
    policy_returns = values[1:] / values[:-1] - 1.0
    difference = policy_returns - target_returns
    if len(difference) < 2:
        return 0.0
    span = float(prepared.times[-1] - prepared.times[0]) / 1e9
    bars_per_year = (len(prepared.times) - 1) / (span / SECONDS_PER_YEAR)
    return float(np.std(difference, ddof=1) * math.sqrt(bars_per_year))


def _describe(c: Candidate) -> str:
    if c.policy == "calendar":
        return f"a {c.schedule} rebalance"
    if c.policy == "combined":
        return f"a {c.band:.1%} band with a {c.schedule} rebalance"
    if c.policy == "never":
        return "never rebalancing"
    return f"a {c.band:.1%} band" if c.band is not None else f"the {c.policy} policy"


def _verdict(best: Candidate | None, current: Candidate | None, weight: float, prices: PriceWindow) -> str:
    if best is None:
        return "No policy could be swept; the rules of thumb stand alone."
    span = f"{prices.start[:10] if prices.start else '?'} to {prices.end[:10] if prices.end else '?'}"

    def figures(c: Candidate) -> str:
        return (f"fees {c.fee_drag_per_year:.3%}/yr, tracking error {c.tracking_error:.2%}/yr, "
                f"{c.rebalances_per_month:.1f} rebalances a month, score {c.score:.3%}")

    if best.current:
        return (f"Over {span}, your current policy scores best at tracking weight {weight:g} ({figures(best)}): "
                "keep it.")
    mine = f"; your current policy: {figures(current)}" if current is not None else ""
    return f"Over {span}, {_describe(best)} scores best at tracking weight {weight:g} ({figures(best)}){mine}."

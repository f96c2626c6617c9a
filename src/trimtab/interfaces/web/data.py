"""Everything the dashboard shows, read from the journal as plain documents (no web framework here).

``DashboardData`` answers the pages and the JSON API alike: the portfolios in the journal, one
portfolio's weights and holdings, its drift over time (downsampled on the server), its runs with
legs, fills and bridges, and the checks written since a given one (how a page follows a live run).
The drift series is cached per portfolio and extended with the checks written since, so a page on
the demo's 43,787 checks reads the table once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from trimtab.interfaces.web.context import PortfolioContext, inferred, policy_in_words
from trimtab.interfaces.web.downsample import minmax_buckets
from trimtab.journal import Journal, schema

WINDOWS = {"day": timedelta(days=1), "week": timedelta(weeks=1), "month": timedelta(days=30), "all": None}
MAX_BUCKETS = 2000
#: A run's trigger is the rebalance check at most this long before it was created.
TRIGGER_WINDOW = timedelta(hours=1)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _utc(moment).isoformat()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


class _Series:
    """One portfolio's checks as arrays: ids, times (epoch seconds), max drift, per-asset drift."""

    def __init__(self) -> None:
        self.last_id = 0
        self.count = 0
        self.assets: list[str] = []
        self.times = np.empty(0)
        self.values = np.empty((0, 1))  # column 0: max drift; then one column per asset
        self.fired: list[tuple[datetime, str]] = []  # checks that decided to rebalance: time, trigger


class DashboardData:
    """Read-only views of ``journal`` for the pages and the API; ``contexts`` adds what the config
    knows (targets, policy, venue) for the portfolios it names; ``clock`` is the wall clock."""

    def __init__(self, journal: Journal, contexts: Mapping[str, PortfolioContext] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.journal = journal
        self.contexts = dict(contexts or {})
        self.clock = clock
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()
        self._holdings: dict[str, tuple[float, dict[str, Any]]] = {}
        self._memo: dict[tuple, tuple[tuple, Any]] = {}

    def _journal_state(self, portfolio: str) -> tuple:
        """What a cached answer about ``portfolio`` depends on: its newest check, its runs (how many,
        last moved) and the legs (how many, last moved); read through indexes and small tables."""
        c_, r_, l_, f_ = schema.checks.c, schema.runs.c, schema.legs.c, schema.flows.c
        with self.journal.engine.connect() as c:
            check = c.execute(select(func.max(c_.id)).where(c_.portfolio == portfolio)).scalar()
            runs = tuple(c.execute(select(func.count(), func.max(r_.updated_at)).where(r_.portfolio == portfolio)).one())
            legs = tuple(c.execute(select(func.count(), func.max(l_.updated_at))).one())
            flows = tuple(c.execute(select(func.count(), func.max(f_.at), func.max(f_.id))
                                    .where(f_.portfolio == portfolio)).one())
        return check, runs, legs, flows

    def _cached(self, key: tuple, portfolio: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, or the answer it gave while the journal was in the same state."""
        state = self._journal_state(portfolio)
        hit = self._memo.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._memo) >= 256:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = (state, value)
        return value

    # -- portfolios ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every portfolio in the journal (and those the config names), each found through the
        portfolio index (a skip scan), never by reading every check."""
        found = set(self.contexts)
        with self.journal.engine.connect() as c:
            for table in (schema.checks, schema.runs):
                name = c.execute(select(func.min(table.c.portfolio))).scalar()
                while name is not None:
                    found.add(name)
                    name = c.execute(select(func.min(table.c.portfolio)).where(table.c.portfolio > name)).scalar()
        return sorted(found)

    def has(self, portfolio: str) -> bool:
        if portfolio in self.contexts:
            return True
        with self.journal.engine.connect() as c:
            return any(c.execute(select(table.c.portfolio).where(table.c.portfolio == portfolio).limit(1)).first()
                       for table in (schema.checks, schema.runs))

    def last_check(self, portfolio: str) -> dict[str, Any] | None:
        """The check written last (checks are written in time order; this reads one row by index)."""
        query = (select(schema.checks).where(schema.checks.c.portfolio == portfolio)
                 .order_by(schema.checks.c.id.desc()).limit(1))
        with self.journal.engine.connect() as c:
            row = c.execute(query).first()
        return None if row is None else self._check(row._mapping)

    def _check(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], "at": _iso(row["at"]), "total_value": row["total_value"],
                "weights": dict(row["weights"]), "drift": dict(row["drift"]), "max_drift": _finite(row["max_drift"]),
                "rebalance": bool(row["rebalance"]), "trigger": row["trigger"], "reason": row["reason"]}

    def context(self, portfolio: str, last_check: Mapping[str, Any] | None = None) -> PortfolioContext:
        if portfolio in self.contexts:
            return self.contexts[portfolio]
        return inferred(portfolio, last_check if last_check is not None else self.last_check(portfolio))

    def summary(self, portfolio: str) -> dict[str, Any]:
        """One line of the Portfolios page."""
        check = self.last_check(portfolio)
        newest = self.journal.runs(portfolio, limit=1)
        reference = _utc(datetime.fromisoformat(check["at"])) if check else self.clock()
        month = reference.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        fees_query = (select(func.coalesce(func.sum(schema.legs.c.fee), 0.0))
                      .where(schema.legs.c.run_id.in_(select(schema.runs.c.id).where(
                          schema.runs.c.portfolio == portfolio, schema.runs.c.created_at >= month))))
        attention_query = select(func.count()).where(schema.runs.c.portfolio == portfolio,
                                                     schema.runs.c.state == "needs_attention")
        runs_query = select(func.count()).where(schema.runs.c.portfolio == portfolio)
        with self.journal.engine.connect() as c:
            fees = float(c.execute(fees_query).scalar_one())
            attention = int(c.execute(attention_query).scalar_one())
            runs = int(c.execute(runs_query).scalar_one())
        age = (self.clock() - reference).total_seconds() if check else None
        return {
            "portfolio": portfolio,
            "value": check["total_value"] if check else None,
            "max_drift": check["max_drift"] if check else None,
            "last_check_at": check["at"] if check else None,
            "last_check_age_seconds": age,
            "last_run": ({"id": newest[0].id, "state": newest[0].state, "created_at": _iso(newest[0].created_at)}
                         if newest else None),
            "runs": runs,
            "needs_attention": attention,
            "fees_month": month.strftime("%Y-%m"),
            "fees_this_month": fees,
            "returns": self.returns(portfolio),
        }

    def returns(self, portfolio: str, window: str = "all") -> dict[str, Any] | None:
        """Time-weighted return (deposits and withdrawals taken out), money-weighted return and net
        flows from the first check (or over the ``window`` that ends at the last check) to the last
        check, as ``trimtab status`` reports them (``engine/cashflows.py``); None before two checks."""
        return self._cached(("returns", portfolio, window), portfolio, lambda: self._returns(portfolio, window))

    def _returns(self, portfolio: str, window: str) -> dict[str, Any] | None:
        from trimtab.engine.cashflows import returns, returns_document

        span = WINDOWS.get(window)
        since = None
        if span is not None:
            check = self.last_check(portfolio)
            if check is None:
                return None
            since = _utc(datetime.fromisoformat(check["at"])) - span
        document = returns_document(returns(self.journal, portfolio, since=since), since=since)
        if document is not None:
            document["window"] = window
        return document

    def portfolios(self) -> list[dict[str, Any]]:
        """The Portfolios page's rows; on a fleet's database each row also has its ``fleet`` state
        (paused, next slot, last outcome, due or running), as ``trimtab fleet status`` sees it."""
        rows = [self.summary(name) for name in self.names()]
        if self.journal.engine.dialect.name == "postgresql":
            from trimtab.fleet.store import fleet_states

            states = fleet_states(self.journal.engine)
            if states is not None:
                for row in rows:
                    row["fleet"] = states.get(row["portfolio"])
        return rows

    def portfolio(self, portfolio: str) -> dict[str, Any]:
        """The Portfolio page: weights against targets with their bands, holdings, the policy."""
        check = self.last_check(portfolio)
        context = self.context(portfolio, check)
        policy = context.policy
        band = policy.band if policy else None
        emergency = policy.emergency_band if policy else None
        targets = dict(context.targets or {})
        weights = check["weights"] if check else {}
        rows = []
        for asset in dict.fromkeys([*targets, *weights]):
            target, weight = targets.get(asset), weights.get(asset)
            drift = None if target is None or weight is None else weight - target
            rows.append({"asset": asset, "target": target, "weight": weight, "drift": drift,
                         "band_low": None if target is None or band is None else max(target - band, 0.0),
                         "band_high": None if target is None or band is None else min(target + band, 1.0),
                         "outside_band": drift is not None and band is not None and abs(drift) > band})
        return {
            "portfolio": portfolio, "summary": self.summary(portfolio), "last_check": check,
            "band": band, "emergency_band": emergency, "weights": rows,
            "policy": {"kind": str(policy.kind) if policy else None,
                       "words": policy_in_words(policy, inferred_from_journal=bool(context.extra.get("inferred")))},
            "venue": context.venue_kind, "source": context.source,
            "holdings": self.holdings(portfolio),
            "can_rebalance": context.open_desk is not None,
        }

    def holdings(self, portfolio: str, max_age: float = 10.0) -> dict[str, Any]:
        """Holdings per venue and chain as the venue reports them now (cached ``max_age`` seconds)."""
        context = self.contexts.get(portfolio)
        if context is None or context.open_venue is None:
            return {"available": False, "reason": "Holdings come from the venue: start the dashboard with --config "
                                                  "to list them per chain.", "rows": []}
        cached = self._holdings.get(portfolio)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
        try:
            venue = context.open_venue()
            try:
                balances = venue.balances()
            finally:
                close = getattr(venue, "close", None)
                if close:
                    close()
            rows = [{"venue": context.venue_kind, "asset": h.asset, "chain": h.chain, "quantity": h.quantity}
                    for h in sorted(balances, key=lambda h: (h.asset, h.chain)) if h.quantity]
            document = {"available": True, "reason": "", "rows": rows}
        except Exception as e:  # noqa: BLE001 - a venue that cannot be read says why, in one sentence; the page still loads
            document = {"available": False, "reason": f"The venue could not be read: {type(e).__name__}: "
                                                      f"{str(e).splitlines()[0] if str(e) else ''}", "rows": []}
        self._holdings[portfolio] = (time.monotonic(), document)
        return document

    # -- drift over time ------------------------------------------------------------------------

    def warm(self) -> None:
        """Read every portfolio's checks into the cache (``trimtab serve`` does it in the background)."""
        try:
            for name in self.names():
                self._load_series(name)
        except Exception:  # noqa: BLE001 - a journal that cannot be read now is read (and reported) by the pages
            return

    def _load_series(self, portfolio: str) -> _Series:
        """The cached series of ``portfolio``, extended with the checks written since it was read."""
        with self._lock:
            series = self._series.setdefault(portfolio, _Series())
            c_ = schema.checks.c
            with self.journal.engine.connect() as c:
                newest = c.execute(select(func.max(c_.id)).where(c_.portfolio == portfolio)).scalar() or 0
                if newest == series.last_id:
                    return series
                if newest < series.last_id:  # the journal was replaced: read it again
                    series = self._series[portfolio] = _Series()
                query = (select(c_.id, c_.at, c_.max_drift, c_.drift, c_.rebalance, c_.trigger)
                         .where(c_.portfolio == portfolio, c_.id > series.last_id).order_by(c_.id))
                rows = c.execute(query).all()
            if not rows:
                return series
            assets = list(series.assets)
            seen = set(assets)
            for row in rows:
                for asset in row.drift:
                    if asset not in seen:
                        seen.add(asset)
                        assets.append(asset)
            times = np.fromiter((_utc(r.at).timestamp() for r in rows), float, len(rows))
            values = np.empty((len(rows), 1 + len(assets)))
            values[:, 0] = [r.max_drift for r in rows]
            for j, asset in enumerate(assets, start=1):
                values[:, j] = [r.drift.get(asset, np.nan) for r in rows]
            old = series.values
            if len(assets) > len(series.assets):  # new assets: pad the old rows
                old = np.hstack([old, np.full((len(old), len(assets) - len(series.assets)), np.nan)])
            all_times = np.concatenate([series.times, times])
            all_values = np.vstack([old, values]) if len(old) else values
            if len(all_times) > 1 and np.any(np.diff(all_times) < 0):
                order = np.argsort(all_times, kind="stable")
                all_times, all_values = all_times[order], all_values[order]
            series.times, series.values, series.assets = all_times, all_values, assets
            series.fired = sorted([*series.fired, *((_utc(r.at), r.trigger) for r in rows if r.rebalance)])
            series.last_id = max(series.last_id, max(r.id for r in rows))
            series.count = len(all_times)
            return series

    def drift(self, portfolio: str, *, window: str = "all", start: datetime | None = None,
              end: datetime | None = None, width: int = 1000) -> dict[str, Any]:
        """Max and per-asset drift between ``start`` and ``end`` (default: the ``window`` that ends at
        the last check), min/max-downsampled to ``width`` buckets; the bands; the rebalances."""
        return self._cached(("drift", portfolio, window, start, end, width), portfolio,
                            lambda: self._drift(portfolio, window=window, start=start, end=end, width=width))

    def _drift(self, portfolio: str, *, window: str, start: datetime | None, end: datetime | None,
               width: int) -> dict[str, Any]:
        series = self._load_series(portfolio)
        width = max(10, min(int(width), MAX_BUCKETS))
        if len(series.times):
            last = series.times[-1]
            span = WINDOWS.get(window)
            lo = start.timestamp() if start else (last - span.total_seconds() if span else series.times[0])
            hi = end.timestamp() if end else last
        else:
            lo = hi = 0.0
        t, v = minmax_buckets(series.times, series.values, start=lo, end=hi, buckets=width)
        in_window = int(np.searchsorted(series.times, hi, "right") - np.searchsorted(series.times, lo, "left"))
        context = self.context(portfolio)
        policy = context.policy

        def column(j: int) -> list[float | None]:
            return [None if math.isnan(x) else x for x in np.round(v[:, j], 6).tolist()]  # NaN (no such asset) -> null

        markers = [m for m in self.rebalances(portfolio) if lo <= m["t"] <= hi + 3600]
        return {
            "portfolio": portfolio, "window": window, "start": lo, "end": hi,
            "points_in_window": in_window, "points_sent": len(t), "downsampled": len(t) < in_window,
            "t": [int(x) for x in t], "max_drift": column(0),
            "assets": {asset: column(j) for j, asset in enumerate(series.assets, start=1)},
            "band": policy.band if policy else None,
            "emergency_band": policy.emergency_band if policy else None,
            "rebalances": markers,
            "last_check_id": series.last_id,
        }

    def rebalances(self, portfolio: str) -> list[dict[str, Any]]:
        """Every run of ``portfolio`` as a chart marker: time, run id, state and the trigger that started it."""
        return self._cached(("rebalances", portfolio), portfolio, lambda: self._rebalances(portfolio))

    def _rebalances(self, portfolio: str) -> list[dict[str, Any]]:
        fired = self._load_series(portfolio).fired
        with self.journal.engine.connect() as c:
            runs = c.execute(select(schema.runs.c.id, schema.runs.c.created_at, schema.runs.c.state)
                             .where(schema.runs.c.portfolio == portfolio).order_by(schema.runs.c.created_at)).all()
        fired_at = [at for at, _ in fired]
        markers = []
        for run in runs:
            created = _utc(run.created_at)
            trigger = "manual"
            i = _last_at_or_before(fired_at, created + timedelta(minutes=1))
            if i is not None and created - fired_at[i] <= TRIGGER_WINDOW:
                trigger = fired[i][1]
            markers.append({"t": int(created.timestamp()), "at": created.isoformat(), "run": run.id,
                            "state": run.state, "trigger": trigger})
        return markers

    def checks_after(self, portfolio: str, after_id: int, limit: int = 500) -> dict[str, Any]:
        """The checks written after check ``after_id`` (oldest first, at most ``limit``): how a page
        follows a live ``trimtab run`` or demo without reloading."""
        c_ = schema.checks.c
        query = (select(schema.checks).where(c_.portfolio == portfolio, c_.id > after_id)
                 .order_by(c_.id).limit(max(1, min(limit, 5000))))
        with self.journal.engine.connect() as c:
            rows = [self._check(r._mapping) for r in c.execute(query)]
        newest_run = self.journal.runs(portfolio, limit=1)
        return {"portfolio": portfolio, "checks": rows,
                "last_check_id": rows[-1]["id"] if rows else after_id,
                "last_run": ({"id": newest_run[0].id, "state": newest_run[0].state,
                              "updated_at": _iso(newest_run[0].updated_at)} if newest_run else None)}

    # -- runs -------------------------------------------------------------------------------------

    def runs(self, portfolio: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Runs newest first, each with its legs' fees (as ``trimtab history`` adds them), its fills'
        slippage, its bridges and the trigger that started it."""
        return self._cached(("runs", portfolio, limit), portfolio, lambda: self._runs(portfolio, limit))

    def _runs(self, portfolio: str, limit: int) -> list[dict[str, Any]]:
        records = self.journal.runs(portfolio, limit=limit)
        ids = [r.id for r in records]
        with self.journal.engine.connect() as c:
            legs = c.execute(select(schema.legs).where(schema.legs.c.run_id.in_(ids))).all() if ids else []
            fills = c.execute(select(schema.fills.c.run_id, schema.fills.c.slippage, schema.fills.c.fee)
                              .where(schema.fills.c.run_id.in_(ids))).all() if ids else []
        by_run: dict[str, dict[str, Any]] = {i: {"legs": 0, "fees": 0.0, "slippage": 0.0, "bridges": 0,
                                                 "bridge_fees": 0.0, "traded": 0.0} for i in ids}
        for leg in legs:
            row = by_run[leg.run_id]
            row["legs"] += 1
            row["fees"] += leg.fee or 0.0
            if leg.kind == "transfer":
                row["bridges"] += 1
                row["bridge_fees"] += leg.fee or 0.0
            else:
                row["traded"] += leg.value or 0.0
        for fill in fills:
            by_run[fill.run_id]["slippage"] += fill.slippage
        triggers = {m["run"]: m["trigger"] for m in self.rebalances(portfolio)}
        return [{"id": r.id, "state": r.state, "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at),
                 "trigger": triggers.get(r.id, "manual"), "reason": r.reason, "value_before": r.value_before,
                 "value_after": r.value_after, **by_run[r.id]} for r in records]

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run with every leg, fill and bridge; None when the journal has no such run."""
        with self.journal.engine.connect() as c:
            row = c.execute(select(schema.runs).where(schema.runs.c.id == run_id)).first()
        if row is None:
            return None
        run = row._mapping
        legs = self.journal.legs(run_id)
        fills = self.journal.fills([run_id])
        transfers = self.journal.transfers([run_id])
        trigger = next((m["trigger"] for m in self.rebalances(run["portfolio"]) if m["run"] == run_id), "manual")
        leg_rows = [{"idx": leg.idx, "client_id": leg.client_id, "kind": leg.kind, "stage": leg.stage, "side": leg.side,
                     "asset": leg.asset, "chain": leg.chain, "to_chain": leg.to_chain, "state": leg.state,
                     "planned_quantity": leg.planned_quantity, "quote_amount": leg.quote_amount,
                     "planned_price": leg.planned_price, "filled_quantity": leg.filled_quantity, "value": leg.value,
                     "fee": leg.fee, "error": leg.error, "updated_at": _iso(leg.updated_at)} for leg in legs]
        return {
            "id": run_id, "portfolio": run["portfolio"], "state": run["state"], "trigger": trigger,
            "created_at": _iso(run["created_at"]), "updated_at": _iso(run["updated_at"]), "reason": run["reason"],
            "value_before": run["value_before"], "value_after": run["value_after"],
            "fees": math.fsum(leg.fee or 0.0 for leg in legs),
            "slippage": math.fsum(f["slippage"] for f in fills),
            "legs": leg_rows,
            "fills": [{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in f.items()} for f in fills],
            "bridges": [{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in t.items()} for t in transfers],
            "plan": dict(run["plan"]),
        }

    # -- health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Raise when the journal cannot be read; else the age of the newest check of any portfolio."""
        with self.journal.engine.connect() as c:
            newest = _utc(c.execute(select(func.max(schema.checks.c.at))).scalar())
        return {"journal": "reachable", "last_check_at": _iso(newest),
                "last_check_age_seconds": None if newest is None else (self.clock() - newest).total_seconds()}


def _last_at_or_before(times: list[datetime], moment: datetime) -> int | None:
    from bisect import bisect_right

    i = bisect_right(times, moment) - 1
    return i if i >= 0 else None

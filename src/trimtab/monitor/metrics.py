"""Prometheus metrics read from the journal at scrape time, so every process reports the same.

``JournalCollector`` answers a scrape with a few grouped queries over every portfolio in the
journal. Labels come from closed sets (portfolio, outcome, state, error kind, refusal code,
condition); never an asset, a run or an order id.

| metric                                   | type    | labels              | from                                   |
| ---------------------------------------- | ------- | ------------------- | -------------------------------------- |
| trimtab_max_drift                        | gauge   | portfolio           | the newest check                       |
| trimtab_portfolio_value                  | gauge   | portfolio           | the newest check (quote units)         |
| trimtab_last_check_timestamp_seconds     | gauge   | portfolio           | the newest check's time                |
| trimtab_checks_total                     | counter | portfolio           | checks                                 |
| trimtab_rebalances_total                 | counter | portfolio, outcome  | runs that ended: completed, failed, needs_attention |
| trimtab_legs_total                       | counter | portfolio, outcome  | legs by state (filled, rejected, ...)  |
| trimtab_fees_total                       | counter | portfolio           | the sum of every leg's fee (quote)     |
| trimtab_runs                             | gauge   | portfolio, state    | runs by their current state            |
| trimtab_venue_errors_total               | counter | portfolio, kind     | events: venue errors by class          |
| trimtab_guard_refusals_total             | counter | portfolio, code     | events, tool calls: refusals by code |
| trimtab_alert_condition                  | gauge   | portfolio, condition| 1 while an alert condition is on       |
| trimtab_journal_up                       | gauge   |                     | 1 when the journal answered the scrape |

Refusals are counted once each: the watch journals a refused check or run as an event; an agent's
tool call (MCP or the Python API) refused with a code (``OVER_MAX_VALUE``, ``TOO_MANY_CALLS``,
``ASSET_NOT_ALLOWED``, ...) is journaled in ``tool_calls`` and counted from there, except the calls
the watch already told as events (``WATCHED_TOOLS``) and codes that are not refusals
(``NOT_REFUSALS``: a malformed argument, a venue error, an internal failure).

``make_metrics_app(journal)`` is an ASGI app for ``/metrics`` (the dashboard mounts it);
``serve_metrics(journal, port)`` serves it on 127.0.0.1 from a thread (``trimtab run --metrics-port``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trimtab.journal import Journal

log = logging.getLogger(__name__)

_REFUSAL_CODE = re.compile(r"^[A-Z][A-Z0-9_]{2,31}$")

ENDED = ("completed", "failed", "needs_attention")
#: Tool calls whose refusals the watch journals as events already (``engine/events.watch_run`` around
#: ``PlanDesk`` execution; the Rebalancer's step): their tool-call rows are not counted again.
WATCHED_TOOLS = (("mcp", "execute_plan"), ("python", "execute"), ("python", "step"))
#: Tool-call error codes that are not refusals.
NOT_REFUSALS = ("INVALID_ARGUMENT", "VENUE_ERROR", "INTERNAL")


def journal_figures(journal: Journal) -> dict[str, Any]:
    """Every figure the metrics show, per portfolio, as plain data (one connection, grouped queries)."""
    from sqlalchemy import func, select

    from trimtab.journal import schema

    from sqlalchemy import and_, not_, or_

    checks, runs, legs, events, calls = schema.checks, schema.runs, schema.legs, schema.events, schema.tool_calls
    watched = or_(*(and_(calls.c.interface == interface, calls.c.tool == tool) for interface, tool in WATCHED_TOOLS))
    newest = select(func.max(checks.c.id).label("id")).group_by(checks.c.portfolio).subquery()
    with journal.engine.connect() as c:
        latest = c.execute(select(checks.c.portfolio, checks.c.max_drift, checks.c.total_value, checks.c.at)
                           .where(checks.c.id.in_(select(newest.c.id)))).all()
        counts = c.execute(select(checks.c.portfolio, func.count()).group_by(checks.c.portfolio)).all()
        run_states = c.execute(select(runs.c.portfolio, runs.c.state, func.count())
                               .group_by(runs.c.portfolio, runs.c.state)).all()
        leg_rows = c.execute(select(runs.c.portfolio, legs.c.state, func.count(), func.coalesce(func.sum(legs.c.fee), 0.0))
                             .join(runs, runs.c.id == legs.c.run_id).group_by(runs.c.portfolio, legs.c.state)).all()
        event_rows = c.execute(select(events.c.portfolio, events.c.kind, events.c.code, events.c.phase, func.count(),
                                      func.max(events.c.id))
                               .where(events.c.kind.in_(["venue_error", "refusal"]))
                               .group_by(events.c.portfolio, events.c.kind, events.c.code, events.c.phase)).all()
        conditions = c.execute(select(events.c.portfolio, events.c.code, events.c.phase)
                               .where(events.c.kind == "condition").order_by(events.c.id)).all()
        refused_calls = c.execute(select(calls.c.portfolio, calls.c.code, func.count())
                                  .where(calls.c.outcome == "error", calls.c.code.is_not(None),
                                         calls.c.code.not_in(NOT_REFUSALS), not_(watched))
                                  .group_by(calls.c.portfolio, calls.c.code)).all()
    figures: dict[str, Any] = {}

    def of(portfolio: str) -> dict[str, Any]:
        return figures.setdefault(portfolio, {"checks": 0, "max_drift": None, "value": None, "last_check": None,
                                              "runs": {}, "legs": {}, "fees": 0.0, "venue_errors": {},
                                              "refusals": {}, "conditions": {}})

    for portfolio, drift, value, at in latest:
        f = of(portfolio)
        f["max_drift"], f["value"] = float(drift), float(value)
        f["last_check"] = (at.timestamp() if at.tzinfo else at.replace(tzinfo=_utc()).timestamp())
    for portfolio, n in counts:
        of(portfolio)["checks"] = int(n)
    for portfolio, state, n in run_states:
        of(portfolio)["runs"][state] = int(n)
    for portfolio, state, n, fees in leg_rows:
        f = of(portfolio)
        f["legs"][state] = int(n)
        f["fees"] += float(fees)
    for portfolio, kind, code, _phase, n, _last in event_rows:
        key = "venue_errors" if kind == "venue_error" else "refusals"
        of(portfolio)[key][code] = of(portfolio)[key].get(code, 0) + int(n)
    for portfolio, code, n in refused_calls:
        if _REFUSAL_CODE.match(code):  # a Denied code; not an exception's class name (the Python API's)
            refusals = of(portfolio)["refusals"]
            refusals[code] = refusals.get(code, 0) + int(n)
    for portfolio, code, phase in conditions:
        of(portfolio)["conditions"][code] = 1 if phase == "start" else 0
    return figures


def _utc():  # type: ignore[no-untyped-def]
    from datetime import UTC

    return UTC


class JournalCollector:
    """A prometheus_client collector over ``journal`` (see the module docstring)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily("trimtab_journal_up", "1 when the journal answered this scrape.")
        try:
            figures = journal_figures(self.journal)
        except Exception as e:  # noqa: BLE001 - an unreachable journal is a figure, not a crash
            log.warning("metrics: the journal could not be read: %s", type(e).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        p = ["portfolio"]
        drift = GaugeMetricFamily("trimtab_max_drift", "Max |weight - target| at the newest check (fraction).", labels=p)
        value = GaugeMetricFamily("trimtab_portfolio_value", "Portfolio value at the newest check (quote units).",
                                  labels=p)
        last = GaugeMetricFamily("trimtab_last_check_timestamp_seconds", "Time of the newest check (Unix seconds).",
                                 labels=p)
        checks = CounterMetricFamily("trimtab_checks", "Checks recorded.", labels=p)
        rebalances = CounterMetricFamily("trimtab_rebalances", "Rebalance runs that ended, by outcome.",
                                         labels=[*p, "outcome"])
        legs = CounterMetricFamily("trimtab_legs", "Legs (orders and bridges) by outcome (their state).",
                                   labels=[*p, "outcome"])
        fees = CounterMetricFamily("trimtab_fees", "Fees paid by every leg (quote units).", labels=p)
        runs = GaugeMetricFamily("trimtab_runs", "Runs by their current state.", labels=[*p, "state"])
        errors = CounterMetricFamily("trimtab_venue_errors", "Checks or rebalances stopped by a venue error, by kind.",
                                     labels=[*p, "kind"])
        refusals = CounterMetricFamily("trimtab_guard_refusals", "Guard refusals (of runs and of agents' tool calls), "
                                       "by code.", labels=[*p, "code"])
        conditions = GaugeMetricFamily("trimtab_alert_condition", "1 while an alert condition is on.",
                                       labels=[*p, "condition"])
        for name, f in sorted(figures.items()):
            if f["max_drift"] is not None:
                drift.add_metric([name], f["max_drift"])
                value.add_metric([name], f["value"])
                last.add_metric([name], f["last_check"])
            checks.add_metric([name], f["checks"])
            for outcome in ENDED:
                rebalances.add_metric([name, outcome], f["runs"].get(outcome, 0))
            for state, n in sorted(f["legs"].items()):
                legs.add_metric([name, state], n)
            fees.add_metric([name], f["fees"])
            for state, n in sorted(f["runs"].items()):
                runs.add_metric([name, state], n)
            for kind, n in sorted(f["venue_errors"].items()):
                errors.add_metric([name, kind], n)
            for code, n in sorted(f["refusals"].items()):
                refusals.add_metric([name, code], n)
            for condition, on in sorted(f["conditions"].items()):
                conditions.add_metric([name, condition], on)
        yield from (drift, value, last, checks, rebalances, legs, fees, runs, errors, refusals, conditions)


def registry_for(journal: Journal):  # type: ignore[no-untyped-def]
    """A fresh ``CollectorRegistry`` holding only the journal's collector."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(JournalCollector(journal))
    return registry


def make_metrics_app(journal: Journal):  # type: ignore[no-untyped-def]
    """An ASGI app answering a scrape with the journal's metrics (mount it at ``/metrics``)."""
    from prometheus_client import make_asgi_app

    return make_asgi_app(registry=registry_for(journal))


def serve_metrics(journal: Journal, port: int, host: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    """Serve ``/metrics`` on ``host:port`` from a daemon thread; return ``(server, thread)``.

    Raise ``InputError`` when the port cannot be bound."""
    from prometheus_client import start_http_server

    from trimtab.errors import InputError

    try:
        return start_http_server(port, addr=host, registry=registry_for(journal))
    except OSError as e:
        raise InputError(f"Cannot serve metrics on {host}:{port}: {e.strerror or e}.") from None

"""Engine events: what a check or a rebalance did that a person may want to be told about.

The engine emits ``Event`` values to an ``Observer`` (anything with ``notify(event)``); it never
sends anything itself and imports no notification library. ``Watch`` turns each step of the agent
(a check, a rebalance, or the error that stopped one) into events:

| kind                 | phase          | when                                                          |
| -------------------- | -------------- | ------------------------------------------------------------- |
| rebalance_completed  | once           | a run completed (its legs and fees in ``data``)               |
| leg_failed           | once           | a run failed because the venue refused or failed a leg        |
| needs_attention      | start / clear  | a run parked in needs_attention / the next step that can trade |
| emergency_drift      | start / clear  | max drift past the emergency band / back inside it            |
| guard_refusal        | start / clear  | a guard refused (code in ``data``) / a step without that refusal |
| venue_unreachable    | start / clear  | ``unreachable_after`` venue errors in a row / the next success |
| kill_switch          | start / clear  | the kill switch (flag or file) is on / off again              |
| daily_summary        | once           | the first step of each UTC day: the last 24 hours in figures  |

Conditions are remembered in the journal (``journal/events.py``), so repeats are coalesced across
processes: one event when a condition starts, one when it clears. A watch never raises into the
run it watches: its own failures are logged and dropped.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from trimtab.core.drift import DRIFT_EPSILON
from trimtab.errors import Denied, TrimtabError, VenueError

if TYPE_CHECKING:
    from trimtab.engine.results import RebalanceResult
    from trimtab.engine.executor import RunOutcome
    from trimtab.engine.guards import Guards
    from trimtab.journal import Journal

log = logging.getLogger(__name__)

#: Every event kind, in the order the docs list them; ``[alerts] events`` must name only these.
EVENT_KINDS: tuple[str, ...] = ("rebalance_completed", "leg_failed", "needs_attention", "emergency_drift",
                                "guard_refusal", "venue_unreachable", "kill_switch", "daily_summary")
#: What ``[alerts] events`` holds when it is not set: everything but the optional daily summary.
DEFAULT_EVENT_KINDS: tuple[str, ...] = EVENT_KINDS[:-1]

_CODE = re.compile(r"^([A-Z][A-Z0-9_]{2,}): ")


@dataclass(frozen=True, kw_only=True)
class Event:
    """One thing to tell a person: ``kind`` (see the table), ``phase`` (once, start or clear), a
    one-line ``title``, a ``body`` of a few lines, and the figures in ``data``."""

    kind: str
    portfolio: str
    phase: str
    title: str
    body: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


class Observer(Protocol):
    """Anything told about events. ``notify`` must return at once (queue, don't send)."""

    def notify(self, event: Event) -> None: ...


class Watch:
    """Turns the agent's steps into events for ``observer`` (see the module docstring)."""

    def __init__(self, journal: Journal, portfolio: str, observer: Observer, *, emergency_band: float | None,
                 unreachable_after: int = 3, guards: Guards | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.journal, self.portfolio, self.observer = journal, portfolio, observer
        self.emergency_band, self.unreachable_after, self.guards, self.clock = (
            emergency_band, unreachable_after, guards, clock)

    # -- the two entry points -----------------------------------------------------------------

    def succeeded(self, result: RebalanceResult) -> None:
        """A check or rebalance returned ``result`` (a dry run says nothing: it skips the resume that
        would have found a parked run)."""
        from trimtab.journal.events import EventRow, record_event, watch_state

        if result.dry_run:
            return

        active, venue_error, summarized = watch_state(self.journal, self.portfolio, self.clock().date().isoformat())
        if venue_error:
            record_event(self.journal, EventRow(portfolio=self.portfolio, at=self.clock(), kind="venue_ok",
                                                code="reached"))
        self._condition(active, "venue_unreachable", False, "the venue answers again")
        self._kill_switch(active)
        assessment = result.assessment
        if assessment is not None and self.emergency_band is not None:
            drift = assessment.drift.max_drift
            past = drift > self.emergency_band + DRIFT_EPSILON
            self._condition(active, "emergency_drift", past,
                            f"max drift {drift:.2%} is past the emergency band {self.emergency_band:.2%}"
                            if past else
                            f"max drift {drift:.2%} is back inside the emergency band {self.emergency_band:.2%}",
                            {"max_drift": drift, "emergency_band": self.emergency_band})
        refused: set[str] = set()
        parked = None
        for outcome in (result.resumed, result.outcome):
            if outcome is None:
                continue
            if outcome.state == "completed":
                self._emit("rebalance_completed", "once", f"rebalance {outcome.run_id} completed",
                           _run_body(outcome), _run_data(outcome))
            elif outcome.state == "failed":
                code = _code(outcome.reason)
                if code is not None:
                    refused.add(code)
                    self._refusal(active, code, outcome.reason)
                else:
                    self._emit("leg_failed", "once", f"rebalance {outcome.run_id} failed: a leg was refused or failed",
                               _run_body(outcome), _run_data(outcome))
            elif outcome.state == "needs_attention":
                parked = outcome
        if parked is not None:
            self._condition(active, "needs_attention", True,
                            f"run {parked.run_id} needs attention: {parked.reason}", _run_data(parked))
        else:
            self._condition(active, "needs_attention", False, "no run needs attention any more")
        for name in [n for n in active if n.startswith("guard_refusal:") and n.split(":", 1)[1] not in refused]:
            self._condition(active, name, False, f"{name.split(':', 1)[1]} no longer refuses")
        if not summarized:
            self._daily_summary()

    def failed(self, error: TrimtabError) -> None:
        """A check or rebalance raised ``error`` (it is re-raised by the caller)."""
        from trimtab.journal.events import EventRow, record_event, venue_error_streak

        active = self._active()
        if isinstance(error, Denied):
            if error.code == "RUN_NEEDS_ATTENTION":
                self._condition(active, "needs_attention", True, str(error))
            else:
                self._refusal(active, error.code, str(error))
        elif isinstance(error, VenueError):
            record_event(self.journal, EventRow(portfolio=self.portfolio, at=self.clock(), kind="venue_error",
                                                code=type(error).__name__, message=str(error)[:500]))
            streak = venue_error_streak(self.journal, self.portfolio)
            if streak >= self.unreachable_after:
                self._condition(active, "venue_unreachable", True,
                                f"the venue failed {streak} times in a row; last: {error}", {"streak": streak})
        self._kill_switch(active)

    # -- helpers --------------------------------------------------------------------------------

    def _active(self) -> dict[str, str]:
        from trimtab.journal.events import active_conditions

        return active_conditions(self.journal, self.portfolio)

    def _refusal(self, active: dict[str, str], code: str, message: str) -> None:
        from trimtab.journal.events import EventRow, record_event

        record_event(self.journal, EventRow(portfolio=self.portfolio, at=self.clock(), kind="refusal", code=code,
                                            message=message[:500]))
        if code == "KILL_SWITCH":
            self._condition(active, "kill_switch", True, message.removeprefix("KILL_SWITCH: "))
        else:
            self._condition(active, f"guard_refusal:{code}", True, message, {"code": code})

    def _kill_switch(self, active: dict[str, str]) -> None:
        if self.guards is None:
            return
        try:
            self.guards.check_kill_switch()
        except Denied as on:
            self._condition(active, "kill_switch", True, on.message)
        else:
            self._condition(active, "kill_switch", False, "the kill switch is off again")

    def _condition(self, active: dict[str, str], name: str, on: bool, message: str,
                   data: Mapping[str, Any] | None = None) -> None:
        """Record and emit the start (``on`` and not active) or the clear (off and active) of ``name``."""
        from trimtab.journal.events import EventRow, record_event

        if on == (name in active):
            return
        phase = "start" if on else "clear"
        record_event(self.journal, EventRow(portfolio=self.portfolio, at=self.clock(), kind="condition", code=name,
                                            phase=phase, message=message[:500]))
        if on:
            active[name] = message
        else:
            active.pop(name, None)
        kind = name.split(":", 1)[0]
        title = f"{kind.replace('_', ' ')}: {message}" if on else f"{kind.replace('_', ' ')} cleared: {message}"
        self._emit(kind, phase, title, message, {"condition": name, **(data or {})})

    def _daily_summary(self) -> None:
        from trimtab.journal.events import EventRow, record_event

        now = self.clock()
        day = now.date().isoformat()
        record_event(self.journal, EventRow(portfolio=self.portfolio, at=now, kind="summary", code=day))
        figures = day_figures(self.journal, self.portfolio, now - timedelta(days=1))
        body = (f"last 24 h: {figures['checks']} checks, {figures['runs']} runs ({figures['completed']} completed), "
                f"fees {figures['fees']:,.2f}, largest drift {figures['max_drift']:.2%}")
        self._emit("daily_summary", "once", f"daily summary for {self.portfolio}", body, figures)

    def _emit(self, kind: str, phase: str, title: str, body: str, data: Mapping[str, Any]) -> None:
        event = Event(kind=kind, portfolio=self.portfolio, phase=phase, title=f"[trimtab {self.portfolio}] {title}",
                      body=body, at=self.clock(), data=dict(data))
        try:
            self.observer.notify(event)
        except Exception:
            log.exception("an observer failed on %s", kind)


def watched(method: Callable[..., RebalanceResult]) -> Callable[..., RebalanceResult]:
    """Wrap an ``Agent`` method so its ``watch`` (if any) sees each result or error. The watch's
    own failures are logged, never raised: watching cannot fail or change a run."""

    @functools.wraps(method)
    def wrapper(agent: Any, *args: Any, **kwargs: Any) -> RebalanceResult:
        watch: Watch | None = getattr(agent, "watch", None)
        if watch is None:
            return method(agent, *args, **kwargs)
        try:
            result = method(agent, *args, **kwargs)
        except TrimtabError as error:
            _quietly(watch.failed, error)
            raise
        _quietly(watch.succeeded, result)
        return result

    return wrapper


def watch_run(watch: Watch | None, execute: Callable[[], Any],
              outcome_of: Callable[[Any], RunOutcome] | None) -> Any:
    """``execute()`` (e.g. ``PlanDesk.execute``) with ``watch`` told of its run's outcome or its error,
    as ``watched`` does for the agent's own methods (``outcome_of`` None: only an error is told,
    e.g. for ``PlanDesk.begin``, whose run ends later)."""
    if watch is None:
        return execute()
    from trimtab.engine.results import RebalanceResult

    try:
        done = execute()
    except TrimtabError as error:
        _quietly(watch.failed, error)
        raise
    if outcome_of is not None:
        _quietly(watch.succeeded, RebalanceResult(assessment=None, outcome=outcome_of(done)))
    return done


def _quietly(function: Callable[[Any], None], argument: Any) -> None:
    try:
        function(argument)
    except Exception:
        log.exception("the watch failed; the run is unaffected")


def _code(reason: str) -> str | None:
    """The ``Denied`` code a failed run's reason starts with (``PRICE_MOVED: ...``), if any."""
    match = _CODE.match(reason or "")
    return match.group(1) if match else None


def _run_data(outcome: RunOutcome) -> dict[str, Any]:
    return {"run_id": outcome.run_id, "state": outcome.state, "reason": outcome.reason, "fees": outcome.fees,
            "traded_value": outcome.traded_value,
            "legs": [{"kind": leg.kind, "side": leg.side, "asset": leg.asset, "state": leg.state, "value": leg.value,
                      "fee": leg.fee} for leg in outcome.legs]}


def _run_body(outcome: RunOutcome) -> str:
    lines = [f"{len(outcome.legs)} legs, traded {outcome.traded_value:,.2f}, fees {outcome.fees:,.2f}"]
    for leg in outcome.legs:
        what = leg.side or f"bridge to {leg.to_chain}"
        value = "-" if leg.value is None else f"{leg.value:,.2f}"
        lines.append(f"  {what} {leg.asset}: {leg.state}, value {value}, fee {leg.fee or 0.0:,.2f}")
    if outcome.state != "completed":
        lines.append(f"reason: {outcome.reason}")
    return "\n".join(lines)


def day_figures(journal: Journal, portfolio: str, since: datetime) -> dict[str, Any]:
    """Checks, runs, completed runs, fees and the largest drift since ``since``."""
    from sqlalchemy import func, select

    from trimtab.journal import schema

    checks, runs, legs = schema.checks, schema.runs, schema.legs
    with journal.engine.connect() as c:
        count, drift = c.execute(select(func.count(), func.coalesce(func.max(checks.c.max_drift), 0.0))
                                 .where(checks.c.portfolio == portfolio, checks.c.at >= since)).one()
        states = dict(c.execute(select(runs.c.state, func.count()).where(runs.c.portfolio == portfolio,
                                                                         runs.c.created_at >= since)
                                .group_by(runs.c.state)).all())
        ids = select(runs.c.id).where(runs.c.portfolio == portfolio, runs.c.created_at >= since)
        fees = c.execute(select(func.coalesce(func.sum(legs.c.fee), 0.0)).where(legs.c.run_id.in_(ids))).scalar_one()
    return {"checks": int(count), "runs": int(sum(states.values())), "completed": int(states.get("completed", 0)),
            "fees": float(fees), "max_drift": float(drift)}

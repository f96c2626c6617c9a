"""``Rebalancer``: what an agent's own loop calls, every hour, to keep a portfolio on target.

It runs through the same guardrails as the MCP tools (``engine/approvals.py``): a rebalance is a
stored plan executed once, after the price re-check, caps, allow-lists, approval and kill switch.
A refusal never raises out of ``step``: it comes back as ``StepResult.refused`` (code and one
sentence), so a loop cannot spin on it. Each call is journaled as a tool call (interface
``python``).

>>> import trimtab, time                                        # doctest: +SKIP
>>> bot = trimtab.Rebalancer("trimtab.toml")
>>> while True:
...     print(bot.step().summary())
...     time.sleep(3600)
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from trimtab.core.assessment import Assessment
from trimtab.engine.approvals import Execution, PlanDesk
from trimtab.engine.executor import RunOutcome
from trimtab.errors import Denied, TrimtabError
from trimtab.journal import PlanRecord, ToolCallRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """One step: the check it made, and what followed (a run, a plan awaiting approval, a refusal)."""

    at: datetime
    assessment: Assessment
    plan_id: str | None = None
    run: RunOutcome | None = None
    waiting_for_approval: bool = False
    refused: str | None = None
    resumed: RunOutcome | None = None

    @property
    def traded(self) -> bool:
        return self.run is not None and any(leg.state == "filled" for leg in self.run.legs)

    def summary(self) -> str:
        """One line, e.g. ``max drift 15.0%: rebalance (BTC drift 0.150 > band 0.050) -> run r1a.. completed``."""
        d = self.assessment.decision
        line = f"max drift {self.assessment.drift.max_drift:.1%}: {'rebalance' if d.rebalance else 'hold'} ({d.reason})"
        if self.run is not None:
            line += f" -> run {self.run.run_id} {self.run.state}"
        if self.waiting_for_approval:
            line += f" -> plan {self.plan_id} waits for `trimtab approve {self.plan_id}`"
        if self.refused:
            line += f" -> refused: {self.refused}"
        return line


class Rebalancer:
    """The portfolio configured at ``config`` (a path, default ``./trimtab.toml``), for an agent.

    ``status()`` checks without trading; ``plan()`` stores a plan; ``execute(plan_id)`` runs one;
    ``step()`` is one turn of the production loop (check, record, and rebalance if the policy says so).
    Its steps are watched as the CLI's ``run`` is: events go to the config's ``[alerts] urls`` from a
    background sender; ``close()`` (or leaving a ``with`` block, or the process ending) lets queued
    ones go out.
    """

    def __init__(self, config: str | os.PathLike[str] | None = None) -> None:
        from trimtab.config import load_config
        from trimtab.wiring import build_desk, start_alerts

        self.config, self.config_path = load_config(config)
        self.desk: PlanDesk = build_desk(self.config, self.config_path)
        # watched like the CLI's run: conditions journaled for the metrics, alerts to [alerts] urls
        self._alerts = start_alerts(self.desk.agent, self.config)
        if self._alerts is not None:
            atexit.register(self.close)  # queued alerts get [alerts] timeout to leave at exit

    def close(self) -> None:
        """Let queued alerts go out (up to ``[alerts] timeout`` seconds) and stop their sender."""
        from trimtab.wiring import stop_alerts

        sender, self._alerts = self._alerts, None
        if sender is not None:
            atexit.unregister(self.close)
            stop_alerts([sender])

    def __enter__(self) -> Rebalancer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def portfolio(self) -> str:
        return self.desk.agent.portfolio

    def status(self) -> Assessment:
        """Drift, the policy's decision and the plan it would make now; nothing is stored or sent."""
        return self._journaled("status", {}, self.desk.agent.assess)

    def plan(self) -> PlanRecord:
        """Store a plan (legs, prices, expiry) that ``execute`` may run once; raise ``Denied`` if an
        allow-list forbids it."""
        return self._journaled("plan", {}, self.desk.plan)

    def execute(self, plan_id: str) -> Execution:
        """Execute a stored plan once; raise ``Denied`` (nothing sent) when a guardrail refuses."""
        from trimtab.engine.events import watch_run

        return self._journaled("execute", {"plan_id": plan_id[:80]}, lambda: watch_run(
            self.desk.agent.watch, lambda: self.desk.execute(plan_id), lambda done: done.outcome))

    def withdraw(self, amount: float, asset: str | None = None, *, to: str | None = None,
                 chain: str | None = None, dry_run: bool = False):  # type: ignore[no-untyped-def]
        """Pay ``amount`` of ``asset`` (the quote by default) out to address ``to``, as
        ``trimtab withdraw`` does, behind the same guardrails: the agent allow-lists (venue, asset),
        the kill switch, ``max_withdrawal_value`` and ``withdraw_addresses`` raise ``Denied`` before
        anything is sold. Then a sell-only run raises the cash from the overweight assets and the
        payout is journaled under a client id before it is sent once. ``chain``: the network to send on
        (required on an exchange; a wallet defaults to the chain holding the most). Returns ``(result, flow)``:
        the run's ``RebalanceResult`` and the journaled flow (None for a dry run)."""
        arguments = {"amount": amount, "asset": asset, "to": (to or "")[:80] or None, "chain": chain, "dry_run": dry_run}
        return self._journaled("withdraw", arguments,
                               lambda: self.desk.withdraw(amount, asset, address=to, chain=chain, dry_run=dry_run))

    def step(self, now: datetime | None = None) -> StepResult:
        """Resume an unfinished run, check, record the check, and rebalance if the policy says so.

        In approval mode a due rebalance stores a plan and waits; the next step executes it once a
        person approved it. Refusals come back in ``refused``; nothing here raises ``Denied``.
        """
        return self._journaled("step", {}, lambda: self._step(now))

    def _step(self, now: datetime | None) -> StepResult:
        """The step, told to the agent's watch as ``Agent.check`` tells it (alerts, metrics)."""
        from trimtab.engine.results import RebalanceResult

        watch = self.desk.agent.watch
        try:
            result = self._unwatched_step(now)
        except TrimtabError as error:
            _tell(watch, "failed", error)
            raise
        if result.denied is not None:
            _tell(watch, "failed", result.denied)
        else:
            _tell(watch, "succeeded", RebalanceResult(assessment=result.step.assessment, outcome=result.step.run,
                                                      resumed=result.step.resumed))
        return result.step

    def _unwatched_step(self, now: datetime | None) -> _Step:
        from trimtab.engine.agent import check_record

        agent = self.desk.agent
        at = now or datetime.now(UTC)
        try:
            with agent.lock():
                resumed = agent.resume()
                self.desk.settle()
        except Denied as denied:
            return _Step(StepResult(at=at, assessment=agent.assess(), refused=str(denied)), denied)
        assessment = agent.assess()
        agent.journal.record_checks([check_record(self.portfolio, assessment, agent.venue.now())])
        result = StepResult(at=at, assessment=assessment, resumed=resumed)
        if not assessment.decision.rebalance or assessment.plan.is_empty:
            return _Step(result)
        try:
            if self.desk.rails.require_approval:
                approved = [p for p in self.desk.pending() if p.state == "approved"]
                if not approved:
                    waiting = next(iter(self.desk.pending()), None) or self.desk.plan(assessment)
                    return _Step(_with(result, plan_id=waiting.id, waiting_for_approval=True))
                done = self.desk.execute(approved[0].id)
            else:
                done = self.desk.execute(self.desk.plan(assessment).id)
        except Denied as denied:
            return _Step(_with(result, refused=str(denied)), denied)
        return _Step(_with(result, plan_id=done.plan.id, run=done.outcome))

    def _journaled(self, tool: str, arguments: dict, call):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        outcome, code, message = "ok", None, ""
        try:
            value = call()
            refused = getattr(value, "refused", None)
            if refused:
                outcome, code, message = "error", refused.split(":")[0], refused
            return value
        except Denied as denied:
            outcome, code, message = "error", denied.code, str(denied)
            raise
        except Exception as e:
            outcome, code, message = "error", type(e).__name__[:32], str(e).splitlines()[0][:500] if str(e) else ""
            raise
        finally:
            self.desk.agent.journal.record_tool_call(ToolCallRecord(
                portfolio=self.portfolio, at=datetime.now(UTC), interface="python", tool=tool,
                arguments=arguments, outcome=outcome, code=code, message=message,
                duration_ms=(time.perf_counter() - began) * 1000))


@dataclass(frozen=True)
class _Step:
    """A step's result and the refusal behind it, if any (for the watch)."""

    step: StepResult
    denied: Denied | None = None


def _tell(watch, what: str, argument) -> None:  # type: ignore[no-untyped-def]
    """``watch.<what>(argument)`` when there is a watch; its failures are logged, never raised."""
    if watch is None:
        return
    try:
        getattr(watch, what)(argument)
    except Exception:
        log.exception("the watch failed; the step is unaffected")


def _with(result: StepResult, **changes) -> StepResult:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(result, **changes)


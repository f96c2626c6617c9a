"""What the agent tools do, as plain methods returning typed results (``mcp_models``).

The MCP server (``mcp_server.py``) is a thin shell over this class. Every method reads the config
afresh, so an owner's change to ``[agent]`` or ``[execution]`` (or the kill switch) applies to the
very next call. Guardrails live in the engine (``engine/approvals.py``); this layer only
translates. Methods raise ``TrimtabError`` subclasses with one sentence.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from trimtab.interfaces.mcp import models as m

#: How long ``execute_plan`` waits for its run before answering with the run as it stands (a paper
#: run ends well within it; a bridge of minutes does not, and the agent polls ``get_run``).
EXECUTE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class AgentTools:
    """The tools over the portfolio configured at ``config_path``."""

    config_path: Path

    def _load(self):  # type: ignore[no-untyped-def]
        from trimtab.config import load_config

        return load_config(self.config_path)

    @contextmanager
    def _desk(self):  # type: ignore[no-untyped-def]
        """The plan desk for one call; its venue and journal are closed after it (no handle leaks
        in a server that lives for weeks)."""
        from trimtab.wiring import build_desk

        desk = build_desk(*self._load())
        try:
            yield desk
        finally:
            desk.agent.venue.close()
            desk.agent.journal.close()

    @contextmanager
    def _journal(self):  # type: ignore[no-untyped-def]
        from trimtab.wiring import journal_url
        from trimtab.journal import Journal

        config, path = self._load()
        journal = Journal.open(journal_url(config, path))
        try:
            yield config, journal
        finally:
            journal.close()

    def get_portfolio(self) -> m.Portfolio:
        from trimtab.venues.base import by_chain

        config, _ = self._load()
        with self._desk() as desk:
            assessment = desk.agent.assess()
            chains = by_chain(desk.agent.venue.balances())
        doc = assessment.to_dict()
        assets = [m.AssetView(asset=a["asset"], quantity=a["quantity"], price=a["price"], value=a["value"],
                              weight=a["weight"], target=a["target"], drift=a["drift"],
                              chains=dict(chains.get(a["asset"], {}))) for a in doc["assets"]]
        transit = [m.TransitView(**t) for t in doc["in_transit"]]
        return m.Portfolio(portfolio=config.portfolio.name, venue=config.venue_kind, quote=doc["quote"],
                           total_value=doc["total_value"], in_transit_value=doc["in_transit_value"], in_transit=transit,
                           run_in_flight=assessment.in_flight_line(), max_drift=_finite(doc["max_drift"]),
                           assets=assets, decision=m.Decision(**doc["decision"]))

    def check_drift(self) -> m.DriftCheck:
        config, _ = self._load()
        with self._desk() as desk:
            assessment = desk.agent.assess()
        d = assessment.decision
        return m.DriftCheck(max_drift=_finite(assessment.drift.max_drift), band=config.policy.band,
                            relative_band=config.policy.relative_band, policy=config.policy.kind,
                            decision=m.Decision(rebalance=d.rebalance, trigger=d.trigger, reason=d.reason),
                            total_value=assessment.valuation.total_value,
                            in_transit_value=assessment.valuation.in_transit_value,
                            run_in_flight=assessment.in_flight_line())

    def plan_rebalance(self, max_value: float | None = None) -> m.PlanView:
        from trimtab.errors import Denied

        with self._desk() as desk:
            assessment = desk.agent.assess()
            if max_value is not None and assessment.plan.turnover > max_value:
                raise Denied("OVER_MAX_VALUE", f"the plan would trade {assessment.plan.turnover:,.2f}, more than "
                                               f"the max_value {max_value:,.2f} you gave; nothing was stored.")
            return plan_view(desk.plan(assessment), desk.rails.require_approval)

    def execute_plan(self, plan_id: str, wait_seconds: float = EXECUTE_WAIT_SECONDS) -> m.ExecutionView:
        """Every guardrail, then the run starts and is driven on its own thread; the answer comes when
        the run ended or after ``wait_seconds``, whichever is first. A run still going (a bridge
        travels) is reported as it stands (``plan_state`` ``executing``): poll ``get_run``."""
        from trimtab.engine.events import watch_run
        from trimtab.wiring import build_desk, watch_agent

        config, path = self._load()
        desk = build_desk(config, path)
        watch_agent(desk.agent, config, alert_sender(config))
        try:
            # a refusal is told to the watch (alerts, metrics); success is told when the run ends
            started = watch_run(desk.agent.watch, lambda: desk.begin(plan_id), None)
        except BaseException:
            _close(desk)
            raise
        driver = threading.Thread(target=_drive, args=(desk, started), name=f"trimtab-run-{started.run_id}")
        driver.start()
        driver.join(wait_seconds)
        with self._journal() as (_, journal):
            plan, run = journal.plan(plan_id), journal.run(started.run_id)
            legs = journal.legs(run.id)
        return m.ExecutionView(plan_id=plan_id, plan_state=plan.state, run_id=run.id, run_state=run.state,
                               reason=run.reason, traded_value=sum(leg.value or 0.0 for leg in legs
                                                                   if leg.kind != "transfer"),
                               fees=sum(leg.fee or 0.0 for leg in legs), legs=[_run_leg(leg) for leg in legs])

    def withdraw(self, amount: float, asset: str | None = None, to: str | None = None, chain: str | None = None,
                 dry_run: bool = False) -> m.WithdrawalView:
        """``trimtab withdraw`` for an agent (``PlanDesk.withdraw``): the allow-lists, the kill switch,
        ``max_withdrawal_value`` and ``withdraw_addresses`` refuse before anything is sold; then a
        sell-only run raises the cash and the payout is journaled under a client id and sent once."""
        with self._desk() as desk:
            asset = asset or desk.agent.strategy.targets.quote
            result, flow = desk.withdraw(_finite(amount), asset, address=to, chain=chain, dry_run=dry_run)
        sells = [] if result.assessment is None else [
            m.PlanLeg(side=str(leg.side), asset=leg.asset, quantity=leg.quantity, price=leg.price, value=leg.value,
                      fee=leg.fee) for leg in result.assessment.plan.legs]
        run = result.outcome
        where = f" to {to}" if to else ""
        if dry_run:
            message = (f"a dry run: {len(sells)} sell(s) would raise the cash, then {amount:,.2f} {asset} would be "
                       f"sent{where}; nothing was sold or sent.")
        elif flow is None:
            message = (f"the sell-only run {run.run_id if run else ''} is {run.state if run else 'not started'}, so nothing "
                       "was sent; poll get_run and withdraw again once it completed.")
        elif flow.state == "done":
            message = f"{amount:,.2f} {asset} sent{where} (client id {flow.client_id})."
        else:
            message = (f"the payout of {amount:,.2f} {asset} is {flow.state} under client id {flow.client_id}: it is "
                       "looked up by that id, never sent twice; get_portfolio shows it once the venue confirms.")
        return m.WithdrawalView(dry_run=dry_run, amount=amount, asset=asset, to=to, sells=sells,
                                run_id=run.run_id if run else None, run_state=run.state if run else None,
                                fees=run.fees if run else 0.0, payout_state=flow.state if flow else None,
                                client_id=flow.client_id if flow else None, message=message)

    def get_run(self, run_id: str) -> m.RunView:
        """One run as the journal has it now: state, legs, what is still travelling, and its plan."""
        from trimtab.errors import Denied
        from trimtab.journal.store import StaleState

        with self._journal() as (config, journal):
            try:
                run = journal.run(run_id)
            except StaleState:
                run = None
            if run is None or run.portfolio != config.portfolio.name:
                raise Denied("UNKNOWN_RUN", "there is no such run of this portfolio; get_history lists the runs.")
            legs = journal.legs(run.id)
            plan = next((p for p in journal.plans(config.portfolio.name, limit=100) if p.run_id == run.id), None)
        travelling = [leg for leg in legs if leg.state == "in_transit"]
        moving = ", ".join(f"{leg.filled_quantity or leg.planned_quantity or 0:.8g} {leg.asset} "
                           f"{leg.chain}->{leg.to_chain}" for leg in travelling)
        return m.RunView(run_id=run.id, state=run.state, final=run.state in ("completed", "failed"),
                         created_at=run.created_at.isoformat(), updated_at=run.updated_at.isoformat(),
                         reason=run.reason, value_before=run.value_before, value_after=run.value_after,
                         traded_value=sum(leg.value or 0.0 for leg in legs if leg.kind != "transfer"),
                         fees=sum(leg.fee or 0.0 for leg in legs), in_transit=moving or None,
                         plan_id=plan.id if plan else None, plan_state=plan.state if plan else None,
                         legs=[_run_leg(leg) for leg in legs])

    def get_history(self, limit: int = 10) -> m.History:
        with self._journal() as (config, journal):
            return self._history(config.portfolio.name, journal, limit)

    def _history(self, name: str, journal, limit: int) -> m.History:  # type: ignore[no-untyped-def]
        runs = []
        for r in journal.runs(name, limit=limit):
            legs = journal.legs(r.id)
            runs.append(m.RunSummary(run_id=r.id, state=r.state, created_at=r.created_at.isoformat(), reason=r.reason,
                                     value_before=r.value_before, value_after=r.value_after,
                                     fees=sum(leg.fee or 0.0 for leg in legs), legs=len(legs)))
        plans = [m.PlanSummary(plan_id=p.id, state=p.state, created_at=p.created_at.isoformat(),
                               expires_at=p.expires_at.isoformat(), run_id=p.run_id, approved_by=p.approved_by,
                               reason=p.reason)
                 for p in journal.plans(name, limit=limit)]
        calls = [m.ToolCallView(at=c.at.isoformat(), tool=c.tool, outcome=c.outcome, code=c.code)
                 for c in journal.tool_calls(name, limit=limit)]
        return m.History(runs=runs, plans=plans, tool_calls=calls, checks=journal.count_checks(name))

    def advise_threshold(self, days: int = 90, tracking_weight: float | None = None) -> m.Advice:
        """``trimtab.advise`` as the tool's typed result (the same document as ``advise --json``)."""
        from trimtab.api import advise

        report = advise(self.config_path, days=days, tracking_weight=tracking_weight)
        return m.Advice.model_validate(report.to_dict())

    def run_backtest(self, targets: dict[str, float], start: str, end: str, data: str = "daily",
                     policy: str = "threshold", band: float | None = 0.05, capital: float = 10_000.0,
                     fee: float = 0.001, *, contribution: float | None = None, withdrawal: float | None = None,
                     every: str | None = None, cash_flows: str | None = None) -> m.BacktestView:
        """A backtest in a child process, killed after ``max_backtest_seconds``; bars and assets
        are bounded by the config before it starts."""
        from trimtab.core.assets import Targets
        from trimtab.errors import Denied, InputError

        config, _ = self._load()
        limits = config.agent
        parsed = Targets.of(targets, config.portfolio.quote)
        first, last = _day(start, "start"), _day(end, "end")
        if last < first:
            raise InputError("end is before start; give start <= end.")
        bars = ((last - first).days + 1) * (24 if data == "hourly" else 1)
        if bars > limits.max_backtest_bars:
            raise Denied("BACKTEST_TOO_LARGE", f"{start} to {end} is about {bars:,} {data} bars; the limit is "
                                               f"{limits.max_backtest_bars:,} ([agent] max_backtest_bars).")
        if len(parsed.assets) > limits.max_backtest_assets:
            raise Denied("BACKTEST_TOO_LARGE", f"{len(parsed.assets)} assets; the limit is {limits.max_backtest_assets} "
                                               "([agent] max_backtest_assets).")
        weights = ",".join(f"{a}={w!r}" for a, w in parsed.weights.items())
        command = [sys.executable, "-m", "trimtab", "backtest", "--json", "--data", data, "--targets", weights,
                   "--start", start, "--end", end, "--policy", policy, "--capital", repr(capital), "--fee", repr(fee),
                   "--quote", parsed.quote]
        if band is not None and policy in ("threshold", "combined"):  # calendar and never have no band
            command += ["--band", repr(band)]
        for flag, value in (("--contribution", contribution), ("--withdrawal", withdrawal), ("--every", every),
                            ("--cash-flows", cash_flows)):
            if value is not None:
                command += [flag, value if isinstance(value, str) else repr(value)]
        began = time.monotonic()
        try:
            child = subprocess.run(command, capture_output=True, text=True, timeout=limits.max_backtest_seconds,
                                   check=False)
        except subprocess.TimeoutExpired:
            raise Denied("BACKTEST_TIMEOUT", f"the backtest ran past {limits.max_backtest_seconds:g} s "
                                             "([agent] max_backtest_seconds) and was stopped.") from None
        seconds = time.monotonic() - began
        import json

        try:
            document: dict[str, Any] = json.loads(child.stdout)
        except ValueError:
            raise InputError(f"the backtest failed: {child.stderr.strip().splitlines()[-1:] or ['no output']}") from None
        if child.returncode != 0 or "error" in document:
            raise InputError(document.get("error", {}).get("message", "the backtest failed."))
        settings = {"start", "end", "assets", "targets", "policy", "band", "relative_band", "schedule", "mode", "fee",
                    "fee_model", "slippage", "capital", "min_trade", "flow", "every", "cash_flows"}
        metrics = {k: v for k, v in document.items() if k not in settings and isinstance(v, (int, float, type(None)))}
        hold = document.get("buy_and_hold") or {}
        return m.BacktestView(start=document["start"], end=document["end"], bars=int(document.get("bars", bars)),
                              assets=document["assets"], seconds=round(seconds, 3), metrics=metrics,
                              buy_and_hold={k: v for k, v in hold.items() if isinstance(v, (int, float, type(None)))}
                              or None)

    def config_document(self) -> dict[str, Any]:
        """The config with every secret left out: SecretStr fields masked, URL passwords hidden."""
        from trimtab.journal.store import _redact

        config, path = self._load()
        document = config.model_dump(mode="json")
        document["journal"]["url"] = _redact(document["journal"]["url"])
        document["path"] = str(path)
        return document


_SENDERS: dict[tuple, Any] = {}


def alert_sender(config):  # type: ignore[no-untyped-def]
    """The process's alert sender for a config's ``[alerts]`` (one per distinct section, kept for the
    server's life and given ``timeout`` seconds to flush at exit), or None without URLs."""
    alerts = config.alerts
    if not alerts.urls:
        return None
    key = (tuple(u.get_secret_value() for u in alerts.urls), tuple(alerts.events), alerts.queue_size,
           alerts.retries, alerts.timeout)
    if key not in _SENDERS:
        import atexit

        from trimtab.monitor.alerts import sender_from_config

        sender = sender_from_config(alerts)
        atexit.register(sender.close, sender.wait_on_close)
        _SENDERS[key] = sender
    return _SENDERS[key]


def plan_view(record, requires_approval: bool) -> m.PlanView:  # type: ignore[no-untyped-def]
    doc = record.document
    return m.PlanView(
        plan_id=record.id, state=record.state, created_at=record.created_at.isoformat(),
        expires_at=record.expires_at.isoformat(), requires_approval=requires_approval,
        legs=[m.PlanLeg(**leg) for leg in doc["legs"]], turnover=doc["turnover"], fees=doc["fees"],
        weights=doc["weights"], expected_weights=doc["expected_weights"], decision=m.Decision(**doc["decision"]),
        skipped=[s["reason"] for s in doc["skipped"]],
    )


def _run_leg(leg) -> m.RunLeg:  # type: ignore[no-untyped-def]
    return m.RunLeg(client_id=leg.client_id, stage=leg.stage, kind=leg.kind, side=leg.side, asset=leg.asset,
                    chain=leg.chain, to_chain=leg.to_chain, state=leg.state, filled_quantity=leg.filled_quantity,
                    value=leg.value, fee=leg.fee)


def _drive(desk, started) -> None:  # type: ignore[no-untyped-def]
    """Drive a started run to its end on its own thread, then close the desk's venue and journal.
    A failure (the kill switch, a venue that stays unreachable) leaves the run resumable: the next
    process that takes the lock finishes it, and ``settle`` closes its plan."""
    import logging

    from trimtab.engine.events import watch_run

    try:
        watch_run(desk.agent.watch, lambda: desk.finish(started), lambda done: done.outcome)
    except Exception:
        logging.getLogger("trimtab.mcp").exception("run %s stopped; the next rebalance resumes it", started.run_id)
    finally:
        _close(desk)


def _close(desk) -> None:  # type: ignore[no-untyped-def]
    desk.agent.venue.close()
    desk.agent.journal.close()


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _day(text: str, name: str) -> date:
    from trimtab.errors import InputError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} is not a real date (YYYY-MM-DD).") from None

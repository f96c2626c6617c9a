"""Documents (JSON) and tables (rich) for the execution commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from trimtab.engine.agent import RebalanceResult
from trimtab.engine.executor import RunOutcome
from trimtab.interfaces.output import money, percent, quantity, stdout
from trimtab.journal import Journal, LegRecord


def leg_document(leg: LegRecord) -> dict[str, Any]:
    return {"client_id": leg.client_id, "stage": leg.stage, "kind": leg.kind, "side": leg.side, "asset": leg.asset,
            "chain": leg.chain, "to_chain": leg.to_chain, "state": leg.state, "planned_quantity": leg.planned_quantity,
            "quote_amount": leg.quote_amount, "filled_quantity": leg.filled_quantity, "value": leg.value,
            "fee": leg.fee, "error": leg.error}


def run_document(outcome: RunOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {"id": outcome.run_id, "state": outcome.state, "reason": outcome.reason, "fees": outcome.fees,
            "traded_value": outcome.traded_value, "legs": [leg_document(leg) for leg in outcome.legs]}


def rebalance_document(result: RebalanceResult) -> dict[str, Any]:
    return {"dry_run": result.dry_run, "assessment": result.assessment.to_dict() if result.assessment else None,
            "resumed": run_document(result.resumed), "run": run_document(result.outcome)}


def render_outcome(outcome: RunOutcome, title: str) -> None:
    table = Table(title=f"{title} {outcome.run_id}: {outcome.state}", title_justify="left")
    for name in ("leg", "stage", "what", "chain", "quantity", "value", "fee", "state"):
        table.add_column(name, justify="right" if name in ("quantity", "value", "fee") else "left")
    for leg in outcome.legs:
        between = leg.kind == "transfer" and ":" in (leg.chain or "") and \
            (leg.chain or "").split(":")[0] != (leg.to_chain or "").split(":")[0]
        what = f"{leg.side} {leg.asset}" if leg.kind != "transfer" else f"{'move' if between else 'bridge'} {leg.asset}"
        chain = leg.chain if leg.kind != "transfer" else f"{leg.chain} -> {leg.to_chain}"
        table.add_row(leg.client_id, leg.stage, what, chain or "", quantity(leg.filled_quantity or 0.0),
                      money(leg.value or 0.0), money(leg.fee or 0.0), leg.state + (f" ({leg.error})" if leg.error else ""))
    stdout.print(table)
    if outcome.reason:
        stdout.print(Text.assemble((outcome.state, "bold"), f": {outcome.reason}"))


def render_rebalance(result: RebalanceResult) -> None:
    if result.resumed is not None:
        render_outcome(result.resumed, "resumed run")
    if result.dry_run and result.assessment is not None:
        from trimtab.interfaces.cli.render import render_assessment

        render_assessment(result.assessment, title="dry run (nothing sent)")
        return
    if result.outcome is None:
        stdout.print("nothing to trade" if result.assessment and result.assessment.plan.is_empty
                     else "not confirmed: nothing sent (pass --yes to trade without the question)")
        return
    render_outcome(result.outcome, "run")
    stdout.print(f"traded {money(result.outcome.traded_value)}, fees {money(result.outcome.fees)}")


def step_document(result: RebalanceResult, *, at: datetime) -> dict[str, Any]:
    """One step of ``trimtab run``; ``at`` is the time the check was made and journaled at (the
    venue's clock, which for a paper venue is its simulated clock), never the wall clock."""
    a = result.assessment
    assert a is not None
    return {"at": _utc(at).isoformat(timespec="seconds"), "max_drift": a.drift.max_drift,
            "decision": ("rebalance: " if a.decision.rebalance else "hold: ") + a.decision.reason,
            "resumed": run_document(result.resumed), "run": run_document(result.outcome)}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def failed_step_document(error: Exception, at: datetime) -> dict[str, Any]:
    """A check of the production loop that the venue failed (it is tried again at the next one),
    at ``at`` on the portfolio's clock."""
    return {"at": _utc(at).isoformat(timespec="seconds"), "error": f"{type(error).__name__}: {error}", "run": None}


def flow_rows(journal: Journal, portfolio: str) -> list:
    from trimtab.journal.flows import flows

    return flows(journal, portfolio, states=None)


def history_document(journal: Journal, portfolio: str, limit: int) -> dict[str, Any]:
    runs = journal.runs(portfolio, limit=limit)
    return {
        "portfolio": portfolio,
        "checks": [{"at": c.at.isoformat(), "total_value": c.total_value, "max_drift": c.max_drift,
                    "rebalance": c.rebalance, "trigger": c.trigger, "reason": c.reason}
                   for c in journal.checks(portfolio, limit)],
        "runs": [{"id": r.id, "state": r.state, "created_at": r.created_at.isoformat(), "reason": r.reason,
                  "value_before": r.value_before, "value_after": r.value_after,
                  "fees": sum(leg.fee or 0.0 for leg in journal.legs(r.id)),
                  "legs": [leg_document(leg) for leg in journal.legs(r.id)]} for r in runs],
        "flows": [{"at": f.at.isoformat(), "kind": f.kind, "state": f.state, "asset": f.asset,
                   "quantity": f.quantity, "value": f.value} for f in flow_rows(journal, portfolio)],
        "returns": returns_document(journal, portfolio),
    }


def returns_document(journal: Journal, portfolio: str) -> dict[str, Any] | None:
    """Time-weighted and money-weighted returns over the journal's checks, and the net flows, so a
    deposit never reads as a gain (``engine/cashflows.py``); None before two checks."""
    from trimtab.engine.cashflows import returns, returns_document as document

    return document(returns(journal, portfolio))


def render_history(document: dict[str, Any]) -> None:
    """Each run as a heading (id, state, time, values, fees, reason; never cut) over a table of its
    legs, then the checks; readable at 80 columns, where only the long text columns wrap."""
    runs = document["runs"]
    stdout.print(Text.assemble((f"runs of {document['portfolio']}", "bold"), " (newest first)" + ("" if runs else ": none yet")))
    for r in runs:
        after = "-" if r["value_after"] is None else money(r["value_after"])
        stdout.print(Text.assemble("\n", (f"run {r['id']}", "bold"), f"  {r['state']}  {_when(r['created_at'])}"))
        stdout.print(f"  value {money(r['value_before'] or 0.0)} -> {after}, fees {money(r['fees'])}")
        if r["reason"]:
            stdout.print(f"  {r['reason']}")
        if r["legs"]:
            stdout.print(_legs_table(r["legs"]))
    returns = document.get("returns")
    if returns:
        from trimtab.interfaces.cli.render import returns_line

        stdout.print("\n" + returns_line(returns))
    stdout.print(Text.assemble("\n", ("checks", "bold"), " (newest first)" + ("" if document["checks"] else ": none yet")))
    if not document["checks"]:
        return
    checks = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    checks.add_column("at", no_wrap=True)
    checks.add_column("value", justify="right", no_wrap=True)
    checks.add_column("drift", justify="right", no_wrap=True)
    checks.add_column("decision", no_wrap=True)
    checks.add_column("reason", ratio=1)
    for c in document["checks"]:
        checks.add_row(_when(c["at"]), money(c["total_value"]), percent(c["max_drift"]),
                       "rebalance" if c["rebalance"] else "hold", c["reason"])
    stdout.print(checks)


def _legs_table(legs: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("stage", no_wrap=True)
    table.add_column("leg", ratio=1)
    for name in ("quantity", "value", "fee"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    for leg in legs:
        if leg["kind"] == "transfer":
            what = f"bridge {leg['asset']} {leg['chain']} -> {leg['to_chain']}"
        else:
            what = f"{leg['side']} {leg['asset']} on {leg['chain']}"
        what += f" ({leg['error']})" if leg["error"] else ""
        table.add_row(leg["stage"], what, quantity(leg["filled_quantity"] or 0.0), money(leg["value"] or 0.0),
                      money(leg["fee"] or 0.0), leg["state"])
    return table


def _when(iso: str) -> str:
    """``2026-12-06T21:40:25.123+00:00`` -> ``2026-12-06 21:40:25`` (UTC, to the second)."""
    return iso[:19].replace("T", " ")


def _print_summary(rows: list[tuple[str, str]]) -> None:
    """A demo's summary: one row per figure, the figure right-aligned."""
    table = Table(title="summary", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    stdout.print(table)


def render_multi_venue_demo(summary: dict[str, Any]) -> None:
    stdout.print(Text.assemble(("trimtab demo --multi-venue", "bold"), f": {', '.join(summary['venues'])}, "
                               f"{summary['start'][:10]} to {summary['end'][:10]}, {summary['checks']:,} hourly checks "
                               f"in {summary['wall_seconds']:.1f} s"))
    q = summary["quote"]
    _print_summary([
        ("rebalances", f"{summary['rebalances']} ({summary['rebalances_per_month']:.2f} per month)"),
        ("orders by venue", ", ".join(f"{k} {v}" for k, v in summary["orders_by_venue"].items()) or "none"),
        ("moves between venues", f"{summary['moves']} in {summary['runs_with_a_move']} rebalances ("
                                 + (", ".join(f"{k} {v}" for k, v in summary["moves_by_pair"].items()) or "none") + ")"),
        ("value moved", f"{money(summary['moved_value'])} {q}"),
        ("moves cost", f"{money(summary['move_fees'])} {q}, {summary['move_minutes_mean']:.0f} min on average"),
        ("bridges inside a venue", f"{summary['bridges']} ({money(summary['bridge_fees'])} {q})"),
        ("trading fees and slippage", f"{money(summary['trading_fees'] + summary['slippage'])} {q}"),
        ("max drift", percent(summary["max_drift"])),
        ("final value", f"{money(summary['final_value'])} {q}"),
        ("buy and hold", f"{money(summary['buy_and_hold_value'])} {q}"),
        ("chart", summary["chart"]),
        ("journal", summary["journal"]),
    ])
    for note, count in summary["unreachable_notes"].items():
        stdout.print(f"{count} rebalance(s) said: {note}", style="dim")


def render_demo(summary: dict[str, Any]) -> None:
    stdout.print(Text.assemble(("trimtab demo", "bold"), f": {summary['start'][:10]} to {summary['end'][:10]}, "
                               f"{summary['checks']:,} hourly checks in {summary['wall_seconds']:.1f} s"))
    _print_summary([
        ("rebalances", f"{summary['rebalances']} ({summary['rebalances_per_month']:.2f} per month)"),
        ("bridges", str(summary["bridges"])),
        ("max drift", percent(summary["max_drift"])),
        ("fees, slippage and bridge fees", f"{money(summary['fees'])} {summary['quote']}"),
        ("starting value", f"{money(summary['start_value'])} {summary['quote']}"),
        ("final value", f"{money(summary['final_value'])} {summary['quote']}"),
        ("buy and hold", f"{money(summary['buy_and_hold_value'])} {summary['quote']}"),
        ("rebalanced vs buy and hold", f"{(summary['final_value'] / summary['buy_and_hold_value'] - 1) * 100:+.1f}%"),
        ("chart", summary["chart"]),
        ("journal", summary["journal"]),
    ])
    triggers = ", ".join(f"{k} {v}" for k, v in summary["triggers"].items())
    stdout.print(f"rebalances by trigger: {triggers}")

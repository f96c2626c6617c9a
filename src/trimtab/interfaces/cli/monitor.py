"""``trimtab advise`` and ``trimtab alerts test``: registered on the main app (see docs/MONITORING.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rich.text import Text

from trimtab.interfaces.output import percent, run, stdout

alerts_app = typer.Typer(help="Alerts sent to the URLs in the config's alerts section.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]

#: ``alerts test`` exits with this when a URL did not take the message (the far side failed).
EXIT_NOT_DELIVERED = 4


def register(app: typer.Typer) -> None:
    app.command()(advise)
    app.add_typer(alerts_app, name="alerts")


def advise(
    days: Annotated[int, typer.Option(min=1, max=3650, help="The window of the journal to read, in days.")] = 30,
    tracking_weight: Annotated[float, typer.Option(
        min=0, max=100, help="Weight of tracking error against fee drag in the score.")] = 0.1,
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Is the band right? The journal's rebalances, drift, fees and turnover over the window, the
    rules of thumb, and a sweep of bands and schedules over the same assets' recent prices,
    scored by fee drag + tracking weight x tracking error."""

    def body():
        from trimtab import api

        report = api.advise(config, days=days, tracking_weight=tracking_weight)
        document = report.to_dict()
        return document, lambda: render_advice(document)

    run(as_json, body)


def render_advice(d: dict[str, Any]) -> None:
    from rich.table import Table

    w = d["window"]
    stdout.print(Text.assemble((d["portfolio"], "bold"), f": the journal from {w['start'][:16]} to {w['end'][:16]} "
                               f"({w['days']:.1f} days covered, {w['checks']} checks)"))
    per_year = "" if w["fees_per_year"] is None else f" ({w['fees_per_year']:,.2f} a year)"
    turnover = "-" if w["turnover_per_year"] is None else f"{w['turnover_per_year']:.2f}x a year"
    rate = "" if w["rebalances_per_month"] is None else f" ({w['rebalances_per_month']:.1f} a month)"
    stdout.print(f"  {w['rebalances']} rebalances{rate}, largest drift "
                 f"{percent(w['max_drift'])}, {w['hours_past_band']:.1f} h past the band "
                 f"({percent(w['share_past_band'])} of the time)")
    stdout.print(f"  fees {w['fees']:,.2f}{per_year}, slippage {w['slippage']:,.2f}, traded {w['traded']:,.2f} "
                 f"(turnover {turnover})")
    stdout.print(Text.assemble("rule of thumb: ", (d["action"], "bold"), f" - {d['reason']}"))
    rows = list(d["candidates"])
    if d["current"] is not None and not any(r["current"] for r in rows):
        rows.append(d["current"])
    if rows:
        p = d["prices"]
        table = Table(title=f"sweep over {p['assets']} hourly prices, {(p['start'] or '')[:10]} to "
                            f"{(p['end'] or '')[:10]} (score = fee drag + {d['tracking_weight']:g} x tracking error)")
        for column in ("policy", "band", "schedule", "rebalances/mo", "fee drag/yr", "tracking err/yr",
                       "max drift", "turnover/yr", "score"):
            table.add_column(column, justify="left" if column in ("policy", "schedule") else "right")
        for r in rows:
            name = r["policy"] + (" (current)" if r["current"] else "")
            table.add_row(name, percent(r["band"]), r["schedule"] or "-", f"{r['rebalances_per_month']:.2f}",
                          percent(r["fee_drag_per_year"], 3), percent(r["tracking_error"], 2),
                          percent(r["max_drift"]), f"{r['turnover_per_year']:.2f}x", percent(r["score"], 3))
        stdout.print(table)
    stdout.print(Text.assemble(("advice:", "bold"), f" {d['verdict']}"))


@alerts_app.command("test")
def test_alerts(config: ConfigOption = None, as_json: JsonFlag = False) -> None:
    """Send one test message to each alert URL of the config now and say, per URL (redacted),
    whether it arrived. Exits 4 when one did not."""
    outcome: dict[str, bool] = {}

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.monitor.alerts import sender_from_config

        loaded, path = load_config(config)
        sender = sender_from_config(loaded.alerts)
        if sender is None:
            raise InputError(f"{path} names no alert URL; add one to its alerts section, e.g. "
                             'urls = ["json://localhost:8080/hook"].')
        try:
            deliveries = sender.send_now(f"[trimtab {loaded.portfolio.name}] test alert",
                                         "This is a test message from `trimtab alerts test`.")
        finally:
            sender.close(wait=0)
        outcome["ok"] = all(d.arrived for d in deliveries)
        document = {"urls": [{"url": d.url, "arrived": d.arrived, "attempts": d.attempts} for d in deliveries]}

        def render() -> None:
            for d in deliveries:
                mark = ("arrived", "green") if d.arrived else (f"did not arrive after {d.attempts} attempt(s)", "red")
                stdout.print(Text.assemble(f"{d.url}: ", mark))

        return document, render

    run(as_json, body)
    if not outcome.get("ok", True):
        raise typer.Exit(EXIT_NOT_DELIVERED)

"""Execution commands (rebalance, run, history, demo): registered on the main app.

Each command parses, calls the agent (``engine/agent.py``) or the demo, and renders; ``--json``
prints exactly one document. A run that ends ``failed`` exits 4, ``needs_attention`` exits 5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.interfaces.output import run, stderr, stdout
from trimtab.parsing import number

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]
NewJournalFlag = Annotated[bool, typer.Option("--new-journal", help="Start a new journal for a portfolio that has traded (its journal was lost; the daily cap and history start again).")]

EXIT_BY_STATE = {"failed": 4, "needs_attention": 5}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(rebalance)
    app.command(name="run")(run_loop)
    app.command()(history)
    app.command()(demo)
    app.command()(acknowledge)


def rebalance(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; send nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
    new_journal: NewJournalFlag = False,
    as_json: JsonFlag = False,
    buy_only: Annotated[bool, typer.Option("--buy-only", help="Only buy: spend the cash on the most underweight assets first.")] = False,
    sell_only: Annotated[bool, typer.Option("--sell-only", help="Only sell: raise the cash to its target from the most overweight assets first.")] = False,
) -> None:
    """Rebalance now, whatever the policy says: the plan is shown and confirmed unless --yes.

    An unfinished run (after a crash) is finished first; no order is ever sent twice. --buy-only and
    --sell-only trade one way only (docs/CASH_FLOWS.md).
    """
    state: dict[str, str] = {}
    senders: list = []

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.interfaces.cli.render import render_assessment
        from trimtab.interfaces.cli.render_execution import rebalance_document, render_rebalance
        from trimtab.wiring import build_agent

        if as_json and not (yes or dry_run):
            raise InputError("--json cannot ask for confirmation: add --yes to trade, or --dry-run to look.")
        if buy_only and sell_only:
            raise InputError("--buy-only and --sell-only exclude each other: give one of them.")
        only = "buy-only" if buy_only else "sell-only" if sell_only else None
        loaded, path = load_config(config)
        agent = build_agent(loaded, path, new_journal=new_journal)
        show_progress(agent)
        senders.append(start_alerts(agent, loaded))

        def confirm(assessment) -> bool:  # type: ignore[no-untyped-def]
            render_assessment(assessment, title="rebalance")
            try:
                return typer.confirm("Send these orders?", default=False)
            except typer.Abort:  # no answer (end of input): nothing is sent
                return False

        def moved(change: str) -> None:
            stdout.print(f"the portfolio changed while you read the plan ({change}); here is the plan for it now",
                         style="bold yellow")

        result = agent.rebalance(dry_run=dry_run, confirm=None if yes else confirm, moved=moved, only=only)
        if result.outcome is not None:
            state["run"] = result.outcome.state
        document = rebalance_document(result)
        pairs = direct_pairs(agent, result.assessment, loaded.trading) if dry_run else None
        if pairs is not None:
            document["direct_pairs"] = pairs
        bridges = planned_bridges(agent, result.assessment) if dry_run else None
        if bridges is not None:
            document["bridges"] = bridges
        costs = venue_costs(agent, result.assessment) if dry_run else None
        if costs is not None:
            document["venue_costs"] = costs
            document["venue_cost_summary"] = summarize_costs(costs)

        def render() -> None:
            render_rebalance(result)
            for line in bridge_lines(bridges or [], document["assessment"]["quote"] if bridges else ""):
                stdout.print(line)
            if pairs:
                for trade in pairs["trades"]:
                    stdout.print(f"direct pair: sell {trade['value']:,.2f} of {trade['sell']} for {trade['buy']} on "
                                 f"{trade['market']} would save {trade['saving']:,.2f} (fee {trade['fee']:,.2f})")
                stdout.print(f"direct pairs would save {pairs['saving']:,.2f} {pairs['quote']} in total"
                             + ("" if pairs["executed"] else " (trading.direct_pairs is off: both legs go through "
                                                            "the quote)"))
            for cost in costs or []:
                venue_cost = "unknown" if cost["venue_cost"] is None else f"{cost['venue_cost']:,.2f}"
                eta = f", about {cost['eta_seconds'] / 60:.0f} min" if cost.get("eta_seconds") else ""
                stdout.print(f"venue cost: {cost['leg']}: {venue_cost} (planned fee {cost['planned_fee']:,.2f}{eta}; "
                             f"{cost['note']})")
            if costs:
                total = document["venue_cost_summary"]
                quoted = "unknown" if total["venue_cost"] is None else f"{total['venue_cost']:,.2f}"
                stdout.print(f"venue costs in all: {quoted} against {total['planned_fees']:,.2f} of planned fees; "
                             f"the legs take about {total['eta_seconds'] / 60:.0f} min one after another")

        return document, render

    try:
        run(as_json, body)
    finally:
        stop_alerts(senders)
    if state.get("run") in EXIT_BY_STATE:
        raise typer.Exit(EXIT_BY_STATE[state["run"]])


def show_progress(agent) -> None:  # type: ignore[no-untyped-def]
    """Print the executor's progress (stages, orders, bridges and their ETA) on stderr, so a long
    wait says what it waits for and stdout keeps only the result."""
    from trimtab.interfaces.output import stderr
    from trimtab.interfaces.cli.render_progress import ProgressPrinter

    agent.executor.progress = ProgressPrinter(stderr)


def planned_bridges(agent, assessment) -> list[dict[str, Any]] | None:  # type: ignore[no-untyped-def]
    """The bridges the plan would need now (``routing.planned_bridges``), each with its fee in the
    quote and its arrival window where the venue can estimate them (``bridge_estimate``), else None."""
    if assessment is None:
        return None
    if assessment.plan.is_empty:
        return []
    if assessment.venues is not None:  # across venues: the router's moves of the quote between venues
        return [{"stage": "bridging", "asset": assessment.plan.quote, "from_chain": m["from"], "to_chain": m["to"],
                 "quantity": m["amount"], "value": m["amount"], "fee": m["fee"], "seconds_low": m["minutes"] * 60,
                 "seconds_high": m["minutes"] * 60} for m in assessment.venues["routing"]["moves"]]
    from trimtab.engine.routing import planned_bridges as route
    from trimtab.venues.base import by_chain

    plan = assessment.plan
    estimate = getattr(agent.venue, "bridge_estimate", None)
    bridges = []
    for stage, spec in route(plan.legs, by_chain(agent.venue.balances()), agent.venue.markets(), plan.quote):
        price = spec.price or 1.0
        guess = estimate(spec.asset, spec.quantity, spec.chain, spec.to_chain) if estimate else None
        bridges.append({"stage": stage, "asset": spec.asset, "from_chain": spec.chain, "to_chain": spec.to_chain,
                        "quantity": spec.quantity, "value": spec.quantity * price,
                        "fee": guess["fee"] * price if guess else None,
                        "seconds_low": guess["seconds_low"] if guess else None,
                        "seconds_high": guess["seconds_high"] if guess else None})
    return bridges


def bridge_lines(bridges: list[dict[str, Any]], quote: str) -> list[str]:
    """One line per planned bridge: asset, route, value, expected fee and time."""
    lines = []
    for b in bridges:
        fee = "fee unknown" if b["fee"] is None else f"fee about {b['fee']:,.2f} {quote}"
        if b["seconds_low"] is None:
            when = "arrival time unknown"
        else:
            low, high = b["seconds_low"] / 60, b["seconds_high"] / 60
            span = f"{low:.0f}" if round(low) == round(high) else f"{low:.0f}-{high:.0f}"
            when = f"arrives {span} min after it is sent (venue clock)"
        lines.append(f"bridge ({b['stage']}): {b['quantity']:.8g} {b['asset']} {b['from_chain']} -> "
                     f"{b['to_chain']}, worth {b['value']:,.2f} {quote}; {fee}; {when}")
    return lines


def start_alerts(agent, config):  # type: ignore[no-untyped-def]
    """``wiring.start_alerts``, imported when a command needs it (the CLI starts light)."""
    from trimtab.wiring import start_alerts as start

    return start(agent, config)


def stop_alerts(senders) -> None:  # type: ignore[no-untyped-def]
    """``wiring.stop_alerts``, imported when a command needs it."""
    from trimtab.wiring import stop_alerts as stop

    stop(senders)


def summarize_costs(costs: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's cost as the venue quotes it: the sum of every leg's quoted cost (None if any leg
    could not be quoted), the planned fees it replaces, and the legs' times added up (they run in
    order: sells, bridges, buys)."""
    quoted = [c["venue_cost"] for c in costs]
    return {
        "venue_cost": None if any(q is None for q in quoted) else sum(quoted),
        "planned_fees": sum(c["planned_fee"] for c in costs),
        "eta_seconds": sum(c.get("eta_seconds") or 0 for c in costs),
    }


def venue_costs(agent, assessment) -> list[dict[str, Any]] | None:  # type: ignore[no-untyped-def]
    """What the venue says the plan's legs really cost (and how long they take), where it can tell."""
    if assessment is None or assessment.plan.is_empty or not hasattr(agent.venue, "plan_costs"):
        return None
    return agent.venue.plan_costs(assessment.plan.legs)


def direct_pairs(agent, assessment, trading) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The plan routed through the venue's direct pairs (where it has any), as a document."""
    if assessment is None or assessment.plan.is_empty or not hasattr(agent.venue, "direct_pairs"):
        return None
    from trimtab.core.pairs import route_through_pairs

    plan = assessment.plan
    prices = {leg.asset: leg.price for leg in plan.legs}
    routing = route_through_pairs(plan, agent.venue.direct_pairs(prices), min_trade=trading.min_trade)
    trades = [{"sell": t.sell, "buy": t.buy, "market": t.market, "value": t.value, "fee": t.fee, "saving": t.saving}
              for t in routing.trades]
    return {"quote": plan.quote, "trades": trades, "saving": routing.saving, "executed": trading.direct_pairs}


def run_loop(
    once: Annotated[bool, typer.Option("--once", help="One check (and rebalance if due), then exit.")] = False,
    interval: Annotated[str | None, typer.Option(help="Time between checks, e.g. 1h (default: policy.check_every).")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", min=1, max=65535,
        help="Serve Prometheus /metrics on 127.0.0.1:PORT while the loop runs.")] = None,
    config: ConfigOption = None,
    new_journal: NewJournalFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """The production loop: check, decide, plan, execute, record. Ctrl-C stops between steps.

    A check the venue fails (a timeout, a 5xx, a 429), or one made while another process holds the
    portfolio's lock, is reported and the loop goes on: the next check finishes any run it
    interrupted (with --once such a check exits 4). A run parked for a person, a guard's refusal,
    or a refused key stops it; the venue_unreachable alert says when the venue has been away too long.
    """
    senders: list = []

    def body():
        import signal
        import time

        from trimtab.config import load_config
        from trimtab.core.durations import parse_duration
        from trimtab.errors import Denied, InputError, VenueError
        from trimtab.interfaces.cli.render_execution import failed_step_document, step_document
        from trimtab.wiring import build_agent

        loaded, path = load_config(config)
        every = parse_duration(interval or loaded.policy.check_every).total_seconds()
        if not 1 <= every <= 52 * 7 * 86400:
            raise InputError(f"--interval {interval} is out of range; give a duration from 1s to 52w, e.g. 1h.")
        agent = build_agent(loaded, path, new_journal=new_journal)
        show_progress(agent)
        senders.append(start_alerts(agent, loaded))
        if metrics_port is not None:
            from trimtab.monitor.metrics import serve_metrics

            serve_metrics(agent.journal, metrics_port)
            if not as_json:
                stdout.print(f"metrics on http://127.0.0.1:{metrics_port}/metrics")
        stop = {"now": False}

        def request_stop(signum, frame):  # type: ignore[no-untyped-def]
            stop["now"] = True

        previous = signal.signal(signal.SIGINT, request_stop)
        steps: list[dict[str, Any]] = []
        try:
            while True:
                at = agent.venue.now()  # the portfolio's one clock: printed as the journal stores it
                try:
                    step = step_document(agent.check(at), at=at)
                except VenueError as e:  # a failed check is not news: the next one resumes from the journal
                    if once or not e.retryable:
                        raise
                    step = failed_step_document(e, at)
                except Denied as denied:  # another process is rebalancing: check again at the next step
                    if denied.code != "RUN_LOCKED":
                        raise
                    step = failed_step_document(denied, at)
                steps.append(step)
                if "error" in step:  # a warning, on stderr: stdout keeps the checks (and --json its document)
                    stderr.print(f"{step['at']}  warning: the venue did not answer this check ({step['error']}); "
                                 "trying again at the next one", style="yellow")
                elif not as_json:
                    stdout.print(f"{step['at']}  max drift {step['max_drift'] * 100:.1f}%  {step['decision']}"
                                 + (f"  -> run {step['run']['id']} {step['run']['state']}" if step["run"] else ""))
                if once or stop["now"]:
                    break
                deadline = time.monotonic() + every
                while not stop["now"] and time.monotonic() < deadline:
                    time.sleep(min(0.2, deadline - time.monotonic()))
                if stop["now"]:
                    break
        finally:
            signal.signal(signal.SIGINT, previous)
        return {"checks": steps, "stopped": stop["now"]}, lambda: None

    try:
        run(as_json, body)
    finally:
        stop_alerts(senders)


def history(
    limit: Annotated[int, typer.Option(help="How many runs and checks to show.", parser=number(1, 100_000, whole=True))] = 20,
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Checks, runs and trades from the journal, with drift and fees."""

    def body():
        from trimtab.config import load_config
        from trimtab.interfaces.cli.render_execution import history_document, render_history
        from trimtab.wiring import journal_url
        from trimtab.journal import Journal

        loaded, path = load_config(config)
        journal = Journal.open(journal_url(loaded, path))
        document = history_document(journal, loaded.portfolio.name, limit)
        return document, lambda: render_history(document)

    run(as_json, body)


def acknowledge(
    run_id: Annotated[str, typer.Argument(help="The run parked in needs_attention (see `trimtab history`).")],
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a run parked in needs_attention once you have checked the venue, so trading can resume."""

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.interfaces.cli.render_execution import render_outcome, run_document
        from trimtab.wiring import build_agent
        from trimtab.journal.store import StaleState

        loaded, path = load_config(config)
        agent = build_agent(loaded, path)
        try:
            parked = agent.journal.run(run_id)
        except StaleState:
            parked = None
        if parked is None or parked.portfolio != loaded.portfolio.name:
            raise InputError(f"The journal of {loaded.portfolio.name} has no run {run_id}; `trimtab history` lists "
                             "its runs.")
        if parked.state != "needs_attention":
            raise InputError(f"Run {run_id} is {parked.state}, not needs_attention; there is nothing to acknowledge.")
        outcome = agent.acknowledge(run_id)
        return {"run": run_document(outcome)}, lambda: render_outcome(outcome, "acknowledged run")

    run(as_json, body)


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo's account, journal and chart go.")] = Path("trimtab-demo"),
    start: Annotated[str | None, typer.Option(help="First day (default: five years before the data ends).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (default: the end of the shipped data).")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Then open the dashboard on the demo's journal "
                                                        "(http://127.0.0.1:8787/, needs the web extra).")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="With --serve: the dashboard's port.")] = 8787,
    multi_venue: Annotated[bool, typer.Option("--multi-venue", help="One portfolio across three paper venues: a "
                                              "wallet on three chains, a perps account and an exchange; counts the "
                                              "moves between venues and what they cost.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """A paper BTC/ETH/USDC 50/30/20 portfolio on four chains, run hourly over the shipped history
    with the production policy, every rebalance through the real executor, venue and journal."""

    def body():
        from trimtab.interfaces.cli.render_execution import render_demo, render_multi_venue_demo

        if multi_venue:
            from trimtab.demo.multi_venue import run_multi_venue_demo

            summary = run_multi_venue_demo(directory, start=start, end=end, progress=not as_json)
            return summary, lambda: render_multi_venue_demo(summary)
        from trimtab.demo.simulation import run_demo

        summary = run_demo(directory, start=start, end=end, progress=not as_json)

        def render() -> None:
            render_demo(summary)
            if not serve:
                stdout.print(f"watch it in a browser: trimtab demo --serve (or trimtab serve --journal "
                             f"sqlite:///{Path(summary['journal']).resolve()})")

        return summary, render

    run(as_json, body)
    if serve:
        def dashboard():
            from trimtab.interfaces.web.serve import serve as serve_dashboard

            serve_dashboard(port=port, demo_dir=directory, announce=stdout.print)
            return {}, lambda: None

        run(False, dashboard)


def shipped_prices(targets) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The last daily close of each non-quote target in the shipped history: ``{"text": "BTC=..,ETH=..",
    "prices": {...}, "dates": {...}, "note": a sentence saying where they came from}``; raise
    ``InputError`` for an asset the history lacks."""
    from trimtab.data import chosen_symbols, load_prices
    from trimtab.errors import InputError

    close = load_prices("daily")
    try:
        assets = chosen_symbols([a for a in targets.assets if a != targets.quote], list(close.columns))
    except InputError as e:
        raise InputError(f"{e} Give --prices for a paper portfolio of these assets.") from None
    last = {a: close[a].dropna() for a in assets}
    prices = {a: float(series.iloc[-1]) for a, series in last.items()}
    dates = {a: f"{series.index[-1]:%Y-%m-%d}" for a, series in last.items()}
    newest = max(dates.values())
    shown = ", ".join(f"{a} {p:,.2f}" + ("" if dates[a] == newest else f" (its last, {dates[a]})")
                      for a, p in prices.items())
    return {"text": ",".join(f"{a}={p!r}" for a, p in prices.items()), "prices": prices, "dates": dates,
            "note": f"prices: the last daily closes in the shipped history, {newest}: {shown}; "
                    "pass --prices to choose others"}

"""Execution commands (rebalance, run, history, demo): registered on the main app.

Each command parses, calls the agent (``engine/agent.py``) or the demo, and renders; ``--json``
prints exactly one document. A run that ends ``failed`` exits 4, ``needs_attention`` exits 5.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from trimtab.interfaces.output import run, stdout

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]

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
    as_json: JsonFlag = False,
) -> None:
    """Rebalance now, whatever the policy says: the plan is shown and confirmed unless --yes.

    An unfinished run (after a crash) is finished first; no order is ever sent twice.
    """
    state: dict[str, str] = {}

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.interfaces.render import render_assessment
        from trimtab.interfaces.render_execution import rebalance_document, render_rebalance
        from trimtab.interfaces.wiring import build_agent

        if as_json and not (yes or dry_run):
            raise InputError("--json cannot ask for confirmation: add --yes to trade, or --dry-run to look.")
        loaded, path = load_config(config)
        agent = build_agent(loaded, path)

        def confirm(assessment) -> bool:  # type: ignore[no-untyped-def]
            render_assessment(assessment, title="rebalance")
            try:
                return typer.confirm("Send these orders?", default=False)
            except typer.Abort:  # no answer (end of input): nothing is sent
                return False

        result = agent.rebalance(dry_run=dry_run, confirm=None if yes else confirm)
        if result.outcome is not None:
            state["run"] = result.outcome.state
        document = rebalance_document(result)
        pairs = direct_pairs(agent, result.assessment, loaded.trading) if dry_run else None
        if pairs is not None:
            document["direct_pairs"] = pairs
        costs = venue_costs(agent, result.assessment) if dry_run else None
        if costs is not None:
            document["venue_costs"] = costs
            document["venue_cost_summary"] = summarize_costs(costs)

        def render() -> None:
            render_rebalance(result)
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

    run(as_json, body)
    if state.get("run") in EXIT_BY_STATE:
        raise typer.Exit(EXIT_BY_STATE[state["run"]])


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
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The production loop: check, decide, plan, execute, record. Ctrl-C stops between steps."""

    def body():
        import signal
        import time

        from trimtab.config import load_config
        from trimtab.core.durations import parse_duration
        from trimtab.interfaces.render_execution import step_document
        from trimtab.interfaces.wiring import build_agent

        loaded, path = load_config(config)
        every = parse_duration(interval or loaded.policy.check_every).total_seconds()
        agent = build_agent(loaded, path)
        stop = {"now": False}

        def request_stop(signum, frame):  # type: ignore[no-untyped-def]
            stop["now"] = True

        previous = signal.signal(signal.SIGINT, request_stop)
        steps: list[dict[str, Any]] = []
        try:
            while True:
                step = step_document(agent.check())
                steps.append(step)
                if not as_json:
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

    run(as_json, body)


def history(
    limit: Annotated[int, typer.Option(help="How many runs and checks to show.")] = 20,
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Checks, runs and trades from the journal, with drift and fees."""

    def body():
        from trimtab.config import load_config
        from trimtab.interfaces.render_execution import history_document, render_history
        from trimtab.interfaces.wiring import journal_url
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
        from trimtab.interfaces.render_execution import render_outcome, run_document
        from trimtab.interfaces.wiring import build_agent

        loaded, path = load_config(config)
        outcome = build_agent(loaded, path).acknowledge(run_id)
        return {"run": run_document(outcome)}, lambda: render_outcome(outcome, "acknowledged run")

    run(as_json, body)


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo's account, journal and chart go.")] = Path("trimtab-demo"),
    start: Annotated[str | None, typer.Option(help="First day (default: five years before the data ends).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (default: the end of the shipped data).")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Then open the dashboard on the demo's journal "
                                                        "(http://127.0.0.1:8787/, needs the web extra).")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="With --serve: the dashboard's port.")] = 8787,
    as_json: JsonFlag = False,
) -> None:
    """A paper BTC/ETH/USDC 50/30/20 portfolio on four chains, run hourly over the shipped history
    with the production policy, every rebalance through the real executor, venue and journal."""

    def body():
        from trimtab.demo.simulation import run_demo
        from trimtab.interfaces.render_execution import render_demo

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


def init_paper(path: Path, targets, *, holdings: str, prices: str, fee: float, min_trade: float,  # type: ignore[no-untyped-def]
               order_latency: float, chains: str | None, markets: str | None, slippage_bps: float,
               clock_speed: float, force: bool) -> dict[str, Any]:
    """Write a paper config at ``path`` and create its account next to it; return what was made."""
    from trimtab.config import load_config
    from trimtab.config_template import render_config
    from trimtab.core.assets import asset_symbol
    from trimtab.core.rules import MarketRules
    from trimtab.core.valuation import parse_holdings, parse_prices
    from trimtab.errors import InputError
    from trimtab.interfaces.parsing import parse_chains, parse_pairs
    from trimtab.venues.base import Market
    from trimtab.venues.paper import PaperVenue

    quote = targets.quote
    held = parse_holdings(parse_pairs(holdings, "holdings"))
    price = {a: p for a, p in parse_prices(parse_pairs(prices, "prices"), quote).items() if a != quote}
    placement = parse_chains(chains) if chains else {}
    chosen: dict[str, str] = {}
    for item in (markets or "").split(","):
        if item.strip():
            asset, _, chain = item.partition("=")
            if not chain.strip():
                raise InputError(f"{item!r} in --markets is not ASSET=chain, e.g. BTC=ethereum.")
            chosen[asset_symbol(asset)] = chain.strip().lower()
    traded = [a for a in dict.fromkeys([*targets.assets, *held]) if a != quote]
    missing = [a for a in traded if a not in price]
    if missing:
        raise InputError(f"No price for {', '.join(missing)}: give --prices for every traded asset.")
    market_of = {a: chosen.get(a) or next(iter(placement.get(a, {"ethereum": 1.0}))) for a in traded}
    by_chain = {a: {c: q * share for c, share in placement.get(a, {"ethereum": 1.0}).items()} for a, q in held.items()}
    account = path.parent / "trimtab-paper.db"
    if account.exists():
        if not force:
            raise InputError(f"{account} already exists; pass --force to replace the paper account.")
        for suffix in ("", "-wal", "-shm"):
            Path(str(account) + suffix).unlink(missing_ok=True)
    paper = dict(account=account.name, order_latency=order_latency, slippage_bps=slippage_bps, bridge_fee=0.0005,
                 bridge_minutes=(2.0, 15.0), clock_speed=clock_speed, price_source="fixed", min_notional=10.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config(targets, holdings={}, prices={}, venue="paper", fee=fee, min_trade=min_trade,
                                  paper=paper, markets=market_of), encoding="utf-8")
    loaded, config_path = load_config(path)
    from trimtab.interfaces.wiring import paper_settings

    rules = {a: Market(asset=a, chain=market_of[a],
                       rules=MarketRules(amount_step=10.0 ** -max(0, math.ceil(math.log10(price[a]))), min_notional=10.0))
             for a in traded}
    PaperVenue.create(account, holdings=by_chain, prices=price, markets=rules,
                      settings=paper_settings(loaded.venue, fee, quote)).close()
    return {"config": str(config_path), "venue": "paper", "account": str(account.resolve()),
            "holdings": by_chain, "markets": market_of}

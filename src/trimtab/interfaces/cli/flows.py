"""Cash-flow commands: ``trimtab deposit`` and ``trimtab withdraw`` (docs/CASH_FLOWS.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from trimtab.interfaces.cli.execution import EXIT_BY_STATE, ConfigOption, JsonFlag, NewJournalFlag, show_progress
from trimtab.interfaces.output import run, stdout
from trimtab.parsing import number

Amount = Annotated[float, typer.Argument(help="How much, in units of the asset.", parser=number(0, 1e15, above=True))]
Asset = Annotated[str | None, typer.Argument(help="Which asset (default: the quote).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(deposit)
    app.command()(withdraw)


def deposit(
    amount: Amount,
    asset: Asset = None,
    sent: Annotated[bool, typer.Option("--sent", help="You already sent it (always so on a real venue): record it as pending until the balance shows it.")] = False,
    config: ConfigOption = None,
    new_journal: NewJournalFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Record a deposit: on the paper venue it moves the funds in; on a real venue it records what you sent.

    A deposit you sent yourself (a real venue, or --sent) stays pending until a check sees the balance
    rise by it; it is never counted as a gain, as drift or as an external flow. The check that has it
    (``run --once``) steers with it: with policy.cash_flows = "steer" the cash buys the most underweight
    assets first, and nothing is sold unless drift stays past the band.
    """

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.wiring import build_agent

        if amount <= 0:
            raise InputError(f"The deposit is {amount:g}; give a positive amount.")
        loaded, path = load_config(config)
        agent = build_agent(loaded, path, new_journal=new_journal)
        row = agent.deposit(amount, asset.upper() if asset else None, sent=sent)
        document = {"flow": _flow_document(row)}

        def render() -> None:
            if row.state == "pending":
                stdout.print(f"deposit: {row.quantity:g} {row.asset} ({row.value:,.2f} {loaded.portfolio.quote}) "
                             "recorded as pending; the next check that sees it in the balance confirms it and steers with it")
            else:
                stdout.print(f"deposit: {row.quantity:g} {row.asset} ({row.value:,.2f} {loaded.portfolio.quote}) "
                             f"recorded; the next check steers with it")

        return document, render

    run(as_json, body)


def withdraw(
    amount: Amount,
    asset: Asset = None,
    to: Annotated[str | None, typer.Option("--to", help="The address to send to (real venues).")] = None,
    chain: Annotated[str | None, typer.Option("--chain", help="The network to send on (an exchange: required; a wallet: "
                                                              "default the chain holding the most).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the sell-only plan; move nothing.")] = False,
    config: ConfigOption = None,
    new_journal: NewJournalFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw: sell the most overweight assets first for what the cash cannot pay, then send it out.

    The sells are a run like any other (journaled, guarded, resumed after a crash); the withdrawal is
    journaled as a flow, so it never looks like a loss.
    """
    state: dict[str, str] = {}

    def body():
        from trimtab.config import load_config
        from trimtab.errors import InputError
        from trimtab.interfaces.cli.render_execution import rebalance_document, render_rebalance
        from trimtab.wiring import build_agent

        if amount <= 0:
            raise InputError(f"The withdrawal is {amount:g}; give a positive amount.")
        loaded, path = load_config(config)
        agent = build_agent(loaded, path, new_journal=new_journal)
        show_progress(agent)
        result, row = agent.withdraw(amount, asset.upper() if asset else None, address=to,
                                     chain=chain.lower() if chain else None, dry_run=dry_run)
        if result.outcome is not None:
            state["run"] = result.outcome.state
        document = rebalance_document(result) | {"flow": None if row is None else _flow_document(row)}

        def render() -> None:
            render_rebalance(result)
            if row is not None:
                stdout.print(f"withdrawal: {-row.quantity:g} {row.asset} ({-row.value:,.2f} {loaded.portfolio.quote}) "
                             "sent out and journaled")
            elif result.outcome is not None:
                stdout.print("withdrawal: not sent, the sells did not complete", style="bold red")

        return document, render

    run(as_json, body)
    if state.get("run") in EXIT_BY_STATE:
        raise typer.Exit(EXIT_BY_STATE[state["run"]])


def _flow_document(row) -> dict:  # type: ignore[no-untyped-def]
    from trimtab.engine.cashflows import flow_document

    return flow_document(row)

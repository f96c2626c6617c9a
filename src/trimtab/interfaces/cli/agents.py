"""Agent commands (mcp, approve, plans): registered on the main app.

``trimtab mcp`` serves the MCP tools; ``trimtab approve PLAN_ID`` is the person's half of the
approval flow (``[agent] require_approval``); ``trimtab plans`` lists the plans waiting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(mcp)
    app.command()(approve)
    app.command()(plans)


def mcp(
    http: Annotated[int | None, typer.Option("--http", min=1, max=65535,
                                             help="Serve streamable HTTP on 127.0.0.1:PORT (needs the bearer token "
                                                  "in $TRIMTAB_MCP_TOKEN) instead of stdio.")] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the Model Context Protocol for this portfolio: tools with guardrails (see docs/AGENTS.md)."""

    def body():
        from trimtab.config import DEFAULT_CONFIG
        from trimtab.interfaces.mcp.server import serve  # a missing SDK: output.run names the install command

        serve(Path(config or DEFAULT_CONFIG), http_port=http)
        return {}, lambda: None

    run(False, body)


def approve(
    plan_id: Annotated[str, typer.Argument(help="The plan to approve (from plan_rebalance or `trimtab plans`).")],
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve an agent's plan so execute_plan may run it (when the config's agent section sets require_approval)."""

    def body():
        import getpass

        from trimtab.config import load_config
        from trimtab.interfaces.agent_tools import plan_view
        from trimtab.wiring import build_desk

        loaded, path = load_config(config)
        desk = build_desk(loaded, path)
        already = desk.get(plan_id).state == "approved"
        record = desk.approve(plan_id, by=getpass.getuser())
        view = plan_view(record, desk.rails.require_approval)
        legs = ", ".join(f"{leg.side} {leg.quantity:.8g} {leg.asset}" for leg in view.legs) or "no legs"
        if already:
            when = f" at {record.approved_at:%Y-%m-%d %H:%M:%S} UTC" if record.approved_at else ""
            line = (f"{record.plan_id} was already approved by {record.approved_by}{when}; nothing changed "
                    f"({legs}); it may execute until {view.expires_at[:19]} UTC")
        else:
            line = (f"approved {record.plan_id} ({legs}; turnover {view.turnover:,.2f}, fees {view.fees:,.2f}); "
                    f"it may execute until {view.expires_at[:19]} UTC")
        return ({"plan": view.model_dump(mode="json"), "approved_by": record.approved_by, "already_approved": already},
                lambda: stdout.print(line))

    run(as_json, body)


def plans(config: ConfigOption = None, as_json: JsonFlag = False) -> None:
    """Plans that may still execute (planned or approved, not expired), newest first."""

    def body():
        from trimtab.config import load_config
        from trimtab.interfaces.agent_tools import plan_view
        from trimtab.wiring import build_desk

        loaded, path = load_config(config)
        desk = build_desk(loaded, path)
        views = [plan_view(p, desk.rails.require_approval) for p in desk.pending()]

        def render() -> None:
            if not views:
                stdout.print("no plan is waiting")
            for v in views:
                legs = ", ".join(f"{leg.side} {leg.quantity:.8g} {leg.asset}" for leg in v.legs)
                stdout.print(f"{v.plan_id}  {v.state:9}  expires {v.expires_at[:19]}  {legs}  turnover {v.turnover:,.2f}")

        return {"plans": [v.model_dump(mode="json") for v in views]}, render

    run(as_json, body)

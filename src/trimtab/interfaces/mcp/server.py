"""``trimtab mcp``: the Model Context Protocol server (official SDK, ``MCPServer``).

A thin shell: each tool validates nothing itself beyond its typed signature (``mcp_models``), calls
``AgentTools`` (which calls the engine, where the guardrails live), and turns a trimtab error into
a tool error ``CODE: one sentence``. ``mcp_guard.ToolCallGate`` checks raw arguments against the
published schemas first and journals every call. Over HTTP (``--http PORT``) the server listens on
127.0.0.1 only and requires a bearer token from the environment.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from trimtab.errors import Denied, InputError, TrimtabError, VenueError, register_secret
from trimtab.interfaces.mcp import models as m
from trimtab.interfaces.agent_tools import AgentTools
from trimtab.interfaces.mcp.guard import BearerAuth, ToolCallGate, now

log = logging.getLogger("trimtab.mcp")
F = TypeVar("F", bound=Callable[..., Any])
MIN_TOKEN_LENGTH = 16

INSTRUCTIONS = """trimtab keeps this portfolio on its target weights. Read get_portfolio or check_drift;
to trade, call plan_rebalance (a dry run that stores a plan), then execute_plan with its plan_id before
it expires; if the run is still going when execute_plan answers, poll get_run until it is final.
Guardrails (allow-lists, caps, price re-checks, approval, kill switch) are enforced by the engine; a
refusal is a tool error 'CODE: sentence'. Never retry a refusal in a loop."""

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)


def as_tool_error(fn: F) -> F:
    """Run ``fn``; a trimtab error becomes ``ToolError("CODE: sentence")``, anything else an
    ``INTERNAL`` error whose detail stays in the server's log."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Denied as e:
            raise ToolError(f"{e.code}: {_line(e.message)}") from None
        except InputError as e:
            raise ToolError(f"INVALID_ARGUMENT: {_line(str(e))}") from None
        except VenueError as e:
            raise ToolError(f"VENUE_ERROR: {_line(str(e))}") from None
        except TrimtabError as e:
            raise ToolError(f"REFUSED: {_line(str(e))}") from None
        except Exception:
            log.exception("tool %s failed", fn.__name__)
            raise ToolError("INTERNAL: the tool failed unexpectedly; the server log has the detail.") from None

    return wrapper  # type: ignore[return-value]


def _line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "refused."


def build_server(config_path: Path) -> MCPServer:
    """The MCP server for the portfolio at ``config_path`` (tools, the config resource, the gate)."""
    from trimtab import __version__
    from trimtab.config import load_config

    limit = load_config(config_path)[0].agent.max_calls_per_minute
    tools = AgentTools(config_path)
    recorder = _Recorder(config_path)

    async def schemas() -> dict[str, dict[str, Any]]:
        return {tool.name: tool.input_schema for tool in await server.list_tools()}

    server: MCPServer = MCPServer("trimtab", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING",
                                  middleware=[ToolCallGate(schemas, recorder, max_per_minute=limit)])
    _register_tools(server, tools)

    @server.resource("trimtab://config", name="config", mime_type="application/json",
                     description="The portfolio's configuration (targets, policy, guards, agent limits); no secrets.")
    def config_resource() -> str:
        return json.dumps(tools.config_document(), indent=2)

    return server


def _register_tools(server: MCPServer, tools: AgentTools) -> None:
    @server.tool(annotations=READ)
    @as_tool_error
    def get_portfolio() -> m.Portfolio:
        """Holdings per asset and per chain, current weights, targets and drift, and the policy's decision."""
        return tools.get_portfolio()

    @server.tool(annotations=READ)
    @as_tool_error
    def check_drift() -> m.DriftCheck:
        """The configured policy's decision now (rebalance or hold) with its reason and the max drift."""
        return tools.check_drift()

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False))
    @as_tool_error
    def plan_rebalance(max_value: m.Amount | None = None) -> m.PlanView:
        """A dry run: plan the trades back to the targets from the venue's balances, store the plan and
        return its plan_id, legs, fees, expected weights and expiry. Nothing is sent. With max_value,
        refuse a plan that would trade more than that (quote units)."""
        return tools.plan_rebalance(max_value)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False,
                                             openWorldHint=True))
    @as_tool_error
    def execute_plan(plan_id: m.PlanId) -> m.ExecutionView:
        """Execute a stored, unexpired plan once (after approval when the owner requires it), only on the
        portfolio it was made from (else PLAN_STALE) and never while a run is in flight (RUN_IN_FLIGHT).
        Prices are re-checked, caps and allow-lists enforced, the kill switch obeyed; a refusal sends
        nothing. Answers when the run ended or after about 10 s: if run_state is not yet completed or
        failed (a bridge travels), poll get_run(run_id)."""
        return tools.execute_plan(plan_id)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False,
                                             openWorldHint=True))
    @as_tool_error
    def withdraw(amount: m.Amount, asset: m.Symbol | None = None, to: m.Address | None = None,
                 chain: m.Chain | None = None, dry_run: bool = False) -> m.WithdrawalView:
        """Pay amount of asset (the quote by default) out of the portfolio to the address `to`. Refused
        before anything is sold when the owner did not allow it: WITHDRAW_UNSUPPORTED (the venue cannot
        send), KILL_SWITCH, WITHDRAW_CAP (over max_withdrawal_value), ADDRESS_NOT_ALLOWED (not in
        withdraw_addresses), ASSET_NOT_ALLOWED. Otherwise a sell-only run raises the cash from the
        overweight assets, then the payout is journaled under a client id and sent once. chain: the
        network to send on (required on an exchange). With dry_run, shows the sells and sends nothing."""
        return tools.withdraw(amount, asset, to, chain, dry_run)

    @server.tool(annotations=READ)
    @as_tool_error
    def get_run(run_id: m.RunId) -> m.RunView:
        """One run as it stands: state (final or not), legs, what is in transit, value before and after, its plan."""
        return tools.get_run(run_id)

    @server.tool(annotations=READ)
    @as_tool_error
    def get_history(limit: Annotated[int, Field(ge=1, le=100)] = 10) -> m.History:
        """Recent runs, plans and tool calls from the journal (newest first)."""
        return tools.get_history(limit)

    @server.tool(annotations=READ)
    @as_tool_error
    def advise_threshold(days: Annotated[int, Field(ge=7, le=3650)] = 90,
                         tracking_weight: Annotated[float, Field(ge=0, le=100)] = 0.1) -> m.Advice:
        """Advice on the band from the journal's last `days` of checks and rebalances (raise it when it
        trades too often, lower it when drift ran far past it), grounded by a sweep of bands and
        schedules over the same assets' recent prices, scored by fee drag + tracking_weight x
        tracking error: the best candidates, the current policy's row and a one-sentence verdict."""
        return tools.advise_threshold(days, tracking_weight)

    @server.tool(annotations=READ)
    @as_tool_error
    def run_backtest(
        targets: Annotated[dict[m.Symbol, m.Weight], Field(min_length=1, max_length=16)],
        start: m.Day,
        end: m.Day,
        data: Literal["daily", "hourly"] = "daily",
        policy: Literal["threshold", "calendar", "combined", "never"] = "threshold",
        band: m.Band | None = 0.05,
        capital: Annotated[float, Field(gt=0, le=1e9)] = 10_000.0,
        fee: Annotated[float, Field(ge=0, le=0.05)] = 0.001,
        contribution: Annotated[float, Field(gt=0, le=1e9)] | None = None,
        withdrawal: Annotated[float, Field(gt=0, le=1e9)] | None = None,
        every: Literal["day", "week", "month", "quarter", "year"] | None = None,
        cash_flows: Literal["steer", "ignore"] | None = None,
    ) -> m.BacktestView:
        """Replay a policy over the shipped real price history (bounded in bars, assets and seconds by the
        config's [agent] limits) and return its metrics: rebalances, fees, drift, return, drawdown.
        With a `contribution` (or `withdrawal`) of the quote at the start of `every` period, the
        metrics add net flows and time- and money-weighted returns; `cash_flows` "steer" (default)
        spends a deposit on the underweights (raises a withdrawal from the overweights), "ignore"
        leaves it to the policy."""
        return tools.run_backtest(targets, start, end, data, policy, band, capital, fee,
                                  contribution=contribution, withdrawal=withdrawal, every=every, cash_flows=cash_flows)


class _Recorder:
    """Journals one tool call (opened lazily; a journal failure is logged, never raised to the agent)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path, self.journal, self.portfolio = config_path, None, "main"

    def __call__(self, tool: str, arguments: dict[str, Any], outcome: str, code: str | None, message: str,
                 duration_ms: float) -> None:
        from trimtab.journal import ToolCallRecord

        try:
            if self.journal is None:
                from trimtab.config import load_config
                from trimtab.wiring import journal_url
                from trimtab.journal import Journal

                config, path = load_config(self.config_path)
                self.journal, self.portfolio = Journal.open(journal_url(config, path)), config.portfolio.name
            self.journal.record_tool_call(ToolCallRecord(
                portfolio=self.portfolio, at=now(), interface="mcp", tool=tool, arguments=arguments, outcome=outcome,
                code=code, message=message, duration_ms=duration_ms))
        except Exception:
            log.exception("could not journal the call to %s", tool)


def serve(config_path: Path, *, http_port: int | None = None) -> None:
    """Serve over stdio, or over streamable HTTP on 127.0.0.1:``http_port`` with a bearer token.

    Raise ``InputError`` when HTTP is asked for without a token of at least 16 characters in the
    environment variable named by ``[agent] http_token_env``.
    """
    from trimtab.config import load_config

    config, path = load_config(config_path)
    server = build_server(path)
    if http_port is None:
        server.run("stdio")
        return
    variable = config.agent.http_token_env
    token = os.environ.get(variable, "")
    register_secret(token)
    if len(token) < MIN_TOKEN_LENGTH:
        raise InputError(f"`trimtab mcp --http` needs a bearer token of at least {MIN_TOKEN_LENGTH} characters in "
                         f"the environment variable {variable}; it refuses to serve HTTP without one.")
    import uvicorn

    app = BearerAuth(server.streamable_http_app(host="127.0.0.1"), token)
    print(listening_line(http_port, variable), file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=http_port, log_level="warning")


def listening_line(port: int, variable: str) -> str:
    """Where ``--http`` listens and where its token comes from (the variable's name, never the token)."""
    return (f"trimtab mcp: serving MCP over streamable HTTP at http://127.0.0.1:{port}/mcp (this machine only); "
            f"clients must send 'Authorization: Bearer <token>' with the token from ${variable}. Ctrl-C stops.")

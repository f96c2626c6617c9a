"""An MCP client that plans and executes a rebalance through `trimtab mcp`, with the official SDK.

It starts `python -m trimtab mcp` over stdio for the portfolio in --dir (a new paper portfolio
when the folder has none), reads the drift, asks for a plan, executes it, and prints the run.

    python examples/mcp_client.py --dir my-portfolio
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import trimtab


async def rebalance_through_mcp(config: Path) -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "trimtab", "mcp", "--config", str(config)],
                                   env=dict(os.environ))
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        print("tools:", ", ".join(tool.name for tool in tools))
        drift = (await session.call_tool("check_drift", {})).structured_content
        print(f"max drift {drift['max_drift']:.1%}: {drift['decision']['reason']}")
        if not drift["decision"]["rebalance"]:
            print("nothing to do")
            return
        plan = await session.call_tool("plan_rebalance", {})
        if plan.is_error:
            print("plan refused:", plan.content[0].text)
            return
        p = plan.structured_content
        for leg in p["legs"]:
            print(f"  {leg['side']} {leg['quantity']:.8g} {leg['asset']} (~{leg['value']:,.2f})")
        print(f"plan {p['plan_id']}: fees {p['fees']:.2f}, expires {p['expires_at'][:19]}")
        done = await session.call_tool("execute_plan", {"plan_id": p["plan_id"]})
        if done.is_error:  # a guardrail said no: one sentence, nothing sent
            print("refused:", done.content[0].text)
            return
        run = done.structured_content
        state = run["run_state"]
        while state not in ("completed", "failed", "needs_attention"):  # a bridge travels: poll, never resend
            await anyio.sleep(5)
            run = (await session.call_tool("get_run", {"run_id": run["run_id"]})).structured_content
            state = run["state"]
            print(f"run {run['run_id']} {state} {run['in_transit'] or ''}")
        print(f"run {run['run_id']} {state}: traded {run['traded_value']:,.2f}, fees {run['fees']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="The portfolio's folder (created as a paper portfolio if new).")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="trimtab-mcp-"))
    config = folder / "trimtab.toml"
    if not config.exists():
        trimtab.create_paper_portfolio(folder, targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
                                       holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
                                       prices={"BTC": 65000, "ETH": 2000})
    anyio.run(rebalance_through_mcp, config)


if __name__ == "__main__":
    main()

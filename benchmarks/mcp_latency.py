"""Tool-call latency of `trimtab mcp` over stdio, measured with the SDK's client on a paper portfolio.

    python benchmarks/mcp_latency.py [--calls 30]

Prints the median and 95th percentile per tool, client-side (request sent to result parsed), and the
server start plus handshake. The numbers in docs/AGENTS.md came from this script.

It makes 6 x calls + 2 tool calls in well under a minute (182 by default), more than the agent's
default limit of 120 a minute: its own paper portfolio runs under ``[agent] max_calls_per_minute``
raised to cover them (the limiter is not what it measures), and the first line it prints says which
limit it ran under.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import trimtab


#: The agent's default ``[agent] max_calls_per_minute``.
DEFAULT_LIMIT = 120


def calls_made(calls: int) -> int:
    """Tool calls one run makes: five tools and the refused execute_plan ``calls`` times each, then a
    plan and its execution."""
    return 6 * calls + 2


def call_limit(config: Path, calls: int) -> str:
    """Raise the portfolio's call limit to cover ``calls_made(calls)`` when the default does not;
    return the line that says which limit the benchmark runs under."""
    made = calls_made(calls)
    if made <= DEFAULT_LIMIT:
        return (f"agent call limit: {made} calls, inside the default max_calls_per_minute = {DEFAULT_LIMIT}")
    limit = math.ceil(made / 10) * 10
    text = config.read_text()
    old = f"max_calls_per_minute = {DEFAULT_LIMIT}"
    if old not in text:
        raise SystemExit(f"{config} has no '{old}' line to raise; the benchmark would be refused TOO_MANY_CALLS.")
    config.write_text(text.replace(old, f"max_calls_per_minute = {limit}"))
    return (f"agent call limit: {made} calls in well under a minute, more than the default {DEFAULT_LIMIT}; this "
            f"benchmark's own portfolio runs with max_calls_per_minute = {limit} (the limiter is not measured)")


async def measure(config: Path, calls: int) -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "trimtab", "mcp", "--config", str(config)],
                                   env=dict(os.environ))
    began = time.perf_counter()
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        print(f"server start + initialize: {(time.perf_counter() - began) * 1000:.0f} ms")

        async def timed(tool: str, arguments: dict) -> float:
            t = time.perf_counter()
            result = await session.call_tool(tool, arguments)
            assert not result.is_error, result.content[0].text
            return (time.perf_counter() - t) * 1000

        rows = []
        for tool, arguments in [("get_portfolio", {}), ("check_drift", {}), ("get_history", {"limit": 10}),
                                ("advise_threshold", {}), ("plan_rebalance", {})]:
            samples = [await timed(tool, arguments) for _ in range(calls)]
            rows.append((tool, samples))
        refused = []
        for _ in range(calls):
            t = time.perf_counter()
            await session.call_tool("execute_plan", {"plan_id": "not a plan id"})
            refused.append((time.perf_counter() - t) * 1000)
        rows.append(("execute_plan (malformed id, refused)", refused))
        plan = (await session.call_tool("plan_rebalance", {})).structured_content
        rows.append(("execute_plan (2 legs, paper)", [await timed("execute_plan", {"plan_id": plan["plan_id"]})]))
        for tool, samples in rows:
            p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
            print(f"{tool:40s} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="trimtab-mcp-bench-"))
    config = trimtab.create_paper_portfolio(folder, targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
                                            holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
                                            prices={"BTC": 65000, "ETH": 2000})
    print(call_limit(config, args.calls))
    anyio.run(measure, config, args.calls)


if __name__ == "__main__":
    main()

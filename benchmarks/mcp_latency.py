"""Tool-call latency of `trimtab mcp` over stdio, measured with the SDK's client on a paper portfolio.

    python benchmarks/mcp_latency.py [--calls 30]

Prints the median and 95th percentile per tool, client-side (request sent to result parsed), and the
server start plus handshake. The numbers in docs/AGENTS.md came from this script.
"""

from __future__ import annotations

import argparse
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
    anyio.run(measure, config, args.calls)


if __name__ == "__main__":
    main()

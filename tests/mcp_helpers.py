"""Helpers for the MCP tests: the SDK's real client against `python -m trimtab mcp` as a subprocess."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def server_environment(**extra: str) -> dict[str, str]:
    """What the server process needs from ours (the SDK starts it with a minimal environment)."""
    keep = {k: os.environ[k] for k in ("PYTHONPATH", "TRIMTAB_CACHE_DIR", "HOME") if k in os.environ}
    return {**keep, "NO_COLOR": "1", **extra}


@asynccontextmanager
async def stdio_session(directory: Path, **env: str) -> AsyncIterator[ClientSession]:
    """An initialized client session with `trimtab mcp` serving the portfolio in ``directory``."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "trimtab", "mcp"], cwd=str(directory),
                                   env=server_environment(**env))
    with (directory / "mcp-server.log").open("a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, arguments: dict[str, Any] | None = None) -> tuple[bool, Any]:
    """Call ``tool``; return (is_error, structured content or the error text)."""
    result = await session.call_tool(tool, arguments or {})
    if result.is_error:
        return True, result.content[0].text
    return False, result.structured_content

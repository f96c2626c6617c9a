"""`trimtab mcp --http PORT`: streamable HTTP on 127.0.0.1, only with the bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import anyio
import httpx
import httpx2
from cli_paper import make_portfolio, wait_for
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_http_serves_the_tools_only_to_a_caller_with_the_bearer_token(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "trimtab", "mcp", "--http", str(port)], cwd=portfolio,
                              env={**os.environ, "TRIMTAB_MCP_TOKEN": TOKEN}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"

    async def as_agent():
        async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client,
                    streamable_http_client(url, http_client=client) as (read, write),
                    ClientSession(read, write) as session):
            await session.initialize()
            drift = await session.call_tool("check_drift", {})
            return (await session.list_tools()).tools, drift

    try:
        wait_for(lambda: listening(port), timeout=30)
        # Act
        anonymous = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        wrong = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Authorization": "Bearer not-the-token-at-all"})
        tools, drift = anyio.run(as_agent)
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Assert
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert len(tools) == 9
    assert drift.is_error is False and drift.structured_content["decision"]["rebalance"] is True


def test_http_refuses_to_start_without_a_token(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    environment = {k: v for k, v in os.environ.items() if k != "TRIMTAB_MCP_TOKEN"}
    # Act
    result = subprocess.run(
        [sys.executable, "-m", "trimtab", "mcp", "--http", str(free_port())], cwd=portfolio, env=environment,
        capture_output=True, text=True, timeout=60, check=False)
    # Assert
    assert result.returncode == 2
    assert "needs a bearer token of at least 16 characters in the environment variable TRIMTAB_MCP_TOKEN" in result.stderr

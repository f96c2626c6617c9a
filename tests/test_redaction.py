"""A venue whose error text echoes a secret (an exchange that puts the API key in a 401 body) never
gets it printed: not by status, venues check or rebalance --dry-run --json, not in the journal, not
in an MCP result."""

import json
import sqlite3

import pytest
from conftest import run_cli
from fakes import fixtures
from fakes.binance_spot import API_KEY, SECRET

from trimtab.errors import REDACTED, KeyRejected, OrderRejected, redact, register_secret

binance_server = fixtures.binance_server  # a fake Binance on 127.0.0.1, per test
KEYS = {"TRIMTAB_API_KEY": API_KEY, "TRIMTAB_API_SECRET": SECRET}
ECHO = {"code": -2015, "msg": f"Invalid API-key, IP, or permissions for action. key={API_KEY} secret={SECRET}"}


def portfolio(directory, url):
    result = run_cli("init", "--venue", "ccxt", "--exchange", "binance", "--api-url", url, "--quote", "USDT",
                     "--targets", "BTC=0.2,ETH=0.3,SOL=0.2,USDT=0.3", cwd=directory, env=KEYS)
    assert result.returncode == 0, result.stderr
    return directory


def test_redact_removes_every_registered_secret_and_its_url_form():
    register_secret("sk-live-abc/123+xyz")
    assert redact("key sk-live-abc/123+xyz and sk-live-abc%2F123%2Bxyz") == f"key {REDACTED} and {REDACTED}"
    register_secret("abc")  # too short to redact safely: ordinary words stay
    assert redact("abc def") == "abc def"


def test_a_venue_error_is_redacted_when_it_is_made():
    register_secret("my-very-secret-key-42")
    error = KeyRejected("GET /account failed: bad key my-very-secret-key-42",
                        venue_message='{"msg": "bad key my-very-secret-key-42"}')
    assert "my-very-secret-key-42" not in str(error) and "my-very-secret-key-42" not in error.venue_message
    assert REDACTED in str(error)


@pytest.mark.parametrize("command", [["status", "--json"], ["venues", "check", "--json"],
                                     ["rebalance", "--dry-run", "--json"], ["status"]])
def test_a_401_that_echoes_the_key_is_printed_without_it(tmp_path, binance_server, command):
    portfolio(tmp_path, binance_server.url)
    binance_server.fail_next("/api/v3/account", 401, body=ECHO, times=50)
    result = run_cli(*command, cwd=tmp_path, env=KEYS)
    assert result.returncode != 0
    assert "Invalid API-key" in result.stdout + result.stderr  # the venue's words are kept...
    for secret in (API_KEY, SECRET):  # ...without the secrets in them
        assert secret not in result.stdout and secret not in result.stderr
    assert REDACTED in result.stdout + result.stderr


def test_an_order_refusal_that_echoes_the_key_reaches_the_journal_without_it(tmp_path, binance_server):
    portfolio(tmp_path, binance_server.url)
    binance_server.fail_next("/api/v3/order", 400, body={"code": -1013, "msg": f"rejected for {API_KEY}"},
                             method="POST", times=10)
    result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEYS)
    assert API_KEY not in result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        rows = db.execute("SELECT error FROM legs UNION ALL SELECT reason FROM runs").fetchall()
    text = json.dumps(rows)
    assert "rejected for" in text and API_KEY not in text and REDACTED in text


def test_an_mcp_error_result_never_carries_the_key(tmp_path, binance_server, monkeypatch):
    from trimtab.interfaces.mcp.server import build_server

    portfolio(tmp_path, binance_server.url)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    binance_server.fail_next("/api/v3/account", 401, body=ECHO, times=50)
    server = build_server(tmp_path / "trimtab.toml")
    import anyio

    async def call():
        return await server.call_tool("get_portfolio", {})

    try:
        result = anyio.run(call)
        text = json.dumps(result, default=str)
    except Exception as e:  # noqa: BLE001 - the tool's error is what an agent sees
        text = str(e)
    assert "Invalid API-key" in text
    assert API_KEY not in text and SECRET not in text


def test_order_rejected_without_secrets_is_unchanged():
    assert str(OrderRejected("market ETH/USDT is halted")) == "market ETH/USDT is halted"

"""`trimtab serve` and `trimtab demo --serve` as a user runs them; `--help` imports no web framework."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from conftest import run_cli
from dashboard_helpers import free_port


def test_help_and_plan_import_no_web_framework():
    code = ("import sys; from trimtab.interfaces.cli import app; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'jinja2', 'starlette') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_serve_without_a_config_or_journal_says_what_to_give(tmp_path):
    result = run_cli("serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2 and "--config PATH, or --journal URL" in result.stderr


def test_serve_on_a_missing_sqlite_journal_refuses(tmp_path):
    result = run_cli("serve", "--journal", f"sqlite:///{tmp_path / 'nope.db'}", cwd=tmp_path)
    assert result.returncode == 2 and "No journal at" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_the_demo_prints_how_to_watch_it_and_demo_serve_opens_the_dashboard(tmp_path):
    # Arrange / Act: the hint
    shown = run_cli("demo", "--start", "2025-12-01", "--end", "2025-12-10", "--dir", "d", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "trimtab demo --serve" in shown.stdout
    # Act: `trimtab demo --serve` runs the demo, then serves it
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1"}
    server = subprocess.Popen([sys.executable, "-m", "trimtab", "demo", "--start", "2025-12-01", "--end", "2025-12-10",
                               "--dir", "d2", "--serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        portfolios = httpx.get(f"http://127.0.0.1:{port}/api/portfolios").json()
        page = httpx.get(f"http://127.0.0.1:{port}/portfolios/demo").text
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    # Assert
    assert health is not None and health.status_code == 200, err
    assert [p["portfolio"] for p in portfolios] == ["demo"]
    assert "Holdings per venue and chain" in page and "bitcoin" in page  # the demo's paper account, per chain
    assert f"http://127.0.0.1:{port}/" in out

"""Helpers for the dashboard tests: the real app under uvicorn on 127.0.0.1, a short demo journal,
and headless Chromium (Debian's package, installed here when missing) driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium keeps trying to reach outside hosts (FACTS.md).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app, host: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    """Serve ``app`` with uvicorn on a free port in a thread; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (idempotent: nothing to do when present)."""
    if not Path(CHROMIUM).exists():
        install = ["apt-get", "install", "-y", "chromium"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env)  # a fresh machine
            subprocess.run(install, check=True, capture_output=True, env=env)
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists()
    return CHROMIUM


def demo_journal(directory: Path, start: str = "2025-10-01", end: str = "2025-12-31") -> Path:
    """A journal written by a (short) real ``trimtab demo``; return the demo's directory."""
    from conftest import run_cli

    result = run_cli("demo", "--json", "--start", start, "--end", end, "--dir", str(directory), cwd=directory.parent)
    assert result.returncode == 0, result.stderr
    return directory

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
SEED = dict(
    targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
    holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
    prices={"BTC": 65000, "ETH": 2000},
)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m trimtab ARGS`` as a real subprocess and capture its output."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "trimtab", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli(tmp_path):
    def call(*args: str, **kw):
        kw.setdefault("cwd", tmp_path)
        return run_cli(*args, **kw)

    return call


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TRIMTAB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def postgres_url():
    """A SQLAlchemy URL of a real PostgreSQL database, on a server this test session started."""
    from postgres_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request, tmp_path):
    """Each journal test runs against SQLite and against a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)  # a clean schema per test
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url

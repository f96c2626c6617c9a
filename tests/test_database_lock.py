"""The run lock on a PostgreSQL journal is an advisory lock in that database: it guards every host
that shares the database, and it goes when its holder dies, however it dies."""

import json
import os
import signal
import subprocess
import sys

import pytest
from cli_paper import make_portfolio_on_postgres
from conftest import run_cli
from sqlalchemy import create_engine

from trimtab.engine.lock import DatabaseLock, PortfolioLock, advisory_key, portfolio_lock
from trimtab.errors import Denied
from trimtab.journal import Journal

HOLD = """
import sys, time
from sqlalchemy import create_engine
from trimtab.engine.lock import DatabaseLock
lock = DatabaseLock(create_engine(sys.argv[1]), sys.argv[2]).__enter__()
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_host_is_refused_while_the_first_holds_the_portfolio(postgres_url):
    # Arrange: two engines stand for two hosts on one database
    first, second = create_engine(postgres_url), create_engine(postgres_url)
    # Act / Assert
    with DatabaseLock(first, "alpha"):
        with pytest.raises(Denied, match="RUN_LOCKED") as refused, DatabaseLock(second, "alpha"):
            pass
        with DatabaseLock(second, "beta"):  # another portfolio is free
            pass
    with DatabaseLock(second, "alpha"):  # released on exit
        pass
    assert "database session" in str(refused.value)
    first.dispose(), second.dispose()


def test_a_killed_holder_leaves_the_lock_free(postgres_url):
    # Arrange: another process holds the lock
    holder = subprocess.Popen([sys.executable, "-c", HOLD, postgres_url, "gamma"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ})
    assert holder.stdout.readline().strip() == "held"
    engine = create_engine(postgres_url)
    with pytest.raises(Denied, match="RUN_LOCKED"), DatabaseLock(engine, "gamma"):
        pass
    # Act: SIGKILL, no clean-up runs
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    # Assert: the server dropped the session and its lock
    for _ in range(50):
        try:
            with DatabaseLock(engine, "gamma"):
                break
        except Denied:
            import time

            time.sleep(0.1)
    else:
        pytest.fail("the dead holder's lock was never released")
    engine.dispose()


def test_the_journal_picks_the_lock_by_its_database(tmp_path, postgres_url):
    sqlite = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    postgres = Journal(create_engine(postgres_url))
    assert isinstance(portfolio_lock(sqlite, "p", tmp_path / "trimtab.lock"), PortfolioLock)
    assert isinstance(portfolio_lock(postgres, "p", tmp_path / "trimtab.lock"), DatabaseLock)
    assert advisory_key("p") == advisory_key("p") != advisory_key("q")
    sqlite.close(), postgres.close()


def test_rebalance_on_a_postgresql_journal_is_refused_while_another_host_holds_it(tmp_path, postgres_url):
    # Arrange: a paper portfolio whose journal is on PostgreSQL; "another host" holds its lock
    directory, journal = make_portfolio_on_postgres(tmp_path, postgres_url)
    config = directory / "trimtab.toml"
    portfolio = next(line.split('"')[1] for line in config.read_text().splitlines() if line.startswith("name"))
    engine = create_engine(journal)
    # Act
    with DatabaseLock(engine, portfolio):
        refused = run_cli("rebalance", "--yes", "--json", cwd=directory)
        with PortfolioLock(directory / "trimtab.lock"):  # the local file no longer decides
            pass
    done = run_cli("rebalance", "--yes", "--json", cwd=directory)
    engine.dispose()
    # Assert
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "RUN_LOCKED" in refused.stdout + refused.stderr
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["state"] == "completed"

"""``SqliteReader`` (the stdlib reads behind ``trimtab status``) answers exactly what ``Journal``
answers, on journals written through ``Journal`` itself: runs, checks, flows and bridges, every
filter status uses, times in and out of UTC, and it steps aside for any journal it cannot read
as written (none yet, a migration due, not SQLite)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from trimtab.journal import CheckRecord, Journal, RunRecord, schema
from trimtab.journal.flows import FlowRow, check_values, flows, record_flow, waiting
from trimtab.journal.marker import JournalMarker
from trimtab.journal.sqlite_reader import SqliteReader
from trimtab.journal.version import HEAD

PORTFOLIOS = ("main", "other")
RUN_STATES = ("created", "selling", "completed", "failed", "needs_attention")
FLOW_STATES = ("done", "pending", "sending", "not_sent")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Times as the engine writes them (UTC, microseconds or none) and, to hold both reads to the same
# storage rules, a few with another offset.
times = st.builds(lambda seconds, micro, east: (T0 + timedelta(seconds=seconds, microseconds=micro)).astimezone(
    timezone(timedelta(hours=east))), st.integers(0, 90 * 86400), st.sampled_from([0, 1, 500_000, 999_999]),
    st.sampled_from([0, 0, 0, 2]))
runs = st.lists(st.tuples(st.sampled_from(PORTFOLIOS), st.sampled_from(RUN_STATES), times,
                          st.floats(1, 1e6) | st.none()), max_size=8)
checks = st.lists(st.tuples(st.sampled_from(PORTFOLIOS), times, st.floats(0, 1e7)), max_size=8)
flow_rows = st.lists(st.tuples(st.sampled_from(PORTFOLIOS), times, st.sampled_from(FLOW_STATES),
                               st.floats(-1e4, 1e4), st.sampled_from(["USDC", "BTC"]), st.none() | st.just("0xabc")),
                     max_size=8)
transfers = st.lists(st.tuples(st.integers(0, 7), times, times | st.none(), st.floats(0, 1e4)), max_size=5)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One journal migrated to HEAD, copied for each example (a migration takes a tenth of a second)."""
    path = tmp_path_factory.mktemp("template") / "journal.db"
    Journal.open(f"sqlite:///{path}").close()
    return path


def fill(path, run_rows, check_rows, flow_list, transfer_rows) -> Journal:
    journal = Journal.open(f"sqlite:///{path}")
    for n, (portfolio, state, at, value) in enumerate(run_rows):
        journal.create_run(RunRecord(id=f"r{n:02d}", portfolio=portfolio, state=state, created_at=at, updated_at=at,
                                     plan={"legs": [n], "note": "é"}, value_before=value))
    journal.record_checks([CheckRecord(portfolio=p, at=at, total_value=v, weights={"BTC": 0.5}, drift={"BTC": 0.0},
                                       max_drift=0.0, rebalance=False, trigger="band", reason="")
                           for p, at, v in check_rows])
    for portfolio, at, state, quantity, asset, address in flow_list:
        record_flow(journal, FlowRow(portfolio=portfolio, at=at, kind="deposit" if quantity > 0 else "withdraw",
                                     asset=asset, quantity=quantity, price=1.0, value=quantity, address=address,
                                     state=state))
    with journal.engine.begin() as c:
        for n, (run, started, arrived, amount) in enumerate(transfer_rows):
            c.execute(insert(schema.transfers).values(client_id=f"t{n}", run_id=f"r{run:02d}", asset="USDC",
                                                      amount=amount, fee=0.1, from_chain="ethereum", to_chain="base",
                                                      state="sent" if arrived is None else "arrived",
                                                      started_at=started, arrived_at=arrived))
    return journal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs, checks, flow_rows, transfers, times, st.integers(1, 10),
       st.sampled_from([None, ("completed",), ("created", "selling", "needs_attention")]))
def test_every_read_matches_the_journal(template, tmp_path, run_rows, check_rows, flow_list, transfer_rows, since,
                                        limit, states):
    path = tmp_path / f"j{abs(hash((str(run_rows), str(flow_list), str(since))))}.db"
    shutil.copy(template, path)
    journal = fill(path, run_rows, check_rows, flow_list, transfer_rows)
    reader = SqliteReader.open(f"sqlite:///{path}")
    assert reader is not None
    try:
        for portfolio in PORTFOLIOS:
            assert reader.runs(portfolio, limit=limit) == journal.runs(portfolio, limit=limit)
            assert reader.runs(portfolio, states=states, limit=limit) == journal.runs(portfolio, states=states,
                                                                                        limit=limit)
            assert reader.count_runs(portfolio) == journal.count_runs(portfolio)
            assert reader.last_check_at(portfolio) == journal.last_check_at(portfolio)
            edges = [at for _, at, *_ in check_rows[:1] + flow_list[:1]]  # a row exactly at the window's start
            for window in (None, since, *edges):
                assert check_values(reader, portfolio, since=window) == check_values(journal, portfolio, since=window)
                for flow_states in (None, ("done",), ("pending", "sending")):
                    assert (flows(reader, portfolio, since=window, states=flow_states)
                            == flows(journal, portfolio, since=window, states=flow_states))
            assert waiting(reader, portfolio) == waiting(journal, portfolio)
        for ids in (None, ["r00", "r03"], []):
            assert reader.transfers(ids) == journal.transfers(ids)
    finally:
        reader.close()
        journal.close()


def test_the_reader_steps_aside_for_what_it_cannot_read_as_written(template, tmp_path):
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'none.db'}") is None  # no journal yet: Journal creates it
    assert SqliteReader.open("sqlite://") is None and SqliteReader.open("sqlite:///:memory:") is None
    assert SqliteReader.open("postgresql://u@127.0.0.1/x") is None
    (tmp_path / "text.db").write_text("not a database")
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'text.db'}") is None  # Journal names the damage
    older = tmp_path / "older.db"
    shutil.copy(template, older)
    with sqlite3.connect(older) as c:
        c.execute("UPDATE alembic_version SET version_num = '0004'")
    assert SqliteReader.open(f"sqlite:///{older}") is None  # a migration is due: Journal runs it
    current = tmp_path / "current.db"
    shutil.copy(template, current)
    reader = SqliteReader.open(f"sqlite:///{current}")
    assert reader is not None and reader.runs("main") == [] and HEAD == "0005"
    reader.close()


def test_the_reader_holds_a_journal_to_its_marker_as_the_journal_does(template, tmp_path):
    """A portfolio that traded refuses an emptied journal through the reader too (exit 2 in status)."""
    from trimtab.errors import ConfigError

    path = tmp_path / "emptied.db"
    shutil.copy(template, path)
    marker = JournalMarker(tmp_path / "trimtab.journal.json")
    marker.record(portfolio="main", journal=str(path), run_id="r1", at=T0)
    reader = SqliteReader.open(f"sqlite:///{path}")
    with pytest.raises(ConfigError, match="--new-journal"):
        reader.check_marker(marker, "main")
    reader.check_marker(marker, "main", new_journal=True)  # a new journal: the old marker goes
    assert marker.read() is None
    reader.close()


def test_a_journal_damaged_under_the_reader_is_one_sentence_naming_it(template, tmp_path):
    """The header and the schema read fine, a table's pages do not: the same sentence as ``Journal``'s."""
    from trimtab.errors import ConfigError

    path = tmp_path / "damaged.db"
    shutil.copy(template, path)
    journal = Journal.open(f"sqlite:///{path}")
    for n in range(200):
        journal.create_run(RunRecord(id=f"r{n:04d}", portfolio="main", state="completed", created_at=T0,
                                     updated_at=T0, plan={"legs": ["x" * 50]}))
    journal.close()
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root, size = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()[0], 4096
    data = bytearray(path.read_bytes())
    for i in range((root - 1) * size + 8, root * size, 3):
        data[i] = 0xAB
    path.write_bytes(bytes(data))
    reader = SqliteReader.open(f"sqlite:///{path}")
    assert reader is not None  # alembic_version still reads
    with pytest.raises(ConfigError, match=f"The journal {path} is damaged .*--new-journal"):
        reader.runs("main")
    reader.close()

"""The journal records checks, runs, legs, fills and transfers the same way on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from trimtab.journal import CheckRecord, Journal, LegRecord, RunRecord, StaleState, client_id

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


def a_run(run_id="r1", state="created"):
    return RunRecord(id=run_id, portfolio="main", state=state, created_at=T0, updated_at=T0,
                     plan={"legs": [{"side": "sell", "asset": "BTC"}]}, value_before=10000.0)


def a_leg(run_id="r1", idx=0, state="planned"):
    return LegRecord(run_id=run_id, idx=idx, client_id=client_id(run_id, idx), kind="order", stage="selling",
                     asset="BTC", side="sell", chain="bitcoin", planned_quantity=0.02, planned_price=65000.0,
                     state=state)


def test_opening_migrates_to_head_and_reopening_keeps_the_data(journal_url):
    # Arrange
    journal = Journal.open(journal_url)
    journal.create_run(a_run())
    journal.close()
    # Act
    again = Journal.open(journal_url)
    # Assert
    assert again.run("r1").plan == {"legs": [{"side": "sell", "asset": "BTC"}]}
    assert again.run("r1").created_at == T0


def test_checks_are_written_in_one_batch_and_read_newest_first(journal_url):
    journal = Journal.open(journal_url)
    checks = [CheckRecord(portfolio="main", at=T0 + timedelta(hours=h), total_value=1000.0 + h,
                          weights={"BTC": 0.5}, drift={"BTC": 0.01 * h}, max_drift=0.01 * h,
                          rebalance=h == 2, trigger="band", reason=f"check {h}") for h in range(3)]
    journal.record_checks(checks)
    assert journal.count_checks("main") == 3
    assert [c.reason for c in journal.checks("main")] == ["check 2", "check 1", "check 0"]
    assert journal.last_check_at("main") == T0 + timedelta(hours=2)


def test_a_run_moves_only_from_the_state_it_is_in(journal_url):
    journal = Journal.open(journal_url)
    journal.create_run(a_run())
    journal.move_run("r1", "created", "selling", at=T0, new_legs=[a_leg()])
    with pytest.raises(StaleState):
        journal.move_run("r1", "created", "selling", at=T0, new_legs=[a_leg(idx=1)])
    assert journal.run("r1").state == "selling"
    assert [leg.client_id for leg in journal.legs("r1")] == ["r1-00"]  # the failed move added nothing


def test_a_leg_and_its_fill_are_recorded_together(journal_url):
    journal = Journal.open(journal_url)
    journal.create_run(a_run())
    journal.move_run("r1", "created", "selling", at=T0, new_legs=[a_leg()])
    journal.move_leg("r1-00", ["planned"], "submitting", at=T0)
    fill = {"client_id": "r1-00", "run_id": "r1", "asset": "BTC", "side": "sell", "chain": "bitcoin",
            "quantity": 0.02, "price": 64935.0, "mid_price": 65000.0, "value": 1298.7, "fee": 1.2987,
            "slippage": 1.3, "at": T0}
    journal.move_leg("r1-00", ["submitting"], "filled", at=T0, fill=fill, filled_quantity=0.02, value=1298.7, fee=1.2987)
    with pytest.raises(StaleState):
        journal.move_leg("r1-00", ["submitting"], "filled", at=T0, fill=fill)
    assert journal.legs("r1")[0].state == "filled"
    assert journal.fills(["r1"])[0]["fee"] == pytest.approx(1.2987)
    assert journal.traded_value_since("main", T0 - timedelta(days=1)) == pytest.approx(1298.7)


def test_a_bad_journal_url_is_one_clear_sentence_without_the_password():
    from trimtab.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        Journal.open("postgresql+psycopg://me:hunter2@127.0.0.1:1/nowhere")
    assert "hunter2" not in str(caught.value) and "Cannot open the journal" in str(caught.value)


def test_the_migrations_build_exactly_the_tables_the_code_declares(journal_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trimtab.journal.schema import metadata

    journal = Journal.open(journal_url)
    with journal.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []

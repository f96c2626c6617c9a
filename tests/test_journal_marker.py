"""A portfolio that has traded never starts a fresh journal without being told to: a journal that was
deleted or emptied is refused (exit 2, naming --new-journal), so the daily cap cannot be reset by
`rm trimtab.db`."""

import json
import sqlite3

from typer.testing import CliRunner

from trimtab.interfaces.cli.app import app

PAPER = ["init", "--venue", "paper", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
         "--holdings", "BTC=0.1,ETH=1.25,USDC=1000", "--prices", "BTC=65000,ETH=2000", "--clock-speed", "0"]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def traded(tmp_path, monkeypatch, cap: float | None = None):
    monkeypatch.chdir(tmp_path)
    assert cli(*PAPER).exit_code == 0
    if cap is not None:
        config = tmp_path / "trimtab.toml"
        config.write_text(config.read_text().replace("# max_daily_value = 100000.0", f"max_daily_value = {cap}"))
    result = cli("rebalance", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run"]["state"] == "completed"
    return tmp_path


def remove_journal(directory):
    for suffix in ("", "-wal", "-shm"):
        (directory / f"trimtab.db{suffix}").unlink(missing_ok=True)


def test_the_first_run_writes_the_marker_beside_the_config(tmp_path, monkeypatch):
    traded(tmp_path, monkeypatch)
    marker = json.loads((tmp_path / "trimtab.journal.json").read_text())
    assert marker["portfolio"] == "main" and marker["first_run"].startswith("r")
    assert marker["journal"].endswith("trimtab.db")


def test_a_deleted_journal_is_refused_and_the_daily_cap_holds(tmp_path, monkeypatch):
    # Arrange: the cap allows one rebalance of the seed portfolio a day, not two
    traded(tmp_path, monkeypatch, cap=2500.0)
    with sqlite3.connect(tmp_path / "trimtab-paper.db") as account:  # the owner moves BTC in: drift again
        account.execute("UPDATE balances SET quantity = quantity + 0.05 WHERE asset = 'BTC'")
    refused = cli("rebalance", "--yes", "--json")
    assert refused.exit_code == 3 and "DAILY_CAP" in refused.stdout
    with sqlite3.connect(tmp_path / "trimtab-paper.db") as account:
        orders = account.execute("SELECT count(*) FROM orders").fetchone()[0]
    # Act
    remove_journal(tmp_path)
    again = cli("rebalance", "--yes", "--json")
    # Assert
    assert again.exit_code == 2, again.output
    message = json.loads(again.stdout)["error"]["message"]
    assert "has traded before" in message and "--new-journal" in message and "trimtab.journal.json" in message
    with sqlite3.connect(tmp_path / "trimtab-paper.db") as account:
        assert account.execute("SELECT count(*) FROM orders").fetchone()[0] == orders  # nothing more was sent
    assert cli("status").exit_code == 2  # every command that opens the journal says so


def test_an_emptied_journal_is_refused_too(tmp_path, monkeypatch):
    traded(tmp_path, monkeypatch)
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        for table in ("fills", "transfers", "legs", "runs"):
            db.execute(f"DELETE FROM {table}")
    result = cli("rebalance", "--dry-run", "--json")
    assert result.exit_code == 2 and "--new-journal" in result.stdout


def test_new_journal_starts_a_new_one_and_moves_the_marker_to_it(tmp_path, monkeypatch):
    traded(tmp_path, monkeypatch)
    first = json.loads((tmp_path / "trimtab.journal.json").read_text())["first_run"]
    remove_journal(tmp_path)
    assert cli("status", "--new-journal").exit_code == 0
    assert not (tmp_path / "trimtab.journal.json").exists()  # no run in the new journal yet
    with sqlite3.connect(tmp_path / "trimtab-paper.db") as account:
        account.execute("UPDATE balances SET quantity = quantity + 0.05 WHERE asset = 'BTC'")
    result = cli("rebalance", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "trimtab.journal.json").read_text())["first_run"] != first


def test_a_journal_from_before_markers_gets_one_when_opened(tmp_path, monkeypatch):
    traded(tmp_path, monkeypatch)
    (tmp_path / "trimtab.journal.json").unlink()
    assert cli("status").exit_code == 0
    assert json.loads((tmp_path / "trimtab.journal.json").read_text())["portfolio"] == "main"

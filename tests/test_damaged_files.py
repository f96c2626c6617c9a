"""A paper account SQLite cannot read and a journal it cannot write: one sentence naming the file and
what to do, exit 2; never "internal error", the SQL, or the plan."""

import json
import sqlite3

from typer.testing import CliRunner

from trimtab.interfaces.cli.app import app

PAPER = ["init", "--venue", "paper", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
         "--holdings", "BTC=0.1,ETH=1.25,USDC=1000", "--prices", "BTC=65000,ETH=2000", "--clock-speed", "0"]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def make(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(*PAPER).exit_code == 0
    return tmp_path


def scribble(path, start: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(start, len(data), 7):
        data[i] = 0xAB
    path.write_bytes(bytes(data))


def test_a_corrupt_paper_account_is_one_sentence_naming_it(tmp_path, monkeypatch):
    make(tmp_path, monkeypatch)
    account = tmp_path / "trimtab-paper.db"
    for start in (100, 20_000):  # the header, then the pages under it
        scribble(account, start)
        for command in (["status", "--json"], ["rebalance", "--dry-run", "--json"]):
            result = cli(*command)
            assert result.exit_code == 2, result.output
            message = json.loads(result.stdout)["error"]["message"]
            assert f"The paper account {account} is damaged" in message
            assert "restore it from a copy" in message and "internal error" not in result.output


def test_a_file_that_is_not_a_database_is_named_too(tmp_path, monkeypatch):
    make(tmp_path, monkeypatch)
    (tmp_path / "trimtab-paper.db").write_bytes(b"\x00garbage" * 700)
    result = cli("status")
    assert result.exit_code == 2 and "is damaged (file is not a database)" in result.stderr


def test_a_read_only_journal_stops_rebalance_with_one_sentence_and_sends_nothing(tmp_path, monkeypatch):
    make(tmp_path, monkeypatch)
    assert cli("status").exit_code == 0  # the journal exists
    config = tmp_path / "trimtab.toml"
    journal = tmp_path / "trimtab.db"
    text = config.read_text()
    config.write_text(text.replace('url = "sqlite:///trimtab.db"', f'url = "sqlite:///file:{journal}?mode=ro&uri=true"'))
    result = cli("rebalance", "--yes", "--json")
    assert result.exit_code == 2, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"The journal {journal} is read-only") and "writable" in message
    for leak in ("INSERT", "SQL", "parameters", "BTC=", "internal error"):
        assert leak not in result.output
    with sqlite3.connect(tmp_path / "trimtab-paper.db") as account:
        assert account.execute("SELECT count(*) FROM orders").fetchone() == (0,)


def test_a_corrupt_journal_names_the_file_and_new_journal(tmp_path):
    from conftest import run_cli

    assert run_cli(*PAPER, cwd=tmp_path).returncode == 0
    assert run_cli("status", cwd=tmp_path).returncode == 0  # the journal exists, every process closed
    journal = tmp_path / "trimtab.db"
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"trimtab.db{suffix}").unlink(missing_ok=True)
    scribble(journal, 100)
    result = run_cli("history", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"The journal {journal} is damaged" in result.stderr and "--new-journal" in result.stderr

"""`trimtab demo --multi-venue` through the CLI over two months of the shipped history."""

import json
import sqlite3

from conftest import run_cli


def test_the_multi_venue_demo_counts_the_moves_the_policy_caused_and_what_they_cost(tmp_path):
    result = run_cli("demo", "--multi-venue", "--dir", str(tmp_path / "demo"), "--start", "2021-01-01",
                     "--end", "2021-03-01", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["venues"] == ["wallet", "perps", "exchange"]
    assert summary["rebalances"] > 0 and summary["runs_completed"] == summary["rebalances"]
    assert summary["moves"] > 0 and set(summary["moves_by_pair"]) <= {"wallet -> exchange", "exchange -> wallet"}
    assert set(summary["orders_by_venue"]) == {"wallet", "perps", "exchange"}
    with sqlite3.connect(tmp_path / "demo" / "demo-journal.db") as db:  # the figures are the journal's
        moves = db.execute("SELECT COUNT(*), SUM(fee) FROM legs WHERE kind = 'transfer' AND state = 'arrived' "
                           "AND substr(chain, 1, instr(chain, ':')) != substr(to_chain, 1, instr(to_chain, ':'))").fetchone()
    assert moves[0] == summary["moves"] and abs(moves[1] - summary["move_fees"]) < 0.01
    with sqlite3.connect(tmp_path / "demo" / "demo-perps.db") as db:  # perps can neither send nor receive
        assert db.execute("SELECT COUNT(*) FROM sends").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM deposits").fetchone()[0] == 0
    text = run_cli("demo", "--multi-venue", "--dir", str(tmp_path / "demo"), "--start", "2021-01-01",
                   "--end", "2021-01-20", timeout=300)
    assert text.returncode == 0 and "moves between venues" in text.stdout

"""The soak, short: two simulated weeks of the production loop with venue faults and SIGKILLs.

benchmarks/soak.py runs in real subprocesses on a real paper account and journal; the full year is
run by hand for docs/RELIABILITY.md. Here: every kind of write fault at a high rate, up to three kills
(aimed at runs in flight when one is), and the books must hold: no duplicate, the journal and
the venue agree leg by leg, and the venue's ledger reconciles to the cent.
"""

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_two_weeks_with_faults_and_kills_send_nothing_twice_and_reconcile_to_the_cent(tmp_path):
    # Arrange / Act
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--days", "14", "--start", "2025-03-01",
         "--seed", "4", "--fault-rate", "0.03", "--write-fault-rate", "0.15", "--kill-every", "1", "--kills", "3",
         "--aim", "1", "--dir", str(tmp_path / "soak"), "--json"],
        capture_output=True, text=True, timeout=240, check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    # Assert
    assert result.stdout, result.stderr
    soak = json.loads(result.stdout)
    assert result.returncode == 0, soak
    assert soak["duplicates"] == 0 and soak["orphan_writes"] == 0 and soak["duplicate_client_ids"] == 0
    assert soak["refused_but_done"] == 0 and soak["wrong_quantity"] == 0 and soak["journal_only"] == 0
    assert soak["reconciled"] and abs(soak["difference"]) < 0.005 and soak["quantities_match"]
    assert soak["completed_past_a_refusal"] == 0
    assert soak["crashes"] == 0 and soak["kills"] >= 2 and soak["processes"] == soak["kills"] + 1
    assert soak["checks"] >= 14 * 24 - soak["checks_failed"] - 20
    assert soak["faults_total"] > 0 and soak["venue_orders"] > 0

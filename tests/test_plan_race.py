"""Two processes racing to execute one plan: exactly one run happens (real processes, real lock,
compare-and-set in the real journal)."""

from __future__ import annotations

import os
import subprocess
import sys

from cli_paper import journal_rows, make_portfolio

import trimtab

EXECUTE = """
import sys, trimtab
try:
    done = trimtab.Rebalancer("trimtab.toml").execute(sys.argv[1])
    print("RAN", done.outcome.state)
except trimtab.Denied as denied:
    print("REFUSED", denied.code)
"""


def test_two_processes_executing_the_same_plan_make_exactly_one_run(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p", order_latency=0.3)
    plan_id = trimtab.Rebalancer(portfolio / "trimtab.toml").plan().id
    # Act
    racers = [subprocess.Popen([sys.executable, "-c", EXECUTE, plan_id], cwd=portfolio, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})
              for _ in range(2)]
    answers = sorted(racer.communicate(timeout=120)[0].strip() for racer in racers)
    # Assert
    assert answers[0] == "RAN completed", answers
    assert answers[1] in ("REFUSED RUN_LOCKED", "REFUSED PLAN_USED"), answers
    assert journal_rows(portfolio, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert journal_rows(portfolio, f"SELECT state FROM plans WHERE id = '{plan_id}'") == [("executed",)]

"""The examples run as users run them: real subprocesses on a paper portfolio."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"}, check=False)


def test_the_agent_loop_rebalances_on_its_first_step_and_holds_on_its_second(tmp_path):
    # Arrange / Act
    result = run_example("agent_loop.py", "--dir", str(tmp_path / "p"), "--iterations", "2", "--interval", "0")
    # Assert
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith("step 1: max drift 15.0%: rebalance") and "completed" in first
    assert second.startswith("step 2:") and ": hold (" in second


def test_the_mcp_client_plans_and_executes_through_the_server(tmp_path):
    # Arrange / Act
    result = run_example("mcp_client.py", "--dir", str(tmp_path / "p"))
    # Assert
    assert result.returncode == 0, result.stderr
    assert "tools: get_portfolio, check_drift, plan_rebalance, execute_plan" in result.stdout
    assert "sell 0.02307 BTC" in result.stdout
    assert " completed: traded " in result.stdout


def test_the_readme_agent_loop_runs_as_written(tmp_path):
    # Arrange: the README's block, with two turns instead of forever and no hour's sleep
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in readme.split("```python")[1:] if "Rebalancer" in b).split("```")[0]
    assert len(block.strip().splitlines()) <= 12
    code = block.replace("while True:", "for _ in range(2):").replace("time.sleep(3600)", "time.sleep(0)")
    # Act
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"}, check=False)
    # Assert
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert "rebalance" in first and "completed" in first and ": hold (" in second

"""benchmarks/mcp_latency.py with its defaults makes more tool calls than the agent's default limit
allows in a minute (6 x 30 + 2 = 182 > 120): it must run under a limit that covers them, say so,
and finish with every measured call answered (no TOO_MANY_CALLS)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "mcp_latency.py"


def test_the_mcp_latency_benchmark_runs_its_default_calls_inside_the_limit_it_names(tmp_path):
    # Act
    result = subprocess.run([sys.executable, str(BENCHMARK)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    # Assert
    assert result.returncode == 0, result.stderr[-2000:]
    limit_line = next(line for line in result.stdout.splitlines() if line.startswith("agent call limit:"))
    assert "182 calls" in limit_line and "max_calls_per_minute = 190" in limit_line, limit_line
    assert "(n=30)" in result.stdout and "execute_plan (2 legs, paper)" in result.stdout
    assert "TOO_MANY_CALLS" not in result.stdout + result.stderr

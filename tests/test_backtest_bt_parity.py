"""Optional: trimtab's per-leg backtest against bt 1.4.1 itself, on real daily history.

Runs when bt is importable (extra ``peers``), or when ``TRIMTAB_PEERS_PYTHON`` names a Python
that has bt (then ``benchmarks/peers/bt_runner.py`` runs in that interpreter); skipped otherwise.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtest_helpers import SEED_TARGETS, daily, spec

from trimtab.backtest import run_backtest

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
HAVE_BT = importlib.util.find_spec("bt") is not None
PEERS_PYTHON = os.environ.get("TRIMTAB_PEERS_PYTHON")

pytestmark = [
    pytest.mark.peers,
    pytest.mark.skipif(not (HAVE_BT or PEERS_PYTHON), reason="bt is not installed (extra: peers)"),
]

CASES = {
    "threshold": {"policy": "threshold", "band": 0.05},
    "relative": {"policy": "threshold", "band": None, "relative_band": 0.25},
    "monthly": {"policy": "calendar"},
    "combined": {"policy": "combined", "band": 0.05},
}


def run_bt(case: str) -> dict:
    args = {"policy": {"relative": "relative", "monthly": "calendar"}.get(case, case), "band": 0.05, "relative_band": 0.25}
    if HAVE_BT:
        sys.path.insert(0, str(PEERS))
        import bt_runner

        schedule = "monthly" if args["policy"] in ("calendar", "combined") else None
        return bt_runner.run_bt(daily(), dict(SEED_TARGETS), args["policy"], args["band"], args["relative_band"],
                                schedule, 0.001, 10_000.0)
    out = subprocess.run(
        [PEERS_PYTHON, str(PEERS / "bt_runner.py"), "--data", "daily", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
         "--start", "2021-01-01", "--end", "2025-12-31", "--policy", args["policy"], "--band", "0.05",
         "--relative-band", "0.25", "--fee", "0.001", "--capital", "10000", "--json"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("case", list(CASES))
def test_per_leg_backtest_agrees_with_bt_on_final_value_and_rebalance_count(case):
    ours = run_backtest(daily(), spec(fee=0.001, fee_model="per-leg", min_trade=0, **CASES[case])).metrics
    theirs = run_bt(case)
    assert ours.rebalance_count == theirs["rebalance_count"]
    assert ours.final_value == pytest.approx(theirs["final_value"], rel=1e-9)

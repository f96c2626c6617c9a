"""The fast kernel implements the reference simulator's rules: compared on many random
configurations over real history (the reference is the oracle)."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from backtest_helpers import daily, spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trimtab.backtest import run_backtest
from trimtab.backtest.fast import Prepared, run_fast, run_many

TARGETS = [
    {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
    {"BTC": 0.6, "ETH": 0.4},
    {"BTC": 0.25, "ETH": 0.25, "SOL": 0.25, "BNB": 0.25},
    {"BTC": 0.3, "ETH": 0.2, "SOL": 0.1, "BNB": 0.0, "USDC": 0.4},
]
CLOSE = daily(("BTC", "ETH", "SOL", "BNB"), "2021-06-01", "2024-06-30")
PREPARED = Prepared.of(CLOSE)

configs = st.fixed_dictionaries({
    "targets": st.sampled_from(TARGETS),
    "policy": st.sampled_from(["threshold", "threshold", "calendar", "combined", "never"]),
    "band": st.floats(0.005, 0.25),
    "width": st.sampled_from(["absolute", "relative", "both"]),
    "schedule": st.sampled_from(["daily", "weekly", "monthly", "quarterly"]),
    "mode": st.sampled_from(["target", "band-edge"]),
    "fee_model": st.sampled_from(["proceeds", "per-leg"]),
    "fee": st.sampled_from([0.0, 0.001, 0.0025, 0.01]),
    "slippage": st.sampled_from([0.0, 0.0, 0.0005]),
    "min_trade": st.sampled_from([0.0, 10.0, 250.0]),
    "capital": st.sampled_from([1_000.0, 10_000.0, 1e6]),
})


EXAMPLE = {"targets": TARGETS[0], "policy": "threshold", "band": 0.04, "width": "absolute", "schedule": "monthly",
           "mode": "target", "fee_model": "proceeds", "fee": 0.001, "slippage": 0.0, "min_trade": 10.0,
           "capital": 10_000.0}


def make(c):
    relative = min(c["band"] * 4, 0.9)
    widths = {"absolute": {"band": c["band"]}, "relative": {"band": None, "relative_band": relative},
              "both": {"band": c["band"], "relative_band": relative}}[c["width"]]
    mode = c["mode"] if c["policy"] in ("threshold", "combined") else "target"
    return spec(c["targets"], policy=c["policy"], schedule=c["schedule"], mode=mode, fee=c["fee"],
                fee_model=c["fee_model"], slippage=c["slippage"], min_trade=c["min_trade"], capital=c["capital"],
                **widths)


def assert_agrees(fast, reference):
    assert fast.rebalance_count == reference.rebalance_count
    assert fast.trade_count == reference.trade_count
    assert fast.final_value == pytest.approx(reference.final_value, rel=1e-9)
    for key in ("max_drift", "total_traded", "total_fees", "total_slippage", "fee_drag_per_year", "volatility",
                "max_drawdown", "annual_return", "total_return"):
        assert getattr(fast, key) == pytest.approx(getattr(reference, key), rel=1e-9, abs=1e-12, nan_ok=True), key
    assert (fast.bars, fast.years) == (reference.bars, reference.years)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_kernel_agrees_with_the_reference_simulator_on_random_configurations(c):
    s = make(c)
    reference = run_backtest(CLOSE, s)
    fast, values = run_fast(PREPARED, s, keep_values=True)
    assert_agrees(fast, reference.metrics)
    np.testing.assert_allclose(values, reference.values, rtol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(configs, min_size=2, max_size=8), st.sampled_from([1, 2, None]))
def test_the_threaded_batch_kernel_agrees_with_the_reference_simulator(batch, threads):
    specs = [make(c) for c in batch]
    many = run_many(PREPARED, specs, threads=threads)
    for s, fast in zip(specs, many, strict=True):
        assert_agrees(fast, run_backtest(CLOSE, s).metrics)
        assert fast == run_fast(PREPARED, s)  # the batch, on any threads, is the single run exactly


def test_a_batch_mixing_direct_prices_and_the_simulators_handling_keeps_its_order():
    with_quote = Prepared.of(CLOSE.assign(USDC=1.0))  # the quote among the columns: dropped, one by one
    specs = [make({**EXAMPLE, "targets": t}) for t in TARGETS]
    many = run_many(with_quote, specs, threads=2)
    assert many == [run_fast(with_quote, s) for s in specs]
    assert many == run_many(PREPARED, specs, threads=2)


def test_kernel_agrees_with_the_reference_on_hourly_data_with_ten_assets():
    from trimtab.data import load_prices

    symbols = ["BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC"]
    close = load_prices("hourly", symbols, "2024-01-01", "2024-03-31")
    s = spec({a: 0.1 for a in symbols}, band=0.02, fee=0.001, fee_model="per-leg", min_trade=0)
    reference, fast = run_backtest(close, s).metrics, run_fast(close, s)
    assert fast.rebalance_count == reference.rebalance_count > 3
    assert fast.final_value == pytest.approx(reference.final_value, rel=1e-9)


def test_cooldown_and_emergency_band_follow_the_core():
    from datetime import timedelta

    from trimtab.backtest import BacktestSpec
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicyKind, PolicySpec
    from trimtab.core.triggers import Period

    policy = PolicySpec(kind=PolicyKind.COMBINED, band=0.03, emergency_band=0.08, schedule=Period.MONTHLY,
                        cooldown=timedelta(days=10))
    s = BacktestSpec(targets=Targets.of({"BTC": 0.4, "SOL": 0.3, "USDC": 0.3}), policy=policy, fee=0.001)
    reference, fast = run_backtest(CLOSE, s).metrics, run_fast(PREPARED, s)
    assert fast.rebalance_count == reference.rebalance_count
    assert fast.final_value == pytest.approx(reference.final_value, rel=1e-9)


def test_the_plain_python_fallback_gives_the_same_answer():
    code = (
        "import json; from backtest_helpers import daily, spec; from trimtab.backtest.fast import Prepared, run_fast,"
        " run_many; s = spec(band=0.03, fee=0.001, fee_model='per-leg', min_trade=0);"
        "m = run_fast(daily(), s); batch = run_many(Prepared.of(daily()), [s, spec(band=0.06)], threads=2);"
        "assert batch[0] == m, 'the batch kernel differs from the single run';"
        "print(json.dumps([m.final_value, m.rebalance_count]))"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    final, count = json.loads(out.stdout)
    reference = run_backtest(daily(), spec(band=0.03, fee=0.001, fee_model="per-leg", min_trade=0)).metrics
    assert count == reference.rebalance_count and math.isclose(final, reference.final_value, rel_tol=1e-9)


def test_numba_cache_moves_to_the_user_cache_when_the_package_is_read_only(monkeypatch, tmp_path):
    from trimtab.backtest import kernel

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(kernel.os, "access", lambda path, mode: False)
    kernel._numba_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "trimtab" / "numba")

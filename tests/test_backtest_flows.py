"""Contributions and withdrawals in backtests: a small case checked by hand, the kernel held to the
reference simulator with flows, the sweep's steer/ignore dimension and the options' refusals."""

import math

import numpy as np
import pandas as pd
import pytest
from backtest_helpers import daily, spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trimtab.backtest import run_backtest
from trimtab.backtest.fast import Prepared, run_fast
from trimtab.backtest.flows import flow_bars
from trimtab.backtest.spec import Every
from trimtab.core.plan import Side
from trimtab.errors import InputError

FEE = 0.001
#: 2 assets (BTC and the quote), 4 bars over 3 months: month starts on bars 1 and 2
SMALL = pd.DataFrame({"BTC": [100.0, 200.0, 50.0, 100.0]},
                     index=pd.DatetimeIndex(["2024-01-31", "2024-02-01", "2024-03-01", "2024-03-15"], tz="UTC"))


def small(flow, cash_flows="steer"):
    return spec({"BTC": 0.5, "USDC": 0.5}, policy="never", fee=FEE, fee_model="per-leg", min_trade=0.0,
                capital=1_000.0, flow=flow, every="month", cash_flows=cash_flows)


def test_a_deposit_buys_only_what_is_underweight_checked_by_hand():
    # Act
    result = run_backtest(SMALL, small(100.0))
    # Assert
    # bar 0: 500 buys BTC at 100 (500/1.001 of value), 500 stays cash.
    # bar 1, BTC at 200: BTC 999.001 vs cash 500 -> cash is the underweight: the 100 stays cash (no trade).
    # bar 2, BTC at 50: BTC 249.75 vs cash 600 -> the level (100 + 249.75)/0.5 = 699.5 is below cash's
    # 600/0.5 = 1,200, so all 100 buys BTC: one leg of 100/1.001 of value, fee 0.1/1.001.
    flow_fills = [f for f in result.fills if f.bar > 0]
    assert [(f.bar, f.side, f.asset) for f in flow_fills] == [(2, Side.BUY, "BTC")]
    assert flow_fills[0].value == pytest.approx(100 / 1.001, rel=1e-12)
    assert flow_fills[0].fee == pytest.approx(0.1 / 1.001, rel=1e-12)
    btc = 500 / 1.001 / 100 + 100 / 1.001 / 50
    values = [500 / 1.001 + 500, 500 / 1.001 * 2 + 600, btc * 50 + 600, btc * 100 + 600]
    assert result.values == pytest.approx(values, rel=1e-12)
    m = result.metrics
    assert m.net_flows == 200 and m.flow_count == 2 and m.flow_trade_count == 1 == m.trade_count
    assert m.rebalance_count == 0 and m.total_fees == pytest.approx(0.1 / 1.001, rel=1e-12)
    # the time-weighted return leaves the deposits out: each bar's growth net of what came in
    twr = values[0] / 1000 * (values[1] - 100) / values[0] * (values[2] - 100) / values[1] * values[3] / values[2]
    assert m.total_return == pytest.approx(twr - 1, rel=1e-12)
    # the money-weighted return: the rate at which 1,000 and each deposit grow to the final value
    years = np.array([(SMALL.index[-1] - t).total_seconds() / (365.25 * 86400) for t in SMALL.index])
    r = m.money_weighted_return
    assert 1000 * (1 + r) ** years[0] + 100 * (1 + r) ** years[1] + 100 * (1 + r) ** years[2] == pytest.approx(
        values[3], rel=1e-9)


def test_ignore_leaves_the_deposit_in_the_quote():
    result = run_backtest(SMALL, small(100.0, "ignore"))
    assert [f for f in result.fills if f.bar > 0] == []
    assert result.values[-1] == pytest.approx(500 / 1.001 + 700, rel=1e-12)


def test_a_withdrawal_sells_the_overweight_first_then_takes_the_cash_that_is_over_checked_by_hand():
    result = run_backtest(SMALL, small(-100.0))
    # bar 1, BTC at 200: BTC 999.001 is the overweight (cash 500): sell BTC to raise 100 after its fee,
    # 100/0.999 of value. bar 2, BTC at 50: cash (500) is now the overweight: it pays the 100, no trade.
    sells = [f for f in result.fills if f.bar > 0]
    assert [(f.bar, f.side, f.asset) for f in sells] == [(1, Side.SELL, "BTC")]
    assert sells[0].value == pytest.approx(100 / 0.999, rel=1e-12)
    btc = 500 / 1.001 / 100 - 100 / 0.999 / 200
    assert result.values == pytest.approx([500 / 1.001 + 500, btc * 200 + 500, btc * 50 + 400, btc * 100 + 400],
                                          rel=1e-12)
    assert result.metrics.net_flows == -200


def test_a_withdrawal_the_portfolio_cannot_pay_is_refused_in_a_sentence_by_both_engines():
    s = spec({"BTC": 0.5, "USDC": 0.5}, flow=-600.0, every="month", capital=1_000.0)
    for engine in (lambda: run_backtest(SMALL, s), lambda: run_fast(SMALL, s)):
        with pytest.raises(InputError, match="withdrawal of 600.00 USDC on 2024-03-01 00:00 is more than"):
            engine()


def test_flow_bars_start_each_period_and_never_bar_0():
    times = pd.DatetimeIndex(["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02", "2024-04-01", "2025-01-01"],
                             tz="UTC")
    assert flow_bars(times, Every.YEAR).tolist() == [False, False, True, False, False, True]
    assert flow_bars(times, Every.QUARTER).tolist() == [False, False, True, False, True, True]
    assert flow_bars(times, Every.DAY).tolist() == [False, True, True, True, True, True]


CLOSE = daily(("BTC", "ETH", "SOL"), "2021-06-01", "2024-06-30")
PREPARED = Prepared.of(CLOSE)

flow_configs = st.fixed_dictionaries({
    "targets": st.sampled_from([{"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}, {"BTC": 0.6, "ETH": 0.4},
                                {"BTC": 0.3, "ETH": 0.3, "SOL": 0.0, "USDC": 0.4}]),
    "policy": st.sampled_from(["threshold", "threshold", "calendar", "combined", "never"]),
    "band": st.floats(0.01, 0.2),
    "mode": st.sampled_from(["target", "band-edge"]),
    "fee_model": st.sampled_from(["proceeds", "per-leg"]),
    "fee": st.sampled_from([0.0, 0.001, 0.01]),
    "slippage": st.sampled_from([0.0, 0.0005]),
    # not 0: with min_trade 0, a calendar rebalance just after a steer that put the portfolio on
    # target trades legs of ~1e-13 whose sign depends on summation order (the core's fsum vs the
    # kernel's loop), so the leg counts could differ by float noise; a venue's minimum is never 0
    "min_trade": st.sampled_from([0.01, 10.0, 250.0]),
    "flow": st.sampled_from([500.0, 50.0, 5_000.0, -20.0, -150.0, -1_000.0]),
    "every": st.sampled_from(["day", "week", "month", "quarter", "year"]),
    "cash_flows": st.sampled_from(["steer", "ignore"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_configs)
def test_kernel_agrees_with_the_reference_simulator_with_flows(c):
    mode = c.pop("mode")
    if c["policy"] not in ("threshold", "combined"):
        mode = "target"
    s = spec(c.pop("targets"), mode=mode, capital=10_000.0, **c)
    try:
        reference = run_backtest(CLOSE, s).metrics
    except InputError as refused:  # a withdrawal that empties the portfolio: the kernel says the same
        with pytest.raises(InputError, match=str(refused)[:60]):
            run_fast(PREPARED, s)
        return
    fast = run_fast(PREPARED, s)
    assert fast.rebalance_count == reference.rebalance_count
    assert fast.trade_count == reference.trade_count
    assert fast.flow_trade_count == reference.flow_trade_count
    assert fast.flow_count == reference.flow_count and fast.net_flows == reference.net_flows
    for key in ("final_value", "max_drift", "total_traded", "total_fees", "fee_drag_per_year", "volatility",
                "max_drawdown", "total_return", "time_weighted_return", "money_weighted_return"):
        a, b = getattr(fast, key), getattr(reference, key)
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12), key


def test_steer_and_ignore_are_a_sweep_dimension_only_with_a_flow():
    from trimtab.backtest.grid import Grid
    from trimtab.backtest.spec import CashFlows
    from trimtab.backtest.sweep import buy_and_hold_rows, run_sweep
    from trimtab.core.assets import Targets

    both = (CashFlows.STEER, CashFlows.IGNORE)
    targets = [Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})]
    assert len(Grid(targets=targets, bands=[0.05, 0.1], cash_flows=both).specs()) == 2  # no flow: one each
    specs = Grid(targets=targets, bands=[0.05, 0.1], cash_flows=both, flow=500.0, every=Every.MONTH).specs()
    rows = run_sweep(PREPARED, specs, workers=1)
    assert [(r["band"], r["cash_flows"]) for r in rows] == [(0.05, "steer"), (0.05, "ignore"), (0.1, "steer"),
                                                            (0.1, "ignore")]
    for row, s in zip(rows, specs):
        assert row["flow"] == 500.0 and row["every"] == "month"
        assert row["final_value"] == pytest.approx(run_backtest(CLOSE, s).metrics.final_value, rel=1e-9)
    assert [r["cash_flows"] for r in buy_and_hold_rows(PREPARED, specs)] == ["steer", "ignore"]


def test_the_threaded_batch_kernel_runs_flows_per_configuration_as_the_simulator():
    from trimtab.backtest.fast import run_many

    targets = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    specs = [spec(targets, flow=f, every=e, cash_flows=c, capital=10_000.0)
             for f in (500.0, -20.0) for e in ("week", "month") for c in ("steer", "ignore")]
    specs.append(spec(targets, capital=10_000.0))  # no flows, in the same batch
    for s, m in zip(specs, run_many(PREPARED, specs, threads=2)):
        reference = run_backtest(CLOSE, s).metrics
        assert m.flow_count == reference.flow_count and m.flow_trade_count == reference.flow_trade_count
        for key in ("final_value", "total_fees", "volatility", "max_drawdown", "total_return",
                    "money_weighted_return"):
            assert getattr(m, key) == pytest.approx(getattr(reference, key), rel=1e-9, abs=1e-12), key


def test_a_batch_with_a_withdrawal_the_portfolio_cannot_pay_refuses_as_a_single_run():
    from trimtab.backtest.fast import run_many

    s = spec({"BTC": 0.5, "USDC": 0.5}, flow=-600.0, every="month", capital=1_000.0)
    with pytest.raises(InputError, match="withdrawal of 600.00 USDC on 2024-03-01 00:00 is more than"):
        run_many(Prepared.of(SMALL), [spec({"BTC": 0.5, "USDC": 0.5}, capital=1_000.0), s], threads=2)

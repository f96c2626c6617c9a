"""The reference simulator: the written conventions, on real daily history."""

import math

import numpy as np
import pytest
from backtest_helpers import SEED_TARGETS, daily, spec
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.backtest import run_backtest
from trimtab.core.plan import Side
from trimtab.errors import InputError


def per_leg_statement(close, targets, fee, capital, fires):
    """The per-leg rules written out plainly (as docs/BACKTESTING.md states them), for an oracle."""
    prices = close.to_numpy()
    t = np.array([targets.get(c, 0.0) for c in close.columns])
    t_all = np.append(t, targets.get("USDC", 0.0))
    qty = t * capital / (1 + fee) / prices[0]
    cash = capital - (t * capital).sum()
    count = 0
    for i in range(1, len(prices)):
        values = qty * prices[i]
        total = values.sum() + cash
        if not fires(i, np.append(values, cash) / total - t_all):
            continue
        count += 1
        delta = t * total - values
        sells, buys = delta < 0, delta > 0
        qty[sells] += delta[sells] / (1 - fee) / prices[i, sells]
        qty[buys] += delta[buys] / (1 + fee) / prices[i, buys]
        cash -= delta.sum()
    return (qty * prices[-1]).sum() + cash, count


def test_per_leg_threshold_agrees_with_the_plain_statement_of_the_rules():
    close = daily()
    result = run_backtest(close, spec(band=0.05, fee=0.001, fee_model="per-leg", min_trade=0))
    final, count = per_leg_statement(close, SEED_TARGETS, 0.001, 10_000, lambda i, d: np.abs(d).max() > 0.05 + 1e-12)
    assert result.metrics.final_value == pytest.approx(final, rel=1e-12)
    assert result.metrics.rebalance_count == count > 10


def test_monthly_schedule_fires_on_the_first_bar_of_each_new_month_only():
    result = run_backtest(daily(), spec(policy="calendar", fee=0.001))
    days = {r.time.day for r in result.rebalances}
    assert days == {1}
    assert result.metrics.rebalance_count == 59  # Feb 2021 .. Dec 2025: every month but the first


def test_bar_zero_buys_the_targets_and_is_neither_a_rebalance_nor_an_observation():
    result = run_backtest(daily(), spec(policy="never", fee=0.001, fee_model="per-leg", min_trade=0))
    assert result.metrics.rebalance_count == 0 and result.metrics.trade_count == 0
    assert math.isnan(result.drift[0])
    assert [(f.bar, f.side, f.asset) for f in result.fills] == [(0, Side.BUY, "BTC"), (0, Side.BUY, "ETH")]
    assert result.weights[0, -1] * result.values[0] == pytest.approx(2000)  # USDC is cash: no fee for itself
    assert result.fills[0].value == pytest.approx(5000 / 1.001)


def test_the_quote_asset_is_never_a_leg_and_pays_no_fee():
    result = run_backtest(daily(), spec(band=0.02, fee=0.001))
    assert result.fills and all(f.asset != "USDC" for f in result.fills)
    assert result.metrics.total_fees == pytest.approx(sum(f.value for f in result.fills if f.bar > 0) * 0.001)


def test_a_band_is_strict_and_measured_over_every_asset_including_the_quote():
    result = run_backtest(daily(), spec(band=0.05, fee=0.001))
    fired = result.drift[[r.bar for r in result.rebalances]]
    assert (fired > 0.05).all()
    assert result.metrics.max_drift == pytest.approx(np.nanmax(result.drift))
    # USDC at 20% with BTC and ETH moving together: only the quote's weight shows the drift at times
    cash_weight_before = result.weights[:, -1]
    assert cash_weight_before.min() < 0.2


def test_proceeds_model_fills_the_planners_quantities():
    from trimtab.core.planner import plan_rebalance
    from trimtab.core.valuation import value_portfolio

    close = daily()
    s = spec(fee=0.001, fee_model="proceeds")
    result = run_backtest(close, s)
    plan = plan_rebalance(value_portfolio({"USDC": 10_000}, close.iloc[0].to_dict(), quote="USDC", assets=s.targets.assets),
                          s.targets, fee=0.001, min_trade=10)
    assert [(f.asset, f.quantity) for f in result.fills if f.bar == 0] == [(leg.asset, leg.quantity) for leg in plan.legs]


def test_slippage_and_fees_only_lower_the_final_value():
    close = daily()
    free = run_backtest(close, spec(fee=0.0)).metrics.final_value
    with_fee = run_backtest(close, spec(fee=0.001)).metrics
    with_slip = run_backtest(close, spec(fee=0.001, slippage=0.001)).metrics
    assert free > with_fee.final_value > with_slip.final_value
    assert with_slip.total_slippage > 0 and with_fee.total_slippage == 0


def test_min_trade_drops_small_legs():
    close = daily()
    none = run_backtest(close, spec(policy="calendar", fee=0.001, min_trade=0)).metrics
    big = run_backtest(close, spec(policy="calendar", fee=0.001, min_trade=500)).metrics
    assert big.trade_count < none.trade_count


def test_band_edge_mode_trades_less_than_back_to_target():
    close = daily()
    target = run_backtest(close, spec(band=0.05, fee=0.001)).metrics
    edge = run_backtest(close, spec(band=0.05, fee=0.001, mode="band-edge")).metrics
    assert edge.total_traded < target.total_traded
    assert edge.rebalance_count > target.rebalance_count


def test_missing_prices_for_a_target_are_refused_in_one_sentence():
    with pytest.raises(InputError, match="No prices for SOL"):
        run_backtest(daily(), spec({"BTC": 0.5, "SOL": 0.5}))


configs = st.fixed_dictionaries({
    "policy": st.sampled_from(["threshold", "calendar", "combined", "never"]),
    "band": st.floats(0.005, 0.2),
    "relative": st.booleans(),
    "schedule": st.sampled_from(["weekly", "monthly", "quarterly"]),
    "mode": st.sampled_from(["target", "band-edge"]),
    "fee_model": st.sampled_from(["proceeds", "per-leg"]),
    "fee": st.sampled_from([0.0, 0.001, 0.005]),
    "min_trade": st.sampled_from([0.0, 10.0, 200.0]),
    "targets": st.sampled_from([SEED_TARGETS, {"BTC": 0.6, "ETH": 0.4}, {"BTC": 0.3, "ETH": 0.2, "SOL": 0.1, "USDC": 0.4}]),
})


@settings(max_examples=25, deadline=None)
@given(configs)
def test_screened_run_decides_exactly_as_the_core_asked_every_bar(c):
    close = daily(("BTC", "ETH", "SOL"), "2022-01-01", "2023-12-31")
    kw = {"relative_band": c["band"] * 3, "band": None} if c["relative"] else {"band": c["band"]}
    if c["policy"] not in ("threshold", "combined") and c["mode"] == "band-edge":
        c["mode"] = "target"
    s = spec(c["targets"], policy=c["policy"], schedule=c["schedule"], mode=c["mode"], fee=c["fee"],
             fee_model=c["fee_model"], min_trade=c["min_trade"], **kw)
    fast, slow = run_backtest(close, s), run_backtest(close, s, screen=False)
    assert fast.metrics == slow.metrics
    assert [r.bar for r in fast.rebalances] == [r.bar for r in slow.rebalances]

"""The trimtab rebalancing backtest run in vectorbt, for parity and benchmarks.

vectorbt's ``Portfolio.from_orders(size_type="targetpercent", call_seq="auto")`` cannot say
either rule we need: its trigger would have to be known before the run (ours depends on the
path), and a target-percent order buys the exact target VALUE and pays the fee on top from
cash (with no quote asset the last buy of each rebalance is cut to the cash left). On the
monthly schedule, where dates are known, it ends 0.075% (10 assets) / 0.025% (BTC/ETH/USDC)
above the per-leg rule over 2021..2025 daily. So this runner uses
``Portfolio.from_order_func`` with numba callbacks, one group per backtest, cash shared:

- ``pre_segment_nb`` (once per bar and group): values holdings carried from the previous bar
  at this bar's close, cash (= the quote asset USDC, price 1, never a leg) included; applies
  the trigger (threshold / relative / calendar / combined, strict, with common.DRIFT_EPSILON;
  monthly = the bar's calendar month differs from the previous bar's); bar 0 always buys the
  targets and is not counted. On a rebalance it plans ``d_i = t_i*V - v_i`` of cash per
  non-quote asset and turns it into an amount with per-leg fees: a buy spending d gets
  ``d/((1+f)*p)`` units (vectorbt then charges ``units*p*f``, so exactly d leaves), a sell
  raising d sells ``d/((1-f)*p)`` units. It orders the calls sells first.
- ``order_nb``: one ``Amount`` order per asset at the close, ``fees=f``, long-only.

This is the same rule as bt_runner.py and reference_sim.py. A parameter sweep runs every band
as its own group of columns in ONE simulation (close tiled across groups).

CLI as bt_runner.py: ``--data daily --targets ... --policy ... --json`` or ``--bench single|sweep``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import vectorbt as vbt
from numba import njit
from vectorbt.portfolio.enums import Direction, SizeType
from vectorbt.portfolio.nb import order_nb, order_nothing_nb

import common

POLICIES = {"threshold": 0, "relative": 1, "calendar": 2, "combined": 3}


@njit(cache=True)
def pre_segment_nb(c, t_assets, t_cash, bands, rel_bands, policy, new_month, fee, amounts, counts):
    g, i, n = c.group, c.i, c.group_len
    cash = c.last_cash[g]
    values = np.empty(n)
    for k in range(n):
        values[k] = c.last_position[c.from_col + k] * c.close[i, c.from_col + k]
    total = values.sum() + cash
    fire = i == 0
    if not fire:
        band, rel = bands[g] + 1e-12, rel_bands[g] + 1e-12
        if policy == 0 or policy == 3:
            fire = abs(cash / total - t_cash) > band
            for k in range(n):
                fire = fire or abs(values[k] / total - t_assets[k]) > band
        elif policy == 1:
            fire = t_cash > 0 and abs(cash / total - t_cash) / t_cash > rel
            for k in range(n):
                fire = fire or (t_assets[k] > 0 and abs(values[k] / total - t_assets[k]) / t_assets[k] > rel)
        if policy >= 2:
            fire = fire or new_month[i]
        counts[g] += fire
    for k in range(n):
        col = c.from_col + k
        d = t_assets[k] * total - values[k] if fire else 0.0
        f = (1.0 + fee) if d > 0 else (1.0 - fee)
        amounts[col] = d / f / c.close[i, col]
    if fire:  # sells (negative amounts) first, so buys are paid from their proceeds
        c.call_seq_now[:] = np.argsort(amounts[c.from_col:c.to_col])
    return ()


@njit(cache=True)
def post_sim_nb(c, final_values):
    # vectorbt's own end state: cash plus positions at the last close, per group
    for g in range(len(c.group_lens)):
        from_col = c.group_lens[:g].sum()
        final_values[g] = c.last_cash[g]
        for col in range(from_col, from_col + c.group_lens[g]):
            final_values[g] += c.last_position[col] * c.close[-1, col]


@njit(cache=True)
def order_func_nb(c, amounts, fee):
    if amounts[c.col] == 0.0:
        return order_nothing_nb()
    return order_nb(size=amounts[c.col], price=c.close[c.i, c.col], size_type=SizeType.Amount,
                    direction=Direction.LongOnly, fees=fee)


def simulate(close, targets, policy, bands, relative_bands, fee, capital):
    """One vectorbt simulation of ``len(bands)`` backtests; return (final values, rebalance counts)."""
    n_groups, n_assets = len(bands), close.shape[1]
    t_assets = np.array([targets.get(s, 0.0) for s in close.columns])
    prices = np.tile(close.to_numpy(np.float64), (1, n_groups))
    amounts, counts = np.zeros(prices.shape[1]), np.zeros(n_groups, dtype=np.int64)
    final_values = np.zeros(n_groups)
    vbt.Portfolio.from_order_func(
        prices, order_func_nb, amounts, fee,
        pre_segment_func_nb=pre_segment_nb,
        pre_segment_args=(t_assets, targets.get(common.QUOTE, 0.0), np.asarray(bands, float),
                          np.asarray(relative_bands, float), POLICIES[policy],
                          common.month_starts(close.index), fee, amounts, counts),
        post_sim_func_nb=post_sim_nb, post_sim_args=(final_values,),
        group_by=np.repeat(np.arange(n_groups), n_assets), cash_sharing=True, init_cash=capital,
    )
    # (pf.final_value() gives the same numbers but rebuilds a rows x columns close matrix)
    return final_values, counts


def run_vbt(close, targets, policy, band, relative_band, schedule, fee, capital) -> dict:
    """Run one backtest; return ``{"final_value", "rebalance_count", "seconds"}`` (as run_bt)."""
    if schedule not in (None, "monthly"):
        raise ValueError(f"schedule {schedule!r}: only 'monthly' is implemented")
    started = time.perf_counter()
    band = np.inf if band is None else band
    relative_band = np.inf if relative_band is None else relative_band
    finals, counts = simulate(close, targets, policy, [band], [relative_band], fee, capital)
    return {"final_value": float(finals[0]), "rebalance_count": int(counts[0]),
            "seconds": time.perf_counter() - started}


def bench(mode: str, limit: int | None, style: str = "grouped") -> dict:
    """``style`` "grouped": all bands in one simulation; "loop": one simulation per band."""
    close, targets, bands = common.bench_inputs(limit, mode)
    batches = [bands] if style == "grouped" else [[b] for b in bands]
    started = time.perf_counter()
    simulate(close.iloc[:50], targets, "threshold", batches[0], [np.inf] * len(batches[0]), 0.001, 10_000.0)
    compile_seconds = time.perf_counter() - started  # numba compile, or load from its cache
    started = time.perf_counter()
    runs = [simulate(close, targets, "threshold", b, [np.inf] * len(b), 0.001, 10_000.0) for b in batches]
    warm = time.perf_counter() - started
    finals = np.concatenate([r[0] for r in runs])
    counts = np.concatenate([r[1] for r in runs])
    results = [{"band": b, "final_value": float(v), "rebalance_count": int(n)}
               for b, v, n in zip(bands, finals, counts)]
    total = 1 if mode == "single" else len(common.SWEEP_BANDS)
    return common.bench_report("vectorbt " + vbt.__version__, mode, warm, results, total,
                               {"bars": len(close), "sweep_style": style,
                                "seconds_first_call": compile_seconds})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser)
    parser.add_argument("--sweep-style", choices=["grouped", "loop"], default="grouped",
                        help="--bench sweep: all bands as groups of one simulation, or one simulation each")
    args = parser.parse_args()
    if args.bench:
        print(json.dumps(bench(args.bench, args.limit, args.sweep_style)))
        return
    close, targets = common.resolve_args(args)
    schedule = "monthly" if args.policy in ("calendar", "combined") else None
    result = run_vbt(close, targets, args.policy, args.band, args.relative_band, schedule, args.fee, args.capital)
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()

"""A 60-line plain-numpy statement of the rebalancing rules that bt and vectorbt are set up to match.

It stands in for trimtab's own simulator until that exists, so the peers can be checked
against the written conventions rather than against each other:

- bar 0 spends the capital on the targets: asset i gets ``t_i*C/(1+f)`` of value; the quote
  asset (USDC) is cash at price 1, never a leg, and keeps ``t_USDC*C``.
- at bar t >= 1, holdings from t-1 are valued at bar t's close; weights are over all assets,
  cash included; the trigger is ``common.wants_rebalance`` (threshold / relative / calendar /
  combined, strict, monthly = first bar of a new calendar month).
- a rebalance plans, for every non-quote asset, the cash delta ``d_i = t_i*V - v_i`` with V the
  pre-trade total value. Per-leg fees: a sell raising ``|d|`` sells ``|d|/(1-f)`` worth, a buy
  spending ``d`` gets ``d/(1+f)`` worth. Cash therefore lands exactly on ``t_USDC*V`` (on 0
  without USDC) and each asset a fee short of its target. Sells are applied before buys.

Usage: ``python reference_sim.py --targets BTC=0.5,ETH=0.3,USDC=0.2 --start 2021-01-01 ...``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import common


def run_reference(close, targets, policy="threshold", band=0.05, relative_band=0.25,
                  fee=0.001, capital=10_000.0) -> dict:
    prices = close.to_numpy(np.float64)
    t_assets = np.array([targets.get(s, 0.0) for s in close.columns])
    t_all = np.append(t_assets, targets.get(common.QUOTE, 0.0))
    new_month = common.month_starts(close.index)
    qty = t_assets * capital / (1 + fee) / prices[0]
    cash = capital - (t_assets * capital).sum()
    count = 0
    for i in range(1, len(prices)):
        values = qty * prices[i]
        total = values.sum() + cash
        weights = np.append(values, cash) / total
        if not common.wants_rebalance(weights, t_all, policy, band, relative_band, new_month[i]):
            continue
        count += 1
        delta = t_assets * total - values
        sells, buys = delta < 0, delta > 0
        qty[sells] += delta[sells] / (1 - fee) / prices[i, sells]
        qty[buys] += delta[buys] / (1 + fee) / prices[i, buys]
        cash -= delta.sum()
    final = float((qty * prices[-1]).sum() + cash)
    return {"final_value": final, "rebalance_count": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser)
    args = parser.parse_args()
    close, targets = common.resolve_args(args)
    started = time.perf_counter()
    result = run_reference(close, targets, args.policy, args.band, args.relative_band, args.fee, args.capital)
    result["seconds"] = time.perf_counter() - started
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()

"""Cash flows in the reference simulator: a contribution or withdrawal at the start of each period.

The rules (docs/CASH_FLOWS.md, Backtests; the kernel's ``_flow_step`` is the same in numba):

- A flow comes at each bar that starts a new ``every`` period (``flow_bars``), never at bar 0. It
  lands before the policy looks at the drift, so the policy decides on the holdings after it.
- ``ignore``: a deposit lands in the quote. A withdrawal leaves the quote; what the quote cannot
  pay is raised by selling every other asset pro rata to its value.
- ``steer``: ``core.cashflow.flow_trades`` says, from the values before the flow (the quote
  included, at its target), what each asset buys (deposit) or sells (withdrawal). A buy spends
  ``d`` of the quote and gets ``d/(1+f)`` of value; a sell that must raise ``d`` sells
  ``d/(1-f)`` of value (capped at the holding), under either fee model: a flow leg moves a given
  amount of quote, which is where the two models agree. Slippage moves the fill price against the
  trade as in ``fills.py``. Buys below ``min_trade`` are not made (the cash stays in the quote);
  legs within a billionth of the portfolio's value of 0 are float noise and not made either;
  a withdrawal's sells are always made (the withdrawal is paid in full), and a shortfall left by a
  sell capped at its holding is raised pro rata as under ``ignore``.
- A withdrawal the portfolio cannot pay (the quote plus everything sold after fees and slippage)
  raises ``InputError``: the backtest names the bar where the money ran out.
- Quote left within a billionth of the portfolio's value of 0 is set to exactly 0 (``QUOTE_DUST``).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence

import numpy as np

from trimtab.backtest.fills import QUOTE_DUST, Fill
from trimtab.backtest.spec import CashFlows, Every
from trimtab.core.plan import Side
from trimtab.errors import InputError


def flow_bars(times, every: Every | None) -> np.ndarray:
    """True at each bar that starts a new ``every`` period (UTC); bar 0 is False. ``times`` is a
    DatetimeIndex or int64 ns since the epoch."""
    from trimtab.backtest.screen import _as_ns, period_starts
    from trimtab.core.triggers import Period

    ns = _as_ns(times)
    if every is None:
        return np.zeros(len(ns), dtype=bool)
    if every is Every.YEAR:
        out = np.zeros(len(ns), dtype=bool)
        years = ns.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64)
        out[1:] = years[1:] != years[:-1]
        return out
    period = {Every.DAY: Period.DAILY, Every.WEEK: Period.WEEKLY, Every.MONTH: Period.MONTHLY,
              Every.QUARTER: Period.QUARTERLY}[every]
    return period_starts(ns, period)


def apply_flow(
    holdings: MutableMapping[str, float],
    prices: dict[str, float],
    *,
    assets: Sequence[str],
    quote: str,
    weights: dict[str, float],
    flow: float,
    cash_flows: CashFlows,
    fee: float,
    slippage: float,
    min_trade: float,
    bar: int,
) -> list[Fill]:
    """Apply one flow to ``holdings`` (asset -> quantity, the quote included) in place; return the
    fills it made (buys or sells against the quote). See the module docstring."""
    values = {a: holdings[a] * prices[a] for a in assets}
    cash = holdings[quote]
    total = sum(values.values()) + cash
    fills: list[Fill] = []
    if flow < 0:
        payable = cash + sum(v * (1 - slippage) * (1 - fee) for v in values.values())
        if -flow >= payable:
            raise InputError(f"The withdrawal of {-flow:,.2f} {quote} at bar {bar} is more than the portfolio can pay: "
                             "give a smaller withdrawal or more capital.")
    if cash_flows is CashFlows.STEER:
        from trimtab.core.cashflow import flow_trades

        trades = flow_trades({**values, quote: cash}, weights, flow)
        noise = QUOTE_DUST * total
        for a in assets:
            d = trades.get(a, 0.0)
            if d > noise and d >= min_trade:
                fills.append(_buy(holdings, a, prices[a], d, quote, fee, slippage, bar))
            elif d < -noise:
                fills.append(_sell(holdings, a, prices[a], -d, quote, fee, slippage, bar))
    holdings[quote] += flow
    if holdings[quote] < -QUOTE_DUST * total:
        fills += _raise_pro_rata(holdings, prices, assets, -holdings[quote], quote, fee, slippage, bar)
    if abs(holdings[quote]) < QUOTE_DUST * total:
        holdings[quote] = 0.0
    return fills


def _buy(holdings, asset, price, spend, quote, fee, slippage, bar) -> Fill:
    fill_price = price * (1 + slippage)
    quantity = spend / ((1 + fee) * fill_price)
    value = quantity * fill_price
    holdings[asset] += quantity
    holdings[quote] -= spend
    return Fill(bar=bar, side=Side.BUY, asset=asset, quantity=quantity, price=fill_price, value=value,
                fee=value * fee, slippage=quantity * (fill_price - price))


def _sell(holdings, asset, price, needed, quote, fee, slippage, bar) -> Fill:
    fill_price = price * (1 - slippage)
    quantity = min(needed / ((1 - fee) * fill_price), holdings[asset])
    value = quantity * fill_price
    holdings[asset] -= quantity
    holdings[quote] += value * (1 - fee)
    return Fill(bar=bar, side=Side.SELL, asset=asset, quantity=quantity, price=fill_price, value=value,
                fee=value * fee, slippage=quantity * (price - fill_price))


def _raise_pro_rata(holdings, prices, assets, shortfall, quote, fee, slippage, bar) -> list[Fill]:
    """Sell every non-quote asset in proportion to its value until ``shortfall`` of quote is raised."""
    values = [holdings[a] * prices[a] for a in assets]
    held = sum(values)
    return [_sell(holdings, a, prices[a], shortfall * v / held, quote, fee, slippage, bar)
            for a, v in zip(assets, values) if v > 0]

"""Human-readable tables for backtests and sweeps (rich); percentages here, fractions in JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from trimtab.backtest.metrics import Metrics
from trimtab.interfaces.output import money, percent, stdout

if TYPE_CHECKING:  # a sweep's table must not import the simulator (and so pandas)
    from trimtab.backtest.simulator import BacktestResult


def render_backtest(result: BacktestResult, hold: Metrics | None = None) -> None:
    """The policy's metrics, and beside them buy and hold's (``hold``: the same targets, never
    rebalanced) when given."""
    m, s = result.metrics, result.spec
    table = Table(title=f"backtest {result.index[0]:%Y-%m-%d %H:%M} .. {result.index[-1]:%Y-%m-%d %H:%M} "
                        f"({m.bars:,} bars): {s.describe()}", title_justify="left")
    table.add_column("metric")
    table.add_column(str(s.policy.kind), justify="right")
    if hold is not None:
        table.add_column("buy and hold", justify="right")
    held = dict(_metric_rows(hold, s.quote, s.capital)) if hold is not None else {}
    for name, value in _metric_rows(m, s.quote, s.capital):
        table.add_row(name, value, *([held.get(name, "-")] if hold is not None else []))
    stdout.print(table)
    if hold is not None:
        stdout.print(f"{s.policy.kind} vs buy and hold: final value {(m.final_value / hold.final_value - 1) * 100:+.1f}%")


def _metric_rows(m: Metrics, quote: str, capital: float) -> list[tuple[str, str]]:
    short = _too_short(m)
    rows = [
        ("starting value", f"{money(capital)} {quote}"),
        ("final value", f"{money(m.final_value)} {quote}"),
        ("annual return", f"n/a: {short}; total return {percent(m.total_return, 2)}" if short
         else percent(m.annual_return)),
        ("volatility (annual)", f"n/a: {short}" if short or math.isnan(m.volatility) else percent(m.volatility)),
        ("max drawdown", percent(m.max_drawdown)),
        ("rebalances", f"{m.rebalance_count:,} ({_per(m.rebalances_per_month)} a month)"),
        ("trades (legs)", f"{m.trade_count:,} ({_per(m.trades_per_month)} a month)"),
        ("max drift", percent(m.max_drift)),
        ("traded", money(m.total_traded)),
        ("fees", money(m.total_fees)),
        ("fee drag per year", percent(m.fee_drag_per_year, 2)),
    ]
    if m.total_slippage:
        rows.append(("slippage", money(m.total_slippage)))
    if m.flow_count:
        rows[2:3] = [
            ("net flows", f"{money(m.net_flows)} {quote} in {m.flow_count:,} flows"),
            ("time-weighted return", f"n/a: {short}; total {percent(m.total_return, 2)}" if short
             else f"{percent(m.time_weighted_return)} a year (flows removed)"),
            ("money-weighted return", f"n/a: {short}" if short or math.isnan(m.money_weighted_return)
             else f"{percent(m.money_weighted_return)} a year"),
        ]
        rows.insert(next(i for i, r in enumerate(rows) if r[0] == "trades (legs)") + 1,
                    ("trades by flows", f"{m.flow_trade_count:,}"))
    return rows


def _too_short(m: Metrics) -> str | None:
    """Why the window has no annual figures (``metrics.MIN_DAYS_TO_ANNUALISE``), or None."""
    from trimtab.backtest.metrics import MIN_DAYS_TO_ANNUALISE, long_enough_to_annualise

    if long_enough_to_annualise(m.years):
        return None
    days = m.years * 365.25
    return (f"a window of {days:.3g} day{'' if days == 1 else 's'} is too short to annualise "
            f"({MIN_DAYS_TO_ANNUALISE} days or more)")


def _per(rate: float) -> str:
    return "-" if math.isnan(rate) else f"{rate:.2f}"


SWEEP_COLUMNS = (
    ("targets", "targets", str),
    ("policy", "policy", str),
    ("band", "band", lambda v: percent(v) if v is not None else "-"),
    ("relative_band", "rel. band", lambda v: percent(v) if v is not None else "-"),
    ("schedule", "schedule", lambda v: v or "-"),
    ("mode", "mode", str),
    ("cash_flows", "flows", str),
    ("rebalances_per_month", "rebal./mo", _per),
    ("trades_per_month", "trades/mo", _per),
    ("max_drift", "max drift", percent),
    ("fee_drag_per_year", "fee drag/yr", lambda v: percent(v, 2)),
    ("annual_return", "return/yr", percent),
    ("volatility", "volatility", percent),
    ("max_drawdown", "max DD", percent),
    ("final_value", "final", money),
)


def render_sweep(rows: Sequence[dict], *, title: str, limit: int = 60, hold: Sequence[dict] = ()) -> None:
    """A table of sweep rows (at most ``limit``, the rest counted), then a buy-and-hold row per
    portfolio (``hold``); configuration columns that are the same on every row are said once in
    the caption instead (the policy column stays when buy-and-hold rows are shown)."""
    config_keys = [key for key, _, _ in SWEEP_COLUMNS[:7]]
    same = {k for k in config_keys if len({repr(r.get(k)) for r in rows}) == 1}
    if hold:
        same.discard("policy")
    columns = [c for c in SWEEP_COLUMNS if c[0] not in same]
    caption = "; ".join(f"{k}: {_targets_text(rows[0][k]) if k == 'targets' else rows[0][k]}"
                        for k in config_keys if k in same and rows[0][k] is not None)
    table = Table(title=title, title_justify="left", caption=caption or None, caption_justify="left")
    for _, header, _ in columns:
        table.add_column(header, justify="left" if header in ("targets", "policy", "schedule", "mode", "flows") else "right",
                         no_wrap=header == "targets")
    shown = list(rows[:limit])
    for i, row in enumerate(shown):
        table.add_row(*(fmt(_targets_text(row[key]) if key == "targets" else row[key]) for key, _, fmt in columns),
                      end_section=bool(hold) and i == len(shown) - 1)
    for row in hold:
        baseline = {**row, "policy": "buy and hold", "band": None, "relative_band": None, "schedule": None,
                    "mode": "-"}
        table.add_row(*(fmt(_targets_text(baseline[key]) if key == "targets" else baseline[key])
                        for key, _, fmt in columns), style="italic")
    stdout.print(table)
    if len(rows) > limit:
        stdout.print(f"... and {len(rows) - limit} more rows (use --json for all)", style="dim")


def _targets_text(targets) -> str:
    if isinstance(targets, dict):
        return "/".join(f"{a}{w * 100:g}" for a, w in targets.items())
    return str(targets)


def render_compare(rows: Sequence[dict], *, title: str, rule: str) -> None:
    """The blog's claims beside the measured numbers, one policy a row, then each verdict."""
    table = Table(title=title, title_justify="left", padding=(0, 1), caption_justify="left",
                  caption="(blog): what the blog claims; fee drag and return are per year; vol = volatility.\n"
                          f"The rule for every verdict: {rule}.")
    for header in ("policy", "rebal/mo", "trades/mo", "(blog)", "max drift", "(blog)",
                   "fee drag", "(blog)", "return", "vol"):
        table.add_column(header, justify="left" if header == "policy" else "right", no_wrap=True)
    for r in rows:
        claim = r["claim"]
        low, high = claim["trades_per_month"]
        drag = claim["fee_drag_per_year"]
        table.add_row(
            r["policy"], f"{r['rebalances_per_month']:.2f}", f"{r['trades_per_month']:.2f}",
            f"{low:g}" if low == high else f"{low:g}-{high:g}",
            percent(r["max_drift"]), percent(claim["max_drift"], 0) + ("+" if claim["max_drift_at_least"] else ""),
            percent(r["fee_drag_per_year"], 2),
            "-" if drag is None else (percent(drag[0]) if drag[0] == drag[1] else f"{drag[0] * 100:g}-{drag[1] * 100:g}%"),
            percent(r["annual_return"]), percent(r["volatility"]),
        )
    stdout.print(table)
    for r in rows:
        stdout.print(Text.assemble((r["policy"], "bold"), f": {r['verdict']}"))


def render_compare_flows(rows: Sequence[dict], *, title: str) -> None:
    """Each policy with the flow steered and ignored: trades, fees, returns, and what steering saved."""
    table = Table(title=title, title_justify="left", padding=(0, 1), caption_justify="left",
                  caption="trades = filled legs (flows' own legs included); TWR = time-weighted return a year (flows "
                          "removed), MWR = money-weighted; saved = ignore's less steer's.")
    for header in ("policy", "flows", "rebalances", "trades", "by flows", "fees", "max drift", "TWR", "MWR",
                   "final", "trades saved", "fees saved"):
        table.add_column(header, justify="left" if header in ("policy", "flows") else "right", no_wrap=True)
    for r in rows:
        for kind in ("steer", "ignore"):
            f = r[kind]
            saved = (f"{r['trades_saved']:+,}", f"{money(r['fees_saved'])}") if kind == "steer" else ("", "")
            table.add_row(r["policy"] if kind == "steer" else "", kind, f"{f['rebalance_count']:,}",
                          f"{f['trade_count']:,}", f"{f['flow_trade_count']:,}", money(f["total_fees"]),
                          percent(f["max_drift"]), percent(f["time_weighted_return"]),
                          percent(f["money_weighted_return"]), money(f["final_value"]), *saved,
                          end_section=kind == "ignore")
    stdout.print(table)

"""Backtesting commands (backtest, sweep, compare): registered on the main app. Thin: parse the
options, call ``trimtab.backtest``, render; errors go through ``output.run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
PricesOpt = Annotated[Path | None, typer.Option("--prices", help="Price file: CSV or CSV.gz, long format (date or timestamp, symbol, close).")]
DataOpt = Annotated[str | None, typer.Option("--data", help="Shipped history: daily (default) or hourly.")]
SymbolsOpt = Annotated[str | None, typer.Option("--symbols", help="Assets to load, e.g. BTC,ETH (default: the non-quote targets).")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First bar, inclusive (YYYY-MM-DD[THH:MM]).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last bar, inclusive; a bare date means through its last bar.")]
FeeOpt = Annotated[float, typer.Option("--fee", help="Fee rate per leg, e.g. 0.001 for 0.1%.")]
FeeModelOpt = Annotated[str, typer.Option("--fee-model", help="proceeds (the live executor's) or per-leg (bt's).")]
SlippageOpt = Annotated[float, typer.Option("--slippage", help="Fill price worse than the close by this fraction.")]
CapitalOpt = Annotated[float, typer.Option("--capital", help="Starting capital in the quote asset.")]
MinTradeOpt = Annotated[float, typer.Option("--min-trade", help="Skip legs worth less than this (quote units).")]
QuoteOpt = Annotated[str, typer.Option("--quote", help="The quote asset (cash at 1).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("backtest")(backtest)


def backtest(
    targets: Annotated[str, typer.Option("--targets", help="Target weights, e.g. BTC=0.5,ETH=0.3,USDC=0.2.")] = "BTC=0.5,ETH=0.3,USDC=0.2",
    prices: PricesOpt = None,
    data: DataOpt = None,
    symbols: SymbolsOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    policy: Annotated[str, typer.Option("--policy", help="threshold, calendar, combined or never.")] = "threshold",
    band: Annotated[float | None, typer.Option("--band", help="Absolute band, e.g. 0.05 (threshold default).")] = None,
    relative_band: Annotated[float | None, typer.Option("--relative-band", help="Relative band, e.g. 0.25.")] = None,
    schedule: Annotated[str | None, typer.Option("--schedule", help="daily, weekly, monthly (default) or quarterly.")] = None,
    fee: FeeOpt = 0.001,
    fee_model: FeeModelOpt = "proceeds",
    slippage: SlippageOpt = 0.0,
    capital: CapitalOpt = 10_000.0,
    min_trade: MinTradeOpt = 10.0,
    mode: Annotated[str, typer.Option("--mode", help="target (back to target) or band-edge.")] = "target",
    quote: QuoteOpt = "USDC",
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the chart PNG here (default without --json: backtest.png).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replay a rebalancing policy over real price history with the live core; print the metrics."""

    def body():
        from trimtab.backtest import run_backtest
        from trimtab.interfaces import backtest_options as opt

        parsed = opt.parse_targets(targets, quote)
        spec = opt.backtest_spec(
            targets=parsed, policy=opt.policy_spec(policy, band, relative_band, schedule), mode=mode, fee=fee,
            fee_model=fee_model, slippage=slippage, capital=capital, min_trade=min_trade,
        )
        close = opt.load_close(prices=prices, data=data, symbols=opt.parse_symbols(symbols, [parsed]),
                               start=start, end=end)
        result = run_backtest(close, spec)
        chart_path = chart if chart is not None else (None if as_json else Path("backtest.png"))
        document = result.to_dict()
        if chart_path is not None:
            from trimtab.backtest.chart import backtest_chart

            document["chart"] = str(backtest_chart(result, chart_path))

        def render() -> None:
            from trimtab.backtest.report import render_backtest

            render_backtest(result)
            if chart_path is not None:
                stdout.print(f"chart: {chart_path}")

        return document, render

    run(as_json, body)

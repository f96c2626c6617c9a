"""Backtesting commands (backtest, sweep, compare): registered on the main app. Thin: parse the
options, call ``trimtab.backtest``, render; errors go through ``output.run``."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout
from trimtab.parsing import number

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
PricesOpt = Annotated[Path | None, typer.Option("--prices", help="Price file: CSV or CSV.gz, long format (date or timestamp, symbol, close).")]
DataOpt = Annotated[str | None, typer.Option("--data", help="Shipped history: daily (default) or hourly.")]
SymbolsOpt = Annotated[str | None, typer.Option("--symbols", help="Assets to load, e.g. BTC,ETH (default: the non-quote targets).")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First bar, inclusive (YYYY-MM-DD[THH:MM]).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last bar, inclusive; a bare date means through its last bar.")]
FeeOpt = Annotated[float, typer.Option("--fee", help="Fee rate per leg, e.g. 0.001 for 0.1%.", parser=number(0, 0.5))]
FeeModelOpt = Annotated[str, typer.Option("--fee-model", help="proceeds (the live executor's) or per-leg (bt's).")]
SlippageOpt = Annotated[float, typer.Option("--slippage", help="Fill price worse than the close by this fraction.", parser=number(0, 0.5))]
CapitalOpt = Annotated[float, typer.Option("--capital", help="Starting capital in the quote asset.", parser=number(0, 1e15, above=True))]
MinTradeOpt = Annotated[float, typer.Option("--min-trade", help="Skip legs worth less than this (quote units).", parser=number(0, 1e12))]
QuoteOpt = Annotated[str, typer.Option("--quote", help="The quote asset (cash at 1).")]
ContributionOpt = Annotated[float | None, typer.Option("--contribution", help="Quote amount that comes in each --every period (DCA), e.g. 500.")]
WithdrawalOpt = Annotated[float | None, typer.Option("--withdrawal", help="Quote amount that goes out each --every period.")]
EveryOpt = Annotated[str | None, typer.Option("--every", help="The flow's period: day, week, month, quarter or year.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("backtest")(backtest)
    app.command("sweep")(sweep)
    app.command("compare")(compare)


def backtest(
    targets: Annotated[str, typer.Option("--targets", help="Target weights, e.g. BTC=0.5,ETH=0.3,USDC=0.2.")] = "BTC=0.5,ETH=0.3,USDC=0.2",
    prices: PricesOpt = None,
    data: DataOpt = None,
    symbols: SymbolsOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    policy: Annotated[str, typer.Option("--policy", help="threshold, calendar, combined or never.")] = "threshold",
    band: Annotated[float | None, typer.Option("--band", help="Absolute band, e.g. 0.05 (threshold default).", parser=number(0, 1, above=True))] = None,
    relative_band: Annotated[float | None, typer.Option("--relative-band", help="Relative band, e.g. 0.25.", parser=number(0, 1, above=True))] = None,
    schedule: Annotated[str | None, typer.Option("--schedule", help="daily, weekly, monthly (default) or quarterly.")] = None,
    fee: FeeOpt = 0.001,
    fee_model: FeeModelOpt = "proceeds",
    slippage: SlippageOpt = 0.0,
    capital: CapitalOpt = 10_000.0,
    min_trade: MinTradeOpt = 10.0,
    mode: Annotated[str, typer.Option("--mode", help="target (back to target) or band-edge.")] = "target",
    quote: QuoteOpt = "USDC",
    contribution: ContributionOpt = None,
    withdrawal: WithdrawalOpt = None,
    every: EveryOpt = None,
    cash_flows: Annotated[str | None, typer.Option("--cash-flows", help="steer (default: flows buy underweights, sell overweights) or ignore.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the chart PNG here (default without --json: backtest.png).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replay a rebalancing policy over real price history with the live core; print the metrics."""

    chart_failed: dict[str, str] = {}

    def body():
        from trimtab.backtest import run_backtest
        from trimtab.interfaces.cli import backtest_options as opt

        parsed = opt.parse_targets(targets, quote)
        spec = opt.backtest_spec(
            targets=parsed, policy=opt.policy_spec(policy, band, relative_band, schedule, mode), mode=mode, fee=fee,
            fee_model=fee_model, slippage=slippage, capital=capital, min_trade=min_trade,
            flows=opt.flow_options(contribution, withdrawal, every, cash_flows),
        )
        chart_path = opt.chart_path(chart, as_json, "backtest.png")
        chosen = opt.parse_symbols(symbols, [parsed])
        close = opt.load_close(prices=prices, data=data, symbols=chosen, start=start, end=end)
        opt.say_if_start_moved(start, int(close.index.as_unit("ns").asi8[0]), chosen)
        result = run_backtest(close, spec)
        hold = run_backtest(close, spec.buy_and_hold()).metrics
        document = {**result.to_dict(), "buy_and_hold": hold.to_dict()}
        if chart_path is not None:
            from trimtab.backtest.chart import backtest_chart

            _write_chart(lambda: backtest_chart(result, chart_path), chart_path, document, chart_failed)

        def render() -> None:
            from trimtab.interfaces.cli.backtest_report import render_backtest

            render_backtest(result, hold)
            if document.get("chart"):
                stdout.print(f"chart: {chart_path}")

        return document, render

    run(as_json, body)
    _exit_if_chart_failed(chart_failed)


def _write_chart(write, path: Path, document: dict, failed: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Write the chart; when the file cannot be written, keep the results, put the error in the
    document and remember it for ``_exit_if_chart_failed``."""
    try:
        document["chart"] = str(write())
    except OSError as e:
        failed["message"] = (f"The chart could not be written to {path}: {e.strerror or e}; "
                             "the results are complete without it.")
        document["chart"] = None
        document["error"] = {"type": "InputError", "message": failed["message"]}


def _exit_if_chart_failed(failed: dict[str, str]) -> None:
    """After the results are printed: the chart's error as one sentence, exit 2."""
    if failed:
        from trimtab.interfaces.output import fail

        fail(False, "InputError", failed["message"], 2)


def sweep(
    targets: Annotated[list[str] | None, typer.Option("--targets", help="Target weights; repeat to compare portfolios.")] = None,
    prices: PricesOpt = None,
    data: DataOpt = None,
    symbols: SymbolsOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    policy: Annotated[str, typer.Option("--policy", help="One or more of threshold,calendar,combined,never.")] = "threshold",
    band: Annotated[str | None, typer.Option("--band", help="Bands: start:stop:count (0.01:0.20:50) or a list (0.02,0.05).")] = None,
    relative_band: Annotated[str | None, typer.Option("--relative-band", help="Relative bands, as --band.")] = None,
    schedule: Annotated[str | None, typer.Option("--schedule", help="One or more of daily,weekly,monthly,quarterly.")] = None,
    fee: Annotated[str, typer.Option("--fee", help="Fee rates, as --band.")] = "0.001",
    fee_model: Annotated[str, typer.Option("--fee-model", help="proceeds and/or per-leg.")] = "proceeds",
    slippage: Annotated[str, typer.Option("--slippage", help="Slippage rates, as --band.")] = "0",
    capital: CapitalOpt = 10_000.0,
    min_trade: Annotated[str, typer.Option("--min-trade", help="Dust thresholds, as --band.")] = "10",
    mode: Annotated[str, typer.Option("--mode", help="target and/or band-edge.")] = "target",
    quote: QuoteOpt = "USDC",
    contribution: ContributionOpt = None,
    withdrawal: WithdrawalOpt = None,
    every: EveryOpt = None,
    cash_flows: Annotated[str | None, typer.Option("--cash-flows", help="steer and/or ignore, e.g. steer,ignore (default steer).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Cores the kernel runs on, as threads (default: every core).", parser=number(1, 1024, whole=True))] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Frontier chart PNG (default without --json: sweep.png).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Backtest every combination of the options on the fast kernel: one row per configuration,
    and a chart of fee drag against max drift (the frontier to choose from)."""
    chart_failed: dict[str, str] = {}

    def body():
        from trimtab.backtest.fast import Prepared
        from trimtab.backtest.grid import Grid
        from trimtab.backtest.spec import FeeModel
        from trimtab.backtest.sweep import run_sweep
        from trimtab.core.plan import Mode
        from trimtab.core.policy import PolicyKind
        from trimtab.core.triggers import Period
        from trimtab.errors import InputError
        from trimtab.interfaces.cli import backtest_options as opt

        parsed = [opt.parse_targets(t, quote) for t in (targets or ["BTC=0.5,ETH=0.3,USDC=0.2"])]
        bands = opt.parse_range(band, "band")
        relatives = opt.parse_range(relative_band, "relative band")
        try:
            modes = [Mode(m) for m in opt.parse_names(mode, "target")]
        except ValueError:
            raise InputError(f"Unknown mode in {mode!r}: use target and/or band-edge.") from None
        kinds = [PolicyKind.parse(p) for p in opt.parse_names(policy, "threshold")]
        opt.refuse_unused_sweep_options(kinds, modes, bands=bool(bands or relatives), schedules=schedule is not None)
        flow_kinds = opt.parse_names(cash_flows, "steer")
        flows = opt.flow_options(contribution, withdrawal, every, flow_kinds[0] if cash_flows else None)
        from trimtab.backtest.spec import CashFlows

        grid = Grid(
            targets=parsed,
            policies=kinds,
            bands=bands or ([None] if relatives else [0.05]),
            relative_bands=relatives or [None],
            schedules=[Period.parse(s) for s in opt.parse_names(schedule, "monthly")],
            modes=modes,
            fees=opt.parse_range(fee, "fee") or [0.001],
            fee_models=[FeeModel.parse(m) for m in opt.parse_names(fee_model, "proceeds")],
            slippages=opt.parse_range(slippage, "slippage") or [0.0],
            min_trades=opt.parse_range(min_trade, "min-trade") or [10.0],
            cash_flows=[CashFlows.parse(k) for k in flow_kinds],
            capital=capital,
            flow=flows.get("flow", 0.0),
            every=flows.get("every"),
        )
        specs = grid.specs()
        chart_path = opt.chart_path(chart, as_json, "sweep.png")
        if prices is not None and data is not None:
            raise InputError("Give either --prices PATH or --data daily|hourly, not both.")
        chosen = opt.parse_symbols(symbols, parsed)
        prepared = Prepared.load(data or "daily", chosen, start, end, path=prices)
        opt.say_if_start_moved(start, int(prepared.times[0]), chosen)
        _say_if_slow()
        rows = _with_progress(len(specs), lambda progress: run_sweep(
            prepared, specs, workers=workers, scheduler=scheduler, progress=progress))
        from trimtab.backtest.sweep import buy_and_hold_rows

        hold = buy_and_hold_rows(prepared, specs, workers=workers)
        first, last = (_iso(prepared.times[0]), _iso(prepared.times[-1]))
        document = {"start": first, "end": last, "rows": rows, "buy_and_hold": hold}
        if chart_path is not None:
            from trimtab.backtest.chart import frontier_chart

            _write_chart(lambda: frontier_chart(rows, chart_path, hold=hold), chart_path, document, chart_failed)

        def render() -> None:
            from trimtab.interfaces.cli.backtest_report import render_sweep

            render_sweep(rows, title=f"sweep {first[:16]} .. {last[:16]}: {len(rows)} configurations, "
                                     f"{len(prepared.times):,} bars", hold=hold)
            if document.get("chart"):
                stdout.print(f"chart: {chart_path}")

        return document, render

    run(as_json, body)
    _exit_if_chart_failed(chart_failed)


def _say_if_slow() -> None:
    """Without numba the kernel runs as plain Python: say so, and how to fix it, before the wait."""
    from trimtab.backtest.kernel import HAVE_NUMBA

    if not HAVE_NUMBA:
        from trimtab.extras import missing
        from trimtab.interfaces.output import stderr

        stderr.print(f"note: {missing('numba')}; without it this sweep runs as plain Python, about 15 times slower.")


def _with_progress(total: int, work):
    """Run ``work(progress)`` under a rich progress bar on stderr (shown on a terminal only)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from trimtab.interfaces.output import stderr

    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        task = bar.add_task("sweep", total=total)
        return work(lambda n: bar.advance(task, n))


def compare(
    data: Annotated[str, typer.Option("--data", help="Shipped history: daily or hourly.")] = "daily",
    contribution: ContributionOpt = None,
    withdrawal: WithdrawalOpt = None,
    every: EveryOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The seed blog's policy table on real data: BTC/ETH/USDC 50/30/20, 0.1% fee, the last five
    years; measured numbers beside the claims, and a plain verdict for each policy. With
    --contribution (or --withdrawal) AMOUNT --every PERIOD: each policy with that flow, steered and
    ignored, and the trades and fees steering saved."""

    def body():
        from trimtab.backtest.compare import FEE, RULE, TARGETS, last_five_years, run_compare, run_compare_flows
        from trimtab.data import load_prices
        from trimtab.interfaces.cli import backtest_options as opt

        flows = opt.flow_options(contribution, withdrawal, every, None)
        close = last_five_years(load_prices(data, [a for a in TARGETS if a != "USDC"]))
        span = f"{close.index[0]:%Y-%m-%d} .. {close.index[-1]:%Y-%m-%d}"
        if flows:
            rows = run_compare_flows(close, flow=flows["flow"], every=flows["every"])
            what = "contribution" if flows["flow"] > 0 else "withdrawal"
            document = {"data": data, "start": close.index[0].isoformat(), "end": close.index[-1].isoformat(),
                        "targets": TARGETS, "fee": FEE, "fee_model": "proceeds", "flow": flows["flow"],
                        "every": str(flows["every"]), "rows": rows}

            def render_flows() -> None:
                from trimtab.interfaces.cli.backtest_report import render_compare_flows

                render_compare_flows(rows, title=f"the blog's policies with a {what} of {abs(flows['flow']):,.2f} "
                                                 f"USDC a {flows['every']}, steer vs ignore, on real {data} data, "
                                                 f"{span}: BTC/ETH/USDC 50/30/20, 0.1% fee")

            return document, render_flows
        rows = run_compare(close)
        document = {"data": data, "start": close.index[0].isoformat(), "end": close.index[-1].isoformat(),
                    "targets": TARGETS, "fee": FEE, "fee_model": "proceeds",
                    "trade": "one filled leg (a sell or a buy of one asset against USDC)", "rule": RULE, "rows": rows}

        def render() -> None:
            from trimtab.interfaces.cli.backtest_report import render_compare

            render_compare(rows, title=f"the blog's table on real {data} data, {span}: BTC/ETH/USDC 50/30/20, "
                                       f"0.1% fee (a trade = one leg)", rule=RULE)

        return document, render

    run(as_json, body)


def _iso(ns) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(int(ns) / 1e9, tz=UTC).isoformat()

"""The ``trimtab`` command line: parse, call the API, render. Errors are handled in ``output.run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.output import run, stdout

app = typer.Typer(
    name="trimtab",
    help="Keep a crypto portfolio on its target weights: measure drift, decide, plan, trade, record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]


@app.command()
def plan(
    targets: Annotated[str | None, typer.Option(help="Target weights, e.g. BTC=0.5,ETH=0.3,USDC=0.2.")] = None,
    holdings: Annotated[str | None, typer.Option(help="Quantities held, e.g. BTC=0.1,ETH=1.25,USDC=1000.")] = None,
    prices: Annotated[str | None, typer.Option(help="Prices in the quote asset, e.g. BTC=65000,ETH=2000.")] = None,
    band: Annotated[float | None, typer.Option(help="Absolute band, e.g. 0.05.")] = None,
    relative_band: Annotated[float | None, typer.Option(help="Relative band, e.g. 0.25.")] = None,
    mode: Annotated[str, typer.Option(help="target (back to target) or band-edge.")] = "target",
    min_trade: Annotated[float, typer.Option(help="Skip legs worth less than this (quote units).")] = 10.0,
    fee: Annotated[float, typer.Option(help="Taker fee rate, e.g. 0.001 for 0.1%.")] = 0.001,
    quote: Annotated[str, typer.Option(help="The quote asset.")] = "USDC",
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """How far has the portfolio drifted, and what would it take to fix it? Trades nothing.

    With --targets it is a pure what-if (needs --holdings and --prices; no config, no network);
    without, it reads the config and its venue.
    """

    def body():
        from trimtab import api
        from trimtab.errors import InputError
        from trimtab.interfaces.parsing import parse_pairs
        from trimtab.interfaces.render import render_assessment

        if targets is None:
            if holdings or prices:
                raise InputError("--holdings and --prices go with --targets; without --targets the config is used.")
            assessment = api.status(config)
        else:
            if holdings is None or prices is None:
                raise InputError("A what-if plan needs --holdings and --prices as well as --targets.")
            use_band = band if (band is not None or relative_band is not None) else 0.05
            assessment = api.plan(
                targets=parse_pairs(targets, "targets"),
                holdings=parse_pairs(holdings, "holdings"),
                prices=parse_pairs(prices, "prices"),
                quote=quote, band=use_band, relative_band=relative_band,
                mode=mode, fee=fee, min_trade=min_trade,
            )
        return assessment.to_dict(), lambda: render_assessment(assessment, title="portfolio")

    run(as_json, body)


@app.command()
def status(config: ConfigOption = None, as_json: JsonFlag = False) -> None:
    """Holdings, weights and drift on the configured venue, and what the policy would do now."""

    def body():
        from trimtab import api
        from trimtab.interfaces.render import render_assessment

        assessment = api.status(config)
        document = assessment.to_dict()
        chains = _paper_chains(config)
        if chains is not None:
            document["chains"] = chains

        def render() -> None:
            render_assessment(assessment, title="status")
            if chains:
                stdout.print("on chains: " + "; ".join(
                    f"{asset} " + ", ".join(f"{q:.8g} on {c}" for c, q in by.items()) for asset, by in chains.items()))

        return document, render

    run(as_json, body)


def _paper_chains(config: Path | None) -> dict[str, dict[str, float]] | None:
    """Holdings per asset and chain for a paper config, else None."""
    from trimtab.config import load_config

    loaded, path = load_config(config)
    if loaded.venue.kind != "paper":
        return None
    from trimtab.interfaces.wiring import open_paper
    from trimtab.venues.base import by_chain

    return by_chain(open_paper(loaded, path).balances())


@app.command()
def init(
    targets: Annotated[str, typer.Option(help="Target weights.")] = "BTC=0.5,ETH=0.3,USDC=0.2",
    holdings: Annotated[str, typer.Option(help="Quantities held (static venue).")] = "BTC=0.1,ETH=1.25,USDC=1000",
    prices: Annotated[str, typer.Option(help="Prices (static venue).")] = "BTC=65000,ETH=2000",
    quote: Annotated[str, typer.Option(help="The quote asset.")] = "USDC",
    venue: Annotated[str, typer.Option(help="Venue kind: static (fixed numbers), paper (a simulated exchange) or ccxt (a real exchange).")] = "static",
    fee: Annotated[float, typer.Option(help="Taker fee rate.")] = 0.001,
    min_trade: Annotated[float, typer.Option(help="Dust threshold in quote units.")] = 10.0,
    order_latency: Annotated[float, typer.Option(help="Paper: real seconds each order or bridge takes.")] = 0.0,
    chains: Annotated[str | None, typer.Option(help="Paper: where holdings sit, e.g. ETH=arbitrum:0.6+ethereum:0.4,BTC=bitcoin (default ethereum). purpleflea-wallet: the chains that count, e.g. base,ethereum.")] = None,
    markets: Annotated[str | None, typer.Option(help="Paper: the chain each asset trades on, e.g. BTC=ethereum (default: its first chain).")] = None,
    slippage_bps: Annotated[float, typer.Option(help="Paper: fills are this many basis points worse than the price.")] = 5.0,
    clock_speed: Annotated[float, typer.Option(help="Paper: simulated seconds per real second.")] = 60.0,
    exchange: Annotated[str | None, typer.Option(help="ccxt: the exchange's ccxt id, e.g. binance.")] = None,
    api_key_env: Annotated[str, typer.Option(help="ccxt: environment variable holding the API key.")] = "TRIMTAB_API_KEY",
    secret_env: Annotated[str, typer.Option(help="ccxt: environment variable holding the API secret.")] = "TRIMTAB_API_SECRET",
    api_url: Annotated[str | None, typer.Option(help="ccxt, purpleflea-*: tests only: a local fake server to talk to instead.")] = None,
    hyperliquid_url: Annotated[str | None, typer.Option(help="purpleflea-trading: where Hyperliquid's /info is (tests: a fake).")] = None,
    key_file: Annotated[str | None, typer.Option(help="purpleflea-*: a file (chmod 600) holding the key, instead of the environment.")] = None,
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write a commented trimtab.toml (and check that it loads)."""

    def body():
        from trimtab.config import DEFAULT_CONFIG, load_config
        from trimtab.config_template import render_config
        from trimtab.core.assets import Targets
        from trimtab.core.valuation import parse_holdings, parse_prices
        from trimtab.errors import InputError
        from trimtab.interfaces.parsing import parse_pairs

        path = Path(config or DEFAULT_CONFIG)
        if path.exists() and not force:
            raise InputError(f"{path} already exists; pass --force to overwrite it.")
        if venue not in ("static", "paper", "ccxt", "purpleflea-trading", "purpleflea-wallet"):
            raise InputError(f"Unknown venue {venue!r}: use static, paper, ccxt, purpleflea-trading or purpleflea-wallet.")
        parsed_targets = Targets.of(parse_pairs(targets, "targets"), quote)
        if venue.startswith("purpleflea-"):
            from trimtab.config_template import purpleflea_trading_section, purpleflea_wallet_section

            section = (purpleflea_trading_section(api_url=api_url, hyperliquid_url=hyperliquid_url, key_file=key_file)
                       if venue == "purpleflea-trading" else
                       purpleflea_wallet_section(api_url=api_url, key_file=key_file,
                                                 chains=tuple((chains or "base,ethereum,solana").split(","))))
            variable = "PURPLEFLEA_TRADING_KEY" if venue == "purpleflea-trading" else "PURPLEFLEA_WALLET_KEY"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_config(parsed_targets, holdings={}, prices={}, venue=venue, fee=fee,
                                          min_trade=min_trade, venue_text=section), encoding="utf-8")
            load_config(path)
            return ({"config": str(path.resolve()), "venue": venue, "keys_from": key_file or variable},
                    lambda: stdout.print(f"wrote {path}: {venue}; export {variable}"
                                         + (f" or keep the key in {key_file}" if key_file else "")))
        if venue == "ccxt":
            from trimtab.config_template import ccxt_section

            if not exchange:
                raise InputError("--venue ccxt needs --exchange, e.g. --exchange binance.")
            section = ccxt_section(exchange.lower(), api_key_env=api_key_env, secret_env=secret_env, api_url=api_url)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_config(parsed_targets, holdings={}, prices={}, venue="ccxt", fee=fee,
                                          min_trade=min_trade, venue_text=section), encoding="utf-8")
            load_config(path)
            document = {"config": str(path.resolve()), "venue": "ccxt", "exchange": exchange.lower(),
                        "keys_from": [api_key_env, secret_env]}
            return document, lambda: stdout.print(
                f"wrote {path}: {exchange} through ccxt; export {api_key_env} and {secret_env} with your key")
        if venue == "paper":
            from trimtab.interfaces.cli_execution import init_paper

            document = init_paper(
                path, parsed_targets, holdings=holdings, prices=prices, fee=fee, min_trade=min_trade,
                order_latency=order_latency, chains=chains, markets=markets, slippage_bps=slippage_bps,
                clock_speed=clock_speed, force=force,
            )
            return document, lambda: stdout.print(f"wrote {path} and the paper account {document['account']}")
        text = render_config(
            parsed_targets,
            holdings=parse_holdings(parse_pairs(holdings, "holdings")),
            prices={a: p for a, p in parse_prices(parse_pairs(prices, "prices"), parsed_targets.quote).items()
                    if a != parsed_targets.quote},
            venue=venue, fee=fee, min_trade=min_trade,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        load_config(path)
        return {"config": str(path.resolve()), "venue": venue}, lambda: stdout.print(f"wrote {path}")

    run(as_json, body)


def _register_command_groups() -> None:
    from trimtab.interfaces import cli_agents, cli_backtest, cli_execution, cli_venues, cli_web

    cli_execution.register(app)
    cli_venues.register(app)
    cli_backtest.register(app)
    cli_agents.register(app)
    cli_web.register(app)


_register_command_groups()


def main() -> None:
    app()

"""The ``trimtab`` command line: parse, call the API, render. Errors are handled in ``output.run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trimtab.interfaces.cli.command_group import CommandGroup
from trimtab.interfaces.output import run, stdout
from trimtab.parsing import number

app = typer.Typer(
    cls=CommandGroup,
    name="trimtab",
    help="Keep a crypto portfolio on its target weights: measure drift, decide, plan, trade, record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default ./trimtab.toml).")]
NewJournalFlag = Annotated[bool, typer.Option("--new-journal", help="Start a new journal for a portfolio that has traded (its journal was lost; the daily cap and history start again).")]


@app.command()
def plan(
    targets: Annotated[str | None, typer.Option(help="Target weights, e.g. BTC=0.5,ETH=0.3,USDC=0.2.")] = None,
    holdings: Annotated[str | None, typer.Option(help="Quantities held, e.g. BTC=0.1,ETH=1.25,USDC=1000.")] = None,
    prices: Annotated[str | None, typer.Option(help="Prices in the quote asset, e.g. BTC=65000,ETH=2000.")] = None,
    band: Annotated[float | None, typer.Option(help="Absolute band, e.g. 0.05.", parser=number(0, 1, above=True))] = None,
    relative_band: Annotated[float | None, typer.Option(help="Relative band, e.g. 0.25.", parser=number(0, 1, above=True))] = None,
    mode: Annotated[str | None, typer.Option(help="target (back to target) or band-edge. Default: target, or the config's.")] = None,
    min_trade: Annotated[float | None, typer.Option(help="Skip legs worth less than this (quote units). Default: 10, or the config's.", parser=number(0, 1e12))] = None,
    fee: Annotated[float | None, typer.Option(help="Taker fee rate, e.g. 0.001 for 0.1%. Default: 0.001, or the config's.", parser=number(0, 0.1))] = None,
    quote: Annotated[str | None, typer.Option(help="The quote asset (what-if only). Default: USDC.")] = None,
    config: ConfigOption = None,
    as_json: JsonFlag = False,
) -> None:
    """How far has the portfolio drifted, and what would it take to fix it? Trades nothing.

    With --targets it is a pure what-if (needs --holdings and --prices; no config, no network);
    without, it reads the config and its venue, and --band, --relative-band, --mode, --fee and
    --min-trade replace the config's values for this plan.
    """

    def body():
        from trimtab import api
        from trimtab.errors import InputError
        from trimtab.parsing import parse_pairs
        from trimtab.interfaces.cli.render import render_assessment

        if targets is None:
            if holdings or prices or quote:
                raise InputError("--holdings, --prices and --quote go with --targets; without --targets the config "
                                 "is used.")
            loaded, path = _config_with(config, band=band, relative_band=relative_band, mode=mode, fee=fee,
                                        min_trade=min_trade)
            assessment = api.status(loaded, config_path=path)
        else:
            if holdings is None or prices is None:
                raise InputError("A what-if plan needs --holdings and --prices as well as --targets.")
            use_band = band if (band is not None or relative_band is not None) else 0.05
            assessment = api.plan(
                targets=parse_pairs(targets, "targets"),
                holdings=parse_pairs(holdings, "holdings"),
                prices=parse_pairs(prices, "prices"),
                quote=quote or "USDC", band=use_band, relative_band=relative_band,
                mode=mode or "target", fee=0.001 if fee is None else fee,
                min_trade=10.0 if min_trade is None else min_trade,
            )
        return assessment.to_dict(), lambda: render_assessment(assessment, title="portfolio")

    run(as_json, body)


def _config_with(config: Path | None, **flags: object):  # type: ignore[no-untyped-def]
    """The config with the flags given (not None) in place of its ``[policy]`` band and
    relative_band and ``[trading]`` mode, fee and min_trade; checked as the file would be."""
    from pydantic import ValidationError

    from trimtab.config import Config, load_config
    from trimtab.errors import InputError

    loaded, path = load_config(config)
    given = {key: value for key, value in flags.items() if value is not None}
    if not given:
        return loaded, path
    policy = {k: v for k, v in given.items() if k in ("band", "relative_band")}
    edge = given.get("mode", loaded.trading.mode) == "band-edge"  # a calendar policy trades to the band's edge
    if policy and (loaded.policy.kind == "never" or loaded.policy.kind == "calendar" and not edge):
        flag = "--" + next(iter(policy)).replace("_", "-")
        raise InputError(f"{path}'s policy is {loaded.policy.kind}, so {flag} would do nothing: it applies to a "
                         "threshold or combined policy, or to a calendar one with --mode band-edge.")
    document = loaded.model_dump()
    document["policy"].update(policy)
    document["trading"].update({k: v for k, v in given.items() if k not in policy})
    try:
        return Config.model_validate(document), path
    except ValidationError as e:
        problem = e.errors()[0]
        key = str(problem["loc"][-1])
        # a rule across keys (the emergency band must be wider than the band): name the section's flags
        named = {key: given[key]} if key in given else (policy if problem["loc"][0] == "policy" else given)
        flags_text = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in named.items())
        raise InputError(f"{flags_text}: {problem['msg'].removeprefix('Value error, ').rstrip('.')}.") from None


@app.command()
def status(
    config: ConfigOption = None,
    new_journal: NewJournalFlag = False,
    as_json: JsonFlag = False,
    since: Annotated[str | None, typer.Option("--since", help="Returns over this window, e.g. 7d (default: since the first check).")] = None,
) -> None:
    """Holdings, weights and drift on the configured venue, what the policy would do now, and the
    returns with deposits and withdrawals taken out (docs/CASH_FLOWS.md)."""

    def body():
        from trimtab import api
        from trimtab.config import load_config
        from trimtab.core.durations import parse_duration
        from trimtab.interfaces.cli.render import render_assessment, render_flows

        window = None if since is None else parse_duration(since)
        loaded, path = load_config(config)
        flows = None
        if loaded.venue.kind == "static":
            assessment = api.status(loaded, config_path=path, new_journal=new_journal)
        else:
            from trimtab.wiring import build_agent

            agent = build_agent(loaded, path, new_journal=new_journal, read_only=True)
            at = agent.venue.now()
            assessment = agent.assess(at)
            flows = agent.flow_report(assessment, now=at, since=None if window is None else at - window)
        document = assessment.to_dict()
        if flows is not None:
            document |= flows
        chains = _paper_chains(config)
        if chains is not None:
            document["chains"] = chains

        def render() -> None:
            render_assessment(assessment, title="status")
            if chains:
                stdout.print("on chains: " + "; ".join(
                    f"{asset} " + ", ".join(f"{q:.8g} on {c}" for c, q in by.items()) for asset, by in chains.items()))
            if flows is not None:
                render_flows(flows, loaded.portfolio.quote)

        return document, render

    run(as_json, body)


def _paper_chains(config: Path | None) -> dict[str, dict[str, float]] | None:
    """Holdings per asset and chain for a paper config, else None."""
    from trimtab.config import load_config

    loaded, path = load_config(config)
    if loaded.venue.kind != "paper":
        return None
    from trimtab.wiring import open_paper
    from trimtab.venues.base import by_chain

    return by_chain(open_paper(loaded, path).balances())


@app.command()
def init(
    targets: Annotated[str, typer.Option(help="Target weights.")] = "BTC=0.5,ETH=0.3,USDC=0.2",
    holdings: Annotated[str, typer.Option(help="Quantities held (static venue).")] = "BTC=0.1,ETH=1.25,USDC=1000",
    prices: Annotated[str | None, typer.Option(help="Prices, e.g. BTC=65000,ETH=2000 (static default: those; paper default: the last closes of the shipped history).")] = None,
    quote: Annotated[str, typer.Option(help="The quote asset.")] = "USDC",
    venue: Annotated[str, typer.Option(help="Venue kind: static (fixed numbers), paper (a simulated exchange) or ccxt (a real exchange).")] = "static",
    fee: Annotated[float, typer.Option(help="Taker fee rate.", parser=number(0, 0.1))] = 0.001,
    min_trade: Annotated[float, typer.Option(help="Dust threshold in quote units.", parser=number(0, 1e12))] = 10.0,
    order_latency: Annotated[float, typer.Option(help="Paper: real seconds each order or bridge takes.", parser=number(0, 60))] = 0.0,
    chains: Annotated[str | None, typer.Option(help="Paper: where holdings sit, e.g. ETH=arbitrum:0.6+ethereum:0.4,BTC=bitcoin (default ethereum). purpleflea-wallet: the chains that count, e.g. base,ethereum.")] = None,
    markets: Annotated[str | None, typer.Option(help="Paper: the chain each asset trades on, e.g. BTC=ethereum (default: its first chain).")] = None,
    slippage_bps: Annotated[float, typer.Option(help="Paper: fills are this many basis points worse than the price.", parser=number(0, 1000))] = 5.0,
    clock_speed: Annotated[float, typer.Option(help="Paper: simulated seconds per real second.", parser=number(0, 1e6))] = 60.0,
    exchange: Annotated[str | None, typer.Option(help="ccxt: the exchange's ccxt id, e.g. binance.")] = None,
    api_key_env: Annotated[str, typer.Option(help="ccxt: environment variable holding the API key.")] = "TRIMTAB_API_KEY",
    secret_env: Annotated[str, typer.Option(help="ccxt: environment variable holding the API secret.")] = "TRIMTAB_API_SECRET",
    api_url: Annotated[str | None, typer.Option(help="ccxt, purpleflea-*: tests only: a local fake server to talk to instead.")] = None,
    hyperliquid_url: Annotated[str | None, typer.Option(help="purpleflea-trading: where Hyperliquid's /info is (tests: a fake).")] = None,
    key_file: Annotated[str | None, typer.Option(help="purpleflea-*: a file (chmod 600) holding the key, instead of the environment.")] = None,
    multi_venue: Annotated[bool, typer.Option("--multi-venue", help="Paper: one portfolio across three paper venues (no keys): a wallet on ethereum, base and solana, a BTC perps account that can neither send nor receive, and an exchange; --holdings are split among them.")] = False,
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
        from trimtab.parsing import parse_pairs

        path = Path(config or DEFAULT_CONFIG)
        if path.exists() and not force:
            raise InputError(f"{path} already exists; pass --force to overwrite it.")
        if venue not in ("static", "paper", "ccxt", "purpleflea-trading", "purpleflea-wallet"):
            raise InputError(f"Unknown venue {venue!r}: use static, paper, ccxt, purpleflea-trading or purpleflea-wallet.")
        if multi_venue and venue not in ("static", "paper"):
            raise InputError(f"--multi-venue writes paper venues; it does not go with --venue {venue}.")
        if multi_venue and (chains or markets):
            raise InputError("--chains and --markets do not go with --multi-venue, which places each asset itself.")
        parsed_targets = Targets.of(parse_pairs(targets, "targets"), quote)
        if multi_venue:
            return _init_multi_venue(path, parsed_targets, holdings=holdings, prices=prices, fee=fee,
                                     min_trade=min_trade, order_latency=order_latency, slippage_bps=slippage_bps,
                                     clock_speed=clock_speed, force=force)
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
            from trimtab.interfaces.cli.execution import shipped_prices
            from trimtab.paper_setup import init_paper

            shipped = shipped_prices(parsed_targets) if prices is None else None
            document = init_paper(
                path, parsed_targets, holdings=holdings, prices=shipped["text"] if shipped else prices, fee=fee,
                min_trade=min_trade, order_latency=order_latency, chains=chains, markets=markets,
                slippage_bps=slippage_bps, clock_speed=clock_speed, force=force,
            )
            if shipped:
                document["prices_from"] = {"source": "shipped daily history", "prices": shipped["prices"],
                                           "dates": shipped["dates"]}

            def render_paper() -> None:
                stdout.print(f"wrote {path} and the paper account {document['account']}")
                if shipped:
                    stdout.print(shipped["note"])

            return document, render_paper
        text = render_config(
            parsed_targets,
            holdings=parse_holdings(parse_pairs(holdings, "holdings")),
            prices={a: p for a, p in parse_prices(parse_pairs(prices or "BTC=65000,ETH=2000", "prices"),
                                                   parsed_targets.quote).items()
                    if a != parsed_targets.quote},
            venue=venue, fee=fee, min_trade=min_trade,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        load_config(path)
        return {"config": str(path.resolve()), "venue": venue}, lambda: stdout.print(f"wrote {path}")

    run(as_json, body)


def _init_multi_venue(path: Path, targets, *, prices: str | None, **options):  # type: ignore[no-untyped-def]
    """``init --multi-venue``: write the paper portfolio across venues; its document and renderer."""
    from trimtab.interfaces.cli.execution import shipped_prices
    from trimtab.paper_setup import init_paper_multi_venue

    shipped = shipped_prices(targets) if prices is None else None
    document = init_paper_multi_venue(path, targets, prices=shipped["text"] if shipped else prices, **options)
    if shipped:
        document["prices_from"] = {"source": "shipped daily history", "prices": shipped["prices"],
                                   "dates": shipped["dates"]}

    def render() -> None:
        stdout.print(f"wrote {path} and {len(document['venues'])} paper accounts:")
        for name, made in document["venues"].items():
            held = ", ".join(f"{q:.8g} {a} on {c}" for a, by in made["holdings"].items() for c, q in by.items())
            trades = ", ".join(f"{a} on {c}" for a, c in made["markets"].items())
            stdout.print(f"  {name} ({Path(made['account']).name}): holds {held or 'nothing'}; trades {trades}"
                         + ("" if made["can_move"] else "; can neither send nor receive"))
        if shipped:
            stdout.print(shipped["note"])

    return document, render


def _register_command_groups() -> None:
    from trimtab.interfaces.cli import agents, backtest, execution, fleet, flows, monitor, venues, web

    for group in (execution, flows, venues, backtest, agents, monitor, web, fleet):
        group.register(app)


_register_command_groups()


def main() -> None:
    app()

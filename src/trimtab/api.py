"""The Python API: the same answers as the CLI, as typed values.

>>> import trimtab
>>> a = trimtab.plan(targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
...                  holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
...                  prices={"BTC": 65000, "ETH": 2000})
>>> round(a.drift.max_drift, 12), a.decision.rebalance
(0.15, True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trimtab.core.assessment import Assessment, assess
from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Moment
from trimtab.venues.static import StaticVenue

if TYPE_CHECKING:  # the config (pydantic) is imported by the functions that read one: `plan` needs none
    from trimtab.config import Config

Pairs = Mapping[str, float] | Iterable[tuple[str, float]]


def plan(
    *,
    targets: Pairs,
    holdings: Pairs,
    prices: Pairs,
    quote: str = "USDC",
    band: float | None = 0.05,
    relative_band: float | None = None,
    mode: Mode | str = Mode.TARGET,
    fee: float = 0.001,
    min_trade: float = 10.0,
    rules: Mapping[str, MarketRules] | None = None,
    now: datetime | None = None,
) -> Assessment:
    """A pure what-if: drift, the threshold policy's decision, and the plan. No venue, no network.

    ``fee`` defaults to 0.1% (a typical taker fee), as in the config.

    Raise ``InputError`` with one sentence on bad input.
    """
    policy = PolicySpec(kind=PolicyKind.THRESHOLD, band=band, relative_band=relative_band)
    return assess(
        holdings, prices, Targets.of(targets, quote),
        policy=policy, moment=Moment(now=now or datetime.now(UTC)),
        mode=mode, fee=fee, min_trade=min_trade, rules=rules,
    )


def status(config: Config | str | os.PathLike[str] | None = None, *, now: datetime | None = None,
           config_path: Path | None = None, new_journal: bool = False) -> Assessment:
    """Check the configured portfolio on its venue: drift, the policy's decision and the plan.

    ``config_path`` says where a ``Config`` object was read from (its account, journal and key
    files are next to it; default ./trimtab.toml). ``new_journal``: accept a new journal for a
    portfolio that has traded (see docs/EXECUTION.md)."""
    from trimtab.config import Config, load_config

    path = config_path
    if not isinstance(config, Config):
        config, path = load_config(config)
    if config.multi_venue or config.venue.kind != "static":  # [[venues]]: its composite, never a static one
        from trimtab.wiring import build_agent

        agent = build_agent(config, path or Path.cwd() / "trimtab.toml", new_journal=new_journal)
        return agent.assess(now)
    venue = StaticVenue(config.venue.holdings, config.venue.prices)
    return assess(
        venue.balances(), venue.quotes(), config.targets,
        policy=config.policy.to_spec(), moment=Moment(now=now or datetime.now(UTC)),
        mode=config.trading.plan_mode, fee=config.trading.fee, min_trade=config.trading.min_trade,
    )


def create_paper_portfolio(
    directory: str | os.PathLike[str],
    *,
    targets: Pairs,
    holdings: Pairs,
    prices: Pairs,
    quote: str = "USDC",
    chains: str | None = None,
    fee: float = 0.001,
    min_trade: float = 10.0,
    clock_speed: float = 60.0,
    force: bool = False,
) -> Path:
    """Build a paper portfolio in code: write ``trimtab.toml`` and its paper account in ``directory``;
    return the config's path (what ``status``, ``rebalance`` and ``Rebalancer`` take).

    ``chains`` places holdings on chains as ``trimtab init --chains`` does
    (``"BTC=ethereum:0.1+bitcoin:0.9"``). Raise ``InputError`` on bad input or an existing config
    (unless ``force``).
    """
    from trimtab.errors import InputError
    from trimtab.paper_setup import init_paper

    path = Path(directory) / "trimtab.toml"
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass force=True to replace it.")

    def text(pairs: Pairs) -> str:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        return ",".join(f"{a}={v!r}" for a, v in items)

    init_paper(path, Targets.of(targets, quote), holdings=text(holdings), prices=text(prices), fee=fee,
               min_trade=min_trade, order_latency=0.0, chains=chains, markets=None, slippage_bps=5.0,
               clock_speed=clock_speed, force=force)
    return path.resolve()


def rebalance(config: str | os.PathLike[str] | None = None, *, dry_run: bool = True):  # type: ignore[no-untyped-def]
    """Rebalance the configured portfolio now, through the agent guardrails.

    ``dry_run=True`` (the default) returns the ``Assessment`` and sends nothing. ``dry_run=False``
    stores a plan and executes it once (price re-check, caps, allow-lists, approval, kill switch)
    and returns the ``Execution``; raise ``Denied`` with one sentence when a guardrail refuses.
    Events go to the config's ``[alerts] urls`` as they do from ``trimtab rebalance``.
    """
    from trimtab.rebalancer import Rebalancer

    with Rebalancer(config) as bot:  # watched, and its alerts sent before this returns (as the CLI's)
        if dry_run:
            return bot.status()
        return bot.execute(bot.plan().id)


def advise(config: Config | str | os.PathLike[str] | None = None, *, days: int = 30,
           tracking_weight: float | None = None):  # type: ignore[no-untyped-def]
    """Is the band right? The journal's figures over the last ``days`` days, the rules of thumb, and
    a sweep of bands and schedules over the same assets' recent prices scored by fee drag plus
    ``tracking_weight`` x tracking error (default 0.1); an ``AdviceReport`` (``.to_dict()`` is what
    ``trimtab advise --json`` prints). See docs/MONITORING.md."""
    from trimtab.config import Config, load_config
    from trimtab.wiring import journal_url
    from trimtab.journal import Journal
    from trimtab.monitor.advice import DEFAULT_TRACKING_WEIGHT
    from trimtab.monitor.advice import advise as advise_journal

    path = Path.cwd() / "trimtab.toml"
    if not isinstance(config, Config):
        config, path = load_config(config)
    slippage = config.venue.slippage_bps / 10_000 if config.venue.kind == "paper" else 0.0
    journal = Journal.open(journal_url(config, path))
    try:
        return advise_journal(journal, portfolio=config.portfolio.name, targets=config.targets,
                              policy=config.policy.to_spec(), band=config.policy.band, fee=config.trading.fee,
                              slippage=slippage, days=days,
                              tracking_weight=DEFAULT_TRACKING_WEIGHT if tracking_weight is None else tracking_weight)
    finally:
        journal.close()


def run_backtest(
    targets: Pairs,
    *,
    data: str = "daily",
    start: str | None = None,
    end: str | None = None,
    quote: str = "USDC",
    policy: PolicySpec | None = None,
    band: float | None = 0.05,
    mode: Mode | str = Mode.TARGET,
    fee: float = 0.001,
    capital: float = 10_000.0,
    min_trade: float = 10.0,
    contribution: float | None = None,
    withdrawal: float | None = None,
    every: str | None = None,
    cash_flows: str | None = None,
):  # type: ignore[no-untyped-def]
    """Replay a policy over the shipped real history (``data`` daily or hourly, ``start``/``end``
    inclusive) with the live core; return the ``BacktestResult`` (``.metrics``, ``.to_dict()``),
    with buy and hold's metrics over the same bars beside them (``.buy_and_hold``).
    (Named ``run_backtest`` because ``trimtab.backtest`` is the backtesting package.)

    ``policy`` defaults to the threshold policy with ``band``. ``contribution`` (or
    ``withdrawal``) of the quote comes in (goes out) at the start of each ``every`` period (day,
    week, month, quarter, year); ``cash_flows`` "steer" (default: it buys the underweights, or
    sells the overweights) or "ignore". Raise ``InputError`` on bad input.
    """
    from trimtab.backtest import BacktestSpec
    from trimtab.backtest.spec import flow_fields
    from trimtab.backtest.simulator import run_backtest as simulate
    from trimtab.data import load_prices

    parsed = Targets.of(targets, quote)
    spec = BacktestSpec(targets=parsed, policy=policy or PolicySpec(kind=PolicyKind.THRESHOLD, band=band),
                        mode=Mode(mode), fee=fee, capital=capital, min_trade=min_trade,
                        **flow_fields(contribution, withdrawal, every, cash_flows))
    close = load_prices(data, [a for a in parsed.assets if a != parsed.quote], start=start, end=end)
    from dataclasses import replace

    return replace(simulate(close, spec), buy_and_hold=simulate(close, spec.buy_and_hold()).metrics)


def sweep(
    targets: Pairs,
    *,
    bands: Iterable[float] = (0.02, 0.05, 0.10),
    modes: Iterable[Mode | str] = (Mode.TARGET,),
    data: str = "daily",
    start: str | None = None,
    end: str | None = None,
    quote: str = "USDC",
    fee: float = 0.001,
    capital: float = 10_000.0,
    workers: int | None = 1,
    contribution: float | None = None,
    withdrawal: float | None = None,
    every: str | None = None,
    cash_flows: Iterable[str] | str | None = None,
) -> list[dict]:
    """Every band x mode (x cash-flow policy, with a ``contribution`` or ``withdrawal`` each
    ``every`` period: ``cash_flows`` ("steer", "ignore") or both) of the threshold policy on the
    fast kernel; one dict of settings and metrics per configuration, in order (a list), with buy
    and hold's row over the same bars beside them as ``.buy_and_hold``. Raise ``InputError`` on
    bad input."""
    from trimtab.backtest.spec import CashFlows, flow_fields
    from trimtab.backtest.fast import Prepared
    from trimtab.backtest.grid import Grid
    from trimtab.backtest.sweep import buy_and_hold_rows, run_sweep

    parsed = Targets.of(targets, quote)
    kinds = [cash_flows] if isinstance(cash_flows, str) else list(cash_flows or [])
    flows = flow_fields(contribution, withdrawal, every, kinds[0] if kinds else None)
    grid = Grid(targets=[parsed], bands=list(bands), modes=[Mode(m) for m in modes], fees=[fee], capital=capital,
                cash_flows=[CashFlows.parse(k) for k in kinds] or [CashFlows.STEER], flow=flows.get("flow", 0.0),
                every=flows.get("every"))
    prepared = Prepared.load(data, [a for a in parsed.assets if a != parsed.quote], start, end)
    specs = grid.specs()
    return SweepRows(run_sweep(prepared, specs, workers=workers),
                     buy_and_hold=buy_and_hold_rows(prepared, specs, workers=workers))


class SweepRows(list):
    """The rows of a sweep (a list of dicts), and ``buy_and_hold``: one baseline row per portfolio."""

    def __init__(self, rows: Iterable[dict], *, buy_and_hold: list[dict]) -> None:
        super().__init__(rows)
        self.buy_and_hold = buy_and_hold

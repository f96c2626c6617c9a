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

from trimtab.config import Config, load_config
from trimtab.core.assessment import Assessment, assess
from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.core.triggers import Moment
from trimtab.venues.static import StaticVenue

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


def status(config: Config | str | os.PathLike[str] | None = None, *, now: datetime | None = None) -> Assessment:
    """Check the configured portfolio on its venue: drift, the policy's decision and the plan."""
    path = None
    if not isinstance(config, Config):
        config, path = load_config(config)
    if config.venue.kind != "static":
        from pathlib import Path

        from trimtab.interfaces.wiring import build_agent

        agent = build_agent(config, path or Path.cwd() / "trimtab.toml")
        return agent.assess(now)
    venue = StaticVenue(config.venue.holdings, config.venue.prices)
    return assess(
        venue.balances(), venue.quotes(), config.targets,
        policy=config.policy.to_spec(), moment=Moment(now=now or datetime.now(UTC)),
        mode=config.trading.plan_mode, fee=config.trading.fee, min_trade=config.trading.min_trade,
    )

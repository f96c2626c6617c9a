"""Helpers that build a real paper account, journal and agent for in-process engine tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trimtab.core.assets import Targets
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.rules import MarketRules
from trimtab.engine.agent import Agent, Strategy
from trimtab.engine.executor import Executor
from trimtab.engine.guards import Guards
from trimtab.journal import Journal
from trimtab.venues.base import Market
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

START = datetime(2025, 1, 1, tzinfo=UTC)
TARGETS = Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
# The seed portfolio (10,000 USDC; BTC 65% against 50%), spread over chains: BTC sits on bitcoin but
# trades on ethereum, ETH trades on arbitrum, the USDC is on ethereum and base: bridges must happen.
HOLDINGS = {"BTC": {"bitcoin": 0.09, "ethereum": 0.01}, "ETH": {"ethereum": 0.5, "arbitrum": 0.75},
            "USDC": {"ethereum": 600.0, "base": 400.0}}
PRICES = {"BTC": 65000.0, "ETH": 2000.0}
MARKETS = {"BTC": Market(asset="BTC", chain="ethereum", rules=MarketRules(amount_step=1e-5, min_notional=10)),
           "ETH": Market(asset="ETH", chain="arbitrum", rules=MarketRules(amount_step=1e-4, min_notional=10))}


def make_venue(path: Path, **settings) -> PaperVenue:
    values = {"fee": 0.001, "slippage_bps": 5, "clock_speed": 0, "bridge_fee": 0.0005, **settings}
    return PaperVenue.create(path, holdings=HOLDINGS, prices=PRICES, markets=MARKETS,
                             settings=PaperSettings(**values), start=START)


def make_agent(tmp_path: Path, journal_url: str | None = None, guards: Guards | None = None, **settings):
    venue = make_venue(tmp_path / "paper.db", **settings)
    journal = Journal.open(journal_url or f"sqlite:///{tmp_path / 'journal.db'}")
    executor = Executor(venue, journal, guards=guards, wait=venue.advance)
    strategy = Strategy(targets=TARGETS, policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05), fee=0.001)
    return Agent(venue, journal, strategy, executor, tmp_path / "trimtab.lock")

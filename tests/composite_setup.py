"""Helpers for portfolios across venues: several real paper accounts as one composite venue."""

from __future__ import annotations

from pathlib import Path

from paper_setup import HOLDINGS, MARKETS, PRICES, START

from trimtab.core.rules import MarketRules
from trimtab.venues.base import Market
from trimtab.venues.composite import CompositeVenue
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

#: A second account: an "exchange" with one chain, trading BTC and ETH (and SOL) at a lower fee.
EXCHANGE_HOLDINGS = {"BTC": {"spot": 0.02}, "USDC": {"spot": 2000.0}, "SOL": {"spot": 10.0}}
EXCHANGE_MARKETS = {a: Market(asset=a, chain="spot", rules=MarketRules(amount_step=step, min_notional=10, taker_fee=0.0005))
                    for a, step in (("BTC", 1e-5), ("ETH", 1e-4), ("SOL", 1e-3))}


def settings(**values) -> PaperSettings:
    return PaperSettings(**{"fee": 0.001, "slippage_bps": 5, "clock_speed": 0, "bridge_fee": 0.0005,
                            "move_fee": 0.001, "move_minutes": (10.0, 20.0), **values})


def make_composite(tmp_path: Path, *, wallet: dict | None = None, exchange: dict | None = None,
                   exchange_assets: tuple[str, ...] = ("BTC", "ETH", "SOL")) -> CompositeVenue:
    """``wallet`` (the paper seed account, chains ethereum/arbitrum/base/bitcoin) and ``exchange``
    (one chain, "spot") as one venue; keyword dicts override each account's settings."""
    a = PaperVenue.create(tmp_path / "wallet.db", holdings=HOLDINGS, prices={**PRICES, "SOL": 150.0},
                          markets=MARKETS, settings=settings(**(wallet or {})), start=START)
    b = PaperVenue.create(tmp_path / "exchange.db", holdings=EXCHANGE_HOLDINGS, prices={**PRICES, "SOL": 150.0},
                          markets={a: m for a, m in EXCHANGE_MARKETS.items() if a in exchange_assets}, settings=settings(**(exchange or {})), start=START)
    return CompositeVenue({"wallet": a, "exchange": b}, quote="USDC", kinds={"wallet": "paper", "exchange": "paper"})


def advance(venue: CompositeVenue, seconds: float) -> None:
    """Move every member's simulated clock forward together."""
    for member in venue.members.values():
        member.advance(seconds)


def make_agent(venue: CompositeVenue, tmp_path: Path, targets: dict[str, float], guards=None):
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicyKind, PolicySpec
    from trimtab.engine.agent import Agent, Strategy
    from trimtab.engine.executor import Executor
    from trimtab.journal import Journal

    journal = Journal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    executor = Executor(venue, journal, guards=guards, wait=lambda seconds: advance(venue, seconds))
    strategy = Strategy(targets=Targets.of(targets), policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05), fee=0.001)
    return Agent(venue, journal, strategy, executor, tmp_path / "trimtab.lock")


def value(venue: CompositeVenue) -> float:
    """The composite's value read from the venues: balances and what travels, at the venues' prices."""
    from trimtab.venues.base import consolidate

    held = consolidate(venue.balances())
    for t in venue.in_transit():
        held[t.asset] = held.get(t.asset, 0.0) + t.quantity
    prices = venue.prices([a for a in held if a != "USDC"])
    return sum(q * (1.0 if a == "USDC" else prices[a].price) for a, q in held.items())

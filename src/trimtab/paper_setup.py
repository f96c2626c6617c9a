"""Setting up a paper portfolio: its config file and its account, from targets, holdings and prices
given as text (``BTC=0.1,ETH=2``). ``trimtab init --venue paper`` and ``trimtab.init_paper`` both use it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def init_paper(path: Path, targets, *, holdings: str, prices: str, fee: float, min_trade: float,  # type: ignore[no-untyped-def]
               order_latency: float, chains: str | None, markets: str | None, slippage_bps: float,
               clock_speed: float, force: bool) -> dict[str, Any]:
    """Write a paper config at ``path`` and create its account next to it; return what was made."""
    from trimtab.config import load_config
    from trimtab.config_template import render_config
    from trimtab.core.assets import asset_symbol
    from trimtab.core.rules import MarketRules
    from trimtab.core.valuation import bounded_total, parse_holdings, parse_prices
    from trimtab.errors import InputError
    from trimtab.parsing import parse_chains, parse_pairs
    from trimtab.venues.base import Market
    from trimtab.venues.paper import PaperVenue

    quote = targets.quote
    held = parse_holdings(parse_pairs(holdings, "holdings"))
    price = {a: p for a, p in parse_prices(parse_pairs(prices, "prices"), quote).items() if a != quote}
    placement = parse_chains(chains) if chains else {}
    chosen: dict[str, str] = {}
    for item in (markets or "").split(","):
        if item.strip():
            asset, _, chain = item.partition("=")
            if not chain.strip():
                raise InputError(f"{item!r} in --markets is not ASSET=chain, e.g. BTC=ethereum.")
            chosen[asset_symbol(asset)] = chain.strip().lower()
    traded = [a for a in dict.fromkeys([*targets.assets, *held]) if a != quote]
    missing = [a for a in traded if a not in price]
    if missing:
        raise InputError(f"No price for {', '.join(missing)}: give --prices for every traded asset.")
    bounded_total(held, price, quote)  # a portfolio too large to value is refused before anything is written
    market_of = {a: chosen.get(a) or next(iter(placement.get(a, {"ethereum": 1.0}))) for a in traded}
    by_chain = {a: {c: q * share for c, share in placement.get(a, {"ethereum": 1.0}).items()} for a, q in held.items()}
    account = path.parent / "trimtab-paper.db"
    if account.exists():
        if not force:
            raise InputError(f"{account} already exists; pass --force to replace the paper account.")
        for suffix in ("", "-wal", "-shm"):
            Path(str(account) + suffix).unlink(missing_ok=True)
    paper = dict(account=account.name, order_latency=order_latency, slippage_bps=slippage_bps, bridge_fee=0.0005,
                 bridge_minutes=(2.0, 15.0), clock_speed=clock_speed, price_source="fixed", min_notional=10.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config(targets, holdings={}, prices={}, venue="paper", fee=fee, min_trade=min_trade,
                                  paper=paper, markets=market_of), encoding="utf-8")
    loaded, config_path = load_config(path)
    from trimtab.wiring import paper_settings

    rules = {a: Market(asset=a, chain=market_of[a],
                       rules=MarketRules(amount_step=10.0 ** -max(0, math.ceil(math.log10(price[a]))), min_notional=10.0))
             for a in traded}
    PaperVenue.create(account, holdings=by_chain, prices=price, markets=rules,
                      settings=paper_settings(loaded.venue, fee, quote)).close()
    return {"config": str(config_path), "venue": "paper", "account": str(account.resolve()),
            "holdings": by_chain, "markets": market_of}

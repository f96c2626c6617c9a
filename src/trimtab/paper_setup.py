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


def init_paper_venues(path: Path, targets, venues, *, fee: float = 0.001, min_trade: float = 10.0,  # type: ignore[no-untyped-def]
                      clock_speed: float = 60.0, price_source: str = "fixed", extra: str = "",
                      start=None, force: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Write a paper portfolio across venues at ``path`` (``[[venues]]``) and create each account.

    ``venues``: one mapping per venue: ``name``, ``holdings`` ``{asset: {chain: quantity}}``,
    ``markets`` ``{asset: chain}``, ``prices`` ``{asset: price}``, and optionally ``fee`` (its taker
    fee), ``move_fee``, ``move_minutes``, ``bridge_minutes``, ``can_send``, ``can_receive``,
    ``order_latency``, ``slippage_bps``. ``extra`` is TOML appended as written (e.g. ``[execution]``).
    """
    import json

    from trimtab.config import load_config
    from trimtab.core.rules import MarketRules
    from trimtab.errors import InputError
    from trimtab.venues.base import Market
    from trimtab.venues.paper import PaperVenue
    from trimtab.wiring import beside, member_config, paper_settings

    quote = targets.quote
    lines = ["[portfolio]", f'quote = "{quote}"', "targets = { " + ", ".join(
        f"{a} = {w!r}" for a, w in targets.weights.items()) + " }", "", "[trading]", f"fee = {fee!r}",
        f"min_trade = {min_trade!r}", "", '[journal]', 'url = "sqlite:///trimtab.db"', ""]
    for v in venues:
        lines += ["[[venues]]", f'name = "{v["name"]}"', 'kind = "paper"', f'account = "paper-{v["name"]}.db"',
                  f"clock_speed = {float(clock_speed)!r}", f'price_source = "{price_source}"',
                  f"order_latency = {float(v.get('order_latency', 0.0))!r}",
                  f"slippage_bps = {float(v.get('slippage_bps', 5.0))!r}"]
        for key in ("fee", "move_fee", "bridge_fee"):
            if key in v:
                lines.append(f"{key} = {float(v[key])!r}")
        for key in ("move_minutes", "bridge_minutes"):
            if key in v:
                lines.append(f"{key} = [{float(v[key][0])!r}, {float(v[key][1])!r}]")
        for key in ("can_send", "can_receive"):
            if key in v:
                lines.append(f"{key} = {json.dumps(bool(v[key]))}")
        lines += ["markets = { " + ", ".join(f'{a} = "{c}"' for a, c in v["markets"].items()) + " }", ""]
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    loaded, config_path = load_config(path)
    accounts = {}
    for v in venues:
        member = member_config(loaded, v["name"])
        account = beside(config_path, member.venue.account)
        for suffix in ("", "-wal", "-shm"):
            Path(str(account) + suffix).unlink(missing_ok=True)
        prices = v["prices"]
        rules = {a: Market(asset=a, chain=c, rules=MarketRules(
            amount_step=10.0 ** -max(0, math.ceil(math.log10(prices[a])) + 2), min_notional=10.0,
            taker_fee=v.get("fee"))) for a, c in v["markets"].items()}
        PaperVenue.create(account, holdings=v["holdings"], prices=prices, markets=rules,
                          settings=paper_settings(member.venue, fee, quote), start=start).close()
        accounts[v["name"]] = str(account)
    return {"config": str(config_path), "accounts": accounts}


#: ``trimtab init --multi-venue``: the three paper venues of ``trimtab demo --multi-venue``
MULTI_VENUE = {
    "wallet": dict(move_fee=0.0005, move_minutes=(10.0, 30.0)),  # ethereum, base, solana; the quote on base
    "perps": dict(fee=0.00055, can_send=False, can_receive=False),  # BTC as a perp; its margin stays its own
    "exchange": dict(fee=0.001, move_fee=0.0005, move_minutes=(10.0, 30.0)),  # spot, every asset
}


def multi_venue_layout(quote: str, traded: list[str], held: dict[str, float],
                       price: dict[str, float]) -> list[dict[str, Any]]:
    """The venues of ``init --multi-venue`` for these assets: BTC trades and sits on ``perps``
    (hyperliquid); every other asset on ``wallet`` (SOL on solana, the rest on ethereum); ``exchange``
    trades them all on ``spot``; the quote is split evenly over the venues, the wallet's on base. A
    venue with nothing to trade is left out."""
    wallet_chain = {a: "solana" if a == "SOL" else "ethereum" for a in traded if a != "BTC"}
    markets = {"wallet": wallet_chain, "perps": {"BTC": "hyperliquid"} if "BTC" in traded else {},
               "exchange": {a: "spot" for a in traded}}
    names = [n for n in MULTI_VENUE if markets[n]]
    quote_chain = {"wallet": "base", "perps": "hyperliquid", "exchange": "spot"}
    venues = []
    for name in names:
        home = {} if name == "exchange" else markets[name]  # the exchange starts with quote only
        holdings = {a: {home[a]: q} for a, q in held.items() if a in home and q > 0}
        if held.get(quote, 0.0) > 0:
            holdings[quote] = {quote_chain[name]: held[quote] / len(names)}
        venues.append({"name": name, "holdings": holdings, "markets": markets[name], "prices": price,
                       **MULTI_VENUE[name]})
    return venues


def init_paper_multi_venue(path: Path, targets, *, holdings: str, prices: str, fee: float,  # type: ignore[no-untyped-def]
                           min_trade: float, order_latency: float, slippage_bps: float, clock_speed: float,
                           force: bool) -> dict[str, Any]:
    """``trimtab init --multi-venue``: a paper portfolio across a wallet, a perps account and an
    exchange (``multi_venue_layout``), its config at ``path`` and one account per venue."""
    from trimtab.core.valuation import bounded_total, parse_holdings, parse_prices
    from trimtab.errors import InputError
    from trimtab.parsing import parse_pairs

    quote = targets.quote
    held = parse_holdings(parse_pairs(holdings, "holdings"))
    price = {a: p for a, p in parse_prices(parse_pairs(prices, "prices"), quote).items() if a != quote}
    traded = [a for a in dict.fromkeys([*targets.assets, *held]) if a != quote]
    missing = [a for a in traded if a not in price]
    if missing:
        raise InputError(f"No price for {', '.join(missing)}: give --prices for every traded asset.")
    bounded_total(held, price, quote)
    venues = multi_venue_layout(quote, traded, held, {a: price[a] for a in traded})
    for v in venues:
        v.update(order_latency=order_latency, slippage_bps=slippage_bps)
    taken = [path.parent / f"paper-{v['name']}.db" for v in venues]
    if not force and any(p.exists() for p in taken):
        raise InputError(f"{next(p for p in taken if p.exists())} already exists; pass --force to replace the "
                         "paper accounts.")
    made = init_paper_venues(path, targets, venues, fee=fee, min_trade=min_trade, clock_speed=clock_speed,
                             force=force)
    return {"config": made["config"], "venue": "paper", "venues": {
        v["name"]: {"account": made["accounts"][v["name"]], "markets": v["markets"], "holdings": v["holdings"],
                    "can_move": v.get("can_send", True)} for v in venues}}

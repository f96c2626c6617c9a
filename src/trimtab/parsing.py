"""Parsing of command-line values such as ``BTC=0.5,ETH=0.3,USDC=0.2``."""

from __future__ import annotations

import math
import re

from trimtab.errors import InputError

#: A chain's name: words of letters and digits joined by - or _ (ethereum, arbitrum-one, polygon_pos).
_CHAIN_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z][a-z0-9]*)*")


def parse_pairs(text: str, what: str) -> list[tuple[str, float]]:
    """``"BTC=0.5,ETH=0.3"`` -> ``[("BTC", 0.5), ("ETH", 0.3)]``; duplicates are kept for the
    core to refuse by name. Raise ``InputError`` for an item without ``=`` or a non-number."""
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, number = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{item!r} in the {what} is not ASSET=NUMBER, e.g. BTC=0.5.")
        try:
            pairs.append((name.strip(), float(number)))
        except ValueError:
            raise InputError(f"{number.strip()!r} for {name.strip()} in the {what} is not a number.") from None
    if not pairs:
        raise InputError(f"The {what} are empty: give ASSET=NUMBER pairs, e.g. BTC=0.5,USDC=0.5.")
    return pairs


def parse_chains(text: str) -> dict[str, dict[str, float]]:
    """``"ETH=arbitrum:0.6+ethereum:0.4,BTC=bitcoin"`` -> ``{"ETH": {"arbitrum": 0.6, "ethereum": 0.4},
    "BTC": {"bitcoin": 1.0}}``: where each asset is held, as shares of its holding (equal when
    omitted; they must sum to 1). The first chain of an asset is where it trades unless
    ``--markets`` says otherwise. Raise ``InputError`` for anything else."""
    result: dict[str, dict[str, float]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        asset, sep, spec = item.partition("=")
        if not sep or not asset.strip() or not spec.strip():
            raise InputError(f"{item!r} in --chains is not ASSET=chain[:share][+chain[:share]], e.g. ETH=arbitrum:0.6+ethereum:0.4.")
        chains: dict[str, float | None] = {}
        for part in spec.split("+"):
            chain, _, share = part.strip().partition(":")
            if not chain.strip():
                raise InputError(f"An empty chain name in {item!r}.")
            _check_chain_name(chain.strip().lower(), item)
            try:
                chains[chain.strip().lower()] = float(share) if share else None
            except ValueError:
                raise InputError(f"{share!r} in {item!r} is not a share such as 0.5.") from None
            if share and not math.isfinite(float(share)):
                raise InputError(f"{share!r} in {item!r} is not a share such as 0.5.")
        given = [s for s in chains.values() if s is not None]
        rest = [c for c, s in chains.items() if s is None]
        left = 1.0 - sum(given)
        shares = {c: (s if s is not None else left / len(rest)) for c, s in chains.items()}
        if abs(sum(shares.values()) - 1.0) > 1e-9 or any(s < 0 for s in shares.values()):
            raise InputError(f"The shares in {item!r} must be non-negative and sum to 1.")
        result[asset.strip().upper()] = shares
    return result


def _check_chain_name(chain: str, item: str) -> None:
    """Refuse a chain name that is really a typo, such as ``ethereum-0.5`` for ``ethereum:0.5``."""
    if _CHAIN_NAME.fullmatch(chain):
        return
    name, _, tail = chain.rpartition("-")
    try:
        float(tail)
        hint = f"; a share goes after a colon: {name}:{tail}"
    except ValueError:
        hint = " (letters and digits, words joined by - or _, e.g. arbitrum-one)"
    raise InputError(f"{chain!r} in --chains {item!r} is not a chain name{hint}.")


def number(low: float, high: float, *, above: bool = False, whole: bool = False):  # type: ignore[no-untyped-def]
    """A typer ``parser`` for a numeric flag: a finite number from ``low`` (excluded when ``above``)
    to ``high``; ``whole`` for an integer. NaN and infinity are refused by name, so ``--min-trade
    nan`` is "not a finite number" rather than a comparison that happens to fail."""
    import typer

    kind = "whole number" if whole else "number"
    allowed = f"{'above' if above else 'from'} {low:g} {'and at most' if above else 'to'} {high:g}"

    def parse(text: str) -> float | int:
        if isinstance(text, (int, float)):  # a default passes through unchanged
            return text
        try:
            value = int(text) if whole else float(text)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{text!r} is not a {kind}; give a {kind} {allowed}.") from None
        if not math.isfinite(value):
            raise typer.BadParameter(f"{text!r} is not a finite number; give a {kind} {allowed}.")
        if value < low or (above and value == low) or value > high:
            raise typer.BadParameter(f"{text} is out of range; give a {kind} {allowed}.")
        return value

    return parse

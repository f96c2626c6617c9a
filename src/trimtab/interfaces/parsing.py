"""Parsing of command-line values such as ``BTC=0.5,ETH=0.3,USDC=0.2``."""

from __future__ import annotations

from trimtab.errors import InputError


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

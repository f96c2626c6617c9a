"""Withdrawals sent by the venue: one call under a client id journaled first, looked up after a crash.

A venue sends funds out through one of two optional methods:

* ``send(asset, amount, chain, address, client_id)`` / ``sent(client_id)`` (real venues, MOVES.md:
  ccxt ``withdraw``, the Purple Flea wallet's ``/wallet/send``), which needs an address;
* ``withdraw(asset, amount, client_id=..., address=...)`` / ``withdrawal(client_id)`` (the paper venue).

Either is idempotent by client id. A venue with both (the paper venue, which also sends to other paper
accounts for moves between venues) pays a withdrawal out through ``withdraw``: a payout leaves the
portfolio, a send reaches another of its venues. ``lookup`` answers from what the venue can prove: ``SENT`` when it
knows the id, ``NOT_SENT`` when it says it never saw it (``UnknownOrder``); a failed read (timeout, 5xx,
429) raises and is not news: the flow stays ``sending`` and the next resume asks again.
"""

from __future__ import annotations

from typing import Any

from trimtab.errors import InputError, UnknownOrder

SENT = "sent"
NOT_SENT = "not_sent"


def refusal(venue: Any) -> str | None:
    """Why ``venue`` cannot send funds out through trimtab (None: it can)."""
    if hasattr(venue, "send") and hasattr(venue, "sent"):
        return None
    if hasattr(venue, "withdraw") and hasattr(venue, "withdrawal"):
        return None
    return "this venue cannot send funds out through trimtab"


def _pays_out(venue: Any) -> bool:
    return hasattr(venue, "withdraw") and hasattr(venue, "withdrawal")


def send(venue: Any, *, asset: str, amount: float, address: str | None, client_id: str) -> None:
    """Ask ``venue`` to send ``amount`` of ``asset`` to ``address`` under ``client_id`` (once)."""
    if not _pays_out(venue) and hasattr(venue, "send") and hasattr(venue, "sent"):
        if not address:
            raise InputError("This venue sends to an address: give --to ADDRESS.")
        venue.send(asset, amount, _chain(venue, asset), address, client_id)
        return
    venue.withdraw(asset, amount, client_id=client_id, address=address)


def lookup(venue: Any, client_id: str) -> str:
    """``SENT`` or ``NOT_SENT`` as the venue proves it; a failed read raises (keep it pending)."""
    try:
        if not _pays_out(venue) and hasattr(venue, "send") and hasattr(venue, "sent"):
            venue.sent(client_id)
        else:
            venue.withdrawal(client_id)
    except UnknownOrder:
        return NOT_SENT
    return SENT


def _chain(venue: Any, asset: str) -> str:
    """The chain holding the most of ``asset`` (where a send leaves from)."""
    held = [(h.quantity, h.chain) for h in venue.balances() if h.asset == asset]
    if not held:
        raise InputError(f"The venue holds no {asset} to send.")
    return max(held)[1]

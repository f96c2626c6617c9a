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

``route`` settles where a send goes before anything is sold for it: the address (required), and the
network. A wallet sends from the chain holding the most of the asset unless told; an exchange holds
on its account, not on a network, so it must be told which network to withdraw on (``--chain``).
"""

from __future__ import annotations

from typing import Any

from trimtab.errors import Denied, InputError, UnknownOrder

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


def route(venue: Any, asset: str, address: str | None, chain: str | None) -> str | None:
    """The chain a send of ``asset`` to ``address`` leaves on (None for a venue that pays out with
    ``withdraw``), checked before anything is sold: raise ``InputError`` for a missing address or
    network, ``Denied(WITHDRAW_UNSUPPORTED)`` when the venue says it cannot send it there."""
    if _pays_out(venue) or not (hasattr(venue, "send") and hasattr(venue, "sent")):
        return None
    if not address:
        raise InputError("This venue sends to an address: give --to ADDRESS. Nothing was sold.")
    networks = tuple(getattr(venue, "networks", ()) or ())
    account = getattr(venue, "account_chain", None)
    if chain is None and account is not None:
        raise InputError(f"{account} holds {asset} on its account, not on a network: give --chain, the network to "
                         f"withdraw on ({', '.join(networks)}). Nothing was sold.")
    if chain is not None and networks and chain not in networks:
        raise InputError(f"--chain {chain}: {account or 'this venue'} withdraws on {', '.join(networks)}. "
                         "Nothing was sold.")
    chain = chain or _chain(venue, asset)
    refusal = getattr(venue, "send_refusal", None)
    why_not = refusal(asset, chain) if refusal is not None else None
    if why_not:
        raise Denied("WITHDRAW_UNSUPPORTED", f"{why_not}. Nothing was sold.")
    return chain


def send(venue: Any, *, asset: str, amount: float, address: str | None, client_id: str,
         chain: str | None = None) -> None:
    """Ask ``venue`` to send ``amount`` of ``asset`` to ``address`` under ``client_id`` (once), on
    ``chain`` (as ``route`` settled it)."""
    if not _pays_out(venue) and hasattr(venue, "send") and hasattr(venue, "sent"):
        venue.send(asset, amount, route(venue, asset, address, chain), address, client_id)
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

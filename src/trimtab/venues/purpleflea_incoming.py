"""Moves into the Purple Flea wallet from another venue, and what proves one arrived: the wallet's
own balance (contract §4.4), never the sender's word alone.

An exchange that withdraws to the wallet's address says "completed" when its own transaction is out;
the documentation promises no order between that word and the wallet API's balance read showing the
money, and the wallet API lists no incoming transfers. Until the balance shows it, the move is on its
way: counted in transit, and the buys it funds wait (MOVES.md: sell -> confirm -> move -> confirm
arrival -> buy).

* ``expect(client_id, asset, chain, amount)``: right before the sender is asked, the balance the move
  adds to is read and recorded (the baseline) in the wallet's ledger under ``incoming:<client id>``.
  A balance that cannot be read stops the move before it is sent (a retryable ``VenueError``): a move
  with no baseline could never be proven. The executor sends a move only after the sender said it
  does not know the client id, so a recorded baseline is always taken again before a send.
* ``received(client_id, sent)``: the amount credited once ``purpleflea_balances.arrived`` says the
  balance rose by the move's ``sent.received`` (over and above every other travelling transfer of
  ours into that balance: swaps and other moves; the tolerance is the move's own). With the sender's
  word that it arrived, a rise larger than ours can explain still proves it (someone else's deposit
  landed too); without that word, only a rise ours explain does. The answer is recorded: a move is
  proven once, and a proven move counts as landed against the others.

The records have the swaps' shape (``request.to_chain``, ``to_asset``, ``expected`` in smallest
units, ``baseline``, ``asked_at``; ``outcome``/``confirmed_at`` once received), so a swap's own
confirmation counts travelling moves and a move's counts travelling swaps (``purpleflea_swap``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from trimtab.errors import VenueUnavailable
from trimtab.venues import purpleflea_balances as balances
from trimtab.venues.base import Transfer, TransferStatus
from trimtab.venues.purpleflea_ledger import Ledger

KIND = "incoming"


def key(client_id: str) -> str:
    """The ledger key of a move into the wallet (never the sender's key, should they share a file)."""
    return f"{KIND}:{client_id}"


class Incoming:
    """Moves into the wallet at ``addresses`` (chain -> address); see the module docstring."""

    def __init__(self, ledger: Ledger, balance: Callable[[str, str], Decimal | None], clock: Callable[[], float]) -> None:
        self.ledger, self.balance, self.clock = ledger, balance, clock

    def expect(self, client_id: str, asset: str, chain: str, amount: float) -> None:
        """Record the balance the move ``client_id`` of ``amount`` ``asset`` will add to on ``chain``."""
        baseline = self.balance(chain, asset)
        if baseline is None:
            raise VenueUnavailable(f"the wallet's {asset} balance on {chain} cannot be read, so a move into it could "
                                   "not be proven; it was not sent and is tried again later")
        record = {"request": {"from_chain": "external", "to_chain": chain}, "to_asset": asset,
                  "expected": str(balances.smallest(amount, chain, asset)), "baseline": str(baseline),
                  "asked_at": self.clock()}
        self.ledger.record(key(client_id), KIND, "sent", record)

    def received(self, client_id: str, sent: Transfer | None = None) -> float | None:
        """What the move ``client_id`` credited, once the balance proves it; None until then (and for
        a move never expected here)."""
        found = self.ledger.get(key(client_id))
        if found is None:
            return None
        step, record, result = found
        if step == "received":
            return float((result or {}).get("amount", 0.0))
        if sent is None:
            return None
        r = record["request"]
        record = {**record, "expected": str(balances.smallest(sent.received, r["to_chain"], record["to_asset"]))}
        others, landed = travelling_and_landed(self.ledger, key(client_id), float(record["asked_at"]))
        now = self.balance(r["to_chain"], record["to_asset"])
        if not balances.arrived(record, now, others, self.clock(), exact=sent.status is not TransferStatus.ARRIVED,
                                landed=landed):
            return None
        self.ledger.record(key(client_id), KIND, "received", {**record, "outcome": "completed",
                                                              "confirmed_at": self.clock()},
                           {"amount": sent.received})
        return sent.received


def travelling_and_landed(ledger: Ledger, mine: str, asked_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The records of our other swaps and incoming moves still travelling, and of those that landed
    since ``asked_at`` (perhaps inside the rise ``mine`` is judged by)."""
    rows = [(step, record) for kind in ("swap", KIND) for other, step, record in ledger.records(kind) if other != mine]
    others = [r for step, r in rows if step in ("ordered", "sending", "sent") and not r.get("outcome")]
    landed = [r for _, r in rows if r.get("outcome") == "completed" and float(r.get("confirmed_at") or 0) >= asked_at]
    return others, landed

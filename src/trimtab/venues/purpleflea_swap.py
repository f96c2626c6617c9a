"""Wagyu swaps through the Purple Flea wallet API as recorded steps (contract §4.6, §4.7, §5).

One swap, under our client id: ``intent`` (recorded before ``POST /wallet/swap``, with the
destination's balance then) -> ``ordered`` (the order id, deposit address, amount and expiry
recorded as soon as the answer arrives) -> ``sending`` (recorded before ``POST /wallet/send``, with
the sender's balance then) -> ``sent``; or ``abandoned``, an order trimtab will never fund, left to
expire (its reason recorded and raised as ``OrderRejected`` whenever the client id is asked about).
No step is ever repeated blindly:

* an ``intent`` whose answer was lost is looked for in ``/wallet/activity`` (same chains, amount and
  address, created after the intent, not claimed by another client id). Not found, the intent is
  dropped and the swap may be ordered again. Found, the order exists but its deposit address is in
  no field the contract guarantees (not in activity, not in status), so it cannot be funded: it is
  ``abandoned``, left to expire unpaid, and the refusal says so. ``/wallet/send`` never goes out
  without an address.
* a deposit whose answer was lost or failed (timeout, 5xx) is judged by what can prove it: the
  order's ``depositTxHash`` or a status past the deposit, the deposit address's balance, the
  sender's balance against the one recorded before the send. Any of them: it was sent. None of them
  once ``settle`` seconds have passed since the send (looked at again every ``settle / 6`` meanwhile):
  it was not, the order is ``abandoned`` (never funded twice). A clock that went backwards leaves it
  undecided: ``VenueUnavailable`` (ask again later).
* a deposit amount that is neither our amount in smallest units nor in decimals (the unit is
  unspecified) is not sent.

Status words are unspecified by the contract: ``terminal`` (config ``venue.swap_states``, default
:data:`TERMINAL`) maps the words trimtab trusts to an outcome; any other word, and a status read
that fails (``400 status_check_failed``, 5xx, 429, a timeout), is *pending*, not news. A pending
swap is confirmed by the destination balance (``purpleflea_balances.arrived``: it rose since the
intent by the expected output less 2 %, after what every other travelling swap of ours into the
same balance needs, and by no more than our swaps can explain, so an owner's deposit landing
meanwhile confirms nothing). A word the table calls completed is not trusted alone either: the
balance must show the arrival (there the order's word is the evidence, so a larger rise is
accepted); until it does the swap is pending, and once ``arrival_grace`` seconds have passed since
the word was first seen, its outcome is ``unproven``, which the venue raises as
``NeedsAttention`` (never a re-send). Status reads are paced: at most ``status_per_minute`` in any
60 s (Wagyu allows 20 a minute, shared by every client of the server), counted in the ledger's file
so every process on the same config shares the budget; a read over the budget is skipped and the
swap stays pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trimtab.errors import KeyRejected, OrderRejected, VenueError, VenueUnavailable
from trimtab.venues import purpleflea_balances as balances
from trimtab.venues.purpleflea_balances import USDC_CONTRACT, smallest, whole
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_incoming import travelling_and_landed
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_zero import ZeroGuard

__all__ = ["OUTCOMES", "TERMINAL", "UNPROVEN", "SwapState", "Swaps"]

#: Status words and what they mean to trimtab (the default of ``venue.swap_states``); any other
#: word is pending. The contract names no words (§4.6): these follow its fields and fault list
#: (``completedAt``, ``errorMessage``, ``refundTxHash``, expiry).
TERMINAL = {"completed": "completed", "failed": "failed", "refunded": "refunded", "expired": "expired"}
#: What an outcome may be.
OUTCOMES = ("completed", "failed", "refunded", "expired")
#: The outcome of a swap whose word said completed ``arrival_grace`` seconds ago while no balance
#: shows its output: a person must look (the venue raises ``NeedsAttention``).
UNPROVEN = "unproven"


@dataclass(frozen=True, kw_only=True)
class SwapState:
    """Where a swap stands: its record, Wagyu's status word and what it means (None: pending)."""

    record: dict[str, Any]
    status: str
    outcome: str | None


class Swaps:
    """Swaps for one wallet: ``addresses`` per chain, ``keys`` (in memory only) to fund deposits.

    ``terminal`` maps status words to outcomes (see the module); ``clock`` is the venue's time in
    Unix seconds (the pace of status reads, the ``settle`` time of a lost deposit and the
    ``arrival_grace`` of a completed word use it).
    """

    def __init__(self, api: PurpleFleaClient, ledger: Ledger, addresses: dict[str, str], keys: dict[str, str], *,
                 terminal: Mapping[str, str] | None = None, status_per_minute: int = 10,
                 settle: float = 60.0, arrival_grace: float = 300.0, clock: Callable[[], float] = time.time,
                 wait: Callable[[float], Any] = time.sleep, zeros: ZeroGuard | None = None) -> None:
        self.api, self.ledger, self.addresses, self._keys = api, ledger, addresses, keys
        self.zeros = zeros
        self.wait = wait
        self.terminal = {str(k).lower(): v for k, v in (TERMINAL if terminal is None else terminal).items()}
        self.status_per_minute, self.settle, self.clock = status_per_minute, settle, clock
        self.arrival_grace = arrival_grace

    def start(self, client_id: str, *, from_chain: str, to_chain: str, from_asset: str, to_asset: str,
              amount: float, now: datetime, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Order the swap and send its deposit (or carry on from the recorded step); return the record.

        Raise ``OrderRejected`` for a swap refused or abandoned (see the module), ``VenueUnavailable``
        while a step's fate is not yet known.
        """
        found = self.ledger.get(client_id)
        if found is None:
            units = smallest(amount, from_chain, from_asset)
            request = {"from_chain": from_chain, "to_chain": to_chain, "from_token": from_asset,
                       "to_token": to_asset, "amount": str(units), "to_address": self.addresses[to_chain]}
            record = {"request": request, "asked_at": now.timestamp(), "from_asset": from_asset,
                      "to_asset": to_asset, **(extra or {})}
            baseline = self._balance(to_chain, to_asset)
            record["baseline"] = None if baseline is None else str(baseline)
            self.ledger.record(client_id, "swap", "intent", record)
            try:
                answer = self.api.post("/v1/wallet/swap", request, operation=self._what(client_id, record))
            except VenueError as e:
                if not e.retryable:  # refused: no order exists
                    self.ledger.forget(client_id)
                raise
            record = self._ordered(client_id, record, answer)
            step = "ordered"
        else:
            step, record, _ = found
            if step == "intent":
                adopted = self._adopt(client_id, record)
                if adopted is None:
                    self.ledger.forget(client_id)
                    return self.start(client_id, from_chain=from_chain, to_chain=to_chain, from_asset=from_asset,
                                      to_asset=to_asset, amount=amount, now=now, extra=extra)
                record, step = adopted
        if step == "abandoned":
            raise OrderRejected(record["abandoned"], venue_message=record.get("why", "abandoned"))
        if step == "ordered":
            return self._send_deposit(client_id, record)
        if step == "sending":
            return self._judge_lost_send(client_id, record)
        return record

    def resume(self, client_id: str) -> dict[str, Any]:
        """Carry a recorded swap on from its step (``start`` with the recorded request)."""
        found = self.ledger.get(client_id)
        if found is None:
            raise OrderRejected(f"swap {client_id}: nothing recorded to resume")
        record = found[1]
        r = record["request"]
        return self.start(client_id, from_chain=r["from_chain"], to_chain=r["to_chain"],
                          from_asset=record["from_asset"], to_asset=record["to_asset"],
                          amount=float(whole(r["amount"], r["from_chain"], record["from_asset"])),
                          now=datetime.fromtimestamp(self.clock(), tz=UTC))

    def step(self, client_id: str) -> str | None:
        found = self.ledger.get(client_id)
        return None if found is None else found[0]

    def state(self, client_id: str) -> SwapState | None:
        """The swap under ``client_id`` and where it stands now; None if no swap was ever ordered.

        The outcome is the terminal table's word for Wagyu's status; for any other word, or a read
        that failed or was skipped to keep the pace, the destination balance decides whether it
        arrived (``status`` then says why), else it is pending (``outcome`` None).
        """
        found = self.ledger.get(client_id)
        if found is None or found[0] == "intent":
            return None
        step, record, _ = found
        if step == "abandoned":
            return SwapState(record=record, status="abandoned", outcome="abandoned")
        if record.get("outcome"):
            return SwapState(record=record, status=record.get("status", ""), outcome=record["outcome"])
        body, why = self._read_status(client_id, record)
        word = str(body.get("status", "")).strip().lower() if body is not None else ""
        outcome = self.terminal.get(word) if body is not None else None
        status = word if body is not None else why
        record = {**record, "actual_output": body.get("actualOutput") if body else record.get("actual_output")}
        if outcome == "completed":  # the word is the order's evidence; the money must be in the balance too
            if self._arrived_by_balance(client_id, record, exact=False):
                status = f"{word}; the balance shows the arrival"
            else:
                outcome, status, record = self._unproven(client_id, step, record, word)
        elif outcome is None and step == "sent" and self._arrived_by_balance(client_id, record, exact=True):
            outcome, status = "completed", f"{status or 'no status'}; arrival confirmed by the balance"
        if outcome is not None and outcome != UNPROVEN and step == "sent":
            record = {**record, "outcome": outcome, "status": status, "confirmed_at": self.clock()}
            self.ledger.record(client_id, "swap", step, record)
        return SwapState(record=record, status=status, outcome=outcome)

    def _unproven(self, client_id: str, step: str, record: dict[str, Any],
                  word: str) -> tuple[str | None, str, dict[str, Any]]:
        """A completed word the balance does not show: pending, or ``unproven`` after ``arrival_grace``."""
        now = self.clock()
        if record.get("unproven_since") is None:
            record = {**record, "unproven_since": now}
            self.ledger.record(client_id, "swap", step, record)
        waited = now - float(record["unproven_since"])
        if waited >= self.arrival_grace:
            return UNPROVEN, (f"Wagyu's status has said {word!r} for {waited:.0f} s, but the "
                              f"{record['to_asset']} balance on {record['request']['to_chain']} does not show the "
                              "output arrive; nothing will be sent again"), record
        return None, f"{word}, not yet in the balance", record

    # -- reads ---------------------------------------------------------------------------------

    def _read_status(self, client_id: str, record: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """Wagyu's order, or None and why not: a failed read is not news about the swap (§4.6)."""
        if not self.ledger.take("status", self.clock(), self.status_per_minute):  # shared by every process
            return None, f"status not read (pace: {self.status_per_minute} reads a minute)"
        try:
            return self.api.get(f"/v1/wallet/swap/status/{record['order_id']}", retries=0,
                                operation=f"swap {client_id}: status"), ""
        except KeyRejected:
            raise
        except VenueError as e:  # 400 status_check_failed (Wagyu's 429 or outage), 5xx, 429, timeout
            return None, f"status unreadable ({e.venue_message})"

    def _balance(self, chain: str, asset: str, address: str | None = None) -> Decimal | None:
        """``asset`` held at ``address`` (default ours) on ``chain``, or None when it cannot be read."""
        ours = address is None or address == self.addresses.get(chain)
        address = address or self.addresses.get(chain)
        amount = None if address is None else balances.read_balance(self.api, chain, asset, address)
        if amount is None or not ours or self.zeros is None:
            return amount
        return self.zeros.judge(chain, asset, amount)  # a 0 that may be a failed RPC call is unknown

    def _arrived_by_balance(self, client_id: str, record: dict[str, Any], *, exact: bool) -> bool:
        """The destination balance shows the swap arrived (``purpleflea_balances.arrived``)."""
        r = record["request"]
        if record.get("baseline") is None or not record.get("expected"):
            return False
        others, landed = travelling_and_landed(self.ledger, client_id, float(record["asked_at"]))  # moves in too
        return balances.arrived(record, self._balance(r["to_chain"], record["to_asset"]), others, self.clock(),
                                exact=exact, landed=landed)

    # -- steps ---------------------------------------------------------------------------------

    def _ordered(self, client_id: str, record: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        record = {**record, "order_id": answer["order_id"], "swap_id": answer.get("swap_id"),
                  "deposit": answer["deposit"], "expires_at": answer.get("expires_at"),
                  "expected": answer.get("output", {}).get("expected_amount"),
                  "fee_usd": (answer.get("fee") or {}).get("amount_usd")}
        self.ledger.record(client_id, "swap", "ordered", record)
        return record

    def _abandon(self, client_id: str, record: dict[str, Any], why: str) -> OrderRejected:
        """Record that this order will never be funded, and the refusal that says why."""
        reason = f"{self._what(client_id, record)}: {why}"
        self.ledger.record(client_id, "swap", "abandoned", {**record, "abandoned": reason, "why": why})
        return OrderRejected(reason, venue_message=why)

    def _deposit_amount(self, record: dict[str, Any]) -> Decimal | None:
        """What to send, in decimals: our own amount, if the order's ``deposit.amount`` is it in
        smallest units or in decimals (its unit is unspecified, §4.6); else None."""
        request, asked = record["request"], str((record.get("deposit") or {}).get("amount", ""))
        ours = whole(request["amount"], request["from_chain"], record["from_asset"])
        if asked == request["amount"]:
            return ours
        try:
            return ours if Decimal(asked) == ours else None
        except InvalidOperation:
            return None

    def _send_deposit(self, client_id: str, record: dict[str, Any]) -> dict[str, Any]:
        request, deposit = record["request"], record.get("deposit") or {}
        chain, asset = request["from_chain"], record["from_asset"]
        what = self._what(client_id, record)
        if not deposit.get("address"):
            raise self._abandon(client_id, record, "the order has no deposit address, so it is not funded "
                                                   "and expires unpaid; nothing was sent")
        amount = self._deposit_amount(record)
        if amount is None:
            raise self._abandon(client_id, record, f"the order asks for {deposit.get('amount')} "
                                                   f"{deposit.get('token', '')}, which is not the amount ordered; "
                                                   "nothing was sent and the order expires unpaid")
        body = {"chain": chain, "to": deposit["address"], "amount": format(amount.normalize(), "f"),
                "private_key": self._keys[chain]}
        if asset == "USDC":
            body["token"] = USDC_CONTRACT[chain]
        before = self._balance(chain, asset)
        record = {**record, "sender_before": None if before is None else str(before), "send_at": self.clock()}
        self.ledger.record(client_id, "swap", "sending", record)
        try:
            answer = self.api.post("/v1/wallet/send", body, operation=f"{what}: send the deposit")
        except VenueError as e:
            if not e.retryable:  # refused before anything left: the unpaid order expires by itself
                self._abandon(client_id, record, f"the deposit was refused ({e.venue_message}); "
                                                 "nothing was sent and the order expires unpaid")
                raise
            return self._judge_lost_send(client_id, record)  # a 5xx or a lost answer: did it leave?
        record = {**record, "deposit_tx": answer.get("tx_hash")}
        self.ledger.record(client_id, "swap", "sent", record)
        return record

    def _judge_lost_send(self, client_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Decide whether a deposit whose answer was lost (or a 5xx) left the wallet (see the module)."""
        what = self._what(client_id, record)
        while True:
            evidence = self._deposit_evidence(client_id, record)
            if evidence is not None:
                record = {**record, "deposit_evidence": evidence}
                self.ledger.record(client_id, "swap", "sent", record)
                return record
            waited = self.clock() - float(record.get("send_at") or 0)
            if waited >= self.settle or waited < 0:
                break
            self.wait(min(self.settle / 6, self.settle - waited))  # balances may lag the chain: look again
        if waited >= self.settle:
            raise self._abandon(client_id, record, f"the deposit's answer was lost and, {waited:.0f} s "
                                "later, neither the order, the deposit address nor our balance shows it: it did not "
                                "happen; nothing will be sent again and the order expires unpaid")
        raise VenueUnavailable(f"{what}: the deposit's answer was lost; trimtab checks the balances again in "
                               f"{self.settle - waited:.0f} s before deciding (never a second deposit)",
                               venue_message="deposit unconfirmed")

    def _deposit_evidence(self, client_id: str, record: dict[str, Any]) -> str | None:
        """How we know the deposit left, or None when nothing shows it."""
        request, deposit = record["request"], record.get("deposit") or {}
        chain, asset = request["from_chain"], record["from_asset"]
        body, _ = self._read_status(client_id, record)
        if body is not None:
            word = str(body.get("status", "")).strip().lower()
            if body.get("depositTxHash"):
                return f"the order shows deposit {body['depositTxHash']}"
            if self.terminal.get(word) in ("completed", "failed", "refunded"):
                return f"the order is {word}"
        amount = whole(request["amount"], chain, asset)
        at_deposit = self._balance(chain, asset, deposit.get("address"))
        if at_deposit is not None and at_deposit >= amount:
            return f"the deposit address holds {at_deposit} {asset}"
        now = self._balance(chain, asset)
        if now is not None and record.get("sender_before") is not None and Decimal(record["sender_before"]) - now >= amount:
            return f"our {asset} on {chain} fell from {record['sender_before']} to {now}"
        return None

    def _adopt(self, client_id: str, record: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The order a lost ``POST /wallet/swap`` created, found in the activity list, as
        ``(record, step)``; or None when there is none (the request never created one)."""
        body = self.api.get("/v1/wallet/activity", {"type": "swaps", "limit": 100},
                            operation=f"swap {client_id}: look for an order whose answer was lost")
        request = record["request"]
        claimed = {theirs.get("order_id") for other, _, theirs in self.ledger.records("swap") if other != client_id}
        for event in body.get("events", []):
            same = all(str(event.get(k)) == request[k] for k in ("from_chain", "to_chain", "to_address")) and \
                str(event.get("from_amount")) == request["amount"]
            if same and event.get("order_id") not in claimed and event.get("created_at", 0) >= int(record["asked_at"]) - 1:
                adopted = {**record, "order_id": event["order_id"], "swap_id": event.get("id"), "deposit": None}
                self._abandon(client_id, adopted, f"the answer to the order was lost; Wagyu order {event['order_id']} "
                              "exists, but its deposit address is in no field the API guarantees (activity and "
                              "status do not carry it), so it is not funded and expires unpaid; nothing was sent")
                return self.ledger.get(client_id)[1], "abandoned"  # type: ignore[index]
        return None

    @staticmethod
    def _what(client_id: str, record: dict[str, Any]) -> str:
        r = record["request"]
        return (f"swap {client_id}: {r['amount']} smallest units of {record['from_asset']} on {r['from_chain']} "
                f"-> {record['to_asset']} on {r['to_chain']}")

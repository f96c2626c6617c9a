"""Wagyu swaps through the Purple Flea wallet API as recorded steps (contract §4.6, §4.7).

One swap, under our client id: ``intent`` (recorded before ``POST /wallet/swap``) -> ``ordered``
(the order id, deposit address, amount and expiry recorded as soon as the answer arrives) ->
``sending`` (recorded before ``POST /wallet/send``) -> ``sent``. Its status is then polled. No step
is ever repeated blindly:

* an ``intent`` whose answer was lost is looked for in ``/wallet/activity`` (same chains, tokens,
  amount and address, created after the intent, not claimed by another client id); found, it is
  adopted; not found, the intent is dropped and the swap may be ordered again;
* a ``sending`` step whose answer was lost is judged by the order's status: past
  ``awaiting_deposit`` means the deposit arrived; still awaiting means "unknown", and the venue
  waits (``VenueUnavailable``) rather than risk a second deposit, until the order expires.

Statuses are unspecified by the contract: :data:`TERMINAL` is the table trimtab trusts; anything
else counts as pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from trimtab.errors import OrderRejected, VenueError, VenueUnavailable
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger

#: Native asset and decimals of each chain the venue can fund a swap from (§4.1, §4.5).
NATIVE = {"ethereum": ("ETH", 18), "base": ("ETH", 18), "solana": ("SOL", 9)}
#: USDC's contract per EVM chain: ``/send`` takes tokens by contract only, always with 6 decimals.
USDC_CONTRACT = {"ethereum": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                 "base": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"}
#: Status words and what they mean to trimtab; any other word is pending.
TERMINAL = {"completed": "completed", "failed": "failed", "refunded": "refunded", "expired": "expired"}


def decimals(chain: str, asset: str) -> int:
    """Decimals of ``asset`` on ``chain`` (USDC: 6; natives: their own)."""
    if asset == "USDC":
        return 6
    native = NATIVE.get(chain)
    if native is None or native[0] != asset:
        raise OrderRejected(f"{asset} on {chain} cannot be swapped from this wallet (sources: ETH and USDC on "
                            "ethereum and base, SOL on solana).")
    return native[1]


def smallest(amount: float, chain: str, asset: str) -> int:
    """``amount`` in smallest units, rounded down: 1.5 USDC -> 1500000."""
    return int((Decimal(repr(amount)) * 10 ** decimals(chain, asset)).to_integral_value(rounding=ROUND_DOWN))


def whole(units: int | str, chain: str, asset: str) -> Decimal:
    return Decimal(int(units)) / 10 ** decimals(chain, asset)


@dataclass(frozen=True, kw_only=True)
class SwapState:
    """Where a swap stands: its record, Wagyu's status word and what it means (None: pending)."""

    record: dict[str, Any]
    status: str
    outcome: str | None


class Swaps:
    """Swaps for one wallet: ``addresses`` per chain, ``keys`` (in memory only) to fund deposits."""

    def __init__(self, api: PurpleFleaClient, ledger: Ledger, addresses: dict[str, str], keys: dict[str, str]) -> None:
        self.api, self.ledger, self.addresses, self._keys = api, ledger, addresses, keys

    def start(self, client_id: str, *, from_chain: str, to_chain: str, from_asset: str, to_asset: str,
              amount: float, now: datetime) -> dict[str, Any]:
        """Order the swap and send its deposit (or carry on from the recorded step); return the record."""
        found = self.ledger.get(client_id)
        if found is None:
            units = smallest(amount, from_chain, from_asset)
            request = {"from_chain": from_chain, "to_chain": to_chain, "from_token": from_asset,
                       "to_token": to_asset, "amount": str(units), "to_address": self.addresses[to_chain]}
            record = {"request": request, "asked_at": now.timestamp(), "from_asset": from_asset,
                      "to_asset": to_asset}
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
                                      to_asset=to_asset, amount=amount, now=now)
                record, step = adopted, "ordered"
        if step == "ordered":
            return self._send_deposit(client_id, record)
        if step == "sending":
            self._judge_lost_send(client_id, record)
        return record

    def state(self, client_id: str) -> SwapState | None:
        """The swap under ``client_id`` and its status now; None if no swap was ever ordered for it."""
        found = self.ledger.get(client_id)
        if found is None or found[0] == "intent":
            return None
        record = found[1]
        body = self.api.get(f"/v1/wallet/swap/status/{record['order_id']}", operation=f"swap {client_id}: status")
        word = str(body.get("status", "")).lower()
        return SwapState(record={**record, "actual_output": body.get("actualOutput")}, status=word,
                         outcome=TERMINAL.get(word))

    # -- steps ---------------------------------------------------------------------------------

    def _ordered(self, client_id: str, record: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        record = {**record, "order_id": answer["order_id"], "swap_id": answer.get("swap_id"),
                  "deposit": answer["deposit"], "expires_at": answer.get("expires_at"),
                  "expected": answer.get("output", {}).get("expected_amount"),
                  "fee_usd": (answer.get("fee") or {}).get("amount_usd")}
        self.ledger.record(client_id, "swap", "ordered", record)
        return record

    def _send_deposit(self, client_id: str, record: dict[str, Any]) -> dict[str, Any]:
        request, deposit = record["request"], record["deposit"]
        chain, asset = request["from_chain"], record["from_asset"]
        amount = whole(deposit["amount"], chain, asset)  # the deposit is in smallest units; /send takes decimals
        body = {"chain": chain, "to": deposit["address"], "amount": format(amount.normalize(), "f"),
                "private_key": self._keys[chain]}
        if asset == "USDC":
            body["token"] = USDC_CONTRACT[chain]
        self.ledger.record(client_id, "swap", "sending", record)
        try:
            answer = self.api.post("/v1/wallet/send", body,
                                   operation=f"{self._what(client_id, record)}: send the deposit")
        except VenueError as e:
            if not e.retryable:  # refused: nothing left the wallet; the unpaid order expires by itself
                self.ledger.forget(client_id)
            raise
        record = {**record, "deposit_tx": answer.get("tx_hash")}
        self.ledger.record(client_id, "swap", "sent", record)
        return record

    def _adopt(self, client_id: str, record: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The order a lost ``POST /wallet/swap`` created, found in the activity list, or None."""
        body = self.api.get("/v1/wallet/activity", {"type": "swaps", "limit": 100},
                            operation=f"swap {client_id}: look for an order whose answer was lost")
        request = record["request"]
        for event in body.get("events", []):
            same = all(str(event.get(k)) == request[k] for k in ("from_chain", "to_chain", "to_address")) and \
                str(event.get("from_amount")) == request["amount"]
            if same and event.get("created_at", 0) >= int(record["asked_at"]) - 1:
                status = self.api.get(f"/v1/wallet/swap/status/{event['order_id']}", operation="swap status")
                deposit = {"address": status.get("depositAddress"), "amount": request["amount"]}
                return self._ordered(client_id, record, {"order_id": event["order_id"], "swap_id": event.get("id"),
                                                         "deposit": deposit}), "ordered"
        return None

    def _judge_lost_send(self, client_id: str, record: dict[str, Any]) -> None:
        state = self.state(client_id)
        if state is not None and (state.outcome in ("completed", "failed", "refunded") or
                                  state.status not in ("awaiting_deposit", "expired", "")):
            self.ledger.record(client_id, "swap", "sent", record)
            return
        if state is not None and state.outcome == "expired":
            raise OrderRejected(f"{self._what(client_id, record)}: the order expired without a deposit.",
                                venue_message="expired")
        raise VenueUnavailable(f"{self._what(client_id, record)}: the deposit's answer was lost and the order still "
                               "awaits it; trimtab waits rather than risk a second deposit.",
                               venue_message=state.status if state else "unknown")

    @staticmethod
    def _what(client_id: str, record: dict[str, Any]) -> str:
        r = record["request"]
        return (f"swap {client_id}: {r['amount']} smallest units of {record['from_asset']} on {r['from_chain']} "
                f"-> {record['to_asset']} on {r['to_chain']}")


def expires(record: dict[str, Any]) -> datetime | None:
    text = record.get("expires_at")
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)

"""Sends out of a Purple Flea wallet to another venue's address (contract §4.5), recorded steps.

``/wallet/send`` takes no client id (§5), so under ours: ``intent`` (recorded before the POST, with
the asset's and the native's balances then) -> ``sent`` (the tx hash from the answer), or dropped
when the server refused it (a 4xx: nothing left the wallet). A lost answer or a 5xx is judged by
what the API can show, never by sending again: the wallet's balance of the asset fell by the
amount since the intent. Shown: ``sent`` (tx hash unknown). Not shown ``settle`` seconds after the
send: it did not happen, the record is dropped and ``UnknownOrder`` says so (the executor may send
under the same id). Meanwhile it is pending (``VenueUnavailable``).

What can be sent (§4.1, §4.5): the native (ETH on ethereum and base, SOL on solana) and USDC as an
ERC-20 on ethereum and base (the server parses token amounts with 6 decimals: amounts are rounded
down to 6). USDC on solana cannot be sent. A send without an address is never made. ``/send`` is
limited to 20 a minute per IP: the client waits out a 429 (refused before the handler runs).

An EVM send answers once its receipt is in (mined): ``sent`` means it left the wallet. A Solana send
answers once submitted: it counts as left when the balance shows it. ``Transfer.fee`` is the gas, in
the asset when the asset is the native (0 for USDC: gas is paid in the native, read from its balance
and kept in the record as ``gas``). ``to_chain`` of its ``Transfer`` is the destination address (the
composite venue finds the receiving venue by it after a restart).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from trimtab.errors import OrderRejected, UnknownOrder, Unsupported, VenueError, VenueUnavailable
from trimtab.venues.base import Transfer, TransferStatus
from trimtab.venues.purpleflea_balances import NATIVE, USDC_CONTRACT, read_balance
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_zero import ZeroGuard

_KIND = "send"
#: Chains whose /send pays each asset (§4.1, §4.5).
SENDABLE = {("ETH", "ethereum"), ("ETH", "base"), ("USDC", "ethereum"), ("USDC", "base"), ("SOL", "solana")}
#: Minutes until a send is final on its chain (what a receiving exchange waits for).
MINUTES = {"ethereum": 3.0, "base": 1.0, "solana": 1.0}
#: Gas one send costs, in the chain's native, for the planner (the fakes' and mainnet's order of size).
GAS = {"ethereum": 0.0002, "base": 0.00001, "solana": 0.000005}


def _key(client_id: str) -> str:
    return f"send:{client_id}"  # never a swap's key: the wallet's swaps share this ledger


class Sends:
    """Sends of one wallet: ``addresses`` per chain, ``keys`` (memory only) per chain."""

    def __init__(self, api: PurpleFleaClient, ledger: Ledger, addresses: dict[str, str], keys: dict[str, str], *,
                 settle: float = 120.0, clock: Callable[[], float] = time.time, zeros: ZeroGuard | None = None) -> None:
        self.api, self.ledger, self.addresses, self._keys = api, ledger, addresses, keys
        self.settle, self.clock, self.zeros = settle, clock, zeros

    def check(self, asset: str, chain: str) -> None:
        """Raise ``Unsupported`` when the wallet API cannot send ``asset`` on ``chain``."""
        if chain not in self.addresses:
            raise Unsupported(f"the wallet venue serves {', '.join(self.addresses)}, not {chain}")
        if (asset, chain) not in SENDABLE:
            raise Unsupported(f"the wallet API cannot send {asset} on {chain} (/send pays natives, and USDC as an "
                              "ERC-20 on ethereum and base only)")

    def send(self, asset: str, amount: float, chain: str, address: str, client_id: str) -> Transfer:
        found = self.ledger.get(_key(client_id))
        if found is not None:
            return self.sent(client_id)
        if not address:
            raise OrderRejected(f"send {client_id} of {amount:g} {asset}: no address; nothing is sent without one")
        self.check(asset, chain)
        value = Decimal(repr(amount))
        if asset == "USDC":
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
        if value <= 0:
            raise OrderRejected(f"send {client_id}: {amount:g} {asset} rounds to nothing")
        native = NATIVE[chain][0]
        before, native_before = self._balance(chain, asset), self._balance(chain, native)
        record = {"asset": asset, "amount": str(value), "chain": chain, "address": address, "asked_at": self.clock(),
                  "before": None if before is None else str(before),
                  "native_before": None if native_before is None else str(native_before)}
        self.ledger.record(_key(client_id), _KIND, "intent", record)
        body: dict[str, Any] = {"chain": chain, "to": address, "amount": format(value.normalize(), "f"),
                                "private_key": self._keys[chain]}
        if asset == "USDC":
            body["token"] = USDC_CONTRACT[chain]
        operation = f"send {client_id}: {value} {asset} on {chain} to {address}"
        try:
            answer = self.api.post("/v1/wallet/send", body, operation=operation)
        except VenueError as e:
            if not e.retryable:  # refused before anything left
                self.ledger.forget(_key(client_id))
                raise
            return self.sent(client_id)  # a lost answer or a 5xx: judge it by the balance
        record = {**record, "tx_hash": answer.get("tx_hash")}
        record = self._with_gas(record)
        self.ledger.record(_key(client_id), _KIND, "sent", record)
        return self._transfer(client_id, record)

    def sent(self, client_id: str) -> Transfer:
        found = self.ledger.get(_key(client_id))
        if found is None:
            raise UnknownOrder(f"The wallet has no send {client_id}.")
        step, record, _ = found
        if step == "intent":
            evidence = self._evidence(record)
            if evidence is None:
                waited = self.clock() - record["asked_at"]
                if waited >= self.settle:
                    self.ledger.forget(_key(client_id))
                    raise UnknownOrder(f"send {client_id}: its answer was lost and, {waited:.0f} s later, the wallet's "
                                       f"{record['asset']} balance does not show it: it was never made.")
                raise VenueUnavailable(f"send {client_id}: its answer was lost; the balance does not show it yet "
                                       "(looked at again later; never sent twice)", venue_message="send unconfirmed")
            record = self._with_gas({**record, "evidence": evidence})
            self.ledger.record(_key(client_id), _KIND, "sent", record)
        return self._transfer(client_id, record)

    def _evidence(self, record: dict[str, Any]) -> str | None:
        now = self._balance(record["chain"], record["asset"])
        if now is None or record.get("before") is None:
            return None
        if Decimal(record["before"]) - now >= Decimal(record["amount"]):
            return f"the wallet's {record['asset']} on {record['chain']} fell from {record['before']} to {now}"
        return None

    def _with_gas(self, record: dict[str, Any]) -> dict[str, Any]:
        """The gas the send cost, from the native balance (None when it cannot be read)."""
        native = NATIVE[record["chain"]][0]
        after = self._balance(record["chain"], native)
        if after is None or record.get("native_before") is None:
            return {**record, "gas": None}
        spent = Decimal(record["native_before"]) - after - (Decimal(record["amount"]) if record["asset"] == native else 0)
        return {**record, "gas": str(max(spent, Decimal(0)))}

    def _transfer(self, client_id: str, record: dict[str, Any]) -> Transfer:
        started = datetime.fromtimestamp(record["asked_at"], tz=UTC)
        fee = float(record["gas"]) if record.get("gas") and record["asset"] == NATIVE[record["chain"]][0] else 0.0
        return Transfer(client_id=client_id, asset=record["asset"], amount=float(record["amount"]) + fee, fee=fee,
                        from_chain=record["chain"], to_chain=record["address"], status=TransferStatus.ARRIVED,
                        started_at=started, arrives_at=started + timedelta(minutes=MINUTES.get(record["chain"], 5.0)))

    def _balance(self, chain: str, asset: str) -> Decimal | None:
        try:
            amount = read_balance(self.api, chain, asset, self.addresses[chain])
        except VenueError:
            return None
        return amount if amount is None or self.zeros is None else self.zeros.judge(chain, asset, amount)

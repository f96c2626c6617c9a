"""Moves out of and into an exchange account through ccxt: deposit addresses, withdrawals, deposits.

| method                         | ccxt call (Binance endpoint)                                          |
| ------------------------------ | --------------------------------------------------------------------- |
| ``deposit_address``            | ``fetch_deposit_address(code, {"network"})`` (GET capital/deposit/address) |
| ``send`` (a withdrawal)        | ``withdraw(code, amount, address, {"network", "withdrawOrderId"})``   |
|                                | (POST capital/withdraw/apply)                                          |
| ``sent``                       | ``fetch_withdrawals(code, params={"withdrawOrderId"})`` (GET capital/withdraw/history) |
| ``deposits``                   | ``fetch_deposits(code, since)`` (GET capital/deposit/hisrec)           |

A chain is named as trimtab names it (``ethereum``, ``base``, ``solana``...); :data:`NETWORKS` maps it
to ccxt's unified network code (``ERC20``, ``BASE``, ``SOL``), which ccxt turns into the
exchange's id (Binance: ``ETH``, ``BASE``, ``SOL``).

Idempotency: before ``withdraw`` is called the intent (asset, amount, chain, address, the time) is
recorded in the venue's ledger under our client id; exchanges that take a client id for a
withdrawal (Binance's ``withdrawOrderId``) get it too. A known client id is never withdrawn again:
``send`` answers from the record. When the answer is lost (timeout, 5xx, 429) the withdrawal is
looked up in the history: by ``withdrawOrderId`` where the exchange has one, else by address,
amount and time among rows no other client id claimed. Found, it is adopted; not found, it stays
pending (``VenueUnavailable``) until ``settle_seconds`` have passed since the intent, after which
it is declared never made (``UnknownOrder``: the record is dropped and the executor may send it
under the same id). History reads cost Binance 18,000 of 180,000 UID weight a minute, so they are
made at most once per ``history_seconds`` per asset; a fresher question gets the last answer.

Statuses (ccxt's unified words over Binance's numbers 0-6): ``pending`` -> in transit (not yet
left the exchange), ``ok`` -> arrived on the sending side (broadcast; arrival is confirmed by the
receiving venue), ``failed``/``canceled`` -> ``OrderRejected`` (the amount returns to the account).
``Transfer.amount`` is what the account paid out; ``fee`` the withdrawal fee; what lands is
``amount - fee``; ``from_chain`` is the network's chain and ``to_chain`` the destination address.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trimtab.errors import OrderRejected, UnknownOrder, Unsupported, VenueError, VenueUnavailable
from trimtab.venues.base import Transfer, TransferStatus
from trimtab.venues.ccxt_errors import translated
from trimtab.venues.purpleflea_ledger import Ledger

#: trimtab chain name -> ccxt unified network code.
NETWORKS = {"ethereum": "ERC20", "base": "BASE", "solana": "SOL", "arbitrum": "ARBITRUM", "bsc": "BEP20",
            "tron": "TRC20", "bitcoin": "BTC", "optimism": "OPTIMISM", "polygon": "MATIC", "avalanche": "AVAXC"}
#: Minutes a withdrawal usually takes to leave and confirm, per chain (for ``arrives_at`` and costs).
MINUTES = {"ethereum": 10.0, "base": 5.0, "solana": 3.0, "arbitrum": 5.0, "bsc": 5.0, "tron": 5.0,
           "bitcoin": 60.0}
_KIND = "withdrawal"
#: How far the sending venue's clock may be from the exchange's when a deposit is matched to a move.
SKEW = timedelta(hours=1)


class CcxtMoves:
    """Withdrawals and deposit addresses of one exchange account (see the module docstring).

    ``ledger`` is a ``Ledger`` or the path of one (opened at the first move); ``read(call, operation)``
    is the venue's retrying read; ``client_id_param`` the withdraw
    parameter carrying our client id (None: the exchange takes none); ``clock`` Unix seconds.
    """

    def __init__(self, exchange: Any, ledger: Ledger | Path | None, *, name: str, read: Callable[..., Any],
                 client_id_param: str | None, settle_seconds: float = 300.0, history_seconds: float = 6.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.exchange, self.ledger, self.name, self.read = exchange, ledger, name, read
        self.client_id_param = client_id_param
        self.settle_seconds, self.history_seconds, self.clock = settle_seconds, history_seconds, clock
        self._history: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    # -- addresses -----------------------------------------------------------------------------

    def network(self, chain: str) -> str:
        network = NETWORKS.get(chain)
        if network is None:
            raise Unsupported(f"{self.name}: trimtab knows no network code for chain {chain!r} "
                              f"(it knows {', '.join(sorted(NETWORKS))}).")
        return network

    def deposit_address(self, asset: str, chain: str) -> str:
        """Where ``asset`` sent on ``chain`` is credited to this account; ``Unsupported`` when the
        exchange has no such asset or network (its words in the message)."""
        network = self.network(chain)
        try:
            answer = self.read(lambda: self.exchange.fetch_deposit_address(asset, {"network": network}),
                               f"read the {asset} deposit address on {chain} ({network})")
        except OrderRejected as e:
            raise Unsupported(f"{self.name} gives no {asset} deposit address on {chain}: {e.venue_message}",
                              venue_message=e.venue_message) from e
        if answer.get("tag"):
            raise Unsupported(f"{self.name}'s {asset} deposit address on {chain} needs a memo/tag, which trimtab's "
                              "sends do not carry; funds sent without it would be lost.")
        return str(answer["address"])

    # -- withdrawals ---------------------------------------------------------------------------

    def send(self, asset: str, amount: float, chain: str, address: str, client_id: str) -> Transfer:
        """Withdraw ``amount`` of ``asset`` on ``chain`` to ``address``, or answer for the one already
        made under ``client_id`` (never a second withdrawal)."""
        ledger = self._ledger()
        if ledger.get(client_id) is not None:
            return self.sent(client_id)
        if not address:
            raise OrderRejected(f"{self.name}: withdrawal {client_id} of {amount:g} {asset} has no address; "
                                "nothing is sent without one.")
        network = self.network(chain)
        record = {"asset": asset, "amount": amount, "chain": chain, "network": network, "address": address,
                  "asked_at": self.clock()}
        ledger.record(client_id, _KIND, "intent", record)
        params: dict[str, Any] = {"network": network}
        if self.client_id_param:
            params[self.client_id_param] = client_id
        operation = f"{self.name}: withdraw {amount:g} {asset} on {chain} to {address} (client id {client_id})"
        try:
            answer = translated(lambda: self.exchange.withdraw(asset, amount, address, params), operation)
        except VenueError as e:
            if not e.retryable:  # refused: nothing left the account
                ledger.forget(client_id)
                raise
            return self.sent(client_id)  # the answer was lost: look it up, never send again
        record = {**record, "withdrawal_id": answer.get("id")}
        ledger.record(client_id, _KIND, "sent", record)
        return self._transfer(client_id, record, None)

    def sent(self, client_id: str) -> Transfer:
        """The withdrawal under ``client_id`` as the exchange's history shows it (see the module)."""
        found = self._ledger().get(client_id)
        if found is None:
            raise UnknownOrder(f"{self.name} has no withdrawal {client_id}.")
        step, record, result = found
        if result is not None and result.get("final"):
            if result["status"] in ("failed", "canceled"):
                raise OrderRejected(result["why"], venue_message=result["status"])
            return self._transfer(client_id, record, result)
        row = self._find(client_id, record)
        if row is None:
            waited = self.clock() - record["asked_at"]
            if step == "intent" and waited >= self.settle_seconds:
                self._ledger().forget(client_id)
                raise UnknownOrder(f"{self.name}: withdrawal {client_id} is not in the history {waited:.0f} s after "
                                   "its answer was lost: it was never made.")
            if step == "intent":
                raise VenueUnavailable(f"{self.name}: the answer to withdrawal {client_id} was lost and the history "
                                       "does not show it yet; looking again later (never withdrawing twice).",
                                       venue_message="withdrawal unconfirmed")
            return self._transfer(client_id, record, None)  # made (we hold its id); the history lags
        if step == "intent" or not record.get("withdrawal_id"):
            record = {**record, "withdrawal_id": row.get("id")}
            self._ledger().record(client_id, _KIND, "sent", record)
        status = str(row.get("status") or "pending")
        fee = float(((row.get("fee") or {}).get("cost")) or 0.0)
        result = {"status": status, "fee": fee, "txid": row.get("txid"),
                  "final": status in ("ok", "failed", "canceled")}
        if status in ("failed", "canceled"):
            why = (f"{self.name}: withdrawal {client_id} of {record['amount']:g} {record['asset']} on {record['chain']} "
                   f"ended {status}" + (f" ({row['info'].get('info')})" if (row.get("info") or {}).get("info") else "")
                   + "; the amount returns to the account")
            self._ledger().record(client_id, _KIND, "sent", record, {**result, "why": why})
            raise OrderRejected(why, venue_message=status)
        if result["final"]:
            self._ledger().record(client_id, _KIND, "sent", record, result)
        return self._transfer(client_id, record, result)

    def _transfer(self, client_id: str, record: dict[str, Any], result: dict[str, Any] | None) -> Transfer:
        started = datetime.fromtimestamp(record["asked_at"], tz=UTC)
        done = result is not None and result.get("status") == "ok"
        return Transfer(client_id=client_id, asset=record["asset"], amount=float(record["amount"]),
                        fee=float((result or {}).get("fee") or 0.0), from_chain=record["chain"],
                        to_chain=record["address"],  # where it goes: the composite finds the venue by it
                        status=TransferStatus.ARRIVED if done else TransferStatus.IN_TRANSIT, started_at=started,
                        arrives_at=started + timedelta(minutes=MINUTES.get(record["chain"], 15.0)))

    def _find(self, client_id: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """The history row of this withdrawal, or None when the history does not show it."""
        rows = self._withdrawals(record["asset"], client_id)
        if record.get("withdrawal_id"):
            return next((r for r in rows if str(r.get("id")) == str(record["withdrawal_id"])), None)
        if self.client_id_param:
            return next((r for r in rows if (r.get("info") or {}).get(self.client_id_param) == client_id), None)
        claimed = {theirs.get("withdrawal_id") for other, _, theirs in self._ledger().records(_KIND) if other != client_id}
        for row in rows:
            if row.get("id") in claimed or not _same_address(row.get("address"), record["address"]):
                continue
            amount, fee = float(row.get("amount") or 0.0), float(((row.get("fee") or {}).get("cost")) or 0.0)
            close = any(math.isclose(a, record["amount"], rel_tol=1e-9, abs_tol=1e-8) for a in (amount, amount + fee))
            if close and (row.get("timestamp") or 0) / 1000 >= record["asked_at"] - 60:
                return row
        return None

    def _withdrawals(self, asset: str, client_id: str) -> list[dict[str, Any]]:
        """The withdrawal history of ``asset`` (by our client id where the exchange has one), read at
        most once per ``history_seconds``."""
        key = f"{asset}:{client_id}" if self.client_id_param else asset
        at, rows = self._history.get(key, (-math.inf, []))
        if time.monotonic() - at < self.history_seconds:
            return rows
        params = {self.client_id_param: client_id} if self.client_id_param else {}
        # no ``since``: with a client id Binance allows at most 7 days, and answers the last 7 by default
        rows = self.read(lambda: self.exchange.fetch_withdrawals(asset, None, None, params),
                         f"read the {asset} withdrawal history")
        self._history[key] = (time.monotonic(), rows)
        return rows

    def move_estimate(self, asset: str, amount: float, chain: str | None = None) -> dict[str, float]:
        """The withdrawal fee of ``asset`` on ``chain`` (default: the cheapest network trimtab names)
        from the exchange's own table (``fetch_deposit_withdraw_fees``; Binance: capital/config/getall),
        and the usual minutes; ``Unsupported`` when the exchange publishes none."""
        fees = self.read(lambda: self.exchange.fetch_deposit_withdraw_fees([asset]), f"read {asset} withdrawal fees")
        networks = (fees.get(asset) or {}).get("networks") or {}
        wanted = [chain] if chain else list(NETWORKS)
        known = {c: float(networks[NETWORKS[c]]["withdraw"]["fee"]) for c in wanted if NETWORKS.get(c) in networks
                 and (networks[NETWORKS[c]].get("withdraw") or {}).get("fee") is not None}
        if not known:
            raise Unsupported(f"{self.name} publishes no {asset} withdrawal fee for "
                              f"{chain or 'any network trimtab knows'}.")
        best = min(known, key=known.__getitem__)
        minutes = MINUTES.get(best, 15.0)
        return {"fee": known[best], "fixed_fee": known[best], "fee_rate": 0.0, "chain": best,  # type: ignore[dict-item]
                "seconds_low": minutes * 30, "seconds_high": minutes * 90}

    # -- deposits ------------------------------------------------------------------------------

    def received(self, client_id: str, sent: Transfer | None = None) -> float | None:
        """What a move ``client_id`` into this account has been credited, proven by a deposit of
        ``sent.received`` (within 1e-6) of the asset, status ok, made after the send started (less
        :data:`SKEW`) and claimed by no other move (the claim is recorded); None while none shows it."""
        ledger = self._ledger()
        key = f"deposit:{client_id}"  # never the sender's key, should both venues share one ledger file
        found = ledger.get(key)
        if found is not None and found[0] == "received":
            return float(found[1]["amount"])
        if sent is None:
            return None
        since = sent.started_at - SKEW  # the sender's clock is not the exchange's
        claimed = {theirs.get("deposit_id") for other, _, theirs in ledger.records("deposit") if other != key}
        for row in self.deposits(sent.asset, since):
            if row.get("status") != "ok" or row.get("id") in claimed:
                continue
            if math.isclose(float(row.get("amount") or 0.0), sent.received, rel_tol=1e-6, abs_tol=1e-6):
                ledger.record(key, "deposit", "received", {"deposit_id": row.get("id"), "txid": row.get("txid"),
                                                                 "amount": float(row["amount"])})
                return float(row["amount"])
        return None


    def deposits(self, asset: str, since: datetime) -> list[dict[str, Any]]:
        """Deposits of ``asset`` since ``since`` as ccxt reports them (``txid``, ``amount``, ``status``
        "pending"/"ok"), for confirming an arrival by its transaction."""
        stamp = int(since.timestamp() * 1000)
        return self.read(lambda: self.exchange.fetch_deposits(asset, stamp), f"read the {asset} deposit history")

    def _ledger(self) -> Ledger:
        if self.ledger is None:
            raise Unsupported(f"{self.name}: withdrawals need the venue's ledger (a record made before each one).")
        if isinstance(self.ledger, Path):  # opened on first use: reading a balance makes no file
            self.ledger = Ledger(self.ledger)
        return self.ledger

    def close(self) -> None:
        if isinstance(self.ledger, Ledger):
            self.ledger.close()


def _same_address(a: Any, b: str) -> bool:
    if not a:
        return False
    a = str(a)
    return a.lower() == b.lower() if a.startswith("0x") else a == b

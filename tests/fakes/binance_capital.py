"""Binance's capital (wallet) endpoints for the spot fake: deposit addresses, withdrawals, deposits.

As documented by Binance (developers.binance.com/docs/wallet/capital/...), with what ccxt 4.5 sends:

    fetch_deposit_address(code, {"network": "BASE"})   GET  /sapi/v1/capital/deposit/address  weight(IP) 10
    withdraw(code, amount, address, {"network": ..., "withdrawOrderId": cid})
                                                       POST /sapi/v1/capital/withdraw/apply   weight(UID) 900
    fetch_withdrawals(code, since, limit, {"withdrawOrderId": cid})
                                                       GET  /sapi/v1/capital/withdraw/history weight(UID) 18000,
                                                            and at most 10 requests a second
    fetch_deposits(code, since)                        GET  /sapi/v1/capital/deposit/hisrec   weight(IP) 1
    fetch_deposit_withdraw_fees([code])                GET  /sapi/v1/capital/config/getall    weight(IP) 10

Network ids are Binance's (``ETH``, ``BASE``, ``SOL``, ``BSC``, ``ARBITRUM``); ccxt maps its unified
codes (``ERC20`` -> ``ETH``) before sending. The hostile parts kept:

- A withdrawal is 4 (processing) from apply until the chain confirms it, with a ``txId`` once
  broadcast; then 6. Withdrawal statuses are numbers (0 email sent, 1 cancelled, 2 awaiting approval, 3 rejected,
  4 processing, 5 failure, 6 completed); deposit statuses too (0 pending, 1 success, 6 credited but
  cannot withdraw, 7 wrong deposit, 8 waiting user confirm).
- ``withdraw/apply`` answers only ``{"id"}``. A history row carries ``withdrawOrderId`` only when
  one was set, ``txId`` only once broadcast, ``info`` only on a failure, ``completeTime`` only when
  done. ``amount`` in a history row is what went on chain: the requested amount less
  ``transactionFee`` (the balance falls by the requested amount).
- ``withdrawOrderId`` filters the history to the last 7 days when no time range is given (a range
  over 7 days with it is -1127; ccxt's ``since`` makes a 90-day range, so look up without it); reusing
  one is *not* refused (the docs promise no uniqueness): a blind retry withdraws twice.
- Weights: every capital answer reports ``X-SAPI-USED-IP-WEIGHT-1M`` or ``X-SAPI-USED-UID-WEIGHT-1M``;
  past 180,000 UID weight in a minute (ten history reads) the answer is 429 -1003 with
  ``Retry-After``, as are more than 10 history reads in one second.
- Times in rows are the server's (real) clock; processing and confirmation delays run on the
  network's clock (the Purple Flea fakes' ``FakeClock``), so tests pass minutes at once.
- Knobs: ``withdraw_fees`` / ``withdraw_min`` per (coin, network), ``withdraw_seconds`` (apply ->
  broadcast, fake clock), ``next_withdrawal_outcome`` ("fail" -> status 5 with ``info`` and the
  amount returned; "reject" -> 3), ``drop_response_of_next("/sapi/v1/capital/withdraw/apply")``
  (applied, then the answer is lost), ``fail_next(path, 500)`` (refused unprocessed),
  ``completes_at_broadcast`` (True: status 6 as soon as the exchange's transaction is out, while the
  chain still carries it; the documentation promises no order between Binance's "completed" and
  the receiving wallet's balance showing the money, so a client must not take one for the other).

Error codes (ccxt's mapping in brackets): -4026 insufficient balance [InsufficientFunds], -4022
under the minimum [BadRequest], -4028 amount not above the fee [BadRequest], -4019 coin/network not
open for withdrawal [BadRequest], -4018 unknown asset [BadSymbol], -4033 illegal address [BadRequest].
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ._http import Response
from .binance_wire import s8
from .chain_network import ChainNetwork, ChainTransfer

#: Binance network id -> the chain name the Purple Flea fakes (and trimtab) use.
NETWORK_CHAINS = {"ETH": "ethereum", "BASE": "base", "SOL": "solana", "BSC": "bsc", "ARBITRUM": "arbitrum",
                  "TRX": "tron"}
EVM_NETWORKS = ("ETH", "BASE", "BSC", "ARBITRUM")

#: Withdrawal fees per (coin, network), in the coin (invented figures of Binance's usual size).
WITHDRAW_FEES = {("USDC", "ETH"): Decimal("1.5"), ("USDC", "BASE"): Decimal("0.2"), ("USDC", "SOL"): Decimal(1),
                 ("USDT", "ETH"): Decimal("1.5"), ("USDT", "SOL"): Decimal(1), ("USDT", "BSC"): Decimal("0.1"),
                 ("ETH", "ETH"): Decimal("0.0008"), ("ETH", "BASE"): Decimal("0.00004"),
                 ("SOL", "SOL"): Decimal("0.008"), ("BTC", "BTC"): Decimal("0.0000072")}
WITHDRAW_MIN = {("USDC", "ETH"): Decimal(10), ("USDC", "BASE"): Decimal(1), ("USDC", "SOL"): Decimal(2),
                ("USDT", "ETH"): Decimal(10), ("USDT", "SOL"): Decimal(2), ("USDT", "BSC"): Decimal(1),
                ("ETH", "ETH"): Decimal("0.0016"), ("ETH", "BASE"): Decimal("0.0001"), ("SOL", "SOL"): Decimal("0.02"),
                ("BTC", "BTC"): Decimal("0.0001")}

#: Request weights of the capital endpoints: (limit kind, weight).
WEIGHTS = {"/sapi/v1/capital/config/getall": ("IP", 10), "/sapi/v1/capital/deposit/address": ("IP", 10), "/sapi/v1/capital/withdraw/apply": ("UID", 900),
           "/sapi/v1/capital/withdraw/history": ("UID", 18000), "/sapi/v1/capital/deposit/hisrec": ("IP", 1)}
UID_LIMIT_1M = 180_000
HISTORY_PER_SECOND = 10


@dataclass
class Withdrawal:
    id: str
    coin: str
    network: str
    address: str
    amount: Decimal  # requested (the balance fell by this)
    fee: Decimal
    applied_at: float  # capital clock seconds (processing delays)
    applied_ms: int  # server time (what the rows show, what time filters compare)
    client_id: str | None
    status: int = 4
    tx_id: str | None = None
    info: str | None = None
    completed_at: float | None = None


class CapitalMixin:
    """Capital endpoints on ``BinanceSpotFake`` (which calls ``_init_capital`` and ``_advance_capital``)."""

    balances: dict[str, Decimal]
    lock: Any

    def _init_capital(self, network: ChainNetwork | None) -> None:
        self.network = network
        self.capital_clock = network.clock if network is not None else None
        self.withdraw_fees = dict(WITHDRAW_FEES)
        self.withdraw_min = dict(WITHDRAW_MIN)
        self.withdraw_seconds = 30.0
        self.completes_at_broadcast = False
        self.next_withdrawal_outcome: str | None = None
        self.withdrawals: list[Withdrawal] = []
        self.deposits: list[dict[str, Any]] = []
        self.deposit_addresses: dict[tuple[str, str], str] = {}  # (coin, network) -> address
        self._uid_minute, self._uid_used = 0, 0
        self._history_second, self._history_count = 0, 0
        self._capital_ids = itertools.count(1)
        if network is not None:
            network.attach(self)

    # -- clock ---------------------------------------------------------------------------------
    def _now_s(self) -> float:
        if self.capital_clock is not None:
            return self.capital_clock.now()
        import time
        return time.time()

    # -- knobs and state -----------------------------------------------------------------------
    def deposit_address_of(self, coin: str, network: str) -> str:
        with self.lock:
            key = (coin, network)
            if key not in self.deposit_addresses:
                # Binance gives one address per address space: every EVM network shares it.
                same_space = next((a for (c, n), a in self.deposit_addresses.items()
                                   if network in EVM_NETWORKS and n in EVM_NETWORKS), None)
                self.deposit_addresses[key] = same_space or _new_address(network)
            return self.deposit_addresses[key]

    def withdrawal_by_client_id(self, client_id: str) -> list[Withdrawal]:
        with self.lock:
            return [w for w in self.withdrawals if w.client_id == client_id]

    # -- weights -------------------------------------------------------------------------------
    def _capital_weight(self, path: str) -> Response | None:
        """Count the weight of a capital request; a 429 when a limit is passed (None: go on)."""
        kind, weight = WEIGHTS[path]
        now_ms = self.server_time_ms()  # type: ignore[attr-defined]
        if kind == "UID":
            minute = now_ms // 60_000
            if minute != self._uid_minute:
                self._uid_minute, self._uid_used = minute, 0
            self._uid_used += weight
            if self._uid_used > UID_LIMIT_1M:
                return Response(429, {"code": -1003, "msg": f"Too much request weight used; current limit is "
                                      f"{UID_LIMIT_1M} request weight per 1 MINUTE. Please use WebSocket Streams for "
                                      "live updates to avoid polling the API."},
                                {"Retry-After": str(60 - now_ms // 1000 % 60)})
        if path.endswith("/withdraw/history"):
            second = now_ms // 1000
            if second != self._history_second:
                self._history_second, self._history_count = second, 0
            self._history_count += 1
            if self._history_count > HISTORY_PER_SECOND:
                return Response(429, {"code": -1003, "msg": "Too many requests; please try again later."},
                                {"Retry-After": "1"})
        return None

    def _weight_headers(self, path: str) -> dict[str, str]:
        kind, _ = WEIGHTS[path]
        if kind == "UID":
            return {"X-SAPI-USED-UID-WEIGHT-1M": str(self._uid_used)}
        return {"X-SAPI-USED-IP-WEIGHT-1M": str(self._weight_used)}  # type: ignore[attr-defined]

    # -- progress ------------------------------------------------------------------------------
    def _advance_capital(self) -> None:
        """Withdrawals past ``withdraw_seconds`` are broadcast (a txId, still 4 processing) or fail
        (5, or 3 rejected, the amount returned); a broadcast one turns 6 (completed) when the chain
        confirms it (``arrived``). Without a network, it completes at broadcast."""
        now = self._now_s()
        for w in self.withdrawals:
            if w.status != 4 or w.tx_id is not None or now - w.applied_at < self.withdraw_seconds:
                continue
            if w.info is not None:  # a failure decided at apply time shows once processed
                w.status = 5 if w.info.startswith("Withdrawal failed") else 3
                self.balances[w.coin] = self.balances.get(w.coin, Decimal(0)) + w.amount
                continue
            w.tx_id = "0x" + secrets.token_hex(32) if w.network in EVM_NETWORKS else _b58(88)
            if self.network is None:
                w.status, w.completed_at = 6, now
                continue
            self.network.broadcast(chain=NETWORK_CHAINS.get(w.network, w.network.lower()), asset=w.coin,
                                   amount=w.amount - w.fee, to=w.address, tx_hash=w.tx_id,
                                   sender="binance-hot-wallet", origin="binance")
            if self.completes_at_broadcast:
                w.status, w.completed_at = 6, now

    # -- chain receiver ------------------------------------------------------------------------
    def seen(self, transfer: ChainTransfer) -> None:
        """A transfer to one of our deposit addresses shows as a pending deposit (status 0)."""
        with self.lock:
            mine = self._deposit_network(transfer)
            if mine is None:
                return
            self.deposits.append({
                "id": str(next(self._capital_ids) + 4_000_000_000), "amount": s8(transfer.amount),
                "coin": transfer.asset, "network": mine, "status": 0, "address": transfer.to, "addressTag": "",
                "txId": transfer.tx_hash, "insertTime": self.server_time_ms(),  # type: ignore[attr-defined]
                "transferType": 0,
                "confirmTimes": "0/12", "unlockConfirm": 12, "walletType": 0})

    def arrived(self, transfer: ChainTransfer) -> None:
        """Confirmed: our withdrawal turns 6 (completed); a deposit turns 1 (success) and is credited."""
        with self.lock:
            for w in self.withdrawals:
                if w.tx_id == transfer.tx_hash and w.status == 4:
                    w.status, w.completed_at = 6, self._now_s()
            for row in self.deposits:
                if row["txId"] == transfer.tx_hash and row["address"] == transfer.to and row["status"] == 0:
                    row.update(status=1, confirmTimes="12/12")
                    self.balances[transfer.asset] = self.balances.get(transfer.asset, Decimal(0)) + transfer.amount

    def _deposit_network(self, transfer: ChainTransfer) -> str | None:
        for (coin, network), address in self.deposit_addresses.items():
            same = address.lower() == transfer.to.lower() if network in EVM_NETWORKS else address == transfer.to
            if same and NETWORK_CHAINS.get(network) == transfer.chain and transfer.origin != "binance":
                return network
        return None

    # -- endpoints -----------------------------------------------------------------------------
    def _deposit_address(self, params: dict) -> Response:
        coin, network = params.get("coin", ""), params.get("network") or _default_network(params.get("coin", ""))
        if coin not in self.balances and not any(coin == c for c, _ in self.withdraw_fees):
            return Response(400, {"code": -4018, "msg": "We don't have this asset."})
        if network not in NETWORK_CHAINS and network != "BTC":
            return Response(400, {"code": -4019, "msg": "Current asset is not open for deposit."})
        address = self.deposit_address_of(coin, network)
        return Response(200, {"address": address, "coin": coin, "tag": "",
                              "url": f"https://explorer.example/{network.lower()}/address/{address}"})

    def _config_getall(self, params: dict) -> Response:
        """Every coin with its networks: fees, minimums, whether deposits and withdrawals are open."""
        coins = sorted({c for c, _ in self.withdraw_fees} | set(self.balances))
        rows = []
        for coin in coins:
            networks = [n for c, n in self.withdraw_fees if c == coin]
            rows.append({"coin": coin, "depositAllEnable": True, "withdrawAllEnable": True, "name": coin,
                         "free": s8(self.balances.get(coin, Decimal(0))), "locked": "0", "freeze": "0",
                         "withdrawing": "0", "ipoing": "0", "ipoable": "0", "storage": "0", "isLegalMoney": False,
                         "trading": True, "networkList": [{
                             "network": n, "coin": coin, "withdrawIntegerMultiple": "0.00000001",
                             "isDefault": n == _default_network(coin), "depositEnable": True, "withdrawEnable": True,
                             "depositDesc": "", "withdrawDesc": "", "specialTips": "", "name": n,
                             "resetAddressStatus": False, "addressRegex": "", "memoRegex": "",
                             "withdrawFee": s8(self.withdraw_fees[(coin, n)]),
                             "withdrawMin": s8(self.withdraw_min.get((coin, n), self.withdraw_fees[(coin, n)])),
                             "withdrawMax": "9999999.00000000", "minConfirm": 12, "unLockConfirm": 12,
                             "sameAddress": False, "estimatedArrivalTime": 5, "busy": False,
                             "contractAddressUrl": "", "contractAddress": ""} for n in networks]})
        return Response(200, rows)

    def _withdraw_apply(self, params: dict) -> Response:
        coin, address = params.get("coin", ""), params.get("address", "")
        if not coin or not address or not params.get("amount"):
            return Response(400, {"code": -1102, "msg": "Mandatory parameter 'amount' was not sent, was empty/null, "
                                  "or malformed."})
        network = params.get("network") or _default_network(coin)
        amount = Decimal(params["amount"])
        if coin not in self.balances and not any(coin == c for c, _ in self.withdraw_fees):
            return Response(400, {"code": -4018, "msg": "We don't have this asset."})
        fee = self.withdraw_fees.get((coin, network))
        if fee is None:
            return Response(400, {"code": -4019, "msg": "Current asset is not open for withdrawal."})
        if not _valid_address(network, address):
            return Response(400, {"code": -4033, "msg": "Illegal address."})
        minimum = self.withdraw_min.get((coin, network), fee)
        if amount < minimum:
            return Response(400, {"code": -4022, "msg": f"Not less than the minimum pick-up quantity {minimum}."})
        if amount <= fee:
            return Response(400, {"code": -4028, "msg": "The amount of withdrawal must be greater than the Commission."})
        if self.balances.get(coin, Decimal(0)) < amount:
            return Response(400, {"code": -4026, "msg": "You have insufficient balance."})
        self.balances[coin] -= amount
        w = Withdrawal(id=secrets.token_hex(16), coin=coin, network=network, address=address, amount=amount, fee=fee,
                       applied_at=self._now_s(), applied_ms=self.server_time_ms(),  # type: ignore[attr-defined]
                       client_id=params.get("withdrawOrderId") or None)
        outcome, self.next_withdrawal_outcome = self.next_withdrawal_outcome, None
        if outcome == "fail":
            w.info = "Withdrawal failed: the network rejected the transaction. The amount has been returned."
        elif outcome == "reject":
            w.info = "Rejected by risk control. The amount has been returned."
        self.withdrawals.append(w)
        return Response(200, {"id": w.id})

    def _withdraw_history(self, params: dict) -> Response:
        now_ms = self.server_time_ms()  # type: ignore[attr-defined]
        start = int(params["startTime"]) if params.get("startTime") else None
        end = int(params["endTime"]) if params.get("endTime") else None
        client_id = params.get("withdrawOrderId")
        if client_id and start is None and end is None:
            start = now_ms - 7 * 86_400_000  # with withdrawOrderId and no range: the last 7 days
        elif start is None:
            start = now_ms - 90 * 86_400_000
        end = end if end is not None else now_ms
        if client_id and end - start > 7 * 86_400_000:
            return Response(400, {"code": -1127, "msg": "More than 7 days between startTime and endTime."})
        if end - start > 90 * 86_400_000:
            return Response(400, {"code": -1127, "msg": "More than 90 days between startTime and endTime."})
        ids = set(params["idList"].split(",")) if params.get("idList") else None
        rows = [self._withdrawal_row(w) for w in reversed(self.withdrawals)
                if (not params.get("coin") or w.coin == params["coin"])
                and (client_id is None or w.client_id == client_id)
                and (ids is None or w.id in ids)
                and (params.get("status") is None or str(w.status) == params["status"])
                and start <= w.applied_ms <= end]
        offset, limit = int(params.get("offset") or 0), min(int(params.get("limit") or 1000), 1000)
        return Response(200, rows[offset:offset + limit])

    def _withdrawal_row(self, w: Withdrawal) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": w.id, "amount": s8(w.amount - w.fee), "transactionFee": s8(w.fee), "coin": w.coin,
            "status": w.status, "address": w.address,
            "applyTime": datetime.fromtimestamp(w.applied_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "network": w.network, "transferType": 0, "walletType": 0, "txKey": ""}
        if w.client_id:
            row["withdrawOrderId"] = w.client_id
        if w.tx_id:
            row.update(txId=w.tx_id, confirmNo=12)
        if w.info and w.status in (3, 5):
            row["info"] = w.info
        if w.completed_at is not None:
            done_ms = w.applied_ms + int((w.completed_at - w.applied_at) * 1000)
            row["completeTime"] = datetime.fromtimestamp(done_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return row

    def _deposit_history(self, params: dict) -> Response:
        now_ms = self.server_time_ms()  # type: ignore[attr-defined]
        start = int(params["startTime"]) if params.get("startTime") else now_ms - 90 * 86_400_000
        end = int(params["endTime"]) if params.get("endTime") else now_ms
        rows = [dict(d) for d in reversed(self.deposits)
                if (not params.get("coin") or d["coin"] == params["coin"])
                and (params.get("txId") is None or d["txId"] == params["txId"])
                and (params.get("status") is None or str(d["status"]) == params["status"])
                and start <= d["insertTime"] <= end]
        offset, limit = int(params.get("offset") or 0), min(int(params.get("limit") or 1000), 1000)
        return Response(200, rows[offset:offset + limit])


def _default_network(coin: str) -> str:
    return {"SOL": "SOL", "BTC": "BTC", "BNB": "BSC"}.get(coin, "ETH")


def _valid_address(network: str, address: str) -> bool:
    if network in EVM_NETWORKS:
        return address.startswith("0x") and len(address) == 42
    if network == "SOL":
        return 32 <= len(address) <= 44 and address.isalnum()
    return bool(address)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58(n: int) -> str:
    return "".join(secrets.choice(_B58) for _ in range(n))


def _new_address(network: str) -> str:
    if network in EVM_NETWORKS:
        return "0x" + secrets.token_hex(20)
    if network == "SOL":
        return _b58(44)
    return "bc1q" + secrets.token_hex(19)

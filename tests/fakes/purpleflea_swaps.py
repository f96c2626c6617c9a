"""The wallet fake's Wagyu: quotes and deposit-address orders that move on a fake clock (§4.6, §6).

An order advances only after a send of exactly ``deposit.amount`` of ``deposit.token`` to
``deposit.address`` on the source chain before ``expires_at``. It then goes ``processing`` and,
``delay_seconds`` later (default: the quote's ``estimatedTime``), reaches its scripted outcome:
``completed`` (the output is credited to ``to_address`` on ``to_chain``), ``failed`` (nothing comes
back) or ``refunded`` (the deposit returns to its sender). Unpaid orders become ``expired``.
``credit_lag_seconds`` (default 0) makes a completed order's output reach the balance that long
after its status says ``completed`` (``float("inf")``: never), as a status that runs ahead of the
chain, or a completion that paid nothing, would.

The status strings, ``deposit.chain`` values (chain ids) and ``expires_at`` format (ISO) are
invented, because the real ones are unspecified (§6): ``status_names`` and ``deposit_chains`` are
attributes a test may change (``status_names["completed"] = "settled"``: a word no client has seen).
``deposit.amount`` is in smallest units, like ``fromAmount`` (``deposit_amount_unit = "decimal"``
gives decimals instead: the unit is unspecified too).

Wagyu's own limits (§4.6): per IP, 5 orders, 20 quotes and 20 status checks a minute, and the
Purple Flea server is *one* IP shared by every client. The fake counts each kind in fixed 60 s
windows of the fake clock (from the first call; refused calls count), ``other_clients[kind]`` calls
by other agents already spent at the start of each window, and answers a call past the limit as the
server surfaces Wagyu's 429: 400 ``quote_failed`` / ``swap_failed`` / ``status_check_failed``. A
``POST /wallet/swap`` is a quote and an order to Wagyu (the server quotes again first).

The status payload is Wagyu's order with only the fields the contract lists: ``orderId, status,
depositTxHash, actualOutput, errorMessage, refundTxHash, createdAt, completedAt``; in particular no
deposit address, which only the creating ``POST`` answer carries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from .purpleflea import ApiError, FakeClock
from .purpleflea_chains import EVM, NATIVE, SWAP_CHAINS, USDC, USDT, new_address, new_tx_hash

INTEGRATOR_FEE = Decimal("0.005")
TREASURY = "0x6328" + "d1e9896" * 5 + "a"
STATUS_NAMES = {"awaiting": "awaiting_deposit", "processing": "processing", "completed": "completed",
                "failed": "failed", "refunded": "refunded", "expired": "expired"}
WAGYU_LIMITS = {"quote": 20, "order": 5, "status": 20}
DEPOSIT_CHAINS = {"ethereum": "1", "base": "8453", "arbitrum": "42161", "bsc": "56", "hyperevm": "999",
                  "solana": "solana", "bitcoin": "bitcoin", "monero": "monero"}


@dataclass
class SwapOrder:
    swap_id: str
    order_id: str
    agent_id: str
    from_chain: str
    to_chain: str
    from_symbol: str
    to_symbol: str
    from_amount: int  # smallest units
    to_amount: int  # smallest units
    to_address: str
    deposit_address: str
    created_at: float
    expires_at: float
    delay_seconds: float
    outcome: str  # completed | failed | refunded
    quote: dict
    fee_usd: float
    request: dict  # the fields as the client sent them (activity echoes from_token/to_token)
    state: str = "awaiting"
    deposited_at: float | None = None
    deposit_tx: str | None = None
    depositor: str | None = None
    completed_at: float | None = None
    refund_tx: str | None = None
    error: str | None = None
    credit_due: float | None = None  # when a completed order's output reaches the balance (None: paid)
    wrong_deposits: list[tuple[str, Decimal]] = field(default_factory=list)


def resolve_token(chain: str, token: str) -> tuple[str, int]:
    """(symbol, decimals) of a swap token: contract address, native symbol, or USDC/USDT (§4.1)."""
    native, decimals, _ = NATIVE[chain]
    wanted = token.strip()
    for symbol, table in (("USDC", USDC), ("USDT", USDT)):
        if chain in table and wanted.lower() == table[chain][0].lower():
            return symbol, table[chain][1]
    if wanted.upper() == native:
        return native, decimals
    by_symbol = {"ethereum": ("USDC", "USDT"), "arbitrum": ("USDC", "USDT"), "bsc": ("USDC", "USDT"), "base": ("USDC",)}
    if wanted.upper() in by_symbol.get(chain, ()):
        table = USDC if wanted.upper() == "USDC" else USDT
        return wanted.upper(), table[chain][1]
    raise ApiError(400, "quote_failed", f"Unsupported token {token} on {chain}")


def decimals_of(chain: str, symbol: str) -> int:
    """Decimals of a swap asset: the native's, else USDC's/USDT's on that chain (18 on bsc)."""
    if symbol == NATIVE[chain][0]:
        return NATIVE[chain][1]
    return (USDC if symbol == "USDC" else USDT).get(chain, (None, 6))[1]


def _estimated_time(from_chain: str, to_chain: str) -> int:
    chains = {from_chain, to_chain}
    if chains & {"bitcoin", "monero"}:
        return 1800
    if "solana" in chains and from_chain != to_chain:
        return 600
    return 30 if from_chain == to_chain else 180


class Wagyu:
    """Quotes and orders; ``credit(chain, address, symbol, amount)`` pays out into the wallet's balances."""

    def __init__(self, clock: FakeClock, prices: dict[str, float], credit: Any) -> None:
        self.clock, self.prices, self.credit = clock, prices, credit
        self.orders: list[SwapOrder] = []
        self.up = True
        self.rate_limited_calls = 0  # the next N Wagyu calls answer 429 (surfacing as a 400, §4.6)
        self.next_outcomes: list[str] = []  # popped per new order; default "completed"
        self.delay_seconds: float | None = None  # None: the quote's estimatedTime
        self.expiry_seconds = 1800.0
        self.credit_lag_seconds = 0.0  # a completed order pays out this long after its status says so
        self.route_cost = {"same_chain": Decimal("0.001"), "bridge": Decimal("0.002")}
        self.status_names = dict(STATUS_NAMES)
        self.deposit_chains = dict(DEPOSIT_CHAINS)
        self.deposit_amount_unit = "smallest"  # or "decimal" (§4.6: the unit is unspecified)
        self.limits = dict(WAGYU_LIMITS)  # calls per 60 s per IP; the server is one IP for all clients
        self.other_clients = {"quote": 0, "order": 0, "status": 0}  # spent by others in each window
        self.calls: dict[str, int] = {"quote": 0, "order": 0, "status": 0}  # every call, refused or not
        self.log: list[tuple[str, float, bool]] = []  # (kind, fake time, answered) of every call
        self._windows: dict[str, list[float]] = {}  # kind -> [window start, calls in it]

    def _call(self, failure_code: str, kind: str) -> None:
        self.calls[kind] += 1
        if not self.up:
            raise ApiError(400, failure_code, "Wagyu API unreachable: fetch failed")
        now = self.clock.now()
        window = self._windows.get(kind)
        if window is None or now - window[0] >= 60:
            window = self._windows[kind] = [now, self.other_clients.get(kind, 0)]
        window[1] += 1
        if self.rate_limited_calls or window[1] > self.limits[kind]:
            self.rate_limited_calls = max(self.rate_limited_calls - 1, 0)
            self.log.append((kind, now, False))
            raise ApiError(400, failure_code, "Wagyu API error 429: Too many requests, please slow down")
        self.log.append((kind, now, True))

    def busiest_minute(self, kind: str) -> int:
        """The most ``kind`` calls made in any 60 s of fake time (refused ones included)."""
        times = sorted(t for k, t, _ in self.log if k == kind)
        return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)

    def quote(self, q: dict, failure_code: str = "quote_failed") -> dict:
        """Wagyu's raw quote for ``amount`` smallest units of ``from_token`` (string amounts, seconds)."""
        self._call(failure_code, "quote")
        for side in ("from_chain", "to_chain"):
            if q[side] not in SWAP_CHAINS:
                which = "source" if side == "from_chain" else "destination"
                raise ApiError(400, failure_code, f"Unsupported {which} chain: {q[side]}")
        from_symbol, from_dec = resolve_token(q["from_chain"], q["from_token"])
        to_symbol, to_dec = resolve_token(q["to_chain"], q["to_token"])
        if not str(q["amount"]).isdigit() or int(q["amount"]) <= 0:
            raise ApiError(400, failure_code, f"Invalid fromAmount: {q['amount']} (smallest units expected)")
        from_amount = int(q["amount"])
        usd = Decimal(from_amount) / 10**from_dec * Decimal(str(self.prices[from_symbol]))
        minimum = 25 if "monero" in (q["from_chain"], q["to_chain"]) else 15
        if usd < minimum:
            raise ApiError(400, failure_code, f"Amount too small: minimum is ${minimum}")
        cost = self.route_cost["same_chain" if q["from_chain"] == q["to_chain"] else "bridge"]
        out_usd = usd * (1 - INTEGRATOR_FEE - cost)
        to_amount = int((out_usd / Decimal(str(self.prices[to_symbol])) * 10**to_dec).to_integral_value(ROUND_DOWN))
        return {"fromAmount": str(from_amount), "fromAmountUsd": f"{usd:.2f}", "fromSymbol": from_symbol,
                "toAmount": str(to_amount), "toAmountUsd": f"{out_usd:.2f}", "toSymbol": to_symbol,
                "estimatedTime": _estimated_time(q["from_chain"], q["to_chain"]),
                "minReceived": str(int(to_amount * 99 // 100))}

    def create(self, agent_id: str, q: dict) -> SwapOrder:
        quote = self.quote(q, "swap_failed")
        self._call("swap_failed", "order")
        now = self.clock.now()
        order = SwapOrder(
            swap_id=f"swap_{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:3]}", order_id=str(uuid.uuid4()),
            agent_id=agent_id,
            from_chain=q["from_chain"], to_chain=q["to_chain"], from_symbol=quote["fromSymbol"],
            to_symbol=quote["toSymbol"], from_amount=int(quote["fromAmount"]), to_amount=int(quote["toAmount"]),
            to_address=q["to_address"], deposit_address=new_address(q["from_chain"]), created_at=now,
            expires_at=now + self.expiry_seconds,
            delay_seconds=self.delay_seconds if self.delay_seconds is not None else quote["estimatedTime"],
            outcome=self.next_outcomes.pop(0) if self.next_outcomes else "completed", quote=quote,
            fee_usd=round(float(quote["fromAmountUsd"]) * float(INTEGRATOR_FEE), 2), request=dict(q))
        self.orders.append(order)
        return order

    def by_deposit_address(self, chain: str, address: str) -> SwapOrder | None:
        norm = (lambda a: a.lower()) if chain in EVM else (lambda a: a)
        matches = (o for o in self.orders if o.from_chain == chain and norm(o.deposit_address) == norm(address))
        return next(matches, None)

    def deposit(self, order: SwapOrder, symbol: str, amount: Decimal, tx_hash: str, sender: str) -> None:
        """A send reached a deposit address: only the exact amount of the right token, in time, counts."""
        raw = amount * 10 ** decimals_of(order.from_chain, symbol)
        exact = symbol == order.from_symbol and raw == order.from_amount
        if order.state == "awaiting" and exact and self.clock.now() < order.expires_at:
            order.state, order.deposited_at, order.deposit_tx, order.depositor = (
                "processing", self.clock.now(), tx_hash, sender)
        else:
            order.wrong_deposits.append((symbol, amount))

    def advance(self) -> None:
        """Move every order as far as the clock allows; pay out completions and refunds."""
        now = self.clock.now()
        for o in self.orders:
            if o.state == "awaiting" and now >= o.expires_at:
                o.state = "expired"
            elif o.state == "processing" and now >= o.deposited_at + o.delay_seconds:
                o.state, o.completed_at = o.outcome, now
                if o.outcome == "completed":
                    o.credit_due = now + self.credit_lag_seconds
                elif o.outcome == "refunded":
                    o.refund_tx = new_tx_hash(o.from_chain)
                    amount = Decimal(o.from_amount) / 10 ** decimals_of(o.from_chain, o.from_symbol)
                    self.credit(o.from_chain, o.depositor, o.from_symbol, amount)
                else:
                    o.error = "Bridge execution failed: route reverted"
            if o.credit_due is not None and now >= o.credit_due:
                o.credit_due = None
                amount = Decimal(o.to_amount) / 10 ** decimals_of(o.to_chain, o.to_symbol)
                self.credit(o.to_chain, o.to_address, o.to_symbol, amount)

    def status(self, order_id: str) -> dict:
        """Wagyu's order JSON, passed through unchanged by the wallet API."""
        self._call("status_check_failed", "status")
        order = next((o for o in self.orders if o.order_id == order_id), None)
        if order is None:
            raise ApiError(400, "status_check_failed", f"Wagyu API error 404: order {order_id} not found")
        clock = FakeClock(order.created_at)
        done = FakeClock(order.completed_at).iso() if order.completed_at else None
        return {"orderId": order.order_id, "status": self.status_names[order.state], "depositTxHash": order.deposit_tx,
                "actualOutput": str(order.to_amount) if order.state == "completed" else None,
                "errorMessage": order.error, "refundTxHash": order.refund_tx, "createdAt": clock.iso(),
                "completedAt": done}

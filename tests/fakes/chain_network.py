"""The chains between fakes: what one fake sends to an address arrives at another fake after a delay.

Neither Binance nor Purple Flea runs a chain; in production a withdrawal from Binance to a wallet
address, or a wallet ``/send`` to Binance's deposit address, crosses a real one. ``ChainNetwork``
stands in for it so the fakes can be linked in a test:

    network = ChainNetwork(clock)                      # the Purple Flea fakes' FakeClock, or a new one
    binance = BinanceSpotFake(network=network)         # withdrawals broadcast here; deposits read here
    wallet = WalletFake(clock, network=network)        # /send broadcasts here; withdrawals land here

A transfer is ``broadcast`` by the sending fake (on the chain, with a tx hash) and reaches its
address ``delays[chain]`` seconds of ``clock`` later, when some fake (or the test) calls
``settle()``. Each attached receiver hears ``seen(t)`` at broadcast and ``arrived(t)`` when due;
it acts only on addresses it owns (Binance: its deposit addresses) or, for the wallet fake, on any
address of a chain it keeps balances for (it *is* the chain's state for ethereum, base, solana).

Receivers are called without the network's lock held, so two fakes never wait on each other's lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from .purpleflea import FakeClock

#: Seconds from broadcast to the confirmations an exchange credits on (invented, inside the usual
#: range: Binance credits ETH-chain deposits after 6 blocks, Base after ~1 min, Solana in seconds).
DELAYS = {"ethereum": 90.0, "base": 60.0, "solana": 20.0, "arbitrum": 60.0, "bsc": 45.0, "tron": 60.0}


@dataclass
class ChainTransfer:
    chain: str
    asset: str
    amount: Decimal
    to: str
    tx_hash: str
    sender: str
    origin: str  # which fake broadcast it: "binance" or "wallet"
    at: float
    due: float
    arrived: bool = field(default=False)


class Receiver(Protocol):
    def seen(self, transfer: ChainTransfer) -> None: ...

    def arrived(self, transfer: ChainTransfer) -> None: ...


class ChainNetwork:
    """Transfers in flight between linked fakes (see the module docstring); ``log`` is every one."""

    def __init__(self, clock: FakeClock | None = None, delays: dict[str, float] | None = None) -> None:
        self.clock = clock or FakeClock()
        self.delays = dict(DELAYS if delays is None else delays)
        self.receivers: list[Receiver] = []
        self.log: list[ChainTransfer] = []
        self._lock = threading.RLock()

    def attach(self, receiver: Receiver) -> None:
        with self._lock:
            self.receivers.append(receiver)

    def broadcast(self, *, chain: str, asset: str, amount: Decimal, to: str, tx_hash: str, sender: str,
                  origin: str) -> ChainTransfer:
        """Put a transfer on ``chain``; receivers hear of it now and see it arrive after the delay."""
        now = self.clock.now()
        transfer = ChainTransfer(chain=chain, asset=asset, amount=Decimal(amount), to=to, tx_hash=tx_hash,
                                 sender=sender, origin=origin, at=now, due=now + self.delays.get(chain, 60.0))
        with self._lock:
            self.log.append(transfer)
            receivers = list(self.receivers)
        for receiver in receivers:
            receiver.seen(transfer)
        return transfer

    def settle(self) -> list[ChainTransfer]:
        """Deliver every transfer now due; return them."""
        now = self.clock.now()
        with self._lock:
            due = [t for t in self.log if not t.arrived and t.due <= now]
            for t in due:
                t.arrived = True
            receivers = list(self.receivers)
        for transfer in due:
            for receiver in receivers:
                receiver.arrived(transfer)
        return due

    def in_flight(self) -> list[ChainTransfer]:
        with self._lock:
            return [t for t in self.log if not t.arrived]

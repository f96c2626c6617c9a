"""ccxt's exceptions translated once into trimtab's, and a retrier that retries only what may pass.

Every call the ccxt venue makes goes through :func:`translated` (writes) or :func:`retrying`
(reads): a ccxt exception leaves this module as a :mod:`trimtab.errors` class, with the operation,
the market and the amounts in the message, the exchange's own words in ``venue_message``, and the
ccxt exception chained (``from e``). Nothing above ``venues/`` imports ccxt.

| ccxt                                         | trimtab               | retried here |
| -------------------------------------------- | --------------------- | ------------ |
| ``OrderNotFound``                            | ``UnknownOrder``      | no           |
| ``InsufficientFunds``                        | ``InsufficientFunds`` | no           |
| ``InvalidOrder``/``BadRequest`` naming a     | ``BelowMinimum``      | no           |
| minimum (NOTIONAL, LOT_SIZE, MIN_, min ...)  |                       |              |
| other ``InvalidOrder``/``BadRequest``/...    | ``OrderRejected``     | no           |
| ``NotSupported``                             | ``Unsupported``       | no           |
| ``AuthenticationError``/``PermissionDenied`` | ``KeyRejected``       | no           |
| ``DDoSProtection`` (HTTP 429/418)            | ``RateLimited``       | reads: yes   |
| ``NetworkError`` (timeouts, 5xx, nonce)      | ``VenueUnavailable``  | reads: yes   |
| other ``OperationFailed`` (Binance -1000,    | ``VenueUnavailable``  | reads: yes   |
| -1001, -1006, -1007: "execution status       |                       |              |
| unknown"; ``BadResponse``)                   |                       |              |

Writes (``create_order``) are never retried here: a lost answer may hide a placed order, so the
venue looks the order up by client id before it could ever send it again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import ccxt

from trimtab.errors import (
    BelowMinimum,
    InsufficientFunds,
    KeyRejected,
    OrderRejected,
    RateLimited,
    UnknownOrder,
    Unsupported,
    VenueError,
    VenueUnavailable,
)
from trimtab.venues import retry

T = TypeVar("T")

#: Words exchanges use when an order misses a minimum (Binance: "Filter failure: NOTIONAL").
_MINIMUM = re.compile(r"NOTIONAL|LOT_SIZE|MIN_|minimum|too small|min amount|min cost", re.IGNORECASE)


def translate(error: Exception, operation: str) -> VenueError:
    """The trimtab error for ccxt ``error`` raised while doing ``operation``.

    ``operation`` says what was tried, with the market and amounts: ``"sell 0.05 ETH/USDT (client
    id r1-00)"``; it starts the message, the exchange's words follow.
    """
    words = _exchange_words(error)
    message = f"{operation} failed: {words}"
    if isinstance(error, ccxt.OrderNotFound):
        return UnknownOrder(f"{operation}: the exchange has no such order ({words})", venue_message=words)
    if isinstance(error, ccxt.InsufficientFunds):
        return InsufficientFunds(message, venue_message=words)
    if isinstance(error, ccxt.NotSupported):
        return Unsupported(message, venue_message=words)
    if isinstance(error, (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended)):
        return KeyRejected(f"{message}; check the API key, its permissions and the secret", venue_message=words)
    if isinstance(error, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        return RateLimited(f"{message}; the exchange asks us to slow down", venue_message=words)
    if isinstance(error, ccxt.InvalidNonce):
        return VenueUnavailable(f"{message}; the computer's clock may be off (see `trimtab venues check`)",
                                venue_message=words)
    if isinstance(error, ccxt.NetworkError):  # timeouts, 5xx, maintenance, lost connections
        return VenueUnavailable(message, venue_message=words)
    if isinstance(error, ccxt.OperationFailed):  # a 5xx whose body ccxt mapped (-1001 "Internal error"):
        return VenueUnavailable(message, venue_message=words)  # its effect is unknown, not refused
    if isinstance(error, (ccxt.InvalidOrder, ccxt.BadRequest)):
        if _MINIMUM.search(words):
            return BelowMinimum(message, venue_message=words)
        return OrderRejected(message, venue_message=words)
    if isinstance(error, ccxt.BaseError):
        return OrderRejected(message, venue_message=words)
    raise error


def translated(call: Callable[[], T], operation: str) -> T:
    """Run ``call`` once; a ccxt exception leaves as its trimtab translation (``from`` it)."""
    try:
        return call()
    except ccxt.BaseError as e:
        raise translate(e, operation) from e


def retrying(call: Callable[[], T], operation: str, *, retries: int = 3, backoff: float = 0.5,
             sleep: Callable[[float], Any] = time.sleep) -> T:
    """Run the read ``call``, retrying retryable errors up to ``retries`` times.

    Waits ``backoff x 2**attempt`` seconds between tries, four times as long after an HTTP 418 (an
    IP ban on Binance); anything not retryable, and the last failure, is raised translated. The
    policy is the shared one of ``venues/retry.py``. Never wrap an order placement in this.
    """

    def longer_when_banned(error: VenueError, seconds: float) -> float:
        banned = "418" in str(error.__cause__) or "banned" in error.venue_message.lower()
        return seconds * (4 if banned else 1)

    return retry.retrying(lambda: translated(call, operation), retries=retries, backoff=backoff, sleep=sleep,
                          wait_for=longer_when_banned)


def _exchange_words(error: Exception) -> str:
    """ccxt's message without the exchange-id prefix: ``binance {"code":-1013,...}`` -> the JSON."""
    text = str(error).strip()
    first, _, rest = text.partition(" ")
    return rest if rest and first.isidentifier() and first.islower() else text or type(error).__name__

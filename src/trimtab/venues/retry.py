"""One retry policy and one polling pace for every venue call, from tenacity.

* :func:`retrying` runs a *read* (or a lookup) and retries the errors that may pass
  (``VenueError.retryable``: timeouts, 5xx, 429) with exponential backoff, ``backoff x 2**n``
  seconds before try ``n + 2``; ``wait_for(error, seconds)`` may lengthen one wait (a 429 waits out
  the limiter's window, an IP ban waits four times as long). Anything else, and the last failure,
  is raised as it is. Never wrap a write whose lost answer could hide an executed order in it:
  use :func:`sending`.
* :func:`sending` runs a *write* under a client id (an order, a bridge). After an ambiguous failure
  (a timeout, 5xx or 429: the write may or may not have been done) it never sends again blindly: it
  first looks the id up (``find``) and returns what the venue has; only when the venue proves it
  does not know the id (``UnknownOrder``) is the write sent again. The waits are ``retrying``'s.
* :func:`pace` is how often to ask a venue about something that takes time (a swap, a bridge):
  every ``poll_seconds`` at first, then twice as long after each answer that says "not yet", up to
  ``cap`` (default 8 x ``poll_seconds``). It is a tenacity wait strategy, and ``pace(...).delay(n)``
  gives the wait before the ``n``-th next read (``n`` from 1).

The executor, the ccxt venue and the Purple Flea client all use these, so a reader finds the
policy in one place (issue 11). tenacity is imported on first use (it pulls in asyncio and, when
installed, tornado: about 90 ms that ``trimtab --help``, ``plan`` and ``status`` do not pay).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from trimtab.errors import UnknownOrder, VenueError

T = TypeVar("T")


def _retryable(error: BaseException) -> bool:
    return isinstance(error, VenueError) and error.retryable


def retrying(call: Callable[[], T], *, retries: int = 3, backoff: float = 0.5,
             sleep: Callable[[float], Any] = time.sleep,
             wait_for: Callable[[VenueError, float], float] | None = None) -> T:
    """Run ``call``; retry a retryable ``VenueError`` up to ``retries`` times (see the module)."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt

    def wait(state: Any) -> float:
        seconds = backoff * 2 ** (state.attempt_number - 1)
        error = state.outcome.exception() if state.outcome is not None else None
        if wait_for is not None and isinstance(error, VenueError):
            seconds = wait_for(error, seconds)
        return seconds

    retryer = Retrying(retry=retry_if_exception(_retryable), stop=stop_after_attempt(retries + 1), wait=wait,
                       sleep=sleep, reraise=True)
    return retryer(call)


def sending(send: Callable[[], T], find: Callable[[], T], *, retries: int = 3, backoff: float = 0.5,
            sleep: Callable[[float], Any] = time.sleep,
            wait_for: Callable[[VenueError, float], float] | None = None) -> T:
    """Run the write ``send``; after a retryable failure look it up with ``find`` before any
    re-send, and send again only on ``UnknownOrder`` (see the module). A failed lookup is retried
    like a failed send; the last retryable failure, and any refusal, is raised as it is."""
    tried = False

    def attempt() -> T:
        nonlocal tried
        if tried:
            try:
                return find()  # what the venue can prove: the record under our client id
            except UnknownOrder:
                pass  # the venue never saw it: sending again cannot do it twice
        tried = True
        return send()

    return retrying(attempt, retries=retries, backoff=backoff, sleep=sleep, wait_for=wait_for)


class Pace:
    """Exponential polling: ``poll_seconds``, then doubling, at most ``cap`` (a tenacity wait)."""

    def __init__(self, poll_seconds: float, cap: float) -> None:
        from tenacity import wait_exponential

        self.poll_seconds, self.cap = poll_seconds, max(cap, poll_seconds)
        self._wait = wait_exponential(multiplier=poll_seconds, min=poll_seconds, max=self.cap)

    def __call__(self, retry_state: Any) -> float:
        return float(self._wait(retry_state))

    def delay(self, n: int) -> float:
        """The wait before the ``n``-th next read (``n >= 1``): poll, 2 x poll, 4 x poll, ... cap."""
        return self(SimpleNamespace(attempt_number=max(n, 1)))


def pace(poll_seconds: float, cap: float | None = None) -> Pace:
    """The polling pace for a venue that asks to be read every ``poll_seconds`` (see the module)."""
    return Pace(poll_seconds, 8 * poll_seconds if cap is None else cap)

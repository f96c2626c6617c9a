"""One HTTP client for both Purple Flea APIs: bearer key, ``_info`` dropped, errors translated once.

Contract (``/work/shared/venues/purpleflea-api.md`` §2): JSON under ``/v1``; errors are
``{"error": code, "message"?: text}``; 429 ``rate_limited`` with no ``Retry-After`` (the window is a
fixed 60 s); 401 ``unauthorized``/``invalid_key``. httpx exceptions become trimtab errors here,
with the operation in the message and ``from e``; nothing above ``venues/`` imports httpx.

| answer                                 | trimtab               |
| -------------------------------------- | --------------------- |
| 401                                    | ``KeyRejected``       |
| 429 ``rate_limited``                   | ``RateLimited``       |
| 400 ``quote_failed``/``swap_failed``/  | ``RateLimited``       |
| ``status_check_failed`` naming a 429   |                       |
| 5xx, timeouts, lost connections        | ``VenueUnavailable``  |
| 400 ``trade_failed`` "...too small..." | ``BelowMinimum``      |
| 400 "...insufficient funds..."         | ``InsufficientFunds`` |
| other 4xx                              | ``OrderRejected``     |

Reads (GET) are retried on the retryable ones with backoff, a 429 after the limiter's whole 60 s
window. Writes (POST) are retried only after a 429, which the contract guarantees was refused before
the handler ran (§2: the limiter runs first), or after Wagyu's own 429 passed on as a 400 (Wagyu
refused the quote or the order, so none was created); any other failure may hide an executed
write, and the venue reconciles before it could send again.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from trimtab.errors import (
    BelowMinimum,
    InsufficientFunds,
    KeyRejected,
    OrderRejected,
    RateLimited,
    VenueError,
    VenueUnavailable,
)
from trimtab.venues import retry


class PurpleFleaClient:
    """A bearer-key JSON client on ``base_url``; the key is sent, never shown (``repr`` omits it)."""

    def __init__(self, base_url: str, key: SecretStr | None, *, timeout: float = 15.0, retries: int = 3,
                 backoff: float = 0.5, sleep: Callable[[float], Any] = time.sleep,
                 rate_limit_wait: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key is not None else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.base_url, self.retries, self.backoff, self.sleep = base_url, retries, backoff, sleep
        self.rate_limit_wait = rate_limit_wait

    def __repr__(self) -> str:
        return f"PurpleFleaClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, operation: str,
            retries: int | None = None) -> dict:
        """GET ``path``; retried on 429, 5xx and network errors (``retries``, default the client's;
        0 for a read that is polled anyway); raise the translated error."""
        retries = self.retries if retries is None else retries
        return retry.retrying(lambda: self._call("GET", path, operation, params=params), retries=retries,
                              backoff=self.backoff, sleep=self.sleep,
                              wait_for=lambda e, s: self.rate_limit_wait if isinstance(e, RateLimited) else s)

    def post(self, path: str, body: Mapping[str, Any], *, operation: str) -> dict:
        """POST ``path``; resent only after a 429 (refused unprocessed), once the 60 s window has
        passed. A lost answer raises ``VenueUnavailable`` (the write may have happened)."""
        for attempt in range(2):
            try:
                return self._call("POST", path, operation, json=dict(body))
            except RateLimited:
                if attempt == 1:
                    raise
                self.sleep(self.rate_limit_wait)
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, operation: str, **kw: Any) -> dict:
        try:
            reply = self._http.request(method, path, **kw)
        except httpx.TimeoutException as e:
            raise VenueUnavailable(f"{operation}: no answer in time ({type(e).__name__}); it may have happened",
                                   venue_message=str(e) or type(e).__name__) from e
        except httpx.HTTPError as e:
            raise VenueUnavailable(f"{operation}: the connection failed ({type(e).__name__}); it may have happened",
                                   venue_message=str(e) or type(e).__name__) from e
        try:
            body = reply.json()
        except (json.JSONDecodeError, ValueError) as e:
            if reply.is_success:
                raise VenueUnavailable(f"{operation}: the answer was not JSON", venue_message=reply.text[:200]) from e
            body = {"error": f"http_{reply.status_code}", "message": reply.text[:200]}
        if isinstance(body, dict):
            body.pop("_info", None)
        if reply.is_success:
            return body
        raise error_for(reply.status_code, body if isinstance(body, dict) else {}, operation)


#: The codes under which the wallet server passes on Wagyu's failures, its 429s included (§4.6).
WAGYU_CODES = ("quote_failed", "swap_failed", "status_check_failed")
_WAGYU_429 = re.compile(r"\b429\b|too many requests|rate.?limit", re.IGNORECASE)


def error_for(status: int, body: Mapping[str, Any], operation: str) -> VenueError:
    """The trimtab error for a Purple Flea error answer (see the module table)."""
    code = str(body.get("error", f"http_{status}"))
    words = f"{code}: {body['message']}" if body.get("message") else code
    message = f"{operation} failed: {words}"
    if status == 401:
        return KeyRejected(f"{message}; check the key (PURPLEFLEA_*_KEY)", venue_message=words)
    if status == 429:
        return RateLimited(f"{message}; the limit resets within 60 s", venue_message=words)
    if code in WAGYU_CODES and _WAGYU_429.search(words):  # Wagyu's limit, shared by every client (§4.6)
        return RateLimited(f"{message}; Wagyu's per-minute limit, shared by every client of the server, "
                           "refused it", venue_message=words)
    if status >= 500:
        return VenueUnavailable(message, venue_message=words)
    if "insufficient" in words.lower():
        return InsufficientFunds(message, venue_message=words)
    if "too small" in words.lower() or "minimum" in words.lower():
        return BelowMinimum(message, venue_message=words)
    return OrderRejected(message, venue_message=words)

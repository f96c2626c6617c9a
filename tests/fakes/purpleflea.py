"""What the Purple Flea trading and wallet fakes share (contract §2), and a way to run both.

/work/shared/venues/purpleflea-api.md is the authority; section numbers below are its own.

- ``_info`` is added to every JSON object response, errors and 429s included (§2).
- Only status and ``content-type`` survive: no route headers, no rate-limit headers (§2).
- Errors are ``{"error": code, "message": ..., **extra}``; unknown routes are 404 ``not_found``;
  an unparseable body is 400 ``invalid_json``; any other exception is 500 ``internal_error``,
  or 400 ``invalid_json`` when its text mentions JSON or parse (§2).
- The rate limiter counts per *exact path + client IP* (first ``x-forwarded-for`` entry, else
  ``x-real-ip``, else ``"unknown"``), in a fixed 60 s window from the first request, rejected
  requests included, and runs before auth (§2).

Time is a ``FakeClock`` (seconds), shared by both servers when started with ``running_purpleflea``;
tests move it with ``clock.advance(s)`` (or hand ``clock.sleep`` to the code under test as its way
to wait, so minutes of bridge time pass at once). Fault knobs common to both:
``lose_response_of_next(path)`` (apply the request, then drop the connection), ``fail_next(path,
status, code, applied=...)`` (an error answer, before or after the effect) and ``delay_next(path,
seconds)`` (a hang).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from ._http import FakeServer, Request, Response

START = 1773921600.0  # 2026-03-19T12:00:00Z, the day the contract was read


class FakeClock:
    """Manual time in Unix seconds; nothing moves unless a test calls ``advance``."""

    def __init__(self, now: float = START) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        """A wait that takes no real time: what code under test calls instead of ``time.sleep``."""
        self.advance(seconds)

    def time(self) -> float:
        """``time.time`` for code under test: the fake's now."""
        return self._now

    def iso(self) -> str:
        """ISO 8601 with milliseconds and Z, as JavaScript's ``toISOString``."""
        seconds = datetime.fromtimestamp(self._now, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{seconds}.{int(self._now * 1000) % 1000:03d}Z"

    def ms(self) -> int:
        return int(self._now * 1000)


class ApiError(Exception):
    """Raised by a route to answer ``{"error": code, "message": message, **extra}``."""

    def __init__(self, status: int, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or code)
        body: dict[str, Any] = {"error": code}
        if message is not None:
            body["message"] = message
        body.update(extra)
        self.status, self.body = status, body


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]  # (server, request, **path_params) -> dict | (status, dict)
    auth: bool


def route(method: str, path: str, handler: Callable[..., Any], auth: bool = True) -> Route:
    """``route("GET", "/v1/markets/:coin/price", fn)``: ``:name`` captures one path segment."""
    regex = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), handler, auth)


def client_ip(request: Request) -> str:
    forwarded = request.header("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.header("x-real-ip") or "unknown"


def new_hex(n: int) -> str:
    return secrets.token_hex(n // 2)


def json_body(request: Request) -> dict:
    """The request's JSON object; anything else is 400 ``invalid_json`` (§2)."""
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        raise ApiError(400, "invalid_json", "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Request body must be a JSON object")
    return body


class PurpleFleaServer(FakeServer):
    """The §2 envelope around ``routes``; subclasses set ``INFO``, ``LIMITS``, ``routes`` and ``authorize``."""

    INFO: ClassVar[dict[str, str]] = {}
    LIMITS: ClassVar[dict[str, int]] = {}

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock or FakeClock()
        self.routes: list[Route] = []
        self._windows: dict[tuple[str, str], list[float]] = {}  # (path, ip) -> [window start, count]
        self._lose: dict[str, int] = {}
        self._delay: dict[str, list[float]] = {}
        self._fail: list[dict[str, Any]] = []

    # -- knobs -----------------------------------------------------------------------------
    def lose_response_of_next(self, path: str) -> None:
        """The next request on ``path`` is applied in full, then its connection is closed unanswered."""
        with self.lock:
            self._lose[path] = self._lose.get(path, 0) + 1

    def fail_next(self, path: str, status: int = 500, code: str = "internal_error", message: str | None = None, *,
                  times: int = 1, applied: bool = False) -> None:
        """The next ``times`` requests on ``path`` (a prefix when it ends with "/", e.g.
        ``/v1/wallet/swap/status/``) answer ``status`` ``{"error": code}``; with ``applied`` the
        request is carried out first (an unhandled exception after the effect: §2's 500
        ``internal_error``), otherwise it is refused unprocessed."""
        with self.lock:
            self._fail.append({"path": path, "status": status, "code": code, "times": times, "applied": applied,
                               "message": message or f"{code} (injected by the fake)"})

    def _failure_for(self, path: str) -> dict[str, Any] | None:
        for failure in self._fail:
            if path == failure["path"] or (failure["path"].endswith("/") and path.startswith(failure["path"])):
                failure["times"] -= 1
                if failure["times"] <= 0:
                    self._fail.remove(failure)
                return failure
        return None

    def delay_next(self, path: str, seconds: float) -> None:
        """The next request on ``path`` is answered only after ``seconds`` of real time (a hang)."""
        with self.lock:
            self._delay.setdefault(path, []).append(seconds)

    def reset_rate_limits(self) -> None:
        with self.lock:
            self._windows.clear()

    # -- envelope --------------------------------------------------------------------------
    def authorize(self, request: Request) -> Any:  # pragma: no cover - per API
        raise NotImplementedError

    def handle(self, request: Request) -> Response:
        with self.lock:
            failure = self._failure_for(request.path)
            if failure is not None and not failure["applied"]:
                status, body = failure["status"], {"error": failure["code"], "message": failure["message"]}
            else:
                status, body = self._answer(request)
            if failure is not None and failure["applied"]:
                status, body = failure["status"], {"error": failure["code"], "message": failure["message"]}
            response = Response(status, {**body, "_info": dict(self.INFO)} if isinstance(body, dict) else body)
            if self._lose.get(request.path):
                self._lose[request.path] -= 1
                response = Response(drop=True)
            delays = self._delay.get(request.path)
            if delays:
                response.delay = delays.pop(0)
            return response

    def _answer(self, request: Request) -> tuple[int, Any]:
        limited = self._rate_limit(request)
        if limited is not None:
            return limited
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if match and candidate.method == request.method:
                break
        else:
            return 404, {"error": "not_found", "message": f"{request.method} {request.path} not found",
                         "docs": "/v1/docs", "openapi": "/openapi.json"}
        try:
            account = self.authorize(request) if candidate.auth else None
            result = candidate.handler(request, account, **match.groupdict())
        except ApiError as e:
            return e.status, e.body
        except Exception as e:  # noqa: BLE001 - the servers' own catch-all (§2)
            text = str(e)
            if any(word in text for word in ("JSON", "json", "parse")):
                return 400, {"error": "invalid_json", "message": text}
            return 500, {"error": "internal_error", "message": text}
        return result if isinstance(result, tuple) else (200, result)

    def _rate_limit(self, request: Request) -> tuple[int, dict] | None:
        limit = self.LIMITS.get(request.path)
        if limit is None:
            return None
        now = self.clock.now()
        window = self._windows.get((request.path, client_ip(request)))
        if window is None or now - window[0] >= 60:
            window = self._windows[(request.path, client_ip(request))] = [now, 0]
        window[1] += 1
        if window[1] > limit:
            return 429, {"error": "rate_limited", "message": f"Too many requests. Limit: {limit} per 60s"}
        return None


@dataclass
class PurpleFleaServers:
    trading: Any  # purpleflea_trading.TradingFake (also serves Hyperliquid POST /info)
    wallet: Any  # purpleflea_wallet.WalletFake
    clock: FakeClock


@contextmanager
def running_purpleflea(clock: FakeClock | None = None, network: Any = None) -> Iterator[PurpleFleaServers]:
    """Start the trading and wallet fakes on two free ports of 127.0.0.1, sharing one clock
    (``network``, a ``chain_network.ChainNetwork``, links the wallet to other fakes; its clock wins)."""
    from .purpleflea_trading import TradingFake
    from .purpleflea_wallet import WalletFake

    clock = network.clock if network is not None else clock or FakeClock()
    with TradingFake(clock=clock) as trading, WalletFake(clock=clock, network=network) as wallet:
        yield PurpleFleaServers(trading, wallet, clock)

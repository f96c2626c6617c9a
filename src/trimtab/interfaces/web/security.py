"""Who may talk to the dashboard: the bind rule, the token, the Host guard. No web framework here:
``Guard`` is a plain ASGI middleware.

- Bound to 127.0.0.1 (the default) or localhost, no token is needed; bound anywhere else,
  ``trimtab serve`` refuses to start without ``TRIMTAB_DASHBOARD_TOKEN``.
- With a token, every page and API call needs it: ``Authorization: Bearer TOKEN``, or once
  ``?token=TOKEN`` on any page, which sets an HttpOnly, SameSite=Strict cookie and redirects to the
  same page without it. ``/healthz`` and ``/static`` (the shipped JavaScript and CSS) are open.
- A request whose ``Host`` is not one of the names the dashboard answers to is refused (400):
  a web page cannot reach it through DNS rebinding.
- A request that changes anything (POST) must be JSON, and its ``Origin``, if any, must be one of
  those names: a form on another site cannot press the "rebalance now" button.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from trimtab.errors import InputError

TOKEN_ENV = "TRIMTAB_DASHBOARD_TOKEN"
COOKIE = "trimtab_token"
LOCAL = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"0.0.0.0", "::", ""})
OPEN_PATHS = ("/healthz", "/static/")


def check_bind(host: str, token: str | None) -> None:
    """Refuse (``InputError``, exit 2) a bind beyond this machine without a token."""
    if host not in LOCAL and not token:
        raise InputError(f"Serving on {host} lets other machines in: set {TOKEN_ENV} to a long random token "
                         "first, or bind to 127.0.0.1.")


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a request's ``Host`` may carry: this machine's, the bound address, and ``extra``."""
    names = set(LOCAL) | {h.strip().lower().strip("[]") for h in extra if h.strip()}
    if bind not in WILDCARD:
        names.add(bind.lower().strip("[]"))
    return frozenset(names)


def host_name(value: str) -> str:
    """``"example.com:8787"`` -> ``"example.com"``; ``"[::1]:8787"`` -> ``"::1"``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """ASGI middleware enforcing the module docstring's rules in front of ``app``."""

    def __init__(self, app, *, hosts: frozenset[str], token: str | None) -> None:  # type: ignore[no-untyped-def]
        self.app, self.hosts, self.token = app, hosts, token

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            return await _reply(send, 400, f"This dashboard does not answer to the Host name {host[:100]!r}; if that "
                                           "name is this machine, start trimtab serve with --allow-host NAME.")
        path = scope.get("path", "")
        if scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if origin and host_name(urlsplit(origin).netloc) not in self.hosts:
                return await _reply(send, 403, "Requests from another site are refused.")
            if not headers.get("content-type", "").startswith("application/json"):
                return await _reply(send, 415, "Send JSON (Content-Type: application/json).")
        if self.token is None or path == "/healthz" or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given is not None and self._matches(given):
            if scope.get("method") == "GET" and not path.startswith("/api"):
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                return await _redirect(send, path + (f"?{rest}" if rest else ""), self.token)
            return await self.app(scope, receive, send)
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and self._matches(bearer[7:].strip()):
            return await self.app(scope, receive, send)
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is simply no cookie
            cookie = SimpleCookie()
        if COOKIE in cookie and self._matches(cookie[COOKIE].value):
            return await self.app(scope, receive, send)
        return await _reply(send, 401, "This dashboard needs its token: open it once with ?token=... or send "
                                       "Authorization: Bearer ...", extra=[(b"www-authenticate", b"Bearer")])

    def _matches(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode(), self.token.encode())


async def _reply(send, status: int, sentence: str, extra: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[no-untyped-def,assignment]
    body = json.dumps({"error": sentence}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, location: str, token: str) -> None:  # type: ignore[no-untyped-def]
    cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                            (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})

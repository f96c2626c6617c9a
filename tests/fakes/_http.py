"""The plumbing every fake shares: a threaded stdlib server on 127.0.0.1:0 and a request log.

A fake subclasses ``FakeServer`` and implements ``handle(request) -> Response``. ``handle`` sees a
parsed ``Request`` and returns a ``Response``; it never touches sockets, so it can be called
directly in a unit test. ``Response(drop=True)`` closes the connection without writing a byte,
which a client sees as a lost response (the fake must apply any change before returning it).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    client_ip: str

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without a response
    delay: float = 0.0  # seconds to sleep before answering (a slow or hanging upstream)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake"
    sys_version = ""

    def _serve(self) -> None:
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query_string=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
        )
        with fake.lock:
            fake.requests.append(request)
        response = fake.handle(request)
        if response.delay:
            threading.Event().wait(response.delay)
        if response.drop:
            self.close_connection = True
            return
        payload = response.encoded()
        try:
            self.send_response(response.status)
            headers = {"Content-Type": "application/json", **response.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (a timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeServer:
    """Runs ``handle`` behind a ThreadingHTTPServer on 127.0.0.1, on a free port.

    Use as a context manager (``with Fake() as f: f.url``) or call ``start``/``stop``.
    ``requests`` lists every request received, in order; ``lock`` guards all fake state.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running; call start() or use it in a with block")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.fake = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), name=type(self).__name__,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        """The logged requests on ``path`` (and ``method`` when given)."""
        with self.lock:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

"""Alerts: engine events sent to apprise URLs by a background thread that never blocks a run.

``AlertSender`` is an engine ``Observer``: ``notify(event)`` puts the event on a bounded queue and
returns at once (a full queue drops the event and counts it). One daemon thread takes events off
the queue and sends each to every URL, retrying a failed send with tenacity (exponential backoff;
``close`` interrupts the waits). A URL may hold a secret (a bot token, a password): it is only
ever shown as ``redact(url)``, which keeps the scheme and, for plain webhooks, host and port.
apprise's own log is silenced, since it may name the URL.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from trimtab.engine.events import Event

log = logging.getLogger(__name__)

#: Schemes whose host and port are an address, not a secret (apprise's webhook plugins).
_WEBHOOKS = {"json", "jsons", "form", "forms", "xml", "xmls"}
_STOP = object()


def redact(url: str) -> str:
    """``json://user:pw@host:8080/hook?token=x`` -> ``json://host:8080/…``; ``tgram://TOKEN/CHAT`` -> ``tgram://…``."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower() or "?"
        if scheme in _WEBHOOKS and parts.hostname:
            port = f":{parts.port}" if parts.port else ""
            return f"{scheme}://{parts.hostname}{port}/…"
    except ValueError:
        return "(unparseable URL)"
    return f"{scheme}://…"


@dataclass(frozen=True)
class Delivery:
    """What one send attempt chain came to for one URL (shown redacted)."""

    url: str
    arrived: bool
    attempts: int


class AlertSender:
    """Sends events whose kind is in ``events`` to every URL in ``urls`` (see the module docstring)."""

    def __init__(self, urls: Sequence[str], events: Iterable[str], *, queue_size: int = 100, retries: int = 3,
                 timeout: float = 10.0, backoff: float = 0.5) -> None:
        _quiet_apprise()
        self._urls = list(urls)
        self.labels = [redact(u) for u in self._urls]
        self.events = frozenset(events)
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        #: how long a command waits, after its output, for alerts still queued
        self.wait_on_close = timeout
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._plugins = [self._plugin(u) for u in self._urls]
        for label, plugin in zip(self.labels, self._plugins, strict=True):
            if plugin is None:
                log.warning("alert URL %s is not one apprise knows; nothing will be sent to it", label)
        self.queued = self.sent = self.failed = self.dropped = 0
        self._thread = threading.Thread(target=self._work, name="trimtab-alerts", daemon=True)
        self._thread.start()

    # -- the engine's side ----------------------------------------------------------------------

    def notify(self, event: Event) -> None:
        """Queue ``event`` if its kind is wanted; never blocks, never raises."""
        if event.kind not in self.events:
            return
        try:
            self._queue.put_nowait(event)
            self.queued += 1
        except queue.Full:
            self.dropped += 1
            log.warning("the alert queue is full; dropped a %s alert", event.kind)

    def close(self, wait: float = 10.0) -> bool:
        """Let queued alerts go out for up to ``wait`` seconds, then stop; return True when all went."""
        try:
            self._queue.put(_STOP, timeout=max(wait, 0.01))
        except queue.Full:
            pass
        self._thread.join(wait)
        drained = not self._thread.is_alive()
        self._stop.set()
        return drained

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # -- sending --------------------------------------------------------------------------------

    def send_now(self, title: str, body: str) -> list[Delivery]:
        """Send one message to every URL now, in this thread (``trimtab alerts test``)."""
        return [self._deliver(i, title, body) for i in range(len(self._urls))]

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Event)
            for i in range(len(self._urls)):
                if self._stop.is_set():
                    return
                delivery = self._deliver(i, item.title, item.body)
                if delivery.arrived:
                    self.sent += 1
                else:
                    self.failed += 1
                    log.warning("a %s alert did not reach %s after %d attempts", item.kind, delivery.url,
                                delivery.attempts)

    def _deliver(self, index: int, title: str, body: str) -> Delivery:
        from tenacity import Retrying, retry_if_result, stop_after_attempt, stop_when_event_set, wait_exponential

        plugin = self._plugins[index]
        if plugin is None:
            return Delivery(self.labels[index], False, 0)
        attempts = 0

        def once() -> bool:
            nonlocal attempts
            attempts += 1
            try:
                return bool(plugin.notify(body=body, title=title))
            except Exception:  # noqa: BLE001 - a plugin bug or a network error: a failed attempt, never a crash
                return False

        retrying = Retrying(stop=stop_after_attempt(self.retries + 1) | stop_when_event_set(self._stop),
                            wait=wait_exponential(multiplier=self.backoff, max=30),
                            retry=retry_if_result(lambda ok: not ok), sleep=self._stop.wait,
                            retry_error_callback=lambda state: False)
        return Delivery(self.labels[index], bool(retrying(once)), attempts)

    def _plugin(self, url: str):  # type: ignore[no-untyped-def]
        import apprise

        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        except Exception:  # noqa: BLE001 - an unusable URL is reported, not raised
            return None
        if not plugin:
            return None
        for name in ("socket_connect_timeout", "socket_read_timeout"):
            if hasattr(plugin, name):
                setattr(plugin, name, self.timeout)
        return plugin


def _quiet_apprise() -> None:
    """apprise logs URLs and hosts at several levels: keep its records out of every handler."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    logger.handlers[:] = [logging.NullHandler()]
    logger.setLevel(logging.CRITICAL + 1)


def sender_from_config(alerts) -> AlertSender | None:  # type: ignore[no-untyped-def]
    """An ``AlertSender`` for a config's ``[alerts]`` section, or None when it names no URL."""
    if not alerts.urls:
        return None
    return AlertSender([u.get_secret_value() for u in alerts.urls], alerts.events, queue_size=alerts.queue_size,
                       retries=alerts.retries, timeout=alerts.timeout)

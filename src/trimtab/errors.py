"""trimtab's errors, named by whose fault they are.

Every error carries one sentence a person can act on. Each class says what trimtab does about it.

``TrimtabError``
    ``InputError``      the user's: bad targets, prices, config or arguments. Nothing is traded;
                        the CLI prints the sentence and exits with code 2.
    ``Denied``          trimtab refused a leg or a run before sending anything (a guard, a market
                        minimum, a cap). It carries a machine code, e.g. ``BELOW_MIN_NOTIONAL``.
    ``VenueError``      the venue's: its own message is kept verbatim in ``venue_message``.
        ``InsufficientFunds``, ``BelowMinimum``, ``OrderRejected``: final for that order.
        ``RateLimited``, ``VenueUnavailable``: temporary; ``retryable`` is true.
        ``UnknownOrder``: the venue has no order with that client id.
        ``NeedsAttention``: the venue's answers contradict each other; the leg is parked, never re-sent.
        ``Unsupported``: the venue cannot do this at all (e.g. a bridge on an exchange).
        ``KeyRejected``: the venue refused the API key or its signature.

Secrets never leave a venue inside an error: every secret trimtab reads (API keys and secrets,
key-file contents, tokens from the environment) is registered with :func:`register_secret`, and a
``VenueError``'s message and ``venue_message`` pass through :func:`redact` when it is made, so an
exchange that echoes the key in a 401 body reaches no screen, journal row or MCP result with it.
"""

from __future__ import annotations

from urllib.parse import quote

#: Every secret value this process has read; :func:`redact` removes them from text.
_SECRETS: set[str] = set()
#: What a secret is replaced with.
REDACTED = "<redacted>"


def register_secret(value: str) -> None:
    """Remember ``value`` (an API key, secret or token) so :func:`redact` removes it from any text.

    Values shorter than 6 characters are not registered: replacing them would garble ordinary words.
    """
    value = value.strip()
    if len(value) >= 6:
        _SECRETS.update({value, quote(value, safe="")})


def redact(text: str) -> str:
    """``text`` with every registered secret (and its URL-encoded form) replaced by ``<redacted>``."""
    if not _SECRETS or not text:
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class TrimtabError(Exception):
    """Base of every error trimtab raises on purpose."""

    exit_code = 1


class InputError(TrimtabError, ValueError):
    """Bad input from the user; nothing was done. The CLI exits with code 2."""

    exit_code = 2


class ConfigError(InputError):
    """A config file that cannot be read or does not validate; names the file and the key."""


class Denied(TrimtabError):
    """trimtab refused before sending anything; ``code`` says which rule, e.g. ``DAILY_CAP``."""

    exit_code = 3

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class VenueError(TrimtabError):
    """The venue failed or refused; ``venue_message`` holds its own words unchanged."""

    exit_code = 4
    retryable = False

    def __init__(self, message: str, *, venue_message: str | None = None) -> None:
        super().__init__(redact(message))
        self.venue_message = redact(venue_message if venue_message is not None else message)


class InsufficientFunds(VenueError):
    """The account does not hold enough for the order. Final for that order."""


class BelowMinimum(VenueError):
    """The venue's minimum quantity or notional was not met. Final for that order."""


class OrderRejected(VenueError):
    """The venue refused the order for another reason. Final for that order."""


class RateLimited(VenueError):
    """Too many requests; retried with backoff."""

    retryable = True


class VenueUnavailable(VenueError):
    """The venue could not be reached or answered with a server error; retried with backoff."""

    retryable = True


class UnknownOrder(VenueError):
    """The venue knows no order with that client id (so it was never placed)."""


class NeedsAttention(VenueError):
    """The venue's answers contradict each other (a swap its status calls completed that no balance
    shows): the executor parks the leg and its run in ``needs_attention`` for a person; nothing is
    sent again."""


class Unsupported(OrderRejected):
    """The venue cannot do this at all (a bridge on a centralized exchange). Final for that leg."""


class KeyRejected(VenueError):
    """The venue refused the API key, its permissions or its signature. Nothing is retried: fix the key."""

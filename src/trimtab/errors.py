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
        ``Unsupported``: the venue cannot do this at all (e.g. a bridge on an exchange).
        ``KeyRejected``: the venue refused the API key or its signature.
"""

from __future__ import annotations


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
        super().__init__(message)
        self.venue_message = venue_message if venue_message is not None else message


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


class Unsupported(OrderRejected):
    """The venue cannot do this at all (a bridge on a centralized exchange). Final for that leg."""


class KeyRejected(VenueError):
    """The venue refused the API key, its permissions or its signature. Nothing is retried: fix the key."""

"""Progress events: what the executor is doing now, for an interface to show while a run waits.

The executor emits one ``ProgressEvent`` per step a person would want to see (a stage starts, an
order is sent or filled, a bridge is sent, is still on its way, arrives); interfaces render them
(the CLI prints a line on stderr). Events carry values, never text to print, and a failing
listener never stops a run. Times are the venue's clock (a paper venue's simulated clock), the
same clock the journal records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ProgressKind(StrEnum):
    STAGE_STARTED = "stage_started"  # ``legs``: how many legs the stage has
    ORDER_SENT = "order_sent"
    ORDER_FILLED = "order_filled"  # ``quantity``, ``value``
    BRIDGE_SENT = "bridge_sent"  # ``eta``: when the venue expects it to arrive
    BRIDGE_WAITING = "bridge_waiting"  # ``eta``; emitted each time the executor looks again
    BRIDGE_ARRIVED = "bridge_arrived"


@dataclass(frozen=True, kw_only=True)
class ProgressEvent:
    """One step of run ``run_id`` in ``stage``, at venue time ``at``.

    Orders: ``asset``, ``side`` and ``chain`` (the market's chain). Bridges: ``asset``, ``chain``
    (from) and ``to_chain``, ``quantity`` (the amount sent) and ``eta`` (expected arrival).
    """

    kind: ProgressKind
    run_id: str
    stage: str
    at: datetime
    asset: str | None = None
    side: str | None = None
    chain: str | None = None
    to_chain: str | None = None
    quantity: float | None = None
    value: float | None = None
    legs: int | None = None
    eta: datetime | None = None


#: Something that receives progress events (an interface's renderer, a test's list.append).
ProgressListener = Callable[[ProgressEvent], None]

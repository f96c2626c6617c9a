"""The run and leg state machines: every state and every allowed move, as data.

Rule 1: every move of a run or a leg is checked here before the journal records it; an illegal
move raises ``IllegalMove`` and changes nothing.
Rule 2: an answer the table does not expect (a venue reporting an order we did not send, a bridge
that never arrives) parks the run in ``needs_attention``; nothing pushes on past it.

Run (one execution of a plan; stages in order, each may be empty):

| state            | meaning                                                   | may move to                           |
| ---------------- | --------------------------------------------------------- | ------------------------------------- |
| created          | planned and journaled; nothing sent                       | gathering, failed, needs_attention    |
| gathering        | bridging assets to be sold onto their market's chain      | selling, failed, needs_attention      |
| selling          | sell orders on each market's chain                        | bridging, failed, needs_attention     |
| bridging         | moving the quote the sells really fetched to buy chains   | buying, failed, needs_attention       |
| buying           | buys sized from the quote that really arrived             | completed, failed, needs_attention    |
| completed        | every leg done                                            | (final)                               |
| failed           | stopped cleanly: a leg was refused, nothing in flight     | (final)                               |
| needs_attention  | an unexpected answer; a person must look                  | failed (when acknowledged)            |

Leg (one order or one bridge, journaled before it is sent):

| state            | meaning                                                   | may move to                           |
| ---------------- | --------------------------------------------------------- | ------------------------------------- |
| planned          | sized and journaled with its client id; not sent          | submitting, cancelled                 |
| submitting       | about to be / being sent; outcome unknown until asked     | filled, in_transit, rejected, needs_attention |
| in_transit       | a bridge the venue accepted; waiting for arrival          | arrived, needs_attention              |
| filled, arrived  | done                                                      | (final)                               |
| rejected         | the venue refused it (its words kept in ``error``)        | (final)                               |
| cancelled        | never sent: the run stopped before it                     | (final)                               |
| needs_attention  | the venue's answer did not match the leg                  | (final)                               |
"""

from __future__ import annotations

from trimtab.errors import TrimtabError

RUN_MOVES: dict[str, frozenset[str]] = {
    "created": frozenset({"gathering", "failed", "needs_attention"}),
    "gathering": frozenset({"selling", "failed", "needs_attention"}),
    "selling": frozenset({"bridging", "failed", "needs_attention"}),
    "bridging": frozenset({"buying", "failed", "needs_attention"}),
    "buying": frozenset({"completed", "failed", "needs_attention"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "needs_attention": frozenset({"failed"}),
}

#: The stages in order: each is a run state whose legs are sized on entry and driven to an end.
STAGES: tuple[str, ...] = ("gathering", "selling", "bridging", "buying")
FINAL_RUN_STATES = frozenset(s for s, moves in RUN_MOVES.items() if not moves)
UNFINISHED_RUN_STATES = frozenset(RUN_MOVES) - FINAL_RUN_STATES - {"needs_attention"}

LEG_MOVES: dict[str, frozenset[str]] = {
    "planned": frozenset({"submitting", "cancelled"}),
    "submitting": frozenset({"filled", "in_transit", "rejected", "needs_attention"}),
    "in_transit": frozenset({"arrived", "needs_attention"}),
    "filled": frozenset(),
    "arrived": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "needs_attention": frozenset(),
}


class IllegalMove(TrimtabError):
    """A move the state table does not allow; nothing was changed. This is a bug in trimtab."""


def check_run_move(current: str, target: str) -> None:
    """Return if a run may move from ``current`` to ``target``; else raise ``IllegalMove``."""
    if target not in RUN_MOVES.get(current, frozenset()):
        raise IllegalMove(f"A run cannot move from {current} to {target}.")


def check_leg_move(current: str, target: str) -> None:
    """Return if a leg may move from ``current`` to ``target``; else raise ``IllegalMove``."""
    if target not in LEG_MOVES.get(current, frozenset()):
        raise IllegalMove(f"A leg cannot move from {current} to {target}.")


def next_stage(state: str) -> str:
    """The state after ``state`` on the happy path: created -> gathering -> ... -> completed."""
    order = ("created", *STAGES, "completed")
    return order[order.index(state) + 1]

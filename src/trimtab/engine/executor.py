"""The executor: carries one plan out through a venue as a persisted, resumable state machine.

Start and resume are one path: ``execute(run_id)`` reads the run from the journal and drives it
from wherever it stands. Stages run in order (``states.STAGES``); on entering a stage its legs are
sized from the venue's balances (``routing``) and journaled with the run's move, in one
transaction. Each leg is then driven: ``planned`` -> guards -> ``submitting`` (journaled) ->
sent with its client id -> outcome journaled. A leg found ``submitting`` after a crash is first
looked up on the venue by its client id and sent only if the venue has never seen it; likewise a
send that timed out (or got a 5xx or 429) is looked up by its client id before it is sent again
(``venues.retry.sending``). So no leg is ever sent twice, even to a venue that answers a repeated
client id with a refusal rather than the existing record.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from trimtab.core.plan import Leg, Plan, Side
from trimtab.engine import routing, states, venue_plan
from trimtab.engine.guards import Guards
from trimtab.engine.progress import ProgressEvent, ProgressKind, ProgressListener
from trimtab.engine.routing import LegSpec
from trimtab.errors import BelowMinimum, Denied, InsufficientFunds, NeedsAttention, OrderRejected, UnknownOrder
from trimtab.journal import LegRecord, RunRecord, client_id
from trimtab.venues.base import Order, Transfer, TransferStatus, Venue, by_chain, consolidate
from trimtab.venues.retry import pace, retrying, sending

if TYPE_CHECKING:  # the journal class is imported where it is opened (SQLAlchemy; `status` reads without it)
    from trimtab.journal import Journal

#: Refusals that end a leg for good: the run stops cleanly and the next one replans.
FINAL_REFUSALS = (OrderRejected, BelowMinimum, InsufficientFunds)


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a run ended (or where it stopped), with its legs as the journal has them."""

    run_id: str
    state: str
    reason: str
    legs: tuple[LegRecord, ...]

    @property
    def fees(self) -> float:
        return sum(leg.fee or 0.0 for leg in self.legs)

    @property
    def traded_value(self) -> float:
        return sum(leg.value or 0.0 for leg in self.legs if leg.kind != "transfer")


class Executor:
    """Runs plans on ``venue``, recording every step in ``journal`` (see the module docstring).

    ``wait(seconds)`` lets venue time pass while bridges travel: a real sleep in production, a
    clock advance in a simulation. A venue with a ``poll_seconds`` attribute (a live one, whose
    status reads are rate-limited) is read at its pace: ``poll_seconds``, then doubling up to 8x
    after each round that finds a bridge still travelling (``venues.retry.pace``), and the default
    wait sleeps that long; a venue without one (paper, whose clock may run faster than ours) is read
    again when the earliest bridge is due, the default wait sleeping 0.05-0.25 s of our time.
    ``sleep`` is the pause between retries of a failed read (``venues.retry.retrying``).
    ``progress`` (settable later) receives a ``ProgressEvent`` per stage, order and bridge
    (``engine/progress.py``); interfaces render them.
    """

    def __init__(self, venue: Venue, journal: Journal, *, portfolio: str = "main", quote: str = "USDC",
                 guards: Guards | None = None, wait: Callable[[float], None] | None = None,
                 transfer_timeout: timedelta = timedelta(hours=2), retries: int = 3,
                 progress: ProgressListener | None = None,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        self.venue, self.journal, self.portfolio, self.quote = venue, journal, portfolio, quote
        self.progress = progress
        self.guards, self.transfer_timeout, self.retries = guards or Guards(), transfer_timeout, retries
        self.poll_seconds: float | None = getattr(venue, "poll_seconds", None)
        self.sleep = sleep
        self.wait = wait or (time.sleep if self.poll_seconds else
                             (lambda seconds: time.sleep(min(max(seconds, 0.05), 0.25))))

    # -- starting ------------------------------------------------------------------------------

    def start(self, plan: Plan, *, value_before: float, pairs: tuple[Mapping[str, Any], ...] = ()) -> str:
        """Check the caps and the kill switch, journal a new run for ``plan``, return its id.

        ``pairs`` are direct-pair orders sent first in the selling stage: ``{"market": "ETH/BTC",
        "side": "sell", "quantity": base quantity, "price": base price in the quote, "value", "fee"}``.
        Raise ``Denied`` (nothing journaled) when a guard refuses.
        """
        self.guards.check_kill_switch()
        now = self.venue.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        turnover = plan.turnover + sum(p["value"] for p in pairs)
        self.guards.check_caps(turnover, self.journal.traded_value_since(self.portfolio, midnight))
        held = consolidate(self.venue.balances())
        run_id = "r" + uuid.uuid4().hex[:10]
        document = {
            "quote": plan.quote, "quote_before": held.get(plan.quote, 0.0),
            "planned_proceeds": sum(leg.quote_change for leg in plan.sells),
            "legs": [{"side": str(leg.side), "asset": leg.asset, "quantity": leg.quantity, "price": leg.price,
                      "value": leg.value, "fee": leg.fee} for leg in plan.legs],
            "skipped": [s.reason for s in plan.skipped],
            "pairs": [dict(p) for p in pairs],
        }
        if venue_plan.is_composite(self.venue):  # across venues: where each leg trades, and the moves
            routed = venue_plan.routing_document(venue_plan.route_legs(self.venue, plan.legs, plan.quote))  # type: ignore[arg-type]
            for name, value in venue_plan.turnover_by_venue(routed).items():
                assets = {leg["asset"] for leg in routed["legs"] if leg["venue"] == name}
                self.guards.check_venue(name, value, self.journal.traded_value_since(self.portfolio, midnight, venue=name),
                                        assets)
            document["venues"] = routed
        self.journal.create_run(RunRecord(id=run_id, portfolio=self.portfolio, state="created", created_at=now,
                                          updated_at=now, plan=document, value_before=value_before))
        return run_id

    def unfinished(self) -> RunRecord | None:
        """The portfolio's run that was started and not finished (at most one, thanks to the lock)."""
        runs = self.journal.runs(self.portfolio, states=states.UNFINISHED_RUN_STATES, limit=1)
        return runs[0] if runs else None

    def acknowledge(self, run_id: str) -> RunOutcome:
        """A person looked at a run parked in ``needs_attention``: close it as ``failed`` so new runs
        may start. Raise ``IllegalMove`` for a run in any other state."""
        run = self.journal.run(run_id)
        states.check_run_move(run.state, "failed")
        if run.state != "needs_attention":
            raise states.IllegalMove(f"Run {run_id} is {run.state}, not needs_attention; there is nothing to acknowledge.")
        self.journal.move_run(run_id, run.state, "failed", at=self.venue.now(), reason=f"{run.reason}; acknowledged")
        return self._outcome(self.journal.run(run_id))

    # -- driving -------------------------------------------------------------------------------

    def execute(self, run_id: str) -> RunOutcome:
        """Drive run ``run_id`` from its journaled state to ``completed``, ``failed`` or
        ``needs_attention``. Raise ``Denied`` for the kill switch (the run stays resumable) and a
        retryable ``VenueError`` when the venue stays unreachable (likewise)."""
        while True:
            run = self.journal.run(run_id)
            if run.state in states.FINAL_RUN_STATES or run.state == "needs_attention":
                return self._outcome(run)
            if run.state == "created":
                refused = self._preflight(run)
                if refused is not None:
                    return refused
            else:
                stopped = self._drive_stage(run)
                if stopped is not None:
                    return stopped
            self._enter_next(self.journal.run(run_id))

    def _preflight(self, run: RunRecord) -> RunOutcome | None:
        """Check every price the plan relies on before its first leg (bridges included); a
        refusal fails the run with nothing sent. The kill switch propagates and the run waits."""
        self.guards.check_kill_switch()
        planned = plan_prices(run.plan)
        try:
            quotes = self.venue.prices(list(planned))
            now = self.venue.now()
            for asset, price in planned.items():
                self.guards.check_price(asset, quotes[asset], now=now, planned_price=price)
        except Denied as denied:
            states.check_run_move(run.state, "failed")
            self.journal.move_run(run.id, run.state, "failed", at=self.venue.now(), reason=f"{denied}; nothing was sent")
            return self._outcome(self.journal.run(run.id))
        return None

    def _enter_next(self, run: RunRecord) -> None:
        target = states.next_stage(run.state)
        states.check_run_move(run.state, target)
        if target == "completed":
            self.journal.move_run(run.id, run.state, target, at=self.venue.now(), value_after=self._value_now())
            return
        specs, notes = self._size(target, run)
        existing = len(self.journal.legs(run.id))
        records = [_record(run.id, existing + i, target, spec) for i, spec in enumerate(specs)]
        reason = "; ".join(filter(None, [run.reason, *notes]))
        self.journal.move_run(run.id, run.state, target, at=self.venue.now(), reason=reason, new_legs=records)
        self._emit(ProgressKind.STAGE_STARTED, run.id, target, legs=len(records))

    def _size(self, stage: str, run: RunRecord) -> tuple[list[LegSpec], list[str]]:
        plan = run.plan
        legs = [Leg(side=Side(x["side"]), asset=x["asset"], quantity=x["quantity"], price=x["price"],
                    value=x["value"], fee=x["fee"]) for x in plan["legs"]]
        sells = [leg for leg in legs if leg.side is Side.SELL]
        buys = [leg for leg in legs if leg.side is Side.BUY]
        if "venues" in plan:
            return venue_plan.size_stage(stage, self.venue, plan, quote=self.quote,  # type: ignore[arg-type]
                                         real_proceeds=routing.real_proceeds(self.journal.fills([run.id])))
        holdings, markets = by_chain(self.venue.balances()), self.venue.markets()
        if stage == "gathering":
            return routing.gathering_transfers(sells, holdings, markets), []
        if stage == "selling":
            orders, notes = routing.sell_orders(sells, holdings, markets)
            return routing.pair_orders(plan.get("pairs", []), markets) + orders, notes
        budgets = routing.buy_budgets(buys, quote_before=plan["quote_before"], planned_proceeds=plan["planned_proceeds"],
                                      real_proceeds=routing.real_proceeds(self.journal.fills([run.id])))
        quote_by_chain = holdings.get(self.quote, {})
        if stage == "bridging":
            return routing.quote_transfers(budgets, quote_by_chain, markets, self.quote), []
        return routing.buy_orders(buys, budgets, quote_by_chain, markets)

    def _drive_stage(self, run: RunRecord) -> RunOutcome | None:
        legs = [leg for leg in self.journal.legs(run.id) if leg.stage == run.state]
        # a leg refused before a crash still stops the run: a resumed run never carries on past it
        refusal: str | None = next((_refused(leg) for leg in legs if leg.state == "rejected"), None)
        for leg in legs:
            if refusal is not None or leg.state not in ("planned", "submitting"):
                continue  # done, travelling (awaited below), or after a refusal (cancelled below)
            try:
                refusal = self._drive_leg(run, leg)
            except Denied as denied:
                if denied.code == "KILL_SWITCH":
                    raise  # the run stays where it is and resumes when the switch is off
                refusal = str(denied)
            if refusal == "needs_attention":
                return self._park(run, f"leg {leg.client_id}: the venue's answer did not match the leg")
        attention = self._await_transfers(run)
        if attention:
            return self._park(run, attention)
        if refusal is not None:
            self._cancel_planned(run.id)
            done = sum(1 for leg in self.journal.legs(run.id) if leg.state in ("filled", "arrived"))
            reason = f"{refusal}; {done} leg(s) done before it; the next run replans from the venue's balances"
            states.check_run_move(run.state, "failed")
            self.journal.move_run(run.id, run.state, "failed", at=self.venue.now(), reason=reason,
                                  value_after=self._value_now())
            return self._outcome(self.journal.run(run.id))
        return None

    def _drive_leg(self, run: RunRecord, leg: LegRecord) -> str | None:
        """Send (or find) one leg; return a refusal sentence, ``"needs_attention"``, or None."""
        if leg.state == "planned":
            self.guards.check_kill_switch(leg.chain.partition(":")[0] if "venues" in run.plan else None)
            if leg.kind == "order":
                quote = self.venue.prices([leg.asset])[leg.asset]
                self.guards.check_price(leg.asset, quote, now=self.venue.now(), planned_price=leg.planned_price)
            self._move(leg, "submitting")
            leg = self._reload(leg)
        try:
            return self._drive_sent_leg(run, leg)
        except NeedsAttention as e:  # the venue contradicts itself (a swap "completed" that no balance shows)
            self._move(leg, "needs_attention", error=e.venue_message)
            return "needs_attention"

    def _drive_sent_leg(self, run: RunRecord, leg: LegRecord) -> str | None:
        try:
            answer = self._ask(leg)
        except FINAL_REFUSALS as e:  # the venue knows the leg and says it failed (a swap refunded, say)
            self._move(leg, "rejected", error=e.venue_message)
            what = f"{leg.side} {leg.asset}" if leg.kind != "transfer" else f"bridge of {leg.asset}"
            return f"{what} failed at the venue: {e.venue_message}"
        except UnknownOrder:
            if leg.kind != "transfer":
                self._emit(ProgressKind.ORDER_SENT, run.id, leg.stage, asset=leg.asset, side=leg.side, chain=leg.chain)
            try:
                answer = self._send(leg)
            except FINAL_REFUSALS as e:
                self._move(leg, "rejected", error=e.venue_message)
                what = f"{leg.side} {leg.asset}" if leg.kind != "transfer" else f"bridge of {leg.asset}"
                return f"{what} was refused by the venue: {e.venue_message}"
        return self._record_answer(run, leg, answer)

    def _ask(self, leg: LegRecord) -> Order | Transfer:
        return self._retrying(lambda: self._find(leg))

    def _find(self, leg: LegRecord) -> Order | Transfer:
        """What the venue has under the leg's client id (``UnknownOrder``: it never saw it)."""
        if leg.kind in ("order", "pair"):
            return self.venue.get_order(leg.client_id)
        return self.venue.transfer_status(leg.client_id)

    def _send(self, leg: LegRecord) -> Order | Transfer:
        """Send the leg; after a timeout, 5xx or 429 the venue is asked by client id before any
        re-send, and the leg is sent again only when the venue proves it never saw it."""
        return sending(lambda: self._write(leg), lambda: self._find(leg), retries=self.retries, backoff=0.2,
                       sleep=self.sleep)

    def _write(self, leg: LegRecord) -> Order | Transfer:
        if leg.kind == "pair":  # a direct pair (ETH/BTC): quantity in its base; only venues with pairs plan one
            return self.venue.place_pair_order(  # type: ignore[attr-defined]
                leg.asset, Side(leg.side), leg.planned_quantity, leg.client_id)
        if leg.kind == "order":
            where = {"chain": leg.chain} if venue_plan.is_composite(self.venue) else {}
            return self.venue.place_order(leg.asset, Side(leg.side), quantity=leg.planned_quantity,
                                          quote_amount=leg.quote_amount, client_order_id=leg.client_id, **where)
        return self.venue.transfer(leg.asset, leg.planned_quantity, leg.chain, leg.to_chain, leg.client_id)

    def _retrying(self, call: Callable[[], Any]) -> Any:
        return retrying(call, retries=self.retries, backoff=0.2, sleep=self.sleep)

    def _record_answer(self, run: RunRecord, leg: LegRecord, answer: Order | Transfer) -> str | None:
        if isinstance(answer, Order):
            if (answer.asset, str(answer.side)) != (leg.asset, leg.side):
                self._move(leg, "needs_attention", error=f"venue reports {answer.side} {answer.asset}")
                return "needs_attention"
            fill = {"client_id": leg.client_id, "run_id": run.id, "asset": answer.asset, "side": str(answer.side),
                    "chain": answer.chain, "quantity": answer.quantity, "price": answer.price,
                    "mid_price": answer.mid_price, "value": answer.value, "fee": answer.fee,
                    "slippage": answer.slippage, "at": answer.at}
            self._move(leg, "filled", fill=fill, filled_quantity=answer.quantity, value=answer.value, fee=answer.fee)
            self._emit(ProgressKind.ORDER_FILLED, run.id, leg.stage, asset=leg.asset, side=leg.side, chain=leg.chain,
                       quantity=answer.quantity, value=answer.value)
            return None
        if (answer.asset, answer.from_chain, answer.to_chain) != (leg.asset, leg.chain, leg.to_chain):
            self._move(leg, "needs_attention", error=f"venue reports a bridge of {answer.asset}")
            return "needs_attention"
        record = {"client_id": leg.client_id, "run_id": run.id, "asset": answer.asset, "amount": answer.amount,
                  "fee": answer.fee, "from_chain": answer.from_chain, "to_chain": answer.to_chain,
                  "state": "in_transit", "started_at": answer.started_at, "arrived_at": None}
        price = leg.planned_price or 1.0
        self._move(leg, "in_transit", transfer=record, filled_quantity=answer.amount, value=answer.amount * price,
                   fee=answer.fee * price)
        self._emit(ProgressKind.BRIDGE_SENT, run.id, leg.stage, asset=leg.asset, chain=leg.chain, to_chain=leg.to_chain,
                   quantity=answer.amount, eta=answer.arrives_at)
        return None

    def _await_transfers(self, run: RunRecord) -> str | None:
        """Wait until every bridge of this stage arrived; return a reason to park the run, or None."""
        deadline: datetime | None = None
        pacing = pace(self.poll_seconds) if self.poll_seconds else None
        rounds = 0
        while True:
            pending = [leg for leg in self.journal.legs(run.id) if leg.stage == run.state and leg.state == "in_transit"]
            if not pending:
                return None
            now = self.venue.now()
            deadline = deadline or now + self.transfer_timeout
            earliest = None
            for leg in pending:
                try:
                    transfer = self._retrying(lambda leg=leg: self.venue.transfer_status(leg.client_id))
                except UnknownOrder:
                    self._move(leg, "needs_attention", error="the venue no longer knows this bridge")
                    return f"bridge {leg.client_id} is unknown to the venue"
                except (*FINAL_REFUSALS, NeedsAttention) as e:  # failed, refunded, or contradicted: a person must look
                    self._move(leg, "needs_attention", error=e.venue_message)
                    return f"bridge {leg.client_id} of {leg.asset} {e}"
                bridge = {"asset": leg.asset, "chain": leg.chain, "to_chain": leg.to_chain,
                          "quantity": leg.filled_quantity, "eta": transfer.arrives_at}
                if transfer.status is TransferStatus.ARRIVED:
                    self._move(leg, "arrived", transfer_update={"state": "arrived", "arrived_at": now})
                    self._emit(ProgressKind.BRIDGE_ARRIVED, run.id, leg.stage, **bridge)
                else:
                    earliest = min(earliest or transfer.arrives_at, transfer.arrives_at)
                    self._emit(ProgressKind.BRIDGE_WAITING, run.id, leg.stage, **bridge)
            if earliest is not None:
                if now > deadline:
                    return f"bridges still in transit after {self.transfer_timeout}"
                rounds += 1
                left = (deadline - now).total_seconds()
                if pacing is not None:  # a live venue: its pace, backing off while nothing arrives
                    self.wait(min(pacing.delay(rounds), max(left, pacing.poll_seconds)))
                else:
                    self.wait(max(min((earliest - now).total_seconds(), left), 1.0))

    def _cancel_planned(self, run_id: str) -> None:
        for leg in self.journal.legs(run_id):
            if leg.state == "planned":
                self._move(leg, "cancelled")

    def _park(self, run: RunRecord, reason: str) -> RunOutcome:
        states.check_run_move(run.state, "needs_attention")
        self.journal.move_run(run.id, run.state, "needs_attention", at=self.venue.now(), reason=reason)
        return self._outcome(self.journal.run(run.id))

    def _emit(self, kind: ProgressKind, run_id: str, stage: str, **values: Any) -> None:
        """Tell the progress listener, if any; its failure is logged and never stops the run."""
        if self.progress is None:
            return
        try:
            self.progress(ProgressEvent(kind=kind, run_id=run_id, stage=stage, at=self.venue.now(), **values))
        except Exception:
            logging.getLogger("trimtab.executor").exception("a progress listener failed")

    def _move(self, leg: LegRecord, target: str, **values: Any) -> None:
        states.check_leg_move(leg.state, target)
        self.journal.move_leg(leg.client_id, [leg.state], target, at=self.venue.now(), **values)

    def _reload(self, leg: LegRecord) -> LegRecord:
        return next(x for x in self.journal.legs(leg.run_id) if x.idx == leg.idx)

    def _value_now(self) -> float:
        held = consolidate(self.venue.balances())
        prices = self.venue.prices([a for a in held if a != self.quote])
        return sum(q * (1.0 if a == self.quote else prices[a].price) for a, q in held.items())

    def _outcome(self, run: RunRecord) -> RunOutcome:
        return RunOutcome(run_id=run.id, state=run.state, reason=run.reason, legs=tuple(self.journal.legs(run.id)))


def _record(run_id: str, idx: int, stage: str, spec: LegSpec) -> LegRecord:
    return LegRecord(run_id=run_id, idx=idx, client_id=client_id(run_id, idx), kind=spec.kind, stage=stage,
                     asset=spec.asset, side=spec.side, chain=spec.chain, to_chain=spec.to_chain,
                     planned_quantity=spec.quantity, quote_amount=spec.quote_amount, planned_price=spec.price,
                     state="planned")


def _refused(leg: LegRecord) -> str:
    what = f"{leg.side} {leg.asset}" if leg.kind != "transfer" else f"bridge of {leg.asset}"
    return f"{what} was refused by the venue: {leg.error}"


def plan_prices(plan: Mapping[str, Any]) -> dict[str, float]:
    """The prices a journaled plan was made at, per asset."""
    return {leg["asset"]: leg["price"] for leg in plan.get("legs", [])}

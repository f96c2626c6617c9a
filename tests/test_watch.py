"""The engine's watch over a real journal: which steps become which events, and coalescing that
survives a new process (a new Watch on the same journal)."""

from __future__ import annotations

from datetime import UTC, datetime

from trimtab.engine.agent import RebalanceResult
from trimtab.engine.events import Watch
from trimtab.engine.executor import RunOutcome
from trimtab.errors import Denied, VenueUnavailable
from trimtab.journal import Journal, LegRecord
from trimtab.journal.events import event_counts

NOW = datetime(2026, 1, 2, 12, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def notify(self, event) -> None:  # type: ignore[no-untyped-def]
        self.events.append(event)

    @property
    def seen(self) -> list[tuple[str, str]]:
        return [(e.kind, e.phase) for e in self.events]


def watch(journal: Journal, recorder: Recorder, **kw) -> Watch:  # type: ignore[no-untyped-def]
    return Watch(journal, "main", recorder, emergency_band=0.15, clock=lambda: NOW, **kw)


def outcome(state: str, reason: str = "", leg_state: str = "filled") -> RunOutcome:
    leg = LegRecord(run_id="r1", idx=0, client_id="r1-00", kind="order", stage="selling", asset="BTC",
                    state=leg_state, side="sell", value=1000.0, fee=1.0)
    return RunOutcome(run_id="r1", state=state, reason=reason, legs=(leg,))


def test_venue_unreachable_is_sent_once_after_n_errors_in_a_row_and_cleared_by_a_success(tmp_path):
    # Arrange
    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    recorder = Recorder()
    # Act: five failures over two "processes" (two watches on one journal), then a success
    for _ in range(2):
        watch(journal, recorder, unreachable_after=3).failed(VenueUnavailable("timeout"))
    for _ in range(3):
        watch(journal, recorder, unreachable_after=3).failed(VenueUnavailable("timeout"))
    watch(journal, recorder, unreachable_after=3).succeeded(RebalanceResult(assessment=None, outcome=None))
    # Assert
    assert [s for s in recorder.seen if s[0] != "daily_summary"] == [("venue_unreachable", "start"),
                                                                     ("venue_unreachable", "clear")]
    assert event_counts(journal, "venue_error") == {("main", "VenueUnavailable"): 5}


def test_a_failed_leg_a_guard_refusal_and_a_parked_run_each_become_their_event(tmp_path):
    # Arrange
    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    recorder = Recorder()
    w = watch(journal, recorder)
    # Act
    w.succeeded(RebalanceResult(assessment=None, outcome=outcome("failed", "the venue rejected it", "rejected")))
    w.succeeded(RebalanceResult(assessment=None, outcome=outcome("failed", "PRICE_MOVED: BTC moved 3%")))
    w.succeeded(RebalanceResult(assessment=None, outcome=outcome("needs_attention", "leg r1-00: no match")))
    w.failed(Denied("RUN_NEEDS_ATTENTION", "run r1 needs attention"))  # the next checks: no repeat
    w.failed(Denied("RUN_NEEDS_ATTENTION", "run r1 needs attention"))
    w.succeeded(RebalanceResult(assessment=None, outcome=None))  # acknowledged: trading again
    # Assert
    assert [s for s in recorder.seen if s[0] != "daily_summary"] == [
        ("leg_failed", "once"), ("guard_refusal", "start"), ("needs_attention", "start"),
        ("guard_refusal", "clear"), ("needs_attention", "clear")]
    failed = recorder.events[0]
    assert "sell BTC: rejected" in failed.body and failed.data["fees"] == 1.0
    assert event_counts(journal, "refusal") == {("main", "PRICE_MOVED"): 1}


def test_the_daily_summary_is_emitted_once_a_day(tmp_path):
    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    recorder = Recorder()
    for _ in range(3):
        watch(journal, recorder).succeeded(RebalanceResult(assessment=None, outcome=None))
    assert recorder.seen == [("daily_summary", "once")]
    assert recorder.events[0].body.startswith("last 24 h: 0 checks, 0 runs")


def test_an_observer_that_raises_never_reaches_the_run(tmp_path):
    class Broken:
        def notify(self, event) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    Watch(journal, "main", Broken(), emergency_band=0.15).failed(Denied("RUN_CAP", "too big"))  # no raise
    assert event_counts(journal, "refusal") == {("main", "RUN_CAP"): 1}


def test_a_dry_run_neither_clears_nor_starts_anything(tmp_path):
    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}")
    recorder = Recorder()
    w = watch(journal, recorder)
    w.failed(Denied("RUN_NEEDS_ATTENTION", "run r1 needs attention"))
    w.succeeded(RebalanceResult(assessment=None, outcome=None, dry_run=True))
    assert recorder.seen == [("needs_attention", "start")]

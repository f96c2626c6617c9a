"""The watch's events and the metrics' figures on both journals: SQLite and a real PostgreSQL."""

from __future__ import annotations

import pytest
from paper_setup import make_agent

from trimtab.engine.events import Watch
from trimtab.engine.guards import Guards
from trimtab.errors import Denied
from trimtab.monitor.metrics import journal_figures


class Recorder:
    def __init__(self) -> None:
        self.kinds: list[tuple[str, str]] = []

    def notify(self, event) -> None:  # type: ignore[no-untyped-def]
        self.kinds.append((event.kind, event.phase))


def test_a_refusal_then_a_rebalance_are_counted_the_same_on_either_journal(tmp_path, journal_url):
    # Arrange: a paper agent whose first rebalance is refused by a run cap, watched
    agent = make_agent(tmp_path, journal_url, guards=Guards(max_run_value=1.0))
    recorder = Recorder()
    agent.watch = Watch(agent.journal, agent.portfolio, recorder, emergency_band=0.10, guards=agent.executor.guards)
    # Act
    with pytest.raises(Denied):
        agent.rebalance()
    agent.executor.guards = Guards()
    agent.watch.guards = agent.executor.guards
    done = agent.rebalance()
    figures = journal_figures(agent.journal)["main"]
    # Assert
    assert done.outcome.state == "completed"
    assert [k for k in recorder.kinds if k[0] != "daily_summary"] == [
        ("guard_refusal", "start"), ("emergency_drift", "start"), ("rebalance_completed", "once"),
        ("guard_refusal", "clear")]
    assert figures["refusals"] == {"RUN_CAP": 1} and figures["runs"] == {"completed": 1}
    assert figures["fees"] == pytest.approx(done.outcome.fees)
    assert figures["conditions"] == {"guard_refusal:RUN_CAP": 0, "emergency_drift": 1}

"""A refusal survives a crash: a leg the venue refused stops its run even when the process dies (or a
read fails) between journaling the refusal and failing the run. Found by benchmarks/soak.py: the run
resumed past a refused bridge, bought with what it found, and ended `completed`. Real paper venue and
journal; the crash is a read that fails at that moment."""

from paper_setup import make_agent

from trimtab.errors import VenueUnavailable


def test_a_run_that_died_after_a_leg_was_refused_fails_on_resume_and_sends_nothing_more(tmp_path, monkeypatch):
    # Arrange: the BTC market is halted, so the sell is refused; the process dies before the run is failed
    agent = make_agent(tmp_path, bridge_fee=0.0)
    executor, journal, venue = agent.executor, agent.journal, agent.venue
    run_id = executor.start(agent.assess().plan, value_before=10000.0)
    venue.set_halted("BTC")

    def killed():
        raise VenueUnavailable("the process died here")

    monkeypatch.setattr(executor, "_value_now", killed)
    try:
        executor.execute(run_id)
    except VenueUnavailable:
        pass
    monkeypatch.undo()
    assert journal.run(run_id).state == "selling"
    assert [leg.state for leg in journal.legs(run_id) if leg.stage == "selling"] == ["rejected"]
    orders_before = venue._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    # Act: the next process resumes the run
    outcome = executor.execute(run_id)
    # Assert: it fails for the refusal, and no stage after it is entered or sent
    assert outcome.state == "failed"
    assert "refused by the venue" in outcome.reason and "halted" in outcome.reason
    assert {leg.stage for leg in outcome.legs} == {"gathering", "selling"}
    assert venue._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == orders_before

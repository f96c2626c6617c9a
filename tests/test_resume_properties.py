"""Crash anywhere, resume, and end exactly where an uninterrupted run ends: every venue call, both sides.

A ``CrashingVenue`` implements the venue protocol around a real paper venue and dies (a
``BaseException``, as a killed process would stop) just before or just after its n-th call. A fresh
agent on the same account and journal then finishes the run.
"""

import pytest
from paper_setup import make_agent

from trimtab.engine.agent import Agent
from trimtab.engine.executor import Executor
from trimtab.journal import Journal
from trimtab.venues.base import by_chain
from trimtab.venues.paper import PaperVenue

CALLS = ("place_order", "get_order", "transfer", "transfer_status", "balances", "prices")


class Crash(BaseException):
    """The process died here."""


class CrashingVenue:
    def __init__(self, venue: PaperVenue, at_call: int, after: bool) -> None:
        self._venue, self._left, self._after = venue, at_call, after

    def __getattr__(self, name):
        target = getattr(self._venue, name)
        if name not in CALLS:
            return target

        def call(*args, **kwargs):
            self._left -= 1
            if self._left == 0 and not self._after:
                raise Crash(name)
            try:
                return target(*args, **kwargs)
            finally:  # the call happened (or raised, e.g. UnknownOrder); the process dies before using it
                if self._left == 0:
                    raise Crash(name)

        return call


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    agent = make_agent(tmp_path_factory.mktemp("reference"))
    assert agent.rebalance().outcome.state == "completed"
    return by_chain(agent.venue.balances())


#: An uninterrupted rebalance of the seed portfolio makes 24 or 25 venue calls (one more bridge poll when a
#: bridge lands exactly at the wait's end); crash before and after each of the first 24.
@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("at_call", range(1, 25))
def test_a_crash_at_any_venue_call_resumes_to_the_uninterrupted_holdings(tmp_path, reference, at_call, after):
    # Arrange
    directory = tmp_path
    agent = make_agent(directory)
    crashing = CrashingVenue(agent.venue, at_call, after)
    agent.venue = crashing
    agent.executor.venue = crashing
    # Act
    with pytest.raises(Crash):
        agent.rebalance()
    venue = PaperVenue(directory / "paper.db")
    journal = Journal.open(f"sqlite:///{directory / 'journal.db'}")
    fresh = Agent(venue, journal, agent.strategy, Executor(venue, journal, wait=venue.advance), directory / "trimtab.lock")
    fresh.rebalance()
    # Assert
    runs = journal.runs("main")
    assert [r.state for r in runs] == ["completed"]
    legs = journal.legs(runs[0].id)
    orders = {c for (c,) in venue._db.execute("SELECT client_order_id FROM orders")}
    transfers = {c for (c,) in venue._db.execute("SELECT client_id FROM transfers")}
    assert orders == {leg.client_id for leg in legs if leg.kind == "order"}
    assert transfers == {leg.client_id for leg in legs if leg.kind == "transfer"}
    after_chains = by_chain(venue.balances())
    for asset, chains in reference.items():
        for chain, quantity in chains.items():
            assert after_chains.get(asset, {}).get(chain, 0.0) == pytest.approx(quantity, rel=1e-9, abs=1e-9)

"""The executor says what it is doing while a run waits: one event per stage, order and bridge,
with the bridge's route and expected arrival on the venue's clock. Real paper venue and journal."""

from paper_setup import START, make_agent

from trimtab.engine.progress import ProgressKind


def test_a_cross_chain_run_emits_each_stage_order_and_bridge_in_order(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)
    events = []
    agent.executor.progress = events.append
    # Act
    outcome = agent.rebalance().outcome
    # Assert
    assert outcome.state == "completed"
    kinds = [(e.kind, e.stage, e.asset) for e in events if e.kind is not ProgressKind.BRIDGE_WAITING]
    assert kinds == [
        ("stage_started", "gathering", None), ("bridge_sent", "gathering", "BTC"), ("bridge_arrived", "gathering", "BTC"),
        ("stage_started", "selling", None), ("order_sent", "selling", "BTC"), ("order_filled", "selling", "BTC"),
        ("stage_started", "bridging", None), ("bridge_sent", "bridging", "USDC"), ("bridge_arrived", "bridging", "USDC"),
        ("stage_started", "buying", None), ("order_sent", "buying", "ETH"), ("order_filled", "buying", "ETH"),
    ]
    sent = next(e for e in events if e.kind is ProgressKind.BRIDGE_SENT)
    assert (sent.chain, sent.to_chain, sent.run_id) == ("bitcoin", "ethereum", outcome.run_id)
    assert sent.eta > sent.at >= START  # the venue's clock, not the wall clock
    waiting = [e for e in events if e.kind is ProgressKind.BRIDGE_WAITING]
    assert waiting and all(e.eta is not None and e.to_chain for e in waiting)
    assert [e.legs for e in events if e.kind is ProgressKind.STAGE_STARTED] == [1, 1, 1, 1]


def test_a_listener_that_fails_never_stops_the_run(tmp_path):
    # Arrange
    agent = make_agent(tmp_path)

    def broken(event):
        raise RuntimeError("the terminal went away")

    agent.executor.progress = broken
    # Act
    outcome = agent.rebalance().outcome
    # Assert
    assert outcome.state == "completed"
    assert all(leg.state in ("filled", "arrived") for leg in outcome.legs)

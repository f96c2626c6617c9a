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


def test_the_cli_prints_a_still_waiting_bridge_at_most_every_so_often_with_route_and_eta():
    from datetime import timedelta

    from rich.console import Console

    from trimtab.engine.progress import ProgressEvent
    from trimtab.interfaces.cli.render_progress import ProgressPrinter

    # Arrange
    console = Console(record=True, width=200, force_terminal=False)
    printer = ProgressPrinter(console, every=3600)
    bridge = {"run_id": "r1", "stage": "bridging", "asset": "USDC", "chain": "ethereum", "to_chain": "base",
              "quantity": 500.5, "eta": START + timedelta(minutes=8)}
    # Act
    printer(ProgressEvent(kind=ProgressKind.BRIDGE_SENT, at=START, **bridge))
    for minute in range(1, 8):
        printer(ProgressEvent(kind=ProgressKind.BRIDGE_WAITING, at=START + timedelta(minutes=minute), **bridge))
    printer(ProgressEvent(kind=ProgressKind.BRIDGE_ARRIVED, at=START + timedelta(minutes=8), **bridge))
    # Assert
    lines = console.export_text().splitlines()
    assert lines == [
        "  sent: bridge of 500.5 USDC ethereum -> base; expected at 2025-01-01 00:08:00 (in about 8 min, venue clock)",
        "  arrived: bridge of 500.5 USDC ethereum -> base at 2025-01-01 00:08:00",
    ]
    assert ProgressPrinter(console, every=0).line(ProgressEvent(
        kind=ProgressKind.BRIDGE_WAITING, at=START + timedelta(minutes=5), **bridge)).startswith(
        "  waiting: bridge of 500.5 USDC ethereum -> base; expected at 2025-01-01 00:08:00 (in about 3 min")

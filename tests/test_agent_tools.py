"""The tools' bodies over a real paper portfolio and journal: advice from history, backtest bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cli_paper import make_portfolio

from trimtab.errors import Denied
from trimtab.interfaces.agent_tools import AgentTools
from trimtab.journal import CheckRecord, Journal, RunRecord


def test_advise_threshold_says_raise_the_band_after_weekly_rebalances(tmp_path):
    # Arrange: 60 days of daily checks and a completed rebalance every 4 days
    portfolio = make_portfolio(tmp_path / "p")
    journal = Journal.open(f"sqlite:///{portfolio / 'trimtab.db'}")
    start = datetime.now(UTC) - timedelta(days=60)
    journal.record_checks([CheckRecord(portfolio="main", at=start + timedelta(days=d), total_value=1e4, weights={},
                                       drift={}, max_drift=0.055, rebalance=d % 4 == 0, trigger="band", reason="r")
                           for d in range(60)])
    for d in range(0, 60, 4):
        at = start + timedelta(days=d)
        journal.create_run(RunRecord(id=f"r{d:010d}", portfolio="main", state="completed", created_at=at,
                                     updated_at=at, plan={}))
    # Act
    advice = AgentTools(portfolio / "trimtab.toml").advise_threshold(90)
    # Assert
    assert advice.action == "raise" and advice.rebalances == 15
    assert advice.suggested_band == pytest.approx(0.075)


def test_a_backtest_past_its_time_limit_is_stopped(tmp_path):
    # Arrange
    portfolio = make_portfolio(tmp_path / "p")
    config = portfolio / "trimtab.toml"
    config.write_text(config.read_text().replace('http_token_env = ', 'max_backtest_seconds = 0.2\nhttp_token_env = '))
    # Act
    with pytest.raises(Denied) as stopped:
        AgentTools(config).run_backtest({"BTC": 0.5, "USDC": 0.5}, "2020-01-01", "2024-12-31", "hourly")
    # Assert
    assert stopped.value.code == "BACKTEST_TIMEOUT"


def test_a_long_lived_server_does_not_leak_file_handles_across_calls(tmp_path):
    # Arrange
    import os

    tools = AgentTools(make_portfolio(tmp_path / "p") / "trimtab.toml")
    tools.get_portfolio()
    tools.get_history()
    before = len(os.listdir("/proc/self/fd"))
    # Act
    for _ in range(40):
        tools.get_portfolio()
        tools.check_drift()
        tools.get_history()
    # Assert
    assert len(os.listdir("/proc/self/fd")) <= before + 2

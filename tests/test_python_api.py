"""The Python API an agent imports: a paper portfolio built in code, status, plan, rebalance,
backtest, sweep, and the Rebalancer an agent's loop calls (real paper venue and journal)."""

from __future__ import annotations

import sqlite3

import pytest

import trimtab

SEED = {"targets": {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}, "holdings": {"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
        "prices": {"BTC": 65000, "ETH": 2000}}


def portfolio(tmp_path, **settings):
    return trimtab.create_paper_portfolio(tmp_path / "p", **SEED, **settings)


def set_in_config(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_portfolio_built_in_code_reports_its_drift_and_a_dry_run_sends_nothing(tmp_path):
    # Arrange
    config = portfolio(tmp_path)
    # Act
    status = trimtab.status(config)
    dry = trimtab.rebalance(config, dry_run=True)
    # Assert
    assert round(status.drift.max_drift, 12) == 0.15 and status.decision.rebalance
    assert [leg.side for leg in dry.plan.legs] == ["sell", "buy"]
    assert trimtab.status(config).valuation.quantities["BTC"] == pytest.approx(0.1)


def test_rebalance_for_real_goes_through_a_stored_plan_and_lands_on_target(tmp_path):
    # Arrange
    config = portfolio(tmp_path)
    # Act
    done = trimtab.rebalance(config, dry_run=False)
    # Assert
    assert done.outcome.state == "completed" and done.plan.state == "executed"
    assert trimtab.status(config).drift.max_drift < 0.01


def test_the_rebalancer_step_trades_when_due_then_holds(tmp_path):
    # Arrange
    bot = trimtab.Rebalancer(portfolio(tmp_path))
    # Act
    first = bot.step()
    second = bot.step()
    # Assert
    assert first.traded and first.run.state == "completed" and first.plan_id
    assert not second.traded and not second.assessment.decision.rebalance
    assert "hold" in second.summary()
    with sqlite3.connect(bot.config_path.parent / "trimtab.db") as db:
        calls = db.execute("SELECT interface, tool, outcome FROM tool_calls ORDER BY id").fetchall()
        checks = db.execute("SELECT COUNT(*) FROM checks").fetchone()[0]
    assert calls == [("python", "step", "ok"), ("python", "step", "ok")] and checks == 2


def test_in_approval_mode_the_rebalancer_waits_for_a_person_then_executes_the_approved_plan(tmp_path):
    # Arrange
    config = portfolio(tmp_path)
    set_in_config(config, "require_approval = false", "require_approval = true")
    bot = trimtab.Rebalancer(config)
    # Act
    waiting = bot.step()
    still = bot.step()
    bot.desk.approve(waiting.plan_id, by="owner")
    done = bot.step()
    # Assert
    assert waiting.waiting_for_approval and not waiting.traded
    assert still.plan_id == waiting.plan_id  # one plan waits; the loop does not pile up plans
    assert done.traded and done.plan_id == waiting.plan_id


def test_a_refusal_comes_back_as_a_value_so_a_loop_cannot_crash_or_spin_on_it(tmp_path):
    # Arrange
    config = portfolio(tmp_path)
    set_in_config(config, "# max_run_value = 50000.0", "max_run_value = 100.0")
    bot = trimtab.Rebalancer(config)
    # Act
    step = bot.step()
    # Assert
    assert step.refused.startswith("RUN_CAP: ") and step.run is None
    with pytest.raises(trimtab.Denied):
        bot.execute(bot.plan().id)


def test_backtest_and_sweep_run_on_the_shipped_history_even_with_the_backtest_package_loaded():
    # Arrange
    import trimtab.backtest.simulator

    targets = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    # Act
    result = trimtab.run_backtest(targets, start="2023-01-01", end="2023-12-31", band=0.05)
    rows = trimtab.sweep(targets, bands=[0.02, 0.10], start="2023-01-01", end="2023-12-31")
    # Assert
    assert len(result.index) == 365 and result.metrics.rebalance_count >= 1
    assert [row["band"] for row in rows] == [0.02, 0.10]
    assert rows[0]["rebalance_count"] >= rows[1]["rebalance_count"]
    # buy and hold beside every result a user compares policies by
    assert result.buy_and_hold.rebalance_count == 0 and result.buy_and_hold.bars == result.metrics.bars
    assert result.to_dict()["buy_and_hold"]["final_value"] == result.buy_and_hold.final_value
    [hold] = rows.buy_and_hold
    assert hold["rebalance_count"] == 0 and hold["policy"] == "never"


def test_trimtab_backtest_is_callable_and_still_the_backtesting_package():
    # Arrange
    targets = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    # Act
    called = trimtab.backtest(targets, start="2024-01-01", end="2024-06-30", band=0.05)
    named = trimtab.run_backtest(targets, start="2024-01-01", end="2024-06-30", band=0.05)
    # Assert
    assert called.metrics.final_value == named.metrics.final_value
    assert called.metrics.bars == 182
    assert trimtab.backtest.BacktestSpec is not None  # the package's names still resolve
    assert "backtest" in trimtab.__all__ and "rebalance" in trimtab.__all__


# -- alerts: the Python API is watched like the CLI's run and rebalance ---------------------------------

def with_alerts(config, port: int):
    set_in_config(config, "urls = []", f'urls = ["json://127.0.0.1:{port}/hook"]')
    return config


def test_trimtab_rebalance_sends_the_same_alert_the_cli_does(tmp_path):
    from alert_receiver import Receiver
    from cli_paper import wait_for

    with Receiver() as receiver:
        # Arrange
        config = with_alerts(portfolio(tmp_path), receiver.port)
        # Act
        done = trimtab.rebalance(config, dry_run=False)
        wait_for(lambda: receiver.titles, timeout=30)
        # Assert
        assert done.outcome.state == "completed"
        titles = [t.removeprefix("[trimtab main] ") for t in receiver.titles]
        assert titles[0].startswith(f"rebalance {done.outcome.run_id}") and titles[0].endswith("completed"), titles
        assert "sell BTC: filled" in receiver.bodies[0]["message"]


def test_the_rebalancers_step_sends_a_guard_refusal_once_then_its_clearing(tmp_path):
    from alert_receiver import Receiver
    from cli_paper import wait_for

    with Receiver() as receiver:
        # Arrange: a run cap the plan is over, so the step is refused (a value, not a raise)
        config = with_alerts(portfolio(tmp_path), receiver.port)
        set_in_config(config, "kill_switch = false", "kill_switch = false\nmax_run_value = 1.0")
        with trimtab.Rebalancer(config) as bot:
            # Act
            refused = [bot.step(), bot.step()]
        set_in_config(config, "max_run_value = 1.0\n", "")
        with trimtab.Rebalancer(config) as bot:
            done = bot.step()
        wait_for(lambda: len(receiver.titles) >= 3, timeout=30)
        # Assert
        assert all(r.refused and r.refused.startswith("RUN_CAP") for r in refused) and done.run.state == "completed"
        titles = [t.removeprefix("[trimtab main] ") for t in receiver.titles]
        assert titles[0].startswith("guard refusal: RUN_CAP"), titles
        assert any(t.startswith("rebalance r") and t.endswith("completed") for t in titles[1:]), titles
        assert any(t.startswith("guard refusal cleared: RUN_CAP") for t in titles[1:]), titles
        assert sum(t.startswith("guard refusal: RUN_CAP") for t in titles) == 1

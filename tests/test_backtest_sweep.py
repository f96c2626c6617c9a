"""Sweeps: the grid, the same numbers serially, on processes and on a Dask cluster, and the command."""

import json

import pytest
from backtest_helpers import daily, spec

from trimtab.backtest.fast import Prepared, run_fast
from trimtab.backtest.grid import Grid, describe, spec_from_row
from trimtab.backtest.spec import FeeModel
from trimtab.backtest.sweep import run_sweep
from trimtab.core.assets import Targets
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind
from trimtab.core.triggers import Period
from trimtab.errors import InputError
from trimtab.interfaces.cli.backtest_options import parse_range

SEED = Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
DATA = Prepared.of(daily())


def test_a_range_is_start_stop_count_with_both_ends():
    assert parse_range("0.01:0.20:50", "band")[0] == 0.01 and parse_range("0.01:0.20:50", "band")[-1] == 0.20
    assert len(parse_range("0.01:0.20:50", "band")) == 50
    assert parse_range("0.02,0.05", "band") == [0.02, 0.05]
    with pytest.raises(InputError, match="start:stop:count"):
        parse_range("0.01:0.2", "band")


def test_the_grid_does_not_multiply_options_a_policy_ignores():
    grid = Grid(targets=[SEED], policies=[PolicyKind.THRESHOLD, PolicyKind.CALENDAR, PolicyKind.NEVER],
                bands=[0.02, 0.05, 0.1], schedules=[Period.MONTHLY, Period.QUARTERLY])
    kinds = [s.policy.kind for s in grid.specs()]
    assert kinds.count(PolicyKind.THRESHOLD) == 3
    assert kinds.count(PolicyKind.CALENDAR) == 2
    assert kinds.count(PolicyKind.NEVER) == 1


def test_a_row_describes_its_spec_exactly():
    s = spec(band=0.03, mode="band-edge", fee_model="per-leg", min_trade=0)
    again = spec_from_row(describe(s))
    assert describe(again) == describe(s)
    assert run_fast(DATA, again) == run_fast(DATA, s)


def grid():
    return Grid(targets=[SEED, Targets.of({"BTC": 0.6, "ETH": 0.4})], bands=[0.02, 0.05, 0.1],
                modes=[Mode.TARGET, Mode.BAND_EDGE], fee_models=[FeeModel.PER_LEG, FeeModel.PROCEEDS]).specs()


def test_processes_give_the_same_rows_in_the_same_order_as_one_process():
    specs = grid()
    serial = run_sweep(DATA, specs, workers=1)
    parallel = run_sweep(DATA, specs, workers=2)
    assert parallel == serial and len(serial) == 24
    assert serial[0]["final_value"] == run_fast(DATA, specs[0]).final_value


def test_a_dask_cluster_gives_the_same_rows():
    distributed = pytest.importorskip("distributed")
    specs = grid()[:6]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  protocol="tcp", host="127.0.0.1", scheduler_port=0) as cluster:
        seen = []
        rows = run_sweep(DATA, specs, scheduler=cluster.scheduler_address, progress=seen.append)
    assert rows == run_sweep(DATA, specs, workers=1)
    assert sum(seen) == 6


def test_an_unreachable_scheduler_is_one_sentence():
    with pytest.raises(InputError, match="Cannot reach the Dask scheduler"):
        run_sweep(DATA, grid()[:2], scheduler="tcp://127.0.0.1:9", connect_timeout=1)


def test_sweep_command_prints_rows_with_the_backtest_keys(cli, tmp_path):
    result = cli("sweep", "--band", "0.02:0.10:3", "--mode", "target,band-edge", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
                 "--targets", "BTC=0.6,ETH=0.4", "--start", "2023-01-01", "--end", "2024-12-31", "--json",
                 "--chart", "frontier.png")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert len(rows) == 12
    assert {"band", "mode", "targets", "final_value", "rebalance_count", "fee_drag_per_year", "max_drift"} <= set(rows[0])
    assert (tmp_path / "frontier.png").exists()


def test_sweep_table_by_default(cli):
    result = cli("sweep", "--policy", "threshold,calendar", "--schedule", "monthly,quarterly", "--band", "0.03,0.06",
                 "--start", "2024-01-01", "--end", "2024-12-31")
    assert result.returncode == 0, result.stderr
    assert "4 configurations" in result.stdout and "chart: sweep.png" in result.stdout


def test_sweep_command_sends_configurations_to_a_dask_scheduler(cli):
    distributed = pytest.importorskip("distributed")
    args = ["sweep", "--band", "0.02,0.05", "--start", "2024-01-01", "--end", "2024-12-31", "--json"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                  protocol="tcp", host="127.0.0.1", scheduler_port=0) as cluster:
        result = cli(*args, "--scheduler", cluster.scheduler_address)
        tasks = len(cluster.scheduler.task_prefixes)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == json.loads(cli(*args).stdout)["rows"]
    assert tasks >= 1  # the work went through the cluster


def test_sweep_errors_are_one_sentence_and_exit_2(cli):
    result = cli("sweep", "--band", "0.01:0.2", "--json")
    assert result.returncode == 2
    assert "start:stop:count" in json.loads(result.stdout)["error"]["message"]


def test_sweep_reads_a_price_file_first_through_pandas_then_from_the_cache(cli, tmp_path):
    rows = ["date,symbol,close"] + [f"2024-01-{d:02d},BTC,{100 + d * (-1) ** d}" for d in range(1, 31)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    args = ["sweep", "--prices", "p.csv", "--targets", "BTC=0.5,USDC=0.5", "--band", "0.01,0.02", "--min-trade", "0", "--json"]
    first, second = cli(*args), cli(*args)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["rows"] == json.loads(second.stdout)["rows"]
    assert json.loads(first.stdout)["rows"][0]["bars"] == 30


def test_sweep_shows_a_buy_and_hold_row_per_portfolio_in_json_and_table(cli):
    # Act
    doc = json.loads(cli("sweep", "--band", "0.05,0.1", "--start", "2023-01-01", "--end", "2024-12-31",
                         "--json").stdout)
    table = cli("sweep", "--band", "0.05,0.1", "--start", "2023-01-01", "--end", "2024-12-31", "--chart", "s.png")
    # Assert
    (hold,) = doc["buy_and_hold"]
    assert hold["policy"] == "never" and hold["rebalance_count"] == 0 and hold["total_fees"] == 0
    assert hold["targets"] == doc["rows"][0]["targets"] and hold["bars"] == doc["rows"][0]["bars"]
    last = [line for line in table.stdout.splitlines() if "buy and hold" in line]
    assert len(last) == 1 and f"{hold['final_value']:,.2f}" in last[0]


def test_the_frontier_chart_labels_each_point_with_band_schedule_and_mode():
    from trimtab.backtest.chart import frontier_figure

    rows = [{"policy": p, "band": b, "relative_band": None, "schedule": s, "mode": "target", "max_drift": d,
             "fee_drag_per_year": f, "annual_return": 0.1}
            for p, b, s, d, f in [("threshold", 0.05, None, 0.08, 0.004), ("combined", 0.1, "monthly", 0.12, 0.002)]]
    hold = [{"max_drift": 0.3, "fee_drag_per_year": 0.0, "annual_return": 0.09}]
    fig = frontier_figure(rows, hold=hold)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["threshold band 5% target", "combined band 10% monthly target", "buy and hold (9.0%/yr)"]

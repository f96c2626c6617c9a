"""``trimtab advise``: one answer from the CLI (--json), the MCP tool (the SDK's real client) and
the Python API, grounded by a sweep whose suggestion really is the lowest score."""

from __future__ import annotations

import json

import anyio
import pytest
from cli_paper import make_portfolio
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from mcp_helpers import call, stdio_session

import trimtab
from trimtab.errors import InputError
from trimtab.interfaces.output import tidy


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """A paper portfolio that rebalanced once through the CLI."""
    directory = make_portfolio(tmp_path_factory.mktemp("advise") / "p")
    done = run_cli("rebalance", "--yes", "--json", cwd=directory)
    assert done.returncode == 0, done.stderr
    return directory


def test_cli_mcp_and_python_give_the_same_advice(portfolio):
    # Act
    cli = run_cli("advise", "--days", "30", "--tracking-weight", "0.25", "--json", cwd=portfolio)

    async def over_mcp():
        async with stdio_session(portfolio) as session:
            return await call(session, "advise_threshold", {"days": 30, "tracking_weight": 0.25})

    is_error, from_mcp = anyio.run(over_mcp)
    python = trimtab.advise(portfolio / "trimtab.toml", days=30, tracking_weight=0.25)
    # Assert
    assert cli.returncode == 0, cli.stderr
    assert is_error is False, from_mcp
    from_cli = json.loads(cli.stdout)
    assert from_cli == tidy(from_mcp) == tidy(python.to_dict())
    assert from_cli["window"]["rebalances"] == 1 and from_cli["window"]["fees"] > 0
    assert from_cli["current"]["current"] is True and len(from_cli["candidates"]) == 5


def test_the_suggestion_has_the_lowest_score_and_follows_the_tracking_weight(portfolio):
    # Act
    cheap = trimtab.advise(portfolio / "trimtab.toml", days=30, tracking_weight=0.0)
    close = trimtab.advise(portfolio / "trimtab.toml", days=30, tracking_weight=100.0)
    # Assert: scores add up, the suggestion is the best row, and weighing tracking error more
    # never suggests a policy that tracks worse
    for report in (cheap, close):
        rows = [*report.candidates, report.current]
        for row in rows:
            assert row.score == pytest.approx(row.fee_drag_per_year + report.tracking_weight * row.tracking_error)
        assert report.suggestion.score == min(r.score for r in rows)
        assert [r.score for r in report.candidates] == sorted(r.score for r in report.candidates)
    assert cheap.suggestion.fee_drag_per_year <= close.suggestion.fee_drag_per_year
    assert close.suggestion.tracking_error <= cheap.suggestion.tracking_error
    assert cheap.prices.assets == ["BTC", "ETH"] and cheap.prices.bars > 24 * 80


def test_advise_refuses_a_negative_tracking_weight_in_one_sentence(portfolio):
    result = run_cli("advise", "--tracking-weight", "-1", cwd=portfolio)
    assert result.returncode == 2
    with pytest.raises(InputError, match="tracking-weight must be a number >= 0"):
        trimtab.advise(portfolio / "trimtab.toml", tracking_weight=-1)


def test_the_human_table_shows_the_current_policy_and_the_verdict(portfolio):
    result = run_cli("advise", cwd=portfolio)
    assert result.returncode == 0, result.stderr
    assert "(current)" in result.stdout and "advice: Over " in result.stdout and "rule of thumb:" in result.stdout


def test_the_dashboards_call_takes_a_journal_and_plain_targets_without_a_known_policy(portfolio):
    from trimtab.journal import Journal
    from trimtab.monitor.advice import advise

    journal = Journal.open(f"sqlite:///{portfolio / 'trimtab.db'}")
    report = advise(journal, portfolio="main", targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}, policy=None)
    assert report.current is None and report.suggestion is not None and report.band is None
    assert report.window.rebalances == 1 and report.action == "keep"


def _prepared(steps):  # type: ignore[no-untyped-def]
    import numpy as np

    from trimtab.backtest.fast import Prepared

    prices = np.cumprod(np.vstack([[100.0, 50.0], steps]), axis=0)
    times = (np.arange(len(prices), dtype=np.int64) * 3600 + 1_700_000_000) * 10**9
    return Prepared(times, ("BTC", "ETH"), prices)


@settings(max_examples=50, deadline=None)
@given(steps=arrays(float, st.tuples(st.integers(3, 60), st.just(2)), elements=st.floats(0.8, 1.25)),
       scale=st.floats(0.01, 100))
def test_tracking_error_is_zero_on_target_and_blind_to_scale(steps, scale):
    import numpy as np

    from trimtab.backtest.spec import BacktestSpec
    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicyKind, PolicySpec
    from trimtab.monitor.advice import tracking_error

    data = _prepared(steps)
    spec = BacktestSpec(targets=Targets.of({"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}),
                        policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05))
    on_target = np.cumprod(np.concatenate([[1.0], 1 + (data.prices[1:] / data.prices[:-1] - 1) @ [0.5, 0.3]]))
    held = data.prices @ [0.5 / 100, 0.3 / 50] + 0.2  # bought at bar 0, never rebalanced
    assert tracking_error(data, spec, on_target * 1000) == pytest.approx(0.0, abs=1e-9)
    assert tracking_error(data, spec, held * scale) == pytest.approx(tracking_error(data, spec, held), rel=1e-6,
                                                                     abs=1e-12)
    assert tracking_error(data, spec, held) >= 0.0

"""The staleness rule (core/freshness.py), property by property: a plan is stale exactly when a run
started after it, a run was in flight when it was made, or one holding moved by more than
max(dust, 0.1% of the value) at today's price."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from trimtab.core.freshness import Activity, RunInFlight, Snapshot, holding_tolerance, what_changed

quantities = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@st.composite
def snapshots(draw):
    held = {asset: draw(quantities) for asset in ("BTC", "ETH", "USDC")}
    price = {"BTC": draw(prices), "ETH": draw(prices), "USDC": 1.0}
    total = sum(held[a] * price[a] for a in held) or 1.0
    return Snapshot(quantities=held, prices=price, total_value=total,
                    activity=Activity(runs_started=draw(st.integers(0, 5)), latest_run="r0123456789"))


@given(snapshots(), st.sampled_from(["BTC", "ETH", "USDC"]), st.floats(min_value=-2.0, max_value=2.0),
       st.floats(min_value=0.0, max_value=100.0))
def test_one_holding_moved_is_stale_exactly_beyond_the_tolerance(then, asset, share, dust):
    # Arrange: move one asset by `share` of the tolerance, in value
    tolerance = holding_tolerance(then.total_value, dust)
    delta = share * tolerance / then.prices[asset]
    after = max(then.quantities[asset] + delta, 0.0)
    now = Snapshot(quantities={**then.quantities, asset: after}, prices=then.prices, total_value=then.total_value,
                   activity=then.activity)
    # Act
    changed = what_changed(then, now, dust=dust)
    # Assert
    moved = abs(after - then.quantities[asset]) * then.prices[asset]
    if moved > tolerance:
        assert changed == f"{asset} holding {then.quantities[asset]:.8g} -> {after:.8g}"
    else:
        assert changed is None


@given(snapshots(), st.integers(1, 3))
def test_any_run_started_since_makes_the_plan_stale_whatever_the_holdings(then, more):
    # Arrange
    now = Snapshot(quantities=then.quantities, prices=then.prices, total_value=then.total_value,
                   activity=Activity(runs_started=then.activity.runs_started + more, latest_run="rfedcba9876"))
    # Act / Assert
    assert what_changed(then, now, dust=10.0) == "run rfedcba9876 started after this plan was made"


def test_a_plan_made_while_a_run_was_in_flight_is_stale_and_the_snapshot_survives_the_journal():
    # Arrange
    then = Snapshot(quantities={"BTC": 0.1, "USDC": 1000.0}, prices={"BTC": 65000.0, "USDC": 1.0},
                    total_value=7500.0, in_transit_value=1300.0,
                    activity=Activity(runs_started=2, latest_run="r1", latest_run_at=datetime(2026, 1, 1, tzinfo=UTC),
                                      in_flight=RunInFlight(run_id="r1", state="bridging")))
    # Act
    stored = Snapshot.from_dict(then.to_dict())
    # Assert
    assert stored == then
    assert what_changed(stored, then, dust=10.0).startswith("run r1 was in flight when this plan was made")

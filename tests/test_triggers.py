"""Triggers decide from drift and a moment passed in; every decision carries a readable reason."""

from datetime import datetime, timedelta, timezone

import pytest

from trimtab.core.assets import Targets
from trimtab.core.band import Band
from trimtab.core.drift import measure_drift
from trimtab.core.durations import parse_duration
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import CalendarTrigger, Moment, Period, ThresholdTrigger
from trimtab.core.valuation import value_portfolio
from trimtab.errors import InputError

UTC = timezone.utc


def drift_of(weights: dict[str, float], targets: dict[str, float]):
    t = Targets.of(targets)
    v = value_portfolio({a: w * 1000 for a, w in weights.items()}, {a: 1.0 for a in weights}, quote="USDC", assets=t.assets)
    return measure_drift(v, t)


SEED_DRIFT = drift_of({"BTC": 0.65, "ETH": 0.25, "USDC": 0.10}, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
CALM = drift_of({"BTC": 0.52, "ETH": 0.29, "USDC": 0.19}, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
NOW = Moment(now=datetime(2026, 3, 15, 12, tzinfo=UTC), previous_check_at=datetime(2026, 3, 15, 11, tzinfo=UTC))


def test_absolute_band_fires_with_the_worst_asset_in_the_reason():
    eth = drift_of({"BTC": 0.5, "ETH": 0.362, "USDC": 0.138}, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
    decision = ThresholdTrigger(Band(absolute=0.05)).decide(eth, NOW)
    assert decision.rebalance
    assert decision.reason == "ETH drift 0.062 > band 0.050"


def test_a_band_is_strict_so_drift_equal_to_the_band_does_not_fire():
    decision = ThresholdTrigger(Band(absolute=0.15)).decide(SEED_DRIFT, NOW)  # BTC drift is 0.15 (+float noise)
    assert not decision.rebalance
    assert "within band 0.150" in decision.reason


def test_relative_band_fires_on_relative_drift():
    decision = ThresholdTrigger(Band(relative=0.25)).decide(SEED_DRIFT, NOW)
    assert decision.rebalance
    assert "relative drift" in decision.reason and "> relative band 0.250" in decision.reason
    assert not ThresholdTrigger(Band(relative=0.6)).decide(SEED_DRIFT, NOW).rebalance


def test_either_band_fires_when_one_of_them_is_breached():
    both = ThresholdTrigger(Band(absolute=0.2, relative=0.25))
    assert both.decide(SEED_DRIFT, NOW).rebalance  # relative 0.5 on USDC breaches, absolute does not


@pytest.mark.parametrize(
    "period, previous, now, fires",
    [
        ("monthly", datetime(2026, 3, 31, 23), datetime(2026, 4, 1, 0), True),
        ("monthly", datetime(2026, 4, 1, 0), datetime(2026, 4, 1, 1), False),
        ("daily", datetime(2026, 4, 1, 23), datetime(2026, 4, 2, 0), True),
        ("weekly", datetime(2026, 4, 5, 23), datetime(2026, 4, 6, 0), True),  # Sunday -> Monday
        ("weekly", datetime(2026, 4, 6, 0), datetime(2026, 4, 12, 23), False),
        ("quarterly", datetime(2026, 3, 31, 23), datetime(2026, 4, 1, 0), True),
        ("quarterly", datetime(2026, 4, 30, 23), datetime(2026, 5, 1, 0), False),
        ("monthly", datetime(2026, 1, 20), datetime(2026, 3, 5), True),  # a missed boundary still fires
    ],
)
def test_calendar_fires_at_the_first_check_of_each_new_period(period, previous, now, fires):
    trigger = CalendarTrigger(Period.parse(period))
    decision = trigger.decide(CALM, Moment(now=now, previous_check_at=previous))
    assert decision.rebalance is fires
    if fires:
        assert decision.reason.startswith("first check of a new")


def test_calendar_does_not_fire_on_the_very_first_check():
    decision = CalendarTrigger(Period.MONTHLY).decide(CALM, Moment(now=datetime(2026, 4, 1)))
    assert not decision.rebalance and "starts counting at this first check" in decision.reason


def production(**kw):
    defaults = dict(kind=PolicyKind.COMBINED, band=0.05, emergency_band=0.15, schedule=Period.MONTHLY,
                    cooldown=timedelta(hours=24))
    return PolicySpec(**{**defaults, **kw}).trigger()


def test_production_policy_acts_at_once_past_the_emergency_band_even_in_cooldown():
    wild = drift_of({"BTC": 0.70, "ETH": 0.20, "USDC": 0.10}, {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2})
    moment = Moment(now=NOW.now, previous_check_at=NOW.previous_check_at, last_rebalance_at=NOW.now - timedelta(hours=1))
    decision = production().decide(wild, moment)
    assert decision.rebalance and decision.trigger == "emergency_band"
    assert decision.reason == "BTC drift 0.200 > band 0.150"


def test_production_policy_waits_out_the_cooldown_for_the_normal_band():
    moment = Moment(now=NOW.now, previous_check_at=NOW.previous_check_at, last_rebalance_at=NOW.now - timedelta(hours=1))
    decision = production().decide(SEED_DRIFT, moment)  # 0.15 is past the band, not past the emergency band
    assert not decision.rebalance and decision.trigger == "cooldown"
    later = Moment(now=NOW.now, previous_check_at=NOW.previous_check_at, last_rebalance_at=NOW.now - timedelta(days=2))
    assert production().decide(SEED_DRIFT, later).trigger == "band"


def test_production_policy_acts_on_the_schedule_when_drift_is_calm():
    moment = Moment(now=datetime(2026, 4, 1, 0, tzinfo=UTC), previous_check_at=datetime(2026, 3, 31, 23, tzinfo=UTC))
    decision = production().decide(CALM, moment)
    assert decision.rebalance and decision.trigger == "schedule"
    quiet = production().decide(CALM, NOW)
    assert not quiet.rebalance
    assert "within band 0.050" in quiet.reason and "not a new month" in quiet.reason


def test_never_never_rebalances():
    assert not PolicySpec(kind=PolicyKind.NEVER).trigger().decide(SEED_DRIFT, NOW).rebalance


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(kind=PolicyKind.CALENDAR, schedule=None), "needs a schedule"),
        (dict(kind=PolicyKind.THRESHOLD, band=None), "needs a band"),
        (dict(kind=PolicyKind.COMBINED, schedule=Period.MONTHLY, emergency_band=0.03), "must be wider"),
        (dict(kind=PolicyKind.THRESHOLD, band=1.5), "between 0 and 1"),
    ],
)
def test_inconsistent_policies_are_refused_in_one_sentence(kwargs, words):
    with pytest.raises(InputError, match=words):
        PolicySpec(**kwargs).trigger()


def test_durations_parse_in_the_units_users_write():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(InputError, match="not a duration"):
        parse_duration("soon")


def test_a_hold_of_the_production_policy_is_one_sentence_that_says_the_drift_once():
    # Arrange
    first = Moment(now=NOW.now)
    # Act
    quiet = production().decide(CALM, first).reason
    cooling = production().decide(SEED_DRIFT, Moment(now=NOW.now, previous_check_at=NOW.previous_check_at,
                                                     last_rebalance_at=NOW.now - timedelta(hours=1))).reason
    # Assert
    assert quiet.count("max drift") == 1 and ";" not in quiet
    assert quiet.endswith("is within band 0.050 and emergency band 0.150, and the monthly schedule starts counting "
                          "at this first check")
    assert cooling == ("BTC drift 0.150 > band 0.050, but the last rebalance was less than 1d ago, "
                       "and it is within emergency band 0.150")

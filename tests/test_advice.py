"""Band advice from a portfolio's history (pure)."""

from datetime import datetime, timedelta

from trimtab.core.advice import advise_band

T0 = datetime(2025, 1, 1)


def test_more_than_two_rebalances_a_month_advises_raising_the_band_by_half():
    # Arrange
    rebalances = [T0 + timedelta(days=2 * i) for i in range(15)]
    # Act
    advice = advise_band(band=0.05, rebalances=rebalances, drifts=[0.055] * 15, start=T0, end=T0 + timedelta(days=30))
    # Assert
    assert advice.action == "raise"
    assert abs(advice.suggested_band - 0.075) < 1e-12
    assert "15 rebalances" in advice.reason


def test_drift_past_twice_the_band_advises_lowering_it():
    # Arrange
    drifts = [0.01, 0.04, 0.104, 0.02]
    # Act
    advice = advise_band(band=0.05, rebalances=[T0 + timedelta(days=20)], drifts=drifts, start=T0,
                         end=T0 + timedelta(days=60))
    # Assert
    assert advice.action == "lower"
    assert abs(advice.suggested_band - 0.0375) < 1e-12
    assert "10.40%" in advice.reason


def test_a_quiet_history_keeps_the_band():
    # Arrange / Act
    advice = advise_band(band=0.05, rebalances=[T0 + timedelta(days=40)], drifts=[0.03, 0.051], start=T0,
                         end=T0 + timedelta(days=90))
    # Assert
    assert advice.action == "keep" and advice.suggested_band == 0.05


def test_less_than_a_week_of_history_gives_no_advice_yet():
    # Arrange / Act
    advice = advise_band(band=0.05, rebalances=[T0] * 5, drifts=[0.5], start=T0, end=T0 + timedelta(days=2))
    # Assert
    assert advice.action == "keep" and "at least 7 days" in advice.reason


def test_the_suggestion_stays_within_the_floor_and_the_ceiling():
    # Arrange
    many = [T0 + timedelta(hours=i) for i in range(200)]
    # Act
    wide = advise_band(band=0.2, rebalances=many, drifts=[], start=T0, end=T0 + timedelta(days=30))
    narrow = advise_band(band=0.011, rebalances=[], drifts=[0.5], start=T0, end=T0 + timedelta(days=30))
    # Assert
    assert wide.suggested_band == 0.25
    assert narrow.suggested_band == 0.01


def test_no_absolute_band_means_nothing_to_tune():
    # Arrange / Act
    advice = advise_band(band=None, rebalances=[], drifts=[], start=T0, end=T0 + timedelta(days=30))
    # Assert
    assert advice.action == "keep" and advice.suggested_band is None

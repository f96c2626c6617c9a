"""What the dashboard reads off a journal it has no config for, and the policy in words."""

from __future__ import annotations

from trimtab.demo.simulation import POLICY
from trimtab.interfaces.web.context import inferred, policy_in_words


def check(reason: str) -> dict:
    return {"weights": {"BTC": 0.52, "USDC": 0.48}, "drift": {"BTC": 0.02, "USDC": -0.02}, "reason": reason}


def test_targets_and_bands_come_from_the_last_check():
    context = inferred("p", check("max drift 0.020 (BTC) is within band 0.150; max drift 0.020 (BTC) is within band 0.050"))
    assert context.targets == {"BTC": 0.5, "USDC": 0.5}
    assert (context.policy.band, context.policy.emergency_band) == (0.05, 0.15)
    assert "band of 5.00% and an emergency band of 15.00%" in policy_in_words(context.policy, inferred_from_journal=True)


def test_a_reason_without_a_usable_band_shows_no_band_instead_of_failing():
    assert inferred("p", check("within band 0.000")).policy is None
    assert inferred("p", check("first check of a new month")).policy is None
    assert inferred("p", None).targets is None


def test_the_demo_policy_in_words():
    assert policy_in_words(POLICY) == ("Check every hour; rebalance at the first check of each month, or at once when "
                                       "any asset's weight is more than 5.00% away from its target; past the emergency "
                                       "band of 15.00% it acts even within the cooldown.")

"""What a balance proves about a swap (venues/purpleflea_balances.py): pure, so checked by property."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trimtab.venues.purpleflea_balances import arrived, smallest, whole


def swap(expected_usdc: int, *, baseline: str = "100", asked_at: float = 0.0) -> dict:
    """A sell of ETH for USDC on base whose expected output is ``expected_usdc`` whole USDC."""
    return {"request": {"from_chain": "base", "to_chain": "base", "amount": "1"}, "from_asset": "ETH",
            "to_asset": "USDC", "expected": str(expected_usdc * 10**6), "baseline": baseline, "asked_at": asked_at}


amounts = st.integers(16, 100_000)


@given(mine=amounts, theirs=amounts)
def test_one_arrival_never_confirms_two_swaps_into_the_same_balance(mine, theirs):
    first, second = swap(mine), swap(theirs)
    only_first_landed = Decimal(100 + mine)
    assert not (arrived(first, only_first_landed, [second], now=60) and
                arrived(second, only_first_landed, [first], now=60))
    both = Decimal(100 + mine + theirs)
    assert arrived(first, both, [second], now=60) and arrived(second, both, [first], now=60)


@given(mine=amounts, short=st.floats(0.021, 0.9))
def test_a_balance_short_of_the_expected_output_by_more_than_the_tolerance_confirms_nothing(mine, short):
    record = swap(mine)
    assert not arrived(record, Decimal(100) + Decimal(mine) * Decimal(1 - short), [], now=60)
    assert arrived(record, Decimal(100) + Decimal(mine) * Decimal("0.99"), [], now=60)


def test_an_unreadable_balance_or_a_missing_baseline_confirms_nothing_and_old_swaps_stop_counting():
    assert not arrived(swap(50), None, [], now=60)
    assert not arrived(swap(50, baseline=None), Decimal(1000), [], now=60)
    assert arrived(swap(50), Decimal(150), [swap(50, asked_at=-7 * 3600)], now=60)


@given(units=st.integers(1, 10**12))
def test_smallest_units_and_decimals_round_trip(units):
    assert smallest(float(whole(units, "base", "USDC")), "base", "USDC") == units

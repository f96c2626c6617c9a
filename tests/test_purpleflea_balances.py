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


@given(mine=amounts, deposit=st.integers(1, 1_000_000), landed=st.booleans())
def test_someone_elses_deposit_confirms_nothing_when_the_balance_is_the_only_evidence(mine, deposit, landed):
    """An owner's deposit of ``deposit`` USDC lands while our swap of ``mine`` travels (``landed``:
    ours too). By the balance alone, a rise our swap cannot explain proves nothing; with Wagyu's
    completed word (``exact=False``) our arrival under the deposit is accepted, and without it not."""
    record = swap(mine)
    rise = Decimal(deposit) + (Decimal(mine) if landed else 0)
    explained = rise <= Decimal(mine) * Decimal("1.02")  # a deposit the size of a swap is the window that remains
    assert arrived(record, Decimal(100) + rise, [], now=60) == (rise >= Decimal(mine) * Decimal("0.98") and explained)
    assert arrived(record, Decimal(100) + rise, [], now=60, exact=False) == (rise >= Decimal(mine) * Decimal("0.98"))
    if landed:
        assert arrived(record, Decimal(100) + rise, [], now=60, exact=False)


@given(mine=amounts, theirs=amounts)
def test_a_swap_of_ours_confirmed_meanwhile_is_no_stranger_in_the_rise(mine, theirs):
    """Two of our swaps land; one was confirmed first (``landed``): the other's rise holds both."""
    first, second = swap(mine), swap(theirs)
    both = Decimal(100 + mine + theirs)
    assert arrived(second, both, [], now=60, landed=[first])
    assert arrived(second, both, [], now=60) == (Decimal(mine) <= Decimal(theirs) * Decimal("0.02"))  # else a stranger

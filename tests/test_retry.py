"""The one retry policy and polling pace (venues/retry.py, from tenacity)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trimtab.errors import OrderRejected, RateLimited, UnknownOrder, VenueUnavailable
from trimtab.venues.retry import pace, retrying, sending


def failing(errors):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "answer"

    return call, calls


def test_retryable_errors_are_retried_with_doubling_waits_then_answer():
    # Arrange
    waits: list[float] = []
    call, calls = failing([VenueUnavailable("502"), VenueUnavailable("timeout")])
    # Act
    answer = retrying(call, retries=3, backoff=0.5, sleep=waits.append)
    # Assert
    assert answer == "answer" and len(calls) == 3 and waits == [0.5, 1.0]


def test_a_final_refusal_is_raised_at_once_and_the_last_retryable_failure_after_the_retries():
    waits: list[float] = []
    refused, calls = failing([OrderRejected("no")])
    with pytest.raises(OrderRejected):
        retrying(refused, sleep=waits.append)
    always, tries = failing([VenueUnavailable(str(i)) for i in range(10)])
    with pytest.raises(VenueUnavailable, match="^2$"):
        retrying(always, retries=2, backoff=1.0, sleep=waits.append)
    assert len(calls) == 1 and len(tries) == 3 and waits == [1.0, 2.0]


def test_wait_for_lengthens_one_wait_such_as_a_429s_whole_window():
    waits: list[float] = []
    call, _ = failing([RateLimited("429"), VenueUnavailable("502")])
    retrying(call, backoff=0.5, sleep=waits.append,
             wait_for=lambda e, s: 60.0 if isinstance(e, RateLimited) else s)
    assert waits == [60.0, 1.0]


def test_a_write_whose_answer_was_lost_is_found_by_its_id_and_never_sent_again():
    # Arrange: the send was done at the venue and its answer lost; the lookup's first read fails too
    sends, finds = [], []

    def send():
        sends.append(1)
        raise VenueUnavailable("timed out")

    def find():
        finds.append(1)
        if len(finds) == 1:
            raise RateLimited("429")
        return "the order"

    waits: list[float] = []
    # Act
    answer = sending(send, find, retries=3, backoff=0.5, sleep=waits.append)
    # Assert
    assert answer == "the order" and len(sends) == 1 and len(finds) == 2 and waits == [0.5, 1.0]


def test_a_write_the_venue_proves_it_never_saw_is_sent_again_and_a_refusal_is_final():
    send, sends = failing([VenueUnavailable("503")])
    finds = []

    def unknown():
        finds.append(1)
        raise UnknownOrder("no such order")

    assert sending(send, unknown, sleep=lambda s: None) == "answer" and len(sends) == 2 and len(finds) == 1
    refused, tries = failing([OrderRejected("no")])
    with pytest.raises(OrderRejected):
        sending(refused, unknown, sleep=lambda s: None)
    assert len(tries) == 1 and len(finds) == 1


def test_the_pace_starts_at_poll_seconds_and_doubles_to_eight_times():
    assert [pace(10).delay(n) for n in range(1, 7)] == [10, 20, 40, 80, 80, 80]


@given(poll=st.floats(0.01, 600), n=st.integers(1, 1000))
def test_the_pace_never_reads_faster_than_poll_seconds_nor_waits_past_its_cap(poll, n):
    delay = pace(poll).delay(n)
    assert poll <= delay <= 8 * poll + 1e-9
    assert pace(poll).delay(n + 1) >= delay

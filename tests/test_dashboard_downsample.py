"""Min/max downsampling keeps every bucket's extremes, in time order, in at most two rows a bucket."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimtab.interfaces.web.downsample import minmax_buckets

values_strategy = st.floats(-1, 1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 400), k=st.integers(1, 4), buckets=st.integers(1, 60), data=st.data())
def test_every_bucket_keeps_its_lowest_and_highest_value_of_every_series(n, k, buckets, data):
    # Arrange: irregular sorted times, random series
    gaps = data.draw(arrays(np.float64, n, elements=st.floats(0.5, 100)))
    times = np.cumsum(gaps)
    values = data.draw(arrays(np.float64, (n, k), elements=values_strategy))
    start, end = float(times[0]), float(times[-1])
    # Act
    t, v = minmax_buckets(times, values, start=start, end=end, buckets=buckets)
    # Assert
    assert len(t) == len(v) <= max(2 * buckets, n) and np.all(np.diff(t) >= 0)
    if n <= 2 * buckets:
        assert np.array_equal(t, times) and np.array_equal(v, values)
        return
    assert len(t) <= 2 * buckets
    span = end - start
    bucket_of = lambda x: np.minimum(((x - start) / span * buckets).astype(int), buckets - 1)
    for b in np.unique(bucket_of(times)):
        inside, sent = bucket_of(times) == b, bucket_of(t) == b
        for j in range(k):
            assert v[sent, j].min() == values[inside, j].min() and v[sent, j].max() == values[inside, j].max()
    assert v[:, 0].max() == values[:, 0].max() and v[:, 0].min() == values[:, 0].min()


def test_a_window_keeps_only_its_own_points():
    times = np.arange(100, dtype=float)
    values = times.reshape(-1, 1) / 100
    t, v = minmax_buckets(times, values, start=10, end=19, buckets=50)
    assert list(t) == list(range(10, 20)) and v[-1, 0] == 0.19

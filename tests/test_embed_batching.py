"""Token-budget batching: how sorted windows are cut into batches (no model needed)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.embed import batch_bounds


def test_short_windows_share_a_batch_and_long_ones_are_split():
    lengths = np.array([5, 5, 6, 10, 10, 128, 128, 128])
    # 4 x 10 = 40 tokens fit a budget of 40; the 128-token windows go one at a time.
    assert batch_bounds(lengths, max_rows=64, max_tokens=40).tolist() == [0, 4, 5, 6, 7, 8]
    assert batch_bounds(lengths, max_rows=64, max_tokens=256).tolist() == [0, 5, 7, 8]
    assert batch_bounds(lengths, max_rows=2, max_tokens=256).tolist() == [0, 2, 4, 6, 8]
    # 0: a fixed number of windows per batch, whatever their length.
    assert batch_bounds(lengths, max_rows=3, max_tokens=0).tolist() == [0, 3, 6, 8]
    assert batch_bounds(np.array([], dtype=np.int64), max_rows=3, max_tokens=100).tolist() == [0]


@given(
    st.lists(st.integers(1, 128), min_size=0, max_size=300),
    st.integers(1, 80),
    st.integers(0, 5000),
)
def test_batches_cover_every_window_once_within_the_limits(lengths, max_rows, max_tokens):
    w = np.sort(np.array(lengths, dtype=np.int64))
    b = batch_bounds(w, max_rows=max_rows, max_tokens=max_tokens)
    assert b[0] == 0 and b[-1] == len(w) and np.all(np.diff(b) >= 1)
    for lo, hi in zip(b[:-1], b[1:]):
        rows = hi - lo
        assert rows <= max_rows
        if max_tokens and rows > 1:
            assert rows * w[hi - 1] <= max_tokens  # padded to its longest window
        if max_tokens and hi < len(w) and rows < max_rows:
            assert (rows + 1) * w[hi] > max_tokens  # greedy: the next window would not have fit

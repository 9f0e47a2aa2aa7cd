"""The in-place student storage: compaction, counting and scratch kernels against numpy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim import population
from sim.population import ArrayStudents
from sim.students import COLUMNS, TRANSIENT

flags = arrays(np.uint8, st.integers(0, 3000), elements=st.integers(0, 1))


def _filled(n: int, capacity: int) -> ArrayStudents:
    s = ArrayStudents(seed=0, capacity=capacity)
    s._resize(n)
    rng = np.random.default_rng(n)
    for k, v in s.a.items():
        v[:] = rng.integers(-100, 100, n).astype(v.dtype) if v.dtype.kind != "u" else rng.integers(0, 200, n)
    return s


@pytest.mark.parametrize("parallel_rows", [1 << 20, 1])  # sequential and multi-threaded compaction
@given(keep=flags, start_share=st.floats(0, 1))
@settings(max_examples=60)
def test_keep_compacts_in_order_like_a_mask(parallel_rows, keep, start_share):
    population.PARALLEL_ROWS = parallel_rows
    try:
        n = len(keep)
        start = int(start_share * n)
        keep[:start] = 1                       # rows before `start` are kept by contract
        s = _filled(n, n + 7)
        expected = {k: v[keep.astype(bool)].copy() for k, v in s.a.items()}
        s.keep(keep, start)
        assert len(s) == int(keep.sum())
        for k, v in s.a.items():
            np.testing.assert_array_equal(v, expected[k])
            assert v.dtype == np.dtype({**COLUMNS, **TRANSIENT}[k])
    finally:
        population.PARALLEL_ROWS = 1 << 20


@given(index=arrays(np.int32, st.integers(0, 5000), elements=st.integers(0, 40)))
def test_count_is_bincount(index):
    np.testing.assert_array_equal(population._count(index, 41), np.bincount(index, minlength=41))


@given(x=arrays(np.int32, st.integers(0, 5000), elements=st.integers(-3, 3)))
def test_nonnegative_rows_is_flatnonzero(x):
    np.testing.assert_array_equal(population.nonnegative_rows(x), np.flatnonzero(x >= 0))


def test_growing_keeps_rows_and_leaves_spare_room():
    s = _filled(10, 10)
    before = {k: v.copy() for k, v in s.a.items()}
    s._reserve(1000)
    assert s.capacity >= 1000 + 1000 * population.SPARE - 1 and len(s) == 10
    for k, v in s.a.items():
        np.testing.assert_array_equal(v, before[k])

"""Alias tables sample exactly the distribution they were built from."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim import alias, rng

weights = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 40)),
                 elements=st.one_of(st.just(0.0), st.floats(1e-9, 1e6)))


@given(weights)
@settings(max_examples=200, deadline=None)
def test_alias_table_encodes_the_distribution(w):
    w[:, 0] += 1.0  # every row needs a positive entry
    table = alias.build(w)
    accept, al = alias.split(table)
    target = w / w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(alias.probabilities(table), target, atol=1e-8)  # thresholds have 32 bits
    # a zero-weight column is never drawn: never kept as itself, never an alias target
    zero = w == 0
    assert np.all(accept[zero] == 0.0)
    for g in range(w.shape[0]):
        assert not np.any(zero[g, al[g]])


def test_draw_frequencies_match():
    w = np.array([[1.0, 0.0, 3.0, 6.0]])
    table = alias.build(w)
    draws = np.array([alias.draw(table, 0, np.uint64(rng.key(1, 2, 3, i)), 0) for i in range(40_000)])
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, w[0] / w.sum(), atol=0.01)
    assert freq[1] == 0.0

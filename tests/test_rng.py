"""The counter-based generator: a pure, well-spread function of its coordinates."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import rng

coords = st.tuples(st.integers(0, 2**32), st.integers(0, 100), st.integers(1900, 2200), st.integers(0, 2**62),
                   st.integers(0, 64))


@given(coords)
def test_uniform_is_in_unit_interval_and_pure(c):
    u = rng.uniform(*c)
    assert 0.0 <= u < 1.0
    assert rng.uniform(*c) == u


@given(coords)
def test_each_coordinate_changes_the_draw(c):
    u = rng.uniform(*c)
    for i in range(5):
        other = list(c)
        other[i] += 1
        assert rng.uniform(*other) != u


@given(st.integers(0, 1000), st.integers(1, 50))
@settings(max_examples=20)
def test_vector_form_matches_scalar(seed, stream):
    agents = np.arange(0, 5000, 7, dtype=np.uint64)
    vec = rng.uniforms(seed, stream, 2020, agents, 3)
    assert all(vec[i] == rng.uniform(seed, stream, 2020, int(a), 3) for i, a in enumerate(agents[:50]))


def test_uniform_distribution_and_independence_of_streams():
    agents = np.arange(200_000, dtype=np.uint64)
    a = rng.uniforms(7, rng.CHOICE, 2020, agents)
    b = rng.uniforms(7, rng.DROPOUT, 2020, agents)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.01  # neighbouring agents are not correlated


def test_normal_deviates():
    z = np.array([rng.normal_at(np.uint64(rng.key(3, rng.TALENT, 2020, i)), 0) for i in range(50_000)])
    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_a_new_stream_is_declared_once_and_never_on_a_taken_number():
    from sim import rng
    assert rng.stream(997, "a test's stream") == 997 == rng.stream(997, "a test's stream")   # a module imported twice
    with pytest.raises(ValueError, match="stream 31 is already 'EMIGRATION'"):
        rng.stream(31, "job search")
    with pytest.raises(ValueError, match="an integer in 1"):
        rng.stream(0, "nothing")


@given(st.lists(st.integers(1, 4), min_size=2, max_size=6), st.integers(0, 5), st.integers(0, 2**32))
@settings(max_examples=30, deadline=None)
def test_a_university_keeps_its_dice_when_other_countries_gain_universities(counts, grown, seed):
    """The world's universities draw from generators keyed by country and rank (sim/world/synthetic.py): when one
    country gains a university (its enrolment grew between two start years), every other university keeps its
    dice, and so does every one the grown country had; different universities get different dice."""
    from sim.world.synthetic import _university_draws
    codes = [f"C{i:02d}" for i in range(len(counts))]
    grown %= len(counts)
    more = [k + (i == grown) for i, k in enumerate(counts)]
    before = _university_draws(seed, codes, np.repeat(np.arange(len(counts)), counts), 3)
    after = _university_draws(seed, codes, np.repeat(np.arange(len(counts)), more), 3)
    kept = np.ones(sum(more), bool)
    kept[sum(more[:grown + 1]) - 1] = False            # the new university: the grown country's last
    for b, a in zip(before, after):
        np.testing.assert_array_equal(b, a[kept])
    z = after[0]
    assert len(np.unique(z[:, 0])) == len(z)

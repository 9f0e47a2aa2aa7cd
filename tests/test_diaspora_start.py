"""The network's yearly update: the start is its steady state (a run does not drift from it), and the stay rate
reported five years on is what the update does to a cohort of stayers."""

import numpy as np
from hypothesis import given, settings, strategies as st

from sim.diaspora import INITIAL_STAY_SHARE, Diaspora
from sim.mechanisms.careers import still_abroad


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), decay=st.floats(0.01, 0.5), rate_scale=st.floats(0.0, 0.5))
def test_a_year_of_the_same_flows_leaves_the_starting_network_where_it_was(seed, decay, rate_scale):
    rng = np.random.default_rng(seed)
    entrants = rng.uniform(0, 1000, (4, 4))
    rate = rng.uniform(0, rate_scale, (4, 4))
    np.fill_diagonal(rate, 0.0)
    d = Diaspora.before_the_start(entrants, 4.0, decay, None, rate)
    flows = entrants * ~np.eye(4, dtype=bool)
    alumni, returned = d.alumni.copy(), d.returned.copy()
    d.update(rate, decay, flows * INITIAL_STAY_SHARE, flows * (1 - INITIAL_STAY_SHARE))
    np.testing.assert_allclose(d.alumni, alumni, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(d.returned, returned, rtol=1e-9, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), rate_scale=st.floats(0.0, 1.0), years=st.integers(0, 8))
def test_the_stay_rate_years_on_is_what_the_networks_update_leaves_of_a_cohort(seed, rate_scale, years):
    rng = np.random.default_rng(seed)
    cohort = rng.uniform(0, 1000, (4, 4)) * ~np.eye(4, dtype=bool)
    rate = rng.uniform(0, rate_scale, (4, 4))
    np.fill_diagonal(rate, 0.0)
    d = Diaspora.empty(4)
    d.update(rate, 0.0, cohort, np.zeros((4, 4)))        # the year they graduate: no one has left yet
    gone = sum(d.update(rate, 0.0, np.zeros((4, 4)), np.zeros((4, 4))) for _ in range(years))
    kept = still_abroad(rate, years)
    np.testing.assert_allclose(d.alumni, cohort * kept, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(gone, cohort * (1 - kept), rtol=1e-9, atol=1e-9)
    assert np.all((kept >= 0) & (kept <= 1))

"""The network at the start is the steady state of its own yearly update: a run does not drift from it."""

import numpy as np
from hypothesis import given, settings, strategies as st

from sim.diaspora import INITIAL_STAY_SHARE, Diaspora


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

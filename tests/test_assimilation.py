"""A run from the data (world.start_from=observed): the observed corridor stocks in place at the start
(sim/mechanisms/assimilation.py), corridor constants that keep their shares (sim/initial_state.py), and
the corridor stocks without the agents' dice (sim/mechanisms/expected_stocks.py)."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import small_config
from sim.errors import ConfigError
from sim.initial_state import _shares
from sim.mechanisms.assimilation import assimilate, corridor_targets
from sim.mechanisms.expected_stocks import propagate
from sim.mechanisms.library.destinations import expected_entrants, probabilities
from sim.model import HemsimModel, build_world

OBSERVED = (0, 2, 3)       # destinations that report their students' origins in these tests


def _stock(world, seed=0) -> np.ndarray:
    """Whole observed stocks (real students) for the OBSERVED destinations, NaN elsewhere: about as many as the
    model holds, spread differently over origins."""
    n = world.n_countries
    r = np.random.default_rng(seed)
    stock = np.full((n, n), np.nan)
    stock[:, OBSERVED] = r.integers(0, 12, size=(n, len(OBSERVED))).astype(float)
    np.fill_diagonal(stock, 0.0)
    return stock


def _from_data(seed=1, scale=1.0, students=20_000, scenario="baseline", stock_seed=0):
    cfg = small_config(students=students, years=2, seed=seed, scenario=scenario, countries=8, universities=40,
                       scale=scale)
    cfg.world.start_from = "observed"
    world = build_world(cfg)
    world.stock_before_start = _stock(world, stock_seed) * scale
    return HemsimModel(cfg, world), world


def test_the_start_holds_the_observed_stocks_exactly_corridor_by_corridor():
    m, w = _from_data()
    census = m.census.enrolled                       # the year before the start year: the assimilated one
    seen = ~np.isnan(w.stock_before_start)
    off = ~np.eye(w.n_countries, dtype=bool)
    assert np.array_equal(census[seen & off], w.stock_before_start[seen & off].astype(np.int64))
    # what the choice (with the corridor constants) then sends to the observed destinations keeps their shares
    flows = expected_entrants(probabilities(m), w, m.rules.study.postgraduate_share)
    model = _shares(np.where(seen & off, flows, 0.0))
    left = np.where(off, m.census.graduates + m.census.dropouts, 0)[:, OBSERVED].sum(axis=0) / \
        np.where(off, census, 0)[:, OBSERVED].sum(axis=0)
    target = np.zeros_like(model)
    target[:, OBSERVED] = (np.nan_to_num(w.stock_before_start[:, OBSERVED]) + 10.0) * left[None, :]
    target = _shares(np.where(seen & off, target, 0.0))
    assert np.abs(model - target).max() < 1e-3


def test_entrants_carry_on_the_corridors_last_observed_change_by_the_momentum():
    """With world.entrant_momentum, the entrants the corridor constants aim at are those that replace leavers
    plus that share of the ones the last two observed years imply: S - (1 - left) S_before."""
    def model(momentum):
        cfg = small_config(students=20_000, years=2, seed=1, countries=8, universities=40, scale=1.0)
        cfg.world.start_from, cfg.world.entrant_momentum = "observed", momentum
        w = build_world(cfg)
        w.stock_before_start = _stock(w, 0)
        w.stock_two_before_start = _stock(w, 5)            # another year: every corridor changed
        return HemsimModel(cfg, w), w

    shares = {}
    for momentum in (0.0, 0.5):
        m, w = model(momentum)
        seen = ~np.isnan(w.stock_before_start) & ~np.eye(w.n_countries, dtype=bool)
        off = ~np.eye(w.n_countries, dtype=bool)
        left = np.where(off, m.census.graduates + m.census.dropouts, 0)[:, OBSERVED].sum(axis=0) / \
            np.where(off, m.census.enrolled, 0)[:, OBSERVED].sum(axis=0)
        now, before = w.stock_before_start[:, OBSERVED], w.stock_two_before_start[:, OBSERVED]
        target = np.zeros((w.n_countries, w.n_countries))
        target[:, OBSERVED] = np.maximum((now + 10.0) * left + momentum * (1 - left) * (now - before), 0.0)
        flows = expected_entrants(probabilities(m), w, m.rules.study.postgraduate_share)
        shares[momentum] = _shares(np.where(seen, flows, 0.0))
        assert np.abs(shares[momentum] - _shares(np.where(seen, target, 0.0))).max() < 1e-3
    grew = (_stock(w, 0) - _stock(w, 5) > 0) & seen
    shrank = (_stock(w, 0) - _stock(w, 5) < 0) & seen
    # the corridors that grew get more of their origin's entrants than without momentum, those that shrank less
    assert (shares[0.5] - shares[0.0])[grew].mean() > 0 > (shares[0.5] - shares[0.0])[shrank].mean()


def test_the_unobserved_destinations_keep_the_models_students():
    cfg = small_config(students=20_000, years=2, seed=1, countries=8, universities=40, scale=1.0)
    spun = HemsimModel(cfg)
    m, w = _from_data()
    unseen = [d for d in range(w.n_countries) if d not in OBSERVED]
    off = ~np.eye(w.n_countries, dtype=bool)
    before, after = spun.census.enrolled, m.census.enrolled
    # the observed corridors changed (the test's stocks are not the model's), the others did not
    assert not np.array_equal(before[:, OBSERVED], after[:, OBSERVED])
    assert np.array_equal(np.where(off, before, 0)[:, unseen], np.where(off, after, 0)[:, unseen])


def test_a_scenario_shares_the_baselines_start_and_corridor_constants():
    base, _ = _from_data(seed=3)
    other, _ = _from_data(seed=3, scenario="open_visas")
    assert np.array_equal(base.corridor_constant, other.corridor_constant)
    assert np.array_equal(base.census.enrolled, other.census.enrolled)
    assert np.abs(base.corridor_constant).max() > 0.1          # the test's stocks are not the model's


def test_start_from_observed_needs_stocks_and_the_fast_backend():
    cfg = small_config(students=3_000, years=1, countries=6, universities=30)
    cfg.world.start_from = "observed"
    with pytest.raises(ConfigError, match="world.start_from=observed: the synthetic world has no observed stocks"):
        HemsimModel(cfg)
    from sim.config import validate
    with pytest.raises(ConfigError, match="needs backend=numba"):
        validate(dataclasses.replace(cfg, backend="mesa"))
    cfg.world.start_from = "somewhere"
    with pytest.raises(ConfigError, match="world.start_from=somewhere: unknown start"):
        validate(cfg)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ConfigError, match=r"world.entrant_momentum=.*: must be within 0..1"):
            validate(dataclasses.replace(cfg, world=dataclasses.replace(cfg.world, start_from="observed",
                                                                        entrant_momentum=bad)))


@given(st.integers(0, 2 ** 31), st.integers(2, 6), st.integers(1, 3))
def test_assimilate_meets_every_target_and_moves_nobody_else(seed, n, per_country):
    r = np.random.default_rng(seed)
    univ_country = np.repeat(np.arange(n), per_country)
    first_univ = np.arange(n + 1) * per_country
    size = int(r.integers(50, 400))
    origin = r.integers(0, n, size).astype(np.uint16)
    home = r.random(size) < 0.7
    country = np.where(home, origin, r.integers(0, n, size))
    univ = (country * per_country + r.integers(0, per_country, size)).astype(np.int32)
    uid = np.arange(size, dtype=np.uint64) * 7 + 3
    targets = np.where(r.random((n, n)) < 0.6, r.integers(0, 8, (n, n)), -1)
    np.fill_diagonal(targets, -1)
    new, shortfall = assimilate(origin, univ, uid, univ_country, np.ones(n * per_country), first_univ, targets,
                                seed, 2014)
    held = np.zeros((n, n), np.int64)
    np.add.at(held, (origin.astype(np.int64), univ_country[new]), 1)
    observed = targets >= 0
    assert np.array_equal(held[observed] + shortfall[observed], targets[observed])
    pool = np.bincount(origin[country == origin], minlength=n)
    need = np.where(observed, np.maximum(targets - np.bincount(origin.astype(np.int64) * n + country,
                                                               minlength=n * n).reshape(n, n), 0), 0).sum(axis=1)
    assert not shortfall[need <= pool].any()            # every target met where the origin has students at home
    moved = new != univ
    was, now = country[moved], univ_country[new[moved]]
    assert np.all((was == origin[moved]) | observed[origin[moved], was])   # only from home or an observed corridor
    assert np.all((now == origin[moved]) | observed[origin[moved], now])   # only home or to an observed corridor


def test_corridor_targets_round_to_whole_agents_without_bias():
    stock = np.full((3, 3), 250.0)
    stock[:, 2] = np.nan
    t = np.array([corridor_targets(stock, 100.0, seed, 2014) for seed in range(400)])
    assert set(np.unique(t[:, 0, 1])) == {2, 3} and abs(t[:, 0, 1].mean() - 2.5) < 0.1
    assert (t[:, :, 2] == -1).all() and (t[:, [0, 1, 2], [0, 1, 2]] == -1).all()
    assert np.array_equal(corridor_targets(np.full((3, 3), 7.0), 1.0, 0, 2014)[0, 1:], [7, 7])


def test_expected_stocks_keep_shares_when_inflow_replaces_who_left():
    stock = np.array([[100.0, 30.0, 10.0], [20.0, 200.0, 40.0], [5.0, 50.0, 300.0]])
    leaving = np.full((3, 3), 0.25)
    entrants = stock * 0.25                                           # the same composition as the stock
    inflow = np.diag(np.diag(stock)) * 0.25 + np.where(np.eye(3, dtype=bool), 0, stock * 0.25)
    assert np.allclose(propagate(stock, leaving, inflow, entrants), stock)
    doubled = propagate(stock, leaving, inflow * 2, entrants)         # twice the inflow: each column grows alike
    off = ~np.eye(3, dtype=bool)
    assert np.allclose(doubled[off], stock[off] * 1.25)


def test_expected_stocks_follow_the_sampled_ones_on_average():
    """The expected corridor stocks agree with the agents' (at destination totals, and corridor by corridor
    on average over seeds) in a run from the model's own start."""
    expected, sampled = [], []
    for seed in range(3):
        f = HemsimModel(small_config(students=60_000, years=3, seed=seed, countries=10, universities=60)).run() \
            .flows.to_pandas()
        f = f[f.year == f.year.max()]
        expected.append(f[f.kind == "enrolled_expected"].set_index(["origin", "destination"]).students)
        sampled.append(f[f.kind == "enrolled"].set_index(["origin", "destination"]).students)
    e = sum(expected) / 3
    s = (sum(sampled) / 3).reindex(e.index).fillna(0.0)
    totals = s.groupby(level=1).sum()
    big_dest = totals.index[totals >= 20 * 100.0]                   # at least 20 agents a seed
    by_dest = (e.groupby(level=1).sum() / totals)[big_dest]
    assert len(big_dest) >= 2 and by_dest.between(0.85, 1.15).all(), by_dest
    big = s > s.quantile(0.5)
    assert np.corrcoef(np.log1p(e[big]), np.log1p(s[big]))[0, 1] > 0.9

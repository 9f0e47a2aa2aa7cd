"""Invariants of the yearly cycle: students are conserved, capacity is never exceeded, flows agree with
metrics; emigration moves only home graduates and counts every move."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run, small_config
from sim.diaspora import Diaspora
from sim.mechanisms import emigration
from sim.model import HemsimModel, build_world
from sim.students import CONTINUING, DOCTORAL, EMIGRATED, GRADUATED, STAYED
from worlds import three_countries


def world(results, metric):
    return results.metric(metric)


@pytest.mark.parametrize("scenario", ["baseline", "travel_shock", "open_visas"])
def test_students_are_conserved_year_to_year(scenario):
    r = run(scenario)
    m = r.metrics.to_pandas()
    wide = m.pivot_table(index=["country", "year"], columns="metric", values="value").reset_index()
    for _, g in wide.groupby("country"):
        g = g.sort_values("year")
        # this year's students: last year's, less who left, plus the graduates who went on to a further
        # degree here at the end of last year, plus this year's entrants
        continuing = (g.enrolled - g.graduates - g.dropouts + g.master_progressions + g.doctoral_entrants).to_numpy()
        np.testing.assert_allclose(g.enrolled.to_numpy()[1:], continuing[:-1] + g.entrants.to_numpy()[1:], rtol=0,
                                   atol=1e-6)


def test_capacity_is_never_exceeded_and_seats_fill_in_talent_order():
    model = HemsimModel(small_config())
    for _ in range(model.cfg.years):
        model.step()
        taken = model.students.seats_taken(model.world.n_universities)
        assert np.all(taken <= model.universities.capacity)
    assert len(model.students) > 0


def test_tight_capacity_leaves_students_unplaced_but_never_overfills():
    cfg = small_config(capacity_slack=1.0)
    world = build_world(cfg)
    world.univ_capacity = np.maximum(1, world.univ_capacity * 3 // 4)
    model = HemsimModel(cfg, world)
    for _ in range(3):
        model.step()
        assert np.all(model.students.seats_taken(model.world.n_universities) <= model.universities.capacity)
    assert model.recorder.results().metric("unplaced")[-1] > 0


def test_flows_agree_with_metrics():
    r = run("baseline")
    f = r.flows.to_pandas()
    m = r.metrics.to_pandas()
    for kind, metric in [("degree", "new_inbound_degree"), ("enrolled", "inbound_degree"), ("stay", "stayers"),
                         ("return", "returnees"), ("work_abroad", "graduate_emigrants")]:
        by_year = f[f.kind == kind].groupby("year").students.sum()
        world = m[(m.country == "WORLD") & (m.metric == metric)].set_index("year").value
        pd.testing.assert_series_equal(by_year.reindex(world.index, fill_value=0.0), world, check_names=False)
    assert (f.origin != f.destination).all() and (f.students > 0).all()


def test_brain_gain_and_drain_balance_worldwide():
    r = run("baseline")
    assert np.allclose(world(r, "stayers"), world(r, "brain_drain"))
    assert np.all(world(r, "net_talent_gain") == 0)


def test_population_matches_configured_size():
    r = run("baseline")
    enrolled_agents = world(r, "enrolled")[0] / small_config().world.scale
    assert abs(enrolled_agents / small_config().world.students - 1) < 0.15


@settings(max_examples=30)
@given(n=st.integers(0, 400), seed=st.integers(0, 2**32), competence=st.floats(0, 3),
       outcome=st.sampled_from([CONTINUING, GRADUATED, STAYED]))
def test_emigration_moves_only_home_graduates_and_counts_every_move(n, seed, competence, outcome):
    w = three_countries()
    rng = np.random.default_rng(seed)
    origin = rng.integers(0, 3, n).astype(np.uint16)
    univ = rng.integers(0, w.n_universities, n).astype(np.int32)
    level = rng.integers(0, 3, n).astype(np.uint8)
    out = np.where(rng.random(n) < 0.5, GRADUATED, outcome).astype(np.uint8)
    before = out.copy()
    table = emigration.destination_tables(w, Diaspora.empty(3), {"border_closed": np.zeros(3)})
    rule = emigration.Rule(**dataclasses.asdict(emigration.Params(constant=0.0)))
    moved, by_origin = emigration.emigrate(seed, 2016, np.arange(n, dtype=np.uint64), origin, univ, level, out,
                                           np.full(n, competence, np.float32), np.zeros(n, np.uint8), w.univ_country,
                                           table, w.gdp_pc, np.ones((3, 3)), np.zeros(3, bool), rule, 3, 2)
    went = out != before
    home = w.univ_country[univ] == origin
    assert np.all(out[went] == EMIGRATED) and np.all(before[went] == GRADUATED)
    assert np.all(home[went]) and np.all(level[went] != DOCTORAL)
    assert moved.sum() == went.sum() == by_origin[emigration.EMIGRANTS].sum()
    assert np.all(np.diagonal(moved, axis1=1, axis2=2) == 0)
    assert by_origin[emigration.CANDIDATES].sum() == (home & (before == GRADUATED) & (level != DOCTORAL)).sum()

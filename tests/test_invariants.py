"""Invariants of the yearly cycle: students are conserved, capacity is never exceeded."""

import numpy as np
import pandas as pd
import pytest

from conftest import run, small_config
from sim.model import HemsimModel, build_world


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
                         ("return", "returnees")]:
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

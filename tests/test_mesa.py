"""hemsim as Mesa users drive models: keyword construction, run_model, DataCollector, batch_run."""

import warnings

import mesa
import numpy as np
import pytest

from conftest import small_config
from sim.agents import Country, University
from sim.model import HemsimModel, HemsimScenario

SMALL = {"years": 2, "world.students": 5_000, "world.researchers": 500}


def test_keyword_parameters_compose_like_the_command_line():
    m = HemsimModel(scenario="open_visas", seed=3, **SMALL, **{"behaviour.choice.visa": 2.5, "world.countries": 12})
    assert m.cfg.scenario.name == "open_visas" and m.cfg.scenario.levers  # the file conf/scenario/open_visas.yaml
    assert (m.seed, m.cfg.years, m.cfg.world.students, m.world.n_countries) == (3, 2, 5_000, 12)
    assert m.rules.choice.visa == 2.5 and m.rules.choice.cost == 1.2  # set, and the default kept
    # Mesa's own scenario holds the parameters; its rng is the seed
    assert isinstance(m.scenario, HemsimScenario) and m.scenario.rng == 3
    assert getattr(m.scenario, "world.students") == 5_000 and m.scenario.config is m.cfg


def test_a_world_is_named_like_the_command_line():
    """world="oecd" selects the config group (conf/world/oecd.yaml: the real world and its calibration),
    as `hemsim world=oecd` does; a World object is still taken as the world itself."""
    from conftest import ROOT
    data = ROOT.parent / "shared" / "data"
    if not data.is_dir():
        pytest.skip("no public data directory beside the checkout")
    import yaml
    m = HemsimModel(world="oecd", years=1, **{"world.scale": 8000.0, "world.data_dir": str(data)})
    responses = yaml.safe_load((ROOT / "conf" / "behaviour" / "oecd_responses.yaml").read_text())["choice"]
    assert m.cfg.world.kind == "oecd" and "USA" in m.world.codes
    assert m.rules.choice.nest == responses["nest"] != HemsimModel(years=1).rules.choice.nest   # composed
    assert HemsimModel(small_config(students=5_000, years=1), world=m.world).world is m.world


def test_keyword_model_equals_config_model():
    cfg = small_config(students=5_000, years=2, seed=4, researchers=500)
    a = HemsimModel(cfg).run()
    b = HemsimModel(seed=4, years=2, **{"world.students": 5_000, "world.researchers": 500, "progress": False}).run()
    assert a.flows.equals(b.flows) and a.metrics.equals(b.metrics)


@pytest.mark.parametrize("params, message", [
    ({"world.studnets": 5}, "unknown key 'world.studnets' (allowed under world: kind, data_dir, countries"),
    ({"scenario": "no_such_scenario"}, "unknown scenario 'no_such_scenario' (allowed: baseline,"),
    ({"world.students": -5}, "world.students=-5: must be an integer >= 1"),
    ({"years": "many"}, "years="),
    ({"seed": 1.5}, "seed=1.5: must be an integer"),
    ({"hydra.run.dir": "x"}, "hydra.run.dir: not a config key"),
])
def test_bad_parameters_raise_value_error_naming_the_key(params, message):
    with pytest.raises(ValueError) as e:
        HemsimModel(**params)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_config_and_keywords_together_are_refused():
    with pytest.raises(ValueError, match="either a Config or keyword parameters"):
        HemsimModel(small_config(), years=3)


def test_run_model_ends_after_the_configured_years_and_collects_a_row_each():
    m = HemsimModel(seed=1, **SMALL)
    assert m.running and m.steps == 0
    m.run_model()
    assert not m.running and m.steps == 2 and m.year == m.cfg.start_year + 2
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df["year"]) == [2016, 2017]
    results = m.recorder.results()
    for name in ("international_share", "papers", "teaching_quality", "service_projects"):
        np.testing.assert_array_equal(df[name].to_numpy(), results.metric(name))  # the WORLD rows of metrics
    assert set(m.metric_names) <= set(df.columns)


def test_batch_run_over_two_scenarios_and_two_seeds():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = mesa.batch_run(HemsimModel, parameters={"scenario": ["baseline", "open_visas"], **SMALL, "world.students": 20_000, "years": 3},
                              rng=[0, 1], max_steps=50, number_processes=1, data_collection_period=-1,
                              display_progress=False)
    assert len(rows) == 4
    assert {(r["scenario"], r["seed"]) for r in rows} == {(s, k) for s in ("baseline", "open_visas") for k in (0, 1)}
    assert all(r["year"] == 2018 for r in rows)          # the last recorded year
    share = {(r["scenario"], r["seed"]): r["international_share"] for r in rows}
    for seed in (0, 1):   # same seed, same dice: open visas (from 2018) raise the international share
        assert share["open_visas", seed] > share["baseline", seed]
    assert share["baseline", 0] != share["baseline", 1]


def test_agents_are_views_of_the_state_and_carry_the_selection_rules():
    m = HemsimModel(seed=2, **SMALL)
    countries, universities = m.agents_by_type[Country], m.agents_by_type[University]
    assert len(countries) == m.world.n_countries and len(universities) == m.world.n_universities
    u = m.university_agents[5]
    m.universities.capacity[5] = 1234
    assert u.capacity == 1234                               # a view, not a copy
    partners = u.partners
    assert len(partners) == m.agreements.degree()[5] and all(p.country != u.country for p in partners)
    c = m.country_agents[u.country]
    assert u in c.universities and np.array_equal(c.policy["visa_openness"], m.policy["visa_openness"][:, u.country])
    abroad = [c.students_abroad for c in m.country_agents]
    assert all(set(a) <= set(m.world.codes) - {c.code} for a, c in zip(abroad, m.country_agents))
    assert sum(sum(a.values()) for a in abroad) == m.diaspora.enrolled_abroad.sum() > 0


def test_no_mesa_structure_is_left_unread():
    m = HemsimModel(seed=2, **SMALL)
    assert not hasattr(m, "partnerships")                    # the agreements are arrays (m.agreements)
    assert all(not hasattr(u, "cell") for u in m.university_agents)

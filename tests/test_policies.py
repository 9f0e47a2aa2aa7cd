"""Every policy lever, scenario against baseline at the same seed (common random numbers).

Before a lever starts, the scenario must be identical to the baseline to the bit; after, its
outcome must move in the expected direction; and where no channel links a lever to an outcome,
that outcome must not move.
"""

import numpy as np
import pytest

from conftest import final, levers, run, small_config
from sim.model import HemsimModel

YEARS = 8  # 2016-2023; the shipped scenarios start in 2018


def group_codes(name):
    from sim.model import build_world
    w = build_world(small_config())
    return [w.codes[i] for i in w.groups[name]]


HIGH = group_codes("high_income")
POOR = group_codes("low_income") + group_codes("lower_middle_income")


@pytest.mark.parametrize("scenario", ["open_visas", "restrictive_visas", "post_study_work", "scholarships",
                                      "return_incentives", "travel_shock"])
def test_scenario_identical_to_baseline_before_its_levers_start(scenario):
    base, s = run("baseline", years=YEARS), run(scenario, years=YEARS)
    start = 2018 if scenario != "travel_shock" else 2020
    for a, b in [(base.flows, s.flows), (base.metrics, s.metrics)]:
        a, b = a.to_pandas(), b.to_pandas()
        assert a[a.year < start].reset_index(drop=True).equals(b[b.year < start].reset_index(drop=True))
        assert not a[a.year >= start].reset_index(drop=True).equals(b[b.year >= start].reset_index(drop=True))


def test_post_study_work_keeps_more_graduates():
    base, s = run("baseline", years=YEARS), run("post_study_work", years=YEARS)
    assert final(s, "stayers") > final(base, "stayers") * 1.2
    assert final(s, "stayers", HIGH) > final(base, "stayers", HIGH)


def test_restrictive_visas_cut_inbound_students():
    base, s = run("baseline", years=YEARS), run("restrictive_visas", years=YEARS)
    assert final(s, "inbound_degree", HIGH) < final(base, "inbound_degree", HIGH) * 0.8
    assert final(s, "inbound_degree") < final(base, "inbound_degree")


def test_open_visas_raise_inbound_students():
    base, s = run("baseline", years=YEARS), run("open_visas", years=YEARS)
    assert final(s, "inbound_degree") > final(base, "inbound_degree") * 1.1


def test_scholarships_raise_outbound_mobility_from_poorer_countries():
    base, s = run("baseline", years=YEARS), run("scholarships", years=YEARS)
    assert final(s, "outbound_degree", POOR) > final(base, "outbound_degree", POOR) * 1.1


def test_return_incentives_bring_graduates_home():
    base, s = run("baseline", years=YEARS), run("return_incentives", years=YEARS)
    targeted = [c for c in base.metrics.column("country").unique().to_pylist() if c not in HIGH and c != "WORLD"]
    assert final(s, "returnees", targeted) > final(base, "returnees", targeted)
    assert final(s, "brain_drain", targeted) < final(base, "brain_drain", targeted)


def test_return_incentives_do_not_touch_choices_in_their_first_year():
    """No channel: incentives act on graduates' decisions; entrants respond only a year later via networks."""
    base, s = run("baseline", years=YEARS), run("return_incentives", years=YEARS)
    b, x = base.flows.to_pandas(), s.flows.to_pandas()
    first = lambda f: f[(f.year == 2018) & (f.kind == "degree")].reset_index(drop=True)  # noqa: E731
    assert first(b).equals(first(x))


def test_travel_shock_stops_new_mobility_then_recovers():
    base, s = run("baseline", years=YEARS), run("travel_shock", years=YEARS)
    new = s.metric("new_inbound_degree")
    years = np.arange(2016, 2016 + YEARS)
    assert np.all(new[(years == 2020) | (years == 2021)] == 0)
    assert new[years == 2022][0] > 0.5 * base.metric("new_inbound_degree")[years == 2022][0]


def _with_levers(*items):
    cfg = small_config(years=YEARS)
    cfg.scenario.levers = levers(*items)
    return HemsimModel(cfg).run()


def test_tuition_rise_in_rich_countries_cuts_their_inbound_students():
    s = _with_levers({"lever": "tuition_factor", "countries": "high_income", "value": 3.0, "start": 2018})
    base = run("baseline", years=YEARS)
    assert final(s, "inbound_degree", HIGH) < final(base, "inbound_degree", HIGH)


@pytest.mark.parametrize("cost, more_money", [(0.01, True), (10.0, False)])
def test_a_fee_rise_funds_research_only_if_demand_holds(cost, more_money):
    """Rich countries' universities charge international students 6x, at the same seed. Whether that raises
    their research budgets depends on the fee response (set here): demand that barely responds (cost 0.01)
    pays more tuition and funds more research posts and papers; demand that responds strongly (cost 10) loses
    most of its students and pays less tuition, and the posts do not grow. Raising fees is no research
    policy by construction: the backtests (sim/inference/backtest.py) fix which side the real world is on."""
    runs = []
    for tuition in (None, {"lever": "tuition_factor", "countries": "high_income", "mode": "scale", "value": 6.0}):
        cfg = small_config(students=60_000, years=YEARS, countries=20, universities=120, researchers=4000)
        cfg.behaviour.choice.cost = cost
        cfg.scenario.levers = levers(tuition) if tuition else []
        model = HemsimModel(cfg)
        runs.append(model.run())
    base, rise = runs
    codes = [model.world.codes[i] for i in model.world.groups["high_income"]]
    change = {m: final(rise, m, codes) / final(base, m, codes) - 1
              for m in ("tuition_revenue", "research_posts", "papers", "inbound_degree")}
    # barely responding demand loses a few students, which universities living on the higher fees recruit back
    # (finance.recruitment_effort): within a few percent either way
    assert change["inbound_degree"] < (-0.5 if not more_money else 0.05)
    if more_money:
        assert change["tuition_revenue"] > 1.0 and change["research_posts"] > 0.005 and change["papers"] > 0.0
    else:
        assert change["tuition_revenue"] < 0.0 and change["research_posts"] <= 0.0


def test_higher_enrolment_rate_enlarges_cohorts():
    s = _with_levers({"lever": "enrolment_rate", "countries": "all", "value": 1.3, "mode": "scale", "start": 2018})
    base = run("baseline", years=YEARS)
    assert final(s, "entrants") > final(base, "entrants") * 1.2


# ---- levers by corridor (sim/policies.py) ----------------------------------------------------------------
def _tables(*items):
    from sim.policies import build_tables
    from worlds import three_countries
    return build_tables(levers(*items), three_countries(), 2016, 2)


def test_a_destination_lever_can_target_origins():
    """A's visas closed to C's students only, from 2017: the corridor C -> A, nothing else."""
    t = _tables({"lever": "visa_openness", "countries": "A", "origins": "C", "value": 0.0, "start": 2017})
    visa = t["visa_openness"]                     # (years, origin, destination)
    assert visa.shape == (2, 3, 3) and visa[1, 2, 0] == 0.0
    default = np.array([0.9, 0.6, 0.3])           # the world's openness of each destination, for every origin
    assert (visa[0] == default[None, :]).all()
    changed = visa[1] != default[None, :]
    assert changed.sum() == 1 and changed[2, 0]


def test_groups_and_their_complement_select_origins():
    """Tuition at A for everyone outside region_1 (A, B): only C's students; an origin's scholarship for study
    in the high-income group only (A)."""
    t = _tables({"lever": "tuition_factor", "countries": "A", "origins": "non_region_1", "value": 3.0},
                {"lever": "outbound_scholarship", "countries": "all", "destinations": "high_income", "value": 0.5})
    assert t["tuition_factor"][0, :, 0].tolist() == [1.0, 1.0, 3.0]
    assert (t["outbound_scholarship"][0] == np.array([[0.5, 0, 0]] * 3)).all()


@pytest.mark.parametrize("item,message", [
    ({"lever": "capacity_growth", "countries": "A", "origins": "B", "value": 0.1},
     "scenario.levers[0].origins=B: capacity_growth is a country's lever"),
    ({"lever": "visa_openness", "countries": "A", "destinations": "B", "value": 0.1},
     "scenario.levers[0].destinations=B: visa_openness is a destination's lever"),
    ({"lever": "visa_openness", "countries": "A", "origins": "non_eea", "value": 0.1},
     "scenario.levers[0].origins=non_eea: unknown country or group"),
    ({"lever": "outbound_scholarship", "countries": "B", "destinations": ["A", "XX"], "value": 0.1},
     "scenario.levers[0].destinations=XX: unknown country or group"),
])
def test_a_bad_corridor_selector_is_refused_in_one_line(item, message):
    from sim.errors import ConfigError
    with pytest.raises(ConfigError) as e:
        _tables(item)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_a_visa_closed_to_some_origins_stops_theirs_alone():
    """Scenario against baseline at the same seed: the destination most students from outside the high-income
    group go to closes its visas to them from 2018; their new degree students there fall to none, and students
    from the high-income group still come."""
    base = run("baseline", years=4, seed=3).flows.to_pandas()
    rich = set(HIGH)
    new = base[(base.kind == "degree") & ~base.origin.isin(rich)]
    dest = new.groupby("destination").students.sum().idxmax()
    scenario = small_config(years=4, seed=3)
    scenario.scenario.levers = levers({"lever": "visa_openness", "countries": dest, "origins": "non_high_income",
                                       "value": 0.0, "start": 2018})
    s = HemsimModel(scenario).run().flows.to_pandas()

    def degree(f, rich_origins):
        d = f[(f.kind == "degree") & (f.destination == dest) & (f.year >= 2018)]
        return d[d.origin.isin(rich) == rich_origins].students.sum()
    assert degree(base, False) > 0 and degree(s, False) == 0
    assert degree(base, True) > 0 and degree(s, True) > 0.8 * degree(base, True)

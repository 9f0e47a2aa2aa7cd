"""Backtests (sim/inference/backtest.py): the counterfactual estimators on series with a known break, case
files refused in one line, the real world's policy history and backcasts, and the with/without runs of a
case at the same seed."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sim.errors import ConfigError
from sim.inference import backtest as B
from sim.inference.counterfactual import pre_trend, synthetic_control
from sim.world import policy_history

ROOT = Path(__file__).resolve().parents[1]
YEARS = np.arange(2000, 2017)


def broken(growth: float, level: float, event: int, drop: float) -> pd.Series:
    """A series growing by `growth` a year, multiplied by (1 + drop) from `event` on."""
    values = level * np.exp(growth * (YEARS - YEARS[0])) * np.where(YEARS >= event, 1.0 + drop, 1.0)
    return pd.Series(values, index=YEARS)


# ---- counterfactual estimators -------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(growth=st.floats(-0.05, 0.15), drop=st.floats(-0.8, 1.0), event=st.integers(2006, 2014),
       after=st.integers(0, 2))
def test_pre_trend_recovers_a_break_in_a_log_linear_series(growth, drop, event, after):
    outcome = min(event + after, 2016)
    est = pre_trend(broken(growth, 1000.0, event, drop), event, outcome, window=5)
    assert est.effect == pytest.approx(drop, abs=1e-9)
    assert est.weights["growth"] == pytest.approx(growth, abs=1e-9)


def test_pre_trend_uses_only_the_years_before_the_event():
    s = broken(0.05, 100.0, 2011, -0.4)
    s[2013] = s[2013] * 3                                   # after the event: the trend must not see it
    est = pre_trend(s, 2011, 2012, window=6)
    assert est.effect == pytest.approx(-0.4, abs=1e-9)
    with pytest.raises(ValueError, match="need at least 2"):
        pre_trend(s, 2001, 2005, window=6)


def test_synthetic_control_recovers_the_break_and_the_donor_weights():
    """The treated series is half donor A and half donor C before the event (in log-index), with
    unequal growth and a shock common to all in 2009, then drops 30%: the synthetic control recovers
    the weights and the drop, the pre-trend (which cannot see the common shock) does not."""
    shock = np.where(YEARS >= 2009, 0.8, 1.0)
    wiggle = np.exp(0.1 * np.sin(YEARS.astype(float)))      # each donor's own ups and downs: the weights are identified
    a = 50.0 * np.exp(0.02 * (YEARS - 2000)) * shock * wiggle
    b = 70.0 * np.exp(0.10 * (YEARS - 2000)) * shock / wiggle
    c = 20.0 * np.exp(0.08 * (YEARS - 2000)) * shock * np.exp(0.1 * np.cos(YEARS.astype(float)))
    donors = pd.DataFrame({"A": a, "B": b, "C": c}, index=YEARS)
    treated = pd.Series(300.0 * np.exp(0.5 * np.log(a / a[0]) + 0.5 * np.log(c / c[0])), index=YEARS)
    treated[YEARS >= 2011] *= 0.7
    est = synthetic_control(treated, donors, 2011, 2013, window=8)
    assert est.effect == pytest.approx(-0.3, abs=1e-3)
    assert est.weights.get("A", 0) == pytest.approx(0.5, abs=0.02) and est.weights.get("C", 0) == pytest.approx(0.5, abs=0.02)
    assert "B" not in est.weights
    assert abs(pre_trend(treated, 2011, 2013, window=8).effect + 0.3) > 0.05


# ---- case files -----------------------------------------------------------------------------------------------
CASE = """
name: probe
title: a probe
destination: SWE
event_year: 2011
start_year: 2009
without:
  description: nothing charged
  levers:
    - {lever: tuition_factor, countries: SWE, origins: ORIGINS, mode: set, value: 0.0, start: 2011}
outcomes:
  - name: entrants
    measure: entrants
    origins: non_eea
    year: 2011
    observed: {kind: cited, effect: -0.5, counterfactual: the year before, source: SOURCE}
"""


def write_case(tmp_path, origins="all", source="a report (2013)") -> Path:
    (tmp_path / "cases").mkdir(exist_ok=True)
    path = tmp_path / "cases" / "probe.yaml"
    path.write_text(CASE.replace("ORIGINS", origins).replace("SOURCE", source))
    return path


def test_the_shipped_cases_load_and_cite_their_sources():
    cases = B.load_cases(ROOT / "conf" / "backtest")
    assert {(c.destination, c.event_year) for c in cases} >= {("SWE", 2011), ("GBR", 2012)}
    for c in cases:
        for o in c.outcomes:
            assert o.observed["kind"] == "uis" or o.observed["source"]


def test_a_case_without_a_source_is_refused_naming_the_key(tmp_path):
    path = write_case(tmp_path, source="''")
    with pytest.raises(ConfigError, match=r"probe.yaml: outcomes\[0\].observed.source: missing"):
        B.load_case(path)


def test_a_case_with_a_bad_selector_is_refused_naming_the_key(tmp_path):
    from worlds import three_countries
    case = B.load_case(write_case(tmp_path, origins="non_eeaa"))
    world = three_countries(codes=["SWE", "B", "C"], groups={"non_eea": np.array([1, 2])})
    with pytest.raises(ConfigError, match=r"without.levers\[0\].origins=non_eeaa: unknown country or group"):
        B.check_selectors(case, world)


def test_the_cli_refuses_a_bad_case_in_one_line(tmp_path, hemsim_env):
    write_case(tmp_path, source="''")
    out = subprocess.run([sys.executable, "-m", "experiments.backtest", "--cases", str(tmp_path / "cases"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, env=hemsim_env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "observed.source: missing" in out.stderr
    assert not (tmp_path / "out").exists()


# ---- the policy history ---------------------------------------------------------------------------------------
def test_the_history_refuses_a_spell_without_a_source(tmp_path):
    path = tmp_path / "history.yaml"
    path.write_text("visa_regimes: {standard: 0.8}\ndestinations:\n  SWE:\n    tuition:\n"
                    "      - {from: 2000, usd: 0, exempt: none, source: law}\n      - {from: 2011, usd: 9000, exempt: eea}\n")
    with pytest.raises(ConfigError, match=r"destinations.SWE.tuition\[1\]: no source"):
        policy_history.load(path)


def test_history_levers_charge_the_fee_to_the_origins_outside_the_exempt_group():
    """A spell of 10,000 USD from 2011 exempting group `free`: the factor is 10,000 / the destination's
    capacity-weighted mean tuition for the others from 2011, `home_usd` (2,000) for the exempt, 0 before."""
    from sim.policies import build_tables
    from worlds import three_countries
    world = three_countries(groups={"free": np.array([0])})
    doc = {"visa_regimes": {}, "destinations": {"B": {"tuition": [
        {"from": 2000, "usd": 0, "exempt": "none", "source": "s"},
        {"from": 2011, "usd": 10_000, "exempt": "free", "home_usd": 2_000, "source": "s"}]}}}
    world.history = policy_history.levers(world, doc)
    t = build_tables([], world, 2010, 3)["tuition_factor"]           # years 2010-2012, (origin, destination)
    mean_b = 5_000.0                                                 # B's one university charges 5,000
    assert t[0, :, 1].tolist() == [0.0, 0.0, 0.0]
    assert t[1, 2, 1] == pytest.approx(10_000 / mean_b) and t[1, 0, 1] == pytest.approx(2_000 / mean_b)
    assert t[2, 2, 1] == t[1, 2, 1] and np.all(t[:, :, [0, 2]] == 1.0)   # other destinations: their defaults


def test_free_movement_overrides_the_destinations_rules_within_the_area():
    """A and B form an area; B tightens visas to 0.6 and cuts post-study work to 0.5 years from 2011: C's
    students feel it, A's (free movement: open visas, 3 years' right to stay and work) do not."""
    from sim.policies import build_tables
    from worlds import three_countries
    world = three_countries(groups={"area": np.array([0, 1])})
    doc = {"visa_regimes": {"open": 1.0, "tight": 0.6},
           "free_movement": [{"group": "area", "visa": "open", "post_study_work": 3.0, "source": "s"}],
           "destinations": {"B": {"visa": [{"from": 2011, "regime": "tight", "source": "s"}],
                                  "post_study_work": [{"from": 2011, "years": 0.5, "source": "s"}]}}}
    world.history = policy_history.levers(world, doc)
    t = build_tables([], world, 2011, 1)
    assert t["visa_openness"][0, 2, 1] == 0.6 and t["post_study_work_years"][0, 2, 1] == 0.5
    assert t["visa_openness"][0, 0, 1] == 1.0 and t["post_study_work_years"][0, 0, 1] == 3.0
    assert t["visa_openness"][0, 2, 0] == 0.9                     # outside the area: A's own default
    # and the choice's own term for the area (destinations.right_to_stay) marks its corridors, not home
    assert policy_history.free_movement(world, doc).tolist() == [[False, True, False], [True, False, False],
                                                                 [False, False, False]]


@pytest.mark.slow
def test_the_real_world_follows_its_history_and_backcasts_before_2013():
    from sim.model import build_world
    from sim.params import config_from
    from sim.policies import build_tables
    worlds = {}
    for how in B.BACKCASTS:
        cfg = config_from({"world": "oecd", "start_year": 2009, "years": 4, "world.backcast": how})
        worlds[how] = build_world(cfg)
    w = worlds["uis_year"]
    swe, ind, fin = (w.codes.index(c) for c in ("SWE", "IND", "FIN"))
    t = build_tables([], w, 2009, 4)["tuition_factor"]
    assert t[:2, ind, swe].tolist() == [0.0, 0.0] and np.all(t[2:, ind, swe] > 0.3)    # fees from 2011
    assert np.all(t[:, fin, swe] == 0.0)                                               # EU/EEA exempt
    a, b = (np.nansum(worlds[k].observed_stock[:, swe]) for k in B.BACKCASTS)
    assert 20_000 < a < 35_000 and a != b and abs(np.log(a / b)) < 0.25                # UIS 2009: 27,000
    with pytest.raises(ConfigError, match="start_year=1999"):
        build_world(config_from({"world": "oecd", "start_year": 1999}))


@pytest.mark.slow
def test_a_backcast_moves_its_shares_to_the_policies_of_its_year():
    """Sweden's fees of 2011 are in 2013's shares: a world of 2009 moves them back, the more the larger the
    cost response set here, each destination keeping its UIS total; no response, no move; a world of an
    observed year is not touched."""
    from sim.model import build_world
    from sim.params import config_from
    flat = {"behaviour.choice.cost": 0.0, "behaviour.choice.visa": 0.0, "behaviour.choice.post_study_work": 0.0,
            "behaviour.choice.post_study_income_gap": 0.0}
    worlds = {cost: build_world(config_from({"world": "oecd", "start_year": 2009, "years": 1} | flat
                                            | {"behaviour.choice.cost": cost})) for cost in (0.0, 1.0, 3.0)}
    w = worlds[0.0]
    swe = w.codes.index("SWE")
    outside = np.array([i not in set(w.groups["eea"]) and i != swe for i in range(w.n_countries)])
    share = {c: np.nansum(x.observed_stock[outside, swe]) / np.nansum(x.observed_stock[:, swe])
             for c, x in worlds.items()}
    assert share[0.0] < share[1.0] < share[3.0] < 1.0
    for x in worlds.values():
        assert np.array_equal(np.isnan(x.observed_stock), np.isnan(w.observed_stock))
        np.testing.assert_allclose(np.nansum(x.observed_stock, axis=0), np.nansum(w.observed_stock, axis=0),
                                   rtol=1e-9)
    fin = w.codes.index("FIN")                         # Finland's fees came in 2017: 2013's shares were free
    np.testing.assert_allclose(worlds[3.0].observed_stock[:, fin], w.observed_stock[:, fin], rtol=1e-9)
    observed = {c: build_world(config_from({"world": "oecd", "start_year": 2014, "years": 1} | flat
                                           | {"behaviour.choice.cost": c})).observed_stock for c in (0.0, 3.0)}
    np.testing.assert_array_equal(observed[0.0], observed[3.0])


# ---- a case's runs: with and without the change at the same seed --------------------------------------------
@pytest.mark.slow
def test_a_case_runs_with_and_without_its_change_at_the_same_seed():
    """Sweden 2011 on a coarse real world with a strong cost response set here: the runs agree before 2011
    (common random numbers, same spun-up state) and the fee cuts new non-EU/EEA entrants in 2011."""
    from sim.params import config_from
    case = next(c for c in B.load_cases(ROOT / "conf" / "backtest") if c.name == "sweden_2011")
    base = config_from({"world": "oecd", "world.scale": 1000.0, "world.researchers": 5000,
                        "behaviour.choice.cost": 3.0, "behaviour.choice.nest": 0.5})
    runs = B.simulate(case, base, [0], ["uis_year"])
    entrants = runs[runs.outcome == "new_non_eea_entrants"].set_index("year")
    assert (entrants.loc[2009:2010, "with"] == entrants.loc[2009:2010, "without"]).all()
    effects = B.simulated_effects(runs).set_index("outcome").effect
    assert effects["new_non_eea_entrants"] < -0.3 and effects["inbound_stock"] < 0
    # the constants were re-solved for this behaviour: the expected stocks of 2009 hold the backcast's totals
    world = B.world_for(B.case_config(base, case, 0, "uis_year", False))
    assert world.level_fit["median_abs_log_error"] < 0.05 and world.level_fit["tvd"] < 0.5


def test_effects_pool_seeds_and_difference_a_reference():
    runs = pd.DataFrame({"case": "c", "outcome": "o", "backcast": "uis_year", "seed": [0, 1], "year": 2012,
                         "outcome_year": 2012, "with": [30.0, 10.0], "without": [40.0, 40.0],
                         "with_reference": [50.0, 50.0], "without_reference": [50.0, 100.0]})
    e = B.simulated_effects(runs).iloc[0]
    assert e.effect == pytest.approx((40 / 80) / (100 / 150) - 1)
    assert e.low == pytest.approx(0.25 / 0.5 - 1) and e.high == pytest.approx(0.75 - 1)
    assert B.loss(-0.79, -0.79) == 0 and B.loss(-1.0, -0.5) == B.loss(-2.0, -0.5) < float("inf")
    # the log of the effects' ratio: twice and half the observed effect are equally far, a small effect's miss
    # counts as a large one's, and the wrong sign is worse than off by 4x
    assert B.loss(-0.24, -0.12) == pytest.approx(B.loss(-0.06, -0.12), rel=0.05)
    assert B.loss(-0.24, -0.12) == pytest.approx(np.log(2) ** 2, rel=0.05)
    assert B.loss(-0.24, -0.12) == pytest.approx(B.loss(-0.8, -0.4), rel=0.05)
    assert B.loss(0.12, -0.12) > B.loss(-0.48, -0.12)
    assert B.unscore(B.score(-0.37)) == pytest.approx(-0.37)
    assert B.loss(float("nan"), -0.5) == float("inf")


# ---- the fee elasticity the responses imply (sim/inference/elasticity.py) ------------------------------------
@pytest.mark.parametrize("nest", [1.0, 0.3])
def test_fee_elasticity_is_negative_and_grows_with_the_fee_response(nest):
    """Rich destinations charge their international students; a stronger fee response (cost, set here) gives a
    more negative elasticity of their share among the origins they charge, and a smaller nest (going abroad
    decided apart from where) does not turn it positive."""
    from conftest import small_config
    from sim.inference.elasticity import fee_elasticities
    from sim.model import HemsimModel
    by_cost = {}
    for cost in (0.5, 3.0):
        cfg = small_config(students=20_000, years=1, countries=12, universities=60, researchers=1000)
        cfg.behaviour.choice.cost = cost
        cfg.behaviour.choice.nest = nest
        model = HemsimModel(cfg)
        model.step()
        rich = [model.world.codes[i] for i in model.world.groups["high_income"]]
        by_cost[cost] = fee_elasticities(model, rich)
    assert by_cost[0.5] and set(by_cost[0.5]) == set(by_cost[3.0])
    for code, weak in by_cost[0.5].items():
        strong = by_cost[3.0][code]
        assert strong < weak < 0.0, (code, weak, strong)

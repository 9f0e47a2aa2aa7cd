"""Parameter draws (sim/parameter_draws.py) and the split of an effect's spread into parameter and stochastic
parts (sim/analysis/stats.decompose)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from sim import parameter_draws as D
from sim.analysis import stats
from sim.errors import ConfigError
from sim.params import config_from

ROOT = Path(__file__).resolve().parents[1]

RANGES = {"behaviour.choice.cost": (0.5, 2.5), "behaviour.choice.quality": (1.0, 4.0),
          "behaviour.careers.stay_constant": (-2.0, -1.0)}


@given(st.integers(0, 2 ** 31 - 1))
@settings(max_examples=50, deadline=None)
def test_design_draw_is_inside_its_ranges_and_a_pure_function_of_k(k):
    a, b = D.from_design(k, RANGES), D.from_design(k, RANGES)
    assert a == b
    assert all(RANGES[key][0] <= v < RANGES[key][1] for key, v in a.items())


def test_adding_a_parameter_to_a_design_keeps_the_other_draws():
    fewer = {k: v for k, v in RANGES.items() if k != "behaviour.choice.quality"}
    for k in range(20):
        full, part = D.from_design(k, RANGES), D.from_design(k, fewer)
        assert all(full[key] == part[key] for key in fewer)


def test_design_draws_cover_their_ranges_uniformly():
    cost = np.array([D.from_design(k, RANGES)["behaviour.choice.cost"] for k in range(2000)])
    counts = np.histogram(cost, bins=4, range=(0.5, 2.5))[0]
    assert counts.min() > 400 and counts.max() < 600         # 500 expected in each quarter


def test_particle_draws_follow_the_weights_and_never_pick_a_weightless_particle():
    values = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    weights = np.array([0.7, 0.0, 0.3])
    picked = [D.from_particles(k, values, weights, ["a", "b"])["a"] for k in range(3000)]
    share = {v: picked.count(v) / len(picked) for v in (1.0, 2.0, 3.0)}
    assert share[2.0] == 0.0
    assert 0.66 < share[1.0] < 0.74 and 0.26 < share[3.0] < 0.34
    # a particle's parameters travel together
    assert all(D.from_particles(k, values, weights, ["a", "b"])["b"] == 10 * picked[k] for k in range(50))


def test_a_run_config_takes_its_draw_the_same_at_every_seed_and_scenario():
    base = config_from({"uncertainty.draw": 2, "seed": 0})
    other = config_from({"uncertainty.draw": 2, "seed": 7, "scenario": "open_visas"})
    third = config_from({"uncertainty.draw": 3})
    plain = config_from({})
    design = dict(D._design_ranges("default"))
    for key, (low, high) in design.items():
        _, section, name = key.split(".")
        value = getattr(getattr(base.behaviour, section), name)
        assert low <= value <= high
        assert value == getattr(getattr(other.behaviour, section), name)
    key = next(iter(design))
    _, section, name = key.split(".")
    assert getattr(getattr(third.behaviour, section), name) != getattr(getattr(base.behaviour, section), name)
    assert plain.uncertainty.draw == -1       # no draw: the config's own values
    untouched = "behaviour.choice.log_distance"
    assert untouched not in design
    assert base.behaviour.choice.log_distance == plain.behaviour.choice.log_distance


@pytest.mark.parametrize("overrides, named", [
    ({"uncertainty.draw": -2}, "uncertainty.draw=-2"),
    ({"uncertainty.draw": 0, "uncertainty.source": "guess"}, "uncertainty.source=guess"),
    ({"uncertainty.draw": 0, "uncertainty.source": "posterior", "uncertainty.posterior": "/nonexistent/p.parquet"},
     "uncertainty.posterior=/nonexistent/p.parquet"),
    ({"uncertainty.draw": 0, "uncertainty.design": "nonexistent"}, "uncertainty.design=nonexistent"),
])
def test_bad_draw_settings_are_refused_in_one_line(overrides, named):
    with pytest.raises(ConfigError) as e:
        config_from(overrides)
    assert named in str(e.value) and "\n" not in str(e.value)


def _study(param_sd: float, noise_sd: float, draws: int, seeds: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shifts = rng.normal(0.0, param_sd, draws)
    return pd.DataFrame([{"draw": d, "effect": 5.0 + shifts[d] + rng.normal(0.0, noise_sd)}
                         for d in range(draws) for _ in range(seeds)])


@pytest.mark.parametrize("param_sd, noise_sd", [(2.0, 0.5), (0.5, 2.0)])
def test_decompose_recovers_the_variance_components_of_a_known_study(param_sd, noise_sd):
    f = _study(param_sd, noise_sd, draws=200, seeds=4)
    e = stats.decompose(f.effect, f.draw)
    z = 1.6448536269514722
    assert (e.param_high - e.param_low) / (2 * z) == pytest.approx(param_sd, rel=0.15)
    assert (e.stoch_high - e.stoch_low) / (2 * z) == pytest.approx(noise_sd, rel=0.1)
    assert e.param_share == pytest.approx(param_sd ** 2 / (param_sd ** 2 + noise_sd ** 2), abs=0.08)
    assert e.low < 5.0 < e.high


def test_decompose_finds_no_parameter_part_where_draws_do_not_matter():
    f = _study(0.0, 1.0, draws=100, seeds=5, seed=3)
    assert stats.decompose(f.effect, f.draw).param_share < 0.1


def test_a_study_over_draws_reports_both_parts_and_one_over_seeds_alone_does_not():
    rows = []
    for draw in range(3):
        for seed in range(2):
            for scenario, shift in (("baseline", 0.0), ("policy", 1.0 + draw)):
                rows.append({"scenario": scenario, "seed": seed, stats.DRAW: str(draw), "year": 2020,
                             "country": stats.WORLD, "metric": "papers", "value": 100.0 + seed + shift})
    metrics = pd.DataFrame(rows)
    table = stats.summary_table(metrics, "baseline", ["papers"], years=1)
    row = table[table.scenario == "policy"].iloc[0]
    assert row["parameters 90%"] and row["stochastic 90%"] and row["parameter share"] == "100%"
    plain = stats.summary_table(metrics[metrics[stats.DRAW] == "0"].drop(columns=stats.DRAW), "baseline",
                                ["papers"], years=1)
    assert "parameters 90%" not in plain.columns


def test_the_policy_study_splits_its_effect_over_samples_and_seeds():
    from experiments.policy_study import _split
    rng = np.random.default_rng(1)
    samples = [f"s{i}" for i in range(150)]
    shift = {s: rng.normal(0.0, 3.0) for s in samples}
    experiments = {"scenario": [], "model": []}
    rows = []
    for s in samples:
        for model in ("baseline", "policy"):
            experiments["scenario"].append(s)
            experiments["model"].append(model)
            rows.append(10.0 + (2.0 + shift[s] if model == "policy" else 0.0) + rng.normal(0.0, 1.0, 3))
    split = _split(pd.DataFrame(experiments), {"papers_by_seed": np.array(rows)}, "papers", samples)
    # the effect's seed noise is the difference of two runs' noise: sd sqrt(2)
    assert (split["stoch_high"] - split["stoch_low"]) / (2 * 1.6449) == pytest.approx(np.sqrt(2), rel=0.12)
    assert (split["param_high"] - split["param_low"]) / (2 * 1.6449) == pytest.approx(3.0, rel=0.15)
    assert _split(pd.DataFrame(experiments), {"papers_by_seed": np.array(rows)[:, :1]}, "papers", samples) is None


def test_the_real_world_draws_what_its_calibration_leaves_open_and_keeps_the_fitted_choice():
    """The stock calibration's coefficients stay; careers and the responses to policy are drawn, the responses
    over the jackknife ranges of their fit to the backtests (the file kept equal to what the record implies)."""
    from sim.inference.backtest_fit import jackknife_ranges
    fitted = config_from({"world": "oecd"})
    drawn = config_from({"world": "oecd", "uncertainty.draw": 1})
    assert drawn.uncertainty.design == "oecd"
    ranges = yaml.safe_load((ROOT / "conf" / "uncertainty" / "oecd.yaml").read_text())["parameters"]
    record = yaml.safe_load((ROOT / "conf" / "backtest" / "fit" / "responses.yaml").read_text())
    responses = jackknife_ranges(record)
    assert {k: v for k, v in ranges.items() if k in record["fit"]} == responses
    calibrated = yaml.safe_load((ROOT / "conf" / "behaviour" / "oecd_calibrated.yaml").read_text())["choice"]
    stock = [k for k in calibrated if f"behaviour.choice.{k}" not in record["fit"]]
    assert stock and all(getattr(drawn.behaviour.choice, k) == getattr(fitted.behaviour.choice, k) for k in stock)
    for key, (low, high) in [*responses.items(), ("behaviour.careers.stay_constant",
                                                  ranges["behaviour.careers.stay_constant"])]:
        section, name = key.split(".")[1:]
        value = getattr(getattr(drawn.behaviour, section), name)
        assert low <= value <= high and value != getattr(getattr(fitted.behaviour, section), name), key


def _posterior(folder, weights=(0.6, 0.0, 0.4)):
    """A posterior.parquet of three particles over two choice coefficients, written as hemsim-calibrate does."""
    from sim.inference.posterior import write_particles
    rows = [{"particle": i, "parameter": key, "value": value, "weight": w, "generation": 2, "epsilon": 0.3}
            for i, w in enumerate(weights)
            for key, value in (("behaviour.choice.cost", 0.5 + i), ("behaviour.choice.quality", 2.0 + i))]
    write_particles(folder, pd.DataFrame(rows), {"test": True})
    return folder / "posterior.parquet"


def test_a_run_over_the_posterior_takes_a_weighted_particle_whole(tmp_path):
    path = _posterior(tmp_path)
    picked = [config_from({"uncertainty.draw": k, "uncertainty.source": "posterior", "uncertainty.posterior": str(path)})
              .behaviour.choice for k in range(40)]
    pairs = {(c.cost, c.quality) for c in picked}
    assert pairs <= {(0.5, 2.0), (2.5, 4.0)} and len(pairs) == 2      # particle 1 weighs nothing; a particle whole
    from sim.inference.posterior import draw, read_posterior
    table = draw(read_posterior(path), 40)                             # the same draws as the runs
    assert list(zip(table["behaviour.choice.cost"], table["behaviour.choice.quality"])) == \
        [(c.cost, c.quality) for c in picked]


def test_a_changed_posterior_is_refused_in_one_line(tmp_path):
    path = _posterior(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(Exception) as e:
        config_from({"uncertainty.draw": 0, "uncertainty.source": "posterior", "uncertainty.posterior": str(path)})
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_ema_scenarios_can_be_posterior_draws(tmp_path):
    from ema_workbench import IntegerParameter
    from sim.ema import ema_model
    path = _posterior(tmp_path)
    small = {"years": 2, "world.students": 3000, "world.researchers": 200, "world.countries": 8,
             "world.universities": 40}
    model = ema_model(seeds=(0, 1), levers=False, posterior_draws=8, **{"uncertainty.posterior": str(path)}, **small)
    assert [type(u) for u in model.uncertainties] == [IntegerParameter]
    assert model.uncertainties[0].name == "uncertainty.draw"
    draws = [config_from({"uncertainty.draw": k, "uncertainty.source": "posterior",
                          "uncertainty.posterior": str(path)}).behaviour.choice.cost for k in range(8)]
    a, b = draws.index(0.5), draws.index(2.5)               # a draw of each particle that carries weight
    run = model.function                                    # what EMA calls per experiment and seed
    assert run(**{"uncertainty.draw": a, "seed": 0}) == run(**{"uncertainty.draw": a, "seed": 0})
    assert run(**{"uncertainty.draw": a, "seed": 0}) != run(**{"uncertainty.draw": b, "seed": 0})
    with pytest.raises(ConfigError):
        ema_model(posterior_draws=1)

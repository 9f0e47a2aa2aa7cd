"""Exploratory modelling and global sensitivity analysis: hemsim as an EMA Workbench model (sim/ema.py)
and hemsim-sensitivity (SALib; sim/analysis/sensitivity.py, experiments/sensitivity.py)."""

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import HEMSIM
from sim.analysis import sensitivity as S

SENSITIVITY = str(Path(HEMSIM).parent / "hemsim-sensitivity")
SMALL = {"years": 3, "world.students": 20_000, "world.researchers": 2_000}


def test_ema_experiments_differ_across_points_and_repeat_exactly():
    from ema_workbench import SequentialEvaluator, perform_experiments
    from sim.ema import ema_model, load_design, point_outcomes
    from sim.params import config_from
    warnings.simplefilter("ignore")
    model = ema_model(seeds=(0, 1), **SMALL)
    assert len(model.uncertainties) >= 3 and len(model.levers) >= 3
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=2, policies=2, evaluator=evaluator)
    assert len(experiments) == 4 and outcomes["papers"].shape == (4,) and outcomes["papers_by_seed"].shape == (4, 2)
    for name in ("papers", "international_share", "stayers"):
        assert len(set(outcomes[name].round(9))) == 4, name            # every point its own outcome
    assert np.allclose(outcomes["papers"], outcomes["papers_by_seed"].mean(axis=1))
    # the same point and seed twice: identical outcomes (the world is cached between points, not the state)
    design, base = load_design(), config_from({"progress": False} | SMALL)
    row = experiments.iloc[3]
    point = {k: float(row[k]) for k in [*design.parameters, *design.levers]}
    again = point_outcomes(base, design, point, 1)
    assert again == point_outcomes(base, design, point, 1)
    assert again["papers"] == pytest.approx(outcomes["papers_by_seed"][3, 1], rel=0, abs=0)


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_ones_and_salib():
    """The plumbing proven on a function with a known answer (Ishigami & Homma 1990; a = 7, b = 0.1)."""
    from SALib.analyze import sobol
    from SALib.test_functions import Ishigami
    prob = S.problem({"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)})
    x = S.sample("sobol", prob, 2048, seed=3)
    y = Ishigami.evaluate(x)
    t = S.analyse("sobol", prob, x, y, "ishigami", seed=3).pivot(index="parameter", columns="index", values="value")
    analytic = pd.DataFrame({"S1": [0.3139, 0.4424, 0.0], "ST": [0.5576, 0.4424, 0.2437]}, index=["x1", "x2", "x3"])
    assert np.allclose(t.loc[analytic.index, ["S1", "ST"]], analytic, atol=0.05), t
    reference = sobol.analyze(prob, y, calc_second_order=False, seed=3)
    assert np.allclose(t.loc[["x1", "x2", "x3"], "ST"], reference["ST"]) and np.allclose(
        t.loc[["x1", "x2", "x3"], "S1"], reference["S1"])


DESIGN = """
parameters:
  behaviour.choice.visa: [1.0, 3.0]
  behaviour.choice.cost: [0.6, 1.8]
  behaviour.innovation.patents_per_researcher: [0.2, 0.6]   # patents: nothing in the choice reads them
outcomes: [international_share]
"""


def test_morris_on_the_model_ranks_a_parameter_without_effect_last_and_resumes(tmp_path):
    design = tmp_path / "design.yaml"
    design.write_text(DESIGN)
    out = tmp_path / "morris"
    cmd = [SENSITIVITY, "method=morris", "samples=4", f"design={design}", f"out={out}",
           *(f"{k}={v}" for k, v in SMALL.items())]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    s = pd.read_parquet(out / "sensitivity.parquet")
    assert list(s.columns[:6]) == ["outcome", "parameter", "method", "index", "value", "conf"]
    mu = s[s["index"] == "mu_star"].set_index("parameter").value
    assert mu.idxmin() == "behaviour.innovation.patents_per_researcher" and mu.min() == 0.0
    assert mu.drop(mu.idxmin()).min() > 0 and (out / "sensitivity_international_share.png").exists()
    assert len(pd.read_parquet(out / "design.parquet")) == 4 * (3 + 1)
    chunks = {c: c.stat().st_mtime_ns for c in (out / "chunks").glob("*.parquet")}
    from experiments import sensitivity
    sensitivity.main(cmd[1:])                    # the same command again (in this process): nothing rerun
    assert chunks == {c: c.stat().st_mtime_ns for c in (out / "chunks").glob("*.parquet")}
    assert pd.read_parquet(out / "sensitivity.parquet").equals(s)


@pytest.mark.parametrize("args,message", [
    (["outcome=nonsense"], "outcome=nonsense: not a metric"),
    (["method=sobol", "samples=12"], "samples=12: Sobol' needs a power of 2"),
    (["method=morris", "samples=1"], "samples=1: Morris needs at least 2 trajectories"),
    (["method=fast"], "method=fast: unknown (allowed: morris, sobol)"),
    (["design=nope"], "design=nope: no "),
    (["world.nope=3"], "world.nope"),
])
def test_sensitivity_bad_input_is_one_line_and_runs_nothing(tmp_path, capsys, args, message):
    from experiments import sensitivity
    out = tmp_path / "s"
    with pytest.raises(SystemExit) as exit_:
        sensitivity.main([*args, f"out={out}"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_design_out_of_a_levers_range_or_with_unknown_keys_is_refused(tmp_path):
    from sim.ema import load_design
    from sim.errors import ConfigError
    bad = tmp_path / "bad.yaml"
    for text, message in [("levers: {visa_openness: [0.2, 1.5]}\noutcomes: [papers]", "outside the lever's range"),
                          ("parameters: {behaviour.choice.nope: [0, 1]}\noutcomes: [papers]", "not a config key"),
                          ("parameters: {behaviour.choice.cost: [1, 1]}\noutcomes: [papers]", "low < high"),
                          ("parameters: {behaviour.choice.cost: [0.5, .nan]}\noutcomes: [papers]", "finite")]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_design(str(bad))


@pytest.mark.parametrize("key, value", [("experiments_per_job", 0), ("timeout_min", 2.5), ("array_parallelism", True)])
def test_the_slurm_evaluator_refuses_nonsense_options_before_submitting(key, value):
    from sim.ema import ema_model
    from sim.ema_slurm import SlurmEvaluator
    from sim.errors import ConfigError
    with pytest.raises(ConfigError, match=f"{key}={value!r}: must be an integer >= 1"):
        SlurmEvaluator(ema_model(**SMALL), folder="unused", **{key: value})


def test_runs_batched_in_one_process_are_bit_identical_to_runs_on_their_own():
    """The batch path (sim.ema.run_point: the world built once per process, reused by every point) gives
    the bytes of a run that builds its own world."""
    from sim.ema import run_point
    from sim.model import HemsimModel
    from sim.params import config_from
    cfgs = [config_from(SMALL | {"seed": s, "progress": False, "behaviour.choice.visa": v})
            for s, v in ((0, 2.0), (1, 2.5), (0, 2.0))]
    batch = [run_point(c) for c in cfgs]
    for c, b in zip(cfgs, batch):
        alone = HemsimModel(c).run()
        assert b.flows.equals(alone.flows) and b.metrics.equals(alone.metrics)
    assert batch[0].metrics.equals(batch[2].metrics) and not batch[0].metrics.equals(batch[1].metrics)


STUDY_DESIGN = """
parameters:
  behaviour.choice.visa: [1.0, 3.0]
  behaviour.careers.stay_constant: [-3.3, -2.1]
outcomes: [papers, stayers]
"""


def test_the_example_policy_study_runs_end_to_end(tmp_path, capsys):
    """conf/study/post_study_work.yaml on a small world and a design of two uncertainties (design=; the
    Morris screening costs trajectories x (parameters + 1)): PRIM on when the policy fails, NSGA-II lever
    mixes within a budget, Morris on the policy's effect; every figure written."""
    from experiments import policy_study
    design = tmp_path / "design.yaml"
    design.write_text(STUDY_DESIGN)
    out = tmp_path / "study"
    p = subprocess.run([str(Path(HEMSIM).parent / "hemsim-policy-study"), "scenarios=8", "trials=4",
                        "sensitivity=2", "years=5", f"design={design}", f"out={out}",
                        *(f"{k}={v}" for k, v in SMALL.items() if k != "years")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"design `{design}`" in (out / "report.md").read_text()
    assert len(pd.read_parquet(out / "sensitivity" / "design.parquet")) == 2 * (2 + 1)      # Morris on the 2
    for f in ("prim_box.png", "pareto.png", "sensitivity/sensitivity_papers.png", "report.md"):
        assert (out / f).exists(), f
    e = pd.read_parquet(out / "experiments.parquet")
    assert len(e) == 8 and (e.effect == e.policy - e.baseline).all() and e.effect.abs().max() > 0
    assert [c for c in e.columns if c.startswith("behaviour.")] == list(yaml.safe_load(STUDY_DESIGN)["parameters"])
    s = pd.read_parquet(out / "search.parquet")
    assert len(s) == 4 and s.pareto.any() and (s[s.pareto].feasible).all()
    for arg, message in (("scenarios=4", "scenarios=4: PRIM needs at least 8"), ("design=nope", "design=nope: no ")):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:          # its main in this process (the command ran above)
            policy_study.main([arg, f"out={tmp_path / 'x'}"])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "x").exists()


def test_the_pareto_front_keeps_the_feasible_mixes_nothing_dominates():
    from experiments.policy_study import pareto_front
    t = pd.DataFrame({"papers": [10, 8, 12, 9, 11], "cost": [5, 3, 9, 6, 6],
                      "feasible": [True, True, False, True, True]})
    front = pareto_front(t, {"papers": "maximize", "cost": "minimize"})
    # row 2 dominates everything but is over budget; row 3 (9 papers at 6) is beaten by row 0 (10 at 5)
    assert front.tolist() == [True, True, False, False, True]

"""The responses' fit (sim/inference/backtest_fit.py) on synthetic trials whose effects are known functions of
the responses: the emulators' minimum recovers the point that reproduces the observed effects, the published
moment scores only outside its range, the prior decides a response no remaining case identifies, and the
refinement rounds run the fits' points as trials (resumably)."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.inference import backtest as B
from sim.inference import backtest_fit as F
from sim.io import write_json

CASES = Path(__file__).resolve().parents[1] / "conf" / "backtest"
A, Bk = "behaviour.choice.cost", "behaviour.choice.post_study_work"
BOUNDS = {A: (0.0, 2.0), Bk: (0.0, 1.0)}
TRUE = {A: 1.2, Bk: 0.9}                   # the point the synthetic observed effects come from


def log_effect(case: str, params: dict) -> float:
    """ln(1 + effect): the UK's outcomes respond to Bk only (no other case identifies it), the rest to A."""
    return -1.5 * params[Bk] if case == "uk_2012" else -1.0 * params[A]


def synthetic_rows(params: dict) -> list[dict]:
    rows = [{"case": c.name, "outcome": o.name, "weight": 1.0, "simulated": float(np.expm1(log_effect(c.name, params))),
             "observed": float(np.expm1(log_effect(c.name, TRUE)))}
            for c in B.load_cases(CASES) for o in c.outcomes]
    rows.append({"case": F.STOCKS, "outcome": "tvd", "weight": F.STOCK_WEIGHT, "observed": None, "simulated": 0.1})
    rows.append({"case": F.PUBLISHED, "outcome": F.FEE_ELASTICITY, "weight": 1.0, "observed": [-1.0, -0.5],
                 "simulated": -0.6 * params[A]})   # -0.72 at TRUE: inside the range
    return rows


def write_trial(out_dir: Path, params: dict) -> float:
    rows = synthetic_rows(params)
    value = F.trial_objective(rows)
    write_json({"objective": value, "params": params, "rows": rows}, Path(out_dir) / F.TRIAL)
    return value


def write_design(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    for n in range(30):
        write_trial(folder / f"trial_{n}", {k: float(lo + (hi - lo) * rng.random()) for k, (lo, hi) in BOUNDS.items()})
    return folder


@pytest.fixture
def design(tmp_path):
    return write_design(tmp_path)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The fits to the design (computed once: the tests that only read them share it)."""
    return F.fits(write_design(tmp_path_factory.mktemp("design")), BOUNDS, CASES)


def test_range_loss_is_zero_inside_the_published_range_and_grows_outside():
    published = [-1.0, -0.5]
    assert F.range_loss(F.magnitude(-0.7), published) == 0.0
    assert F.range_loss(F.magnitude(-0.5), published) == 0.0
    below, far_below = F.range_loss(F.magnitude(-0.25), published), F.range_loss(F.magnitude(-0.1), published)
    assert 0 < below < far_below
    assert F.range_loss(F.magnitude(-2.0), published) == pytest.approx(F.range_loss(F.magnitude(-0.25), published))
    assert F.range_loss(F.magnitude(0.2), published) > far_below        # a positive elasticity is the worst


def test_the_fit_recovers_the_point_behind_the_observed_effects(fitted):
    doc = fitted
    assert doc["fit"][A] == pytest.approx(TRUE[A], abs=0.1)
    assert doc["fit"][Bk] == pytest.approx(TRUE[Bk], abs=0.08)
    for name, value in doc["emulated"].items():
        case = name.split("/")[0]
        if case not in (F.STOCKS, F.PUBLISHED):
            assert value == pytest.approx(np.expm1(log_effect(case, TRUE)), abs=0.05)
    # leaving a fee case out leaves the fee response identified by the other one
    assert doc["leave_one_out"]["sweden_2011"][A] == pytest.approx(TRUE[A], abs=0.15)


def test_the_prior_decides_a_response_no_remaining_case_identifies(fitted):
    doc = fitted
    held = doc["leave_one_out"]["uk_2012"][Bk]
    centre = sum(BOUNDS[Bk]) / 2
    assert abs(held - centre) < 0.07 < 0.3 < abs(doc["fit"][Bk] - centre)     # 0.14 away without the prior


def test_the_published_moment_pulls_the_fit_into_its_range(design, monkeypatch):
    # with observed effects that want A = 0.5 (an elasticity of -0.15, outside the range), the moment moves
    # the fit up towards A >= 1.67 (elasticity -0.5), and further the heavier it is
    monkeypatch.setitem(TRUE, A, 0.5)
    for p in design.glob("trial_*/trial.json"):
        t = json.loads(p.read_text())
        write_trial(p.parent, t["params"])
    light = F.fits(design, BOUNDS, CASES)["fit"][A]
    monkeypatch.setattr(F, "ELASTICITY_WEIGHT", 20.0)
    for p in design.glob("trial_*/trial.json"):
        t = json.loads(p.read_text())
        rows = synthetic_rows(t["params"])
        rows[-1]["weight"] = F.ELASTICITY_WEIGHT
        write_json({"objective": F.trial_objective(rows), "params": t["params"], "rows": rows}, p)
    heavy = F.fits(design, BOUNDS, CASES)["fit"][A]
    assert 0.5 < light < heavy


def test_refinement_runs_the_fits_points_as_trials_and_resumes(design, monkeypatch):
    import sim.params
    calls = []
    monkeypatch.setattr(sim.params, "config_from", lambda params: params)

    def fake_trial(config, cases_dir, out_dir, params):
        calls.append(params)
        return write_trial(out_dir, params)

    monkeypatch.setattr(F, "trial", fake_trial)
    doc = F.refine(design, BOUNDS, CASES, {"world": "oecd"}, rounds=2, n_jobs=1)
    points = len(F.refine_points(doc))      # how many points a fit chooses (the same for every fit)
    assert points == 1 + len(B.load_cases(CASES)) + 1          # the fit, each held-out fit, the earlier years
    assert len(calls) == 2 * points
    assert doc["trials"] == 30 + 2 * points and doc["refinement_trials"] == 2 * points
    # doc: the fits to every trial on disk, the design's and both rounds' (what fits(design) gives now)
    assert calls[0][A] == pytest.approx(doc["fit"][A], abs=0.2)
    F.refine(design, BOUNDS, CASES, {"world": "oecd"}, rounds=2, n_jobs=1)    # done rounds are not run again
    assert len(calls) == 2 * points


def test_the_committed_behaviour_files_are_what_the_fit_writes_from_its_record(tmp_path):
    """`write` puts the record and the two behaviour files the real worlds compose (the fit; the fit to the
    outcomes up to 2014); from the committed record it writes exactly the committed files, and the record
    reads back the same."""
    root = Path(__file__).resolve().parents[1]
    doc = yaml.safe_load((root / "conf" / "backtest" / "fit" / "responses.yaml").read_text())
    F.write(doc, tmp_path / "fit" / "responses.yaml", tmp_path)
    assert yaml.safe_load((tmp_path / "fit" / "responses.yaml").read_text()) == doc
    for name in F.RESPONSES.values():
        assert (tmp_path / name).read_text() == (root / "conf" / "behaviour" / name).read_text(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["fit", *F.RESPONSES.values()])  # no stray files

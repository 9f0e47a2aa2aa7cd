"""Sweep -> aggregate -> compare: the path of the main job's report."""

import json
import subprocess

import matplotlib.image as mpimg
import numpy as np
import pyarrow.dataset as ds
import pytest

from conftest import HEMSIM

SCENARIOS = ("baseline", "post_study_work")
SEEDS = (0, 1)
THEMES = ("talent", "education", "research", "money")
FIGURES = [f"{theme}_{kind}" for theme in THEMES for kind in ("timeseries", "effects")] \
    + ["country_effects", "flow_matrices", "brain_gain"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    p = subprocess.run([HEMSIM, "-m", f"scenario={','.join(SCENARIOS)}", f"seed={','.join(map(str, SEEDS))}",
                        "world.students=5000", "years=5", f"hydra.sweep.dir={d}"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    return d


def test_aggregate_has_every_run_as_scenario_and_seed(sweep_dir):
    p = subprocess.run([HEMSIM + "-aggregate", str(sweep_dir)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for name in ("flows", "metrics"):
        t = ds.dataset(sweep_dir / "aggregate" / name, partitioning="hive").to_table().to_pandas()
        runs = set(zip(t.scenario, t.seed))
        assert runs == {(s, k) for s in SCENARIOS for k in SEEDS}
    m = ds.dataset(sweep_dir / "aggregate" / "metrics", partitioning="hive").to_table().to_pandas()
    assert m.groupby(["scenario", "seed"]).year.nunique().eq(5).all()


def test_compare_writes_figures_and_report(sweep_dir, sobol_dir):
    p = subprocess.run([HEMSIM + "-compare", str(sweep_dir), "--baseline", "baseline", "--sensitivity", str(sobol_dir)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "post_study_work" in p.stdout  # the printed summary table
    for name in FIGURES:
        img = mpimg.imread(sweep_dir / f"{name}.png")
        assert img.shape[0] > 300 and img.shape[1] > 600
        assert np.std(img[..., :3]) > 0.05  # not blank
        assert (sweep_dir / f"{name}.pdf").stat().st_size > 1000
    index = json.loads((sweep_dir / "figures.json").read_text())
    assert index["runs"] == 4 and index["scenarios"] == sorted(SCENARIOS) and index["seeds"] == list(SEEDS)
    panels = index["figures"]
    assert set(panels) == set(FIGURES)
    assert panels["talent_timeseries"]["panels"][:2] == ["International students", "Degree-mobile students"]
    assert len(panels["research_timeseries"]["panels"]) == 6 and len(panels["education_effects"]["panels"]) == 6
    assert len(panels["country_effects"]["panels"]) == 3 * (len(SCENARIOS) - 1)
    report = (sweep_dir / "report.md").read_text()
    assert "4 finished runs" in report
    for name in FIGURES:
        assert f"]({name}.png)" in report
    # the Sobol' analysis of the scenario's effect (below) flags the effect an unanchored parameter drives
    assert "dominated" in p.stdout and "post_study_work on stayers" in report and "unanchored_ST" in report


def compare(argv: list[str], capfd) -> tuple[int, str]:
    """hemsim-compare's main in this process (the console script is run above): its exit status and what it
    wrote to stderr (the file descriptor, so nothing written there escapes)."""
    from experiments import compare as cli
    capfd.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    return exit_.value.code, capfd.readouterr().err


def test_compare_refuses_a_missing_baseline_and_an_empty_folder(sweep_dir, tmp_path, capfd):
    code, err = compare([str(sweep_dir), "--baseline", "nosuch"], capfd)
    assert code == 2 and "nosuch" in err and "Traceback" not in err
    code, err = compare([str(tmp_path), "--baseline", "baseline"], capfd)
    assert code == 2 and "no finished runs" in err


# ---- effects dominated by unanchored parameters (hemsim-sensitivity sobol -> hemsim-compare --sensitivity) -----
SOBOL_DESIGN = """
parameters:
  behaviour.careers.post_study_work: [0.0, 0.7]            # how work rights keep graduates: moves the effect
  behaviour.innovation.patents_per_researcher: [0.2, 0.6]  # nothing a graduate decides reads it
unanchored: [behaviour.careers.post_study_work]
outcomes: [stayers]
"""


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sobol")
    (d / "design.yaml").write_text(SOBOL_DESIGN)
    p = subprocess.run([HEMSIM + "-sensitivity", "method=sobol", "samples=8", "effect=post_study_work",
                        f"design={d / 'design.yaml'}", f"out={d / 'out'}", "world.students=5000", "years=5"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    return d / "out"


def test_the_sensitivity_analysis_marks_and_flags_the_unanchored_parameters(sobol_dir):
    import pandas as pd
    s = pd.read_parquet(sobol_dir / "sensitivity.parquet")
    assert set(s.scenario) == {"post_study_work"} and s.groupby("parameter").unanchored.first().to_dict() == {
        "behaviour.careers.post_study_work": True, "behaviour.innovation.patents_per_researcher": False}
    st = s[s["index"] == "ST"].set_index("parameter").value
    assert st["behaviour.careers.post_study_work"] > 0.5 > st["behaviour.innovation.patents_per_researcher"]
    assert "DOMINATED" in (sobol_dir / "report.md").read_text()


def test_compare_refuses_a_changed_or_unrelated_sensitivity_analysis(sweep_dir, sobol_dir, tmp_path, capfd):
    import shutil
    changed = tmp_path / "changed"
    shutil.copytree(sobol_dir, changed)
    (changed / "sensitivity.parquet").write_bytes((changed / "sensitivity.parquet").read_bytes() + b"\0")
    for folder, message in ((changed, "damaged or changed"), (tmp_path / "none", "no sensitivity.json")):
        out = tmp_path / "out"
        code, err = compare([str(sweep_dir), "--out", str(out), "--sensitivity", str(folder)], capfd)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()                       # nothing half-written

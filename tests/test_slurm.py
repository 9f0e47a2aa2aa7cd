"""Sweeps on a real Slurm cluster (single node, started by scripts/slurm-up.sh; .ci/run starts it).

Runs on Slurm must give the same bytes as the local launcher; a job that dies is reported with
its run's overrides and log path while the rest of the sweep completes; rerunning resumes.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HEMSIM, ROOT
from sim.analysis.sweep import find_runs

pytestmark = pytest.mark.slurm


def _slurm_up() -> bool:
    if shutil.which("sinfo"):
        p = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
        if p.returncode == 0 and "idle" in p.stdout or "mix" in p.stdout or "alloc" in p.stdout:
            return True
    if os.geteuid() == 0:
        return subprocess.run(["bash", str(ROOT / "scripts" / "slurm-up.sh")], capture_output=True).returncode == 0
    return False


@pytest.fixture(scope="module", autouse=True)
def slurm():
    if not _slurm_up():
        if os.environ.get("HEMSIM_REQUIRE_SLURM"):
            pytest.fail("Slurm is required (HEMSIM_REQUIRE_SLURM) but scripts/slurm-up.sh could not start it")
        pytest.skip("no Slurm cluster here and not root to start one (run `make slurm-up`)")


def _why(p) -> str:
    """A failed sweep's reasons: the launcher's `run FAILED` lines (they come before the traceback, which the
    tail alone would keep), then the tail."""
    failed = [line for line in p.stderr.splitlines() if "run FAILED" in line]
    return "\n".join(failed)[:3000] + "\n...\n" + p.stderr[-1500:]


SLURM = ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.poll_seconds=0.5"]
# Only the test that cancels a pending task shortens the wait for a job Slurm no longer knows: elsewhere a
# task still pending in an array (no accounting record yet) on a busy 2-core machine looked lost after 10 s.
SOON_LOST = "hydra.launcher.lost_after_seconds=10"


def outputs(d: Path) -> dict:
    return {(r.scenario, r.seed): {n: (r.path / n).read_bytes() for n in ("flows.parquet", "metrics.parquet")}
            for r in find_runs(d)[0]}


def test_policy_comparison_sweep_is_identical_on_slurm_and_locally(tmp_path):
    """The 3 scenarios of conf/sweep/policy_comparison.yaml (its 10 seeds cut to one on the command line, to
    keep make test short: seed 1, not the default 0, so a launcher that lost the seed override shows), one
    command, two launchers."""
    small = ["world.students=20000", "years=4", "seed=1"]
    local, slurm = tmp_path / "local", tmp_path / "slurm"
    p = subprocess.run([HEMSIM, "-m", "+sweep=policy_comparison", *small, f"hydra.sweep.dir={local}"],
                       capture_output=True, text=True)
    assert p.returncode == 0, _why(p)
    p = subprocess.run([HEMSIM, "-m", "+sweep=policy_comparison", *small, *SLURM, f"hydra.sweep.dir={slurm}"],
                       capture_output=True, text=True)
    assert p.returncode == 0, _why(p)
    a, b = outputs(local), outputs(slurm)
    assert set(a) == {(s, 1) for s in ("baseline", "open_visas", "restrictive_visas")} and set(a) == set(b)
    assert a == b
    assert any((slurm / ".submitit").rglob("*_log.out"))  # the jobs really ran through Slurm


def _jobs() -> set[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout.split()
    return {j.split("_")[0] for j in out}


def _array_id(deadline: float, before: set[str]) -> str:
    """The first job array to appear in the queue that was not there `before` (not another test's)."""
    while time.time() < deadline:
        new = _jobs() - before
        if new:
            return min(new, key=int)
        time.sleep(0.1)
    raise AssertionError("no job appeared in squeue")


def test_a_dead_job_is_reported_and_the_rest_of_the_sweep_completes(tmp_path):
    d = tmp_path / "sweep"
    # one task at a time: the 4th is still pending when it is cancelled, however fast the runs are
    cmd = [HEMSIM, "-m", "scenario=baseline,open_visas", "seed=0,1", "world.students=20000", "years=5", *SLURM, SOON_LOST,
           "hydra.launcher.array_parallelism=1", f"hydra.sweep.dir={d}"]
    before = _jobs()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    array = _array_id(time.time() + 60, before)
    subprocess.run(["scancel", f"{array}_3"], check=True)  # the 4th run: open_visas, seed 1
    out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    failed = [line for line in (out + err).splitlines() if "run FAILED" in line]
    assert len(failed) == 1 and "scenario=open_visas seed=1" in failed[0] and "log: " in failed[0]
    assert Path(failed[0].split("log: ")[1].strip()).parent.exists()
    runs, incomplete = find_runs(d)
    assert len(runs) == 3 and len(incomplete) == 1 and "scenario=open_visas seed=1" in incomplete[0]
    done = {r.path: (r.path / "flows.parquet").stat().st_mtime_ns for r in runs}
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, _why(p)
    runs, incomplete = find_runs(d)
    assert len(runs) == 4 and not incomplete
    assert all((path / "flows.parquet").stat().st_mtime_ns == t for path, t in done.items())


def test_calibration_runs_on_slurm_and_finds_what_it_finds_locally(tmp_path):
    """hemsim-calibrate's trials through the Slurm launcher: the same best parameters as locally (CMA-ES seeded,
    each trial a pure function of its parameters; locally in the launcher's own process, n_jobs=1, which starts
    no workers: test_real_world runs them on two)."""
    data = Path(os.environ.get("HEMSIM_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not data.is_dir():
        pytest.skip("no public data directory beside the checkout")
    calibrate = str(Path(HEMSIM).parent / "hemsim-calibrate")
    small = ["hydra.sweeper.n_trials=2", "world.scale=8000", "years=2", "calibration.last_year=2014"]
    fits = []
    for name, launcher in (("local", ["hydra.launcher.n_jobs=1"]), ("slurm", SLURM)):
        out = tmp_path / f"{name}.yaml"
        p = subprocess.run([calibrate, *small, *launcher, f"hydra.sweep.dir={tmp_path / name}",
                            f"calibration.output={out}"], capture_output=True, text=True,
                           env=dict(os.environ, HEMSIM_DATA_DIR=str(data)))
        assert p.returncode == 0, _why(p)
        fits.append(out.read_text().split("\n", 2)[2])          # the parameters, without the header
    assert fits[0] == fits[1] and "quality" in fits[1]
    assert any((tmp_path / "slurm" / ".submitit").rglob("*_log.out"))


def test_sensitivity_runs_its_chunks_as_a_slurm_array_with_the_local_results(tmp_path):
    """hemsim-sensitivity launcher=slurm: the design's chunks as a job array (submitit), the same indices as
    on local processes (n_jobs=1: the 6 points in 3 chunks of 2, so 3 array tasks)."""
    sensitivity = str(Path(HEMSIM).parent / "hemsim-sensitivity")
    design = tmp_path / "design.yaml"
    design.write_text("parameters: {behaviour.choice.visa: [1.0, 3.0], behaviour.choice.cost: [0.6, 1.8]}\n"
                      "outcomes: [papers, international_share]\n")
    common = ["method=morris", "samples=2", f"design={design}", "years=3", "world.students=20000",
              "world.researchers=2000", "n_jobs=1"]
    tables = []
    for name, launcher in (("local", []), ("slurm", ["launcher=slurm", "partition=debug"])):
        p = subprocess.run([sensitivity, *common, *launcher, f"out={tmp_path / name}"], capture_output=True, text=True)
        assert p.returncode == 0, _why(p)
        tables.append((tmp_path / name / "sensitivity.parquet").read_bytes())
    assert tables[0] == tables[1]
    assert len(list((tmp_path / "slurm" / ".submitit").rglob("*_log.out"))) == 3     # 6 points, 2 a chunk


def test_ema_designs_run_as_a_slurm_array_with_the_sequential_outcomes(tmp_path):
    """sim.ema_slurm.SlurmEvaluator: EMA's perform_experiments on the cluster, chunks of experiments as
    array tasks, the same outcomes in the same order as EMA's SequentialEvaluator."""
    import warnings

    import numpy as np
    from ema_workbench import SequentialEvaluator, perform_experiments
    from sim.ema import ema_model
    from sim.ema_slurm import SlurmEvaluator
    warnings.simplefilter("ignore")
    model = ema_model(seeds=(0, 1), years=3, **{"world.students": 20_000, "world.researchers": 2_000})
    design = {"scenarios": 3, "policies": 1, "uncertainty_sampling_kwargs": {"rng": 3},
              "lever_sampling_kwargs": {"rng": 4}}
    with SlurmEvaluator(model, folder=tmp_path / ".submitit", partition="debug", experiments_per_job=2) as ev:
        experiments, on_slurm = perform_experiments(model, evaluator=ev, **design)
    with SequentialEvaluator(model) as ev:
        again, here = perform_experiments(model, evaluator=ev, **design)
    names = [p.name for p in (*model.uncertainties, *model.levers)]
    assert experiments[names].equals(again[names])
    assert set(on_slurm) == set(here) and all(np.array_equal(on_slurm[k], here[k]) for k in here)
    assert len(set(on_slurm["papers"].round(6))) == 3                      # each experiment its own outcome
    assert len(list((tmp_path / ".submitit").rglob("*_log.out"))) == 2     # 3 experiments, 2 a task: 2 tasks

"""Sweeps on the local launcher: kill and resume, seeds batched per job."""

import os
import signal
import subprocess
import time

import pytest

from conftest import HEMSIM
from sim.analysis.sweep import find_runs

SMALL = ["world.students=5000", "years=3"]


def manifests(d):
    return sorted(d.rglob("manifest.json"))


def test_killed_sweep_resumes_without_redoing_completed_runs(tmp_path):
    d = tmp_path / "sweep"
    cmd = [HEMSIM, "-m", "scenario=baseline,open_visas,restrictive_visas", "seed=0,1", "years=6",
           "world.students=20000", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={d}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while len(manifests(d)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.parent: p.parent.joinpath("flows.parquet").stat().st_mtime_ns for p in manifests(d)}
    runs, incomplete = find_runs(d)
    assert 2 <= len(runs) < 6 and {r.path for r in runs} == set(done)
    assert len(incomplete) == 6 - len(runs)  # the sweep's record knows the runs not yet done
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    runs, incomplete = find_runs(d)
    assert len(runs) == 6 and not incomplete
    for run_dir, mtime in done.items():
        assert run_dir.joinpath("flows.parquet").stat().st_mtime_ns == mtime  # not redone
    assert p.stdout.count("complete, skipped") == len(done)


def test_seeds_per_job_gives_the_same_runs(tmp_path):
    """Both sweeps on one local process (hydra.launcher.n_jobs=1: no worker processes to start, whose imports
    cost more than these small runs); what is compared is how the seeds are cut into jobs."""
    one, batched = tmp_path / "one", tmp_path / "batched"
    alone = [*SMALL, "hydra.launcher.n_jobs=1"]
    subprocess.run([HEMSIM, "-m", "seed=0,1,2,3", *alone, f"hydra.sweep.dir={one}"], check=True, capture_output=True)
    subprocess.run([HEMSIM, "-m", "seed=0,2", "seeds_per_job=2", *alone, f"hydra.sweep.dir={batched}"], check=True,
                   capture_output=True)
    a = {r.seed: r.path for r in find_runs(one)[0]}
    b = {r.seed: r.path for r in find_runs(batched)[0]}
    assert sorted(a) == sorted(b) == [0, 1, 2, 3]
    for seed in a:
        for name in ("flows.parquet", "metrics.parquet"):
            assert (a[seed] / name).read_bytes() == (b[seed] / name).read_bytes()


@pytest.mark.parametrize("args,message", [
    (["hydra/launcher=nope"], "unknown hydra/launcher 'nope'"),
    (["hydra.launcher.n_job=3"], "unknown key 'hydra.launcher.n_job'"),
    (["hydra/launcher=slurm", "hydra.launcher.partitio=x"], "unknown key 'hydra.launcher.partitio'"),
    (["+sweep=nosuch"], "unknown sweep 'nosuch'"),
    (["seed=range(0,0)"], "the sweep has no values"),
])
def test_bad_sweep_options_are_refused_before_anything_runs(tmp_path, args, message):
    d = tmp_path / "s"
    p = subprocess.run([HEMSIM, "-m", *args, f"hydra.sweep.dir={d}"], capture_output=True, text=True)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not d.exists()

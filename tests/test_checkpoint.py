"""Checkpoints: a killed run resumes and ends bit-identical to an uninterrupted one."""

import pickle
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import HEMSIM, small_config
from sim import checkpoint
from sim.model import HemsimModel
from sim.population import ArrayStudents


class Killed(Exception):
    pass


def test_resumed_model_ends_identical_to_uninterrupted(tmp_path):
    cfg = small_config(years=5, seed=3, scenario="comprehensive_internationalisation")
    whole = HemsimModel(cfg).run()
    path, saved = tmp_path / checkpoint.FILENAME, []

    def save_then_die(model):
        checkpoint.save(path, model.state(), "digest", model.year)
        saved.append(model.year)
        if len(saved) == 2:
            raise Killed
    with pytest.raises(Killed):
        HemsimModel(cfg).run(checkpoint_every=1, on_checkpoint=save_then_die)
    resumed = HemsimModel(cfg, state=checkpoint.load(path, "digest"))
    assert resumed.year == cfg.start_year + 2
    rest = resumed.run()
    assert rest.flows.equals(whole.flows) and rest.metrics.equals(whole.metrics)


def test_checkpoints_only_between_recorded_years():
    years = []
    HemsimModel(small_config(years=5)).run(checkpoint_every=2, on_checkpoint=lambda m: years.append(m.year))
    assert years == [2018, 2020]  # after 2 and 4 recorded years from 2016; none after the last


def test_population_state_round_trip():
    model = HemsimModel(small_config(years=2))
    students = model.students
    copy = ArrayStudents.from_state(pickle.loads(pickle.dumps(students.state(), protocol=5)))
    assert len(copy) == len(students) and copy.capacity > len(copy)
    for k, v in students.a.items():
        np.testing.assert_array_equal(copy.a[k], v)


def test_refuses_other_versions_and_configs(tmp_path):
    path = tmp_path / checkpoint.FILENAME
    checkpoint.save(path, {"x": 1}, "abc", 2020)
    assert checkpoint.load(path, "abc") == {"x": 1}
    with pytest.raises(checkpoint.CheckpointError, match="different configuration"):
        checkpoint.load(path, "other")
    with open(path, "wb") as f:
        pickle.dump({"format": checkpoint.FORMAT, "version": checkpoint.VERSION + 1, "config": "abc"}, f)
    with pytest.raises(checkpoint.CheckpointError, match=f"format version {checkpoint.VERSION + 1}"):
        checkpoint.load(path, "abc")
    path.write_bytes(b"\x00garbage")
    with pytest.raises(checkpoint.CheckpointError, match="not a hemsim checkpoint"):
        checkpoint.load(path, "abc")


def _hemsim(run_dir, *extra, env):
    return [HEMSIM, "world.students=300000", "years=16", "seed=2", "checkpoint_every=1", f"hydra.run.dir={run_dir}",
            *extra]


def test_killed_cli_run_resumes_byte_identical(tmp_path, hemsim_env):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    subprocess.run(_hemsim(whole, env=hemsim_env), env=hemsim_env, check=True, capture_output=True)
    assert not (whole / checkpoint.FILENAME).exists()  # deleted once the outputs are written

    proc = subprocess.Popen(_hemsim(cut, env=hemsim_env), env=hemsim_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (cut / checkpoint.FILENAME).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (cut / checkpoint.FILENAME).exists() and not (cut / "manifest.json").exists()  # really cut short

    out = subprocess.run(_hemsim(cut, "resume=true", env=hemsim_env), env=hemsim_env, check=True,
                         capture_output=True, text=True)
    assert "resumed from" in out.stdout
    for name in ("flows.parquet", "metrics.parquet"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes()


def test_cli_refuses_incompatible_checkpoint(tmp_path, hemsim_env):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with open(run_dir / checkpoint.FILENAME, "wb") as f:
        pickle.dump({"format": checkpoint.FORMAT, "version": 0, "config": "x"}, f)
    out = subprocess.run(_hemsim(run_dir, "resume=true", env=hemsim_env), env=hemsim_env, capture_output=True,
                         text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "format version 0" in lines[0] and checkpoint.FILENAME in lines[0]
    assert not (run_dir / "manifest.json").exists()

"""Checkpoints: a killed run resumes and ends bit-identical to an uninterrupted one; a checkpoint is
data (never code), checked whole before it is read, and refused in one line when it is not."""

import hashlib
import io
import json
import pickle
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_population_state_round_trip(tmp_path):
    model = HemsimModel(small_config(years=2))
    students = model.students
    checkpoint.save(tmp_path / "c", {"students": students.state()}, "d", 2016)
    copy = ArrayStudents.from_state(checkpoint.load(tmp_path / "c", "d")["students"])
    assert len(copy) == len(students) and copy.capacity > len(copy)
    for k, v in students.a.items():
        np.testing.assert_array_equal(copy.a[k], v)
        assert copy.a[k].dtype == v.dtype


def test_a_state_of_every_kind_round_trips_exactly(tmp_path):
    state = {"year": 2020, "tuple": (1, 2.5, "x", None), "nested": {"a": [np.int64(3), np.float32(0.5), True]},
             "codes": np.array(["USA", "GBR"], dtype=object), "maybe": np.array([None, "FRA"], dtype=object),
             "none": np.array([None, None], dtype=object), "floats": np.array([np.nan, -np.inf, 1e-300]),
             7: "an int key", "empty": np.zeros((0, 3), np.int32)}
    checkpoint.save(tmp_path / "c", state, "d", 2020)
    back = checkpoint.load(tmp_path / "c", "d")
    assert back.keys() == state.keys() and back["tuple"] == state["tuple"] and back[7] == "an int key"
    assert type(back["nested"]["a"][0]) is np.int64 and type(back["nested"]["a"][1]) is np.float32
    assert back["codes"].dtype == object and list(back["codes"]) == ["USA", "GBR"]
    assert list(back["maybe"]) == [None, "FRA"] and list(back["none"]) == [None, None]
    np.testing.assert_array_equal(back["floats"], state["floats"])
    assert back["empty"].shape == (0, 3) and back["empty"].dtype == np.int32


def _header(path):
    raw = path.read_bytes()
    magic, rest = raw[:len(checkpoint.MAGIC)], raw[len(checkpoint.MAGIC):]
    line, payload = rest.split(b"\n", 1)
    return magic, json.loads(line), payload


def _rewrite(path, header, payload):
    path.write_bytes(checkpoint.MAGIC + json.dumps(header).encode() + b"\n" + payload)


def test_refuses_other_versions_and_configs(tmp_path):
    path = tmp_path / checkpoint.FILENAME
    checkpoint.save(path, {"x": 1}, "abc", 2020)
    assert checkpoint.load(path, "abc") == {"x": 1}
    with pytest.raises(checkpoint.CheckpointError, match="different configuration"):
        checkpoint.load(path, "other")
    _, header, payload = _header(path)
    _rewrite(path, header | {"version": checkpoint.VERSION + 1}, payload)
    with pytest.raises(checkpoint.CheckpointError, match=f"format version {checkpoint.VERSION + 1}"):
        checkpoint.load(path, "abc")
    path.write_bytes(b"\x00garbage")
    with pytest.raises(checkpoint.CheckpointError, match="not a hemsim checkpoint"):
        checkpoint.load(path, "abc")


class Planted:
    """A pickle that runs a command when it is unpickled (what a hostile checkpoint would hold)."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_planted_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / checkpoint.FILENAME
    path.write_bytes(pickle.dumps({"format": checkpoint.FORMAT, "x": Planted(marker)}))
    with pytest.raises(checkpoint.CheckpointError, match="not a hemsim checkpoint"):
        checkpoint.load(path, "abc")
    # the pickle inside a well-formed header and checksum: numpy refuses object arrays (allow_pickle=False)
    buffer = io.BytesIO()
    np.save(buffer, np.array([Planted(marker)], dtype=object), allow_pickle=True)
    payload = buffer.getvalue()
    _rewrite(path, {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "config": "abc", "year": 1,
                    "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}, payload)
    with pytest.raises(checkpoint.CheckpointError, match="unreadable state"):
        checkpoint.load(path, "abc")
    assert not marker.exists()


@settings(max_examples=40, derandomize=True)
@given(where=st.floats(0.0, 0.999), flips=st.integers(1, 64), cut=st.booleans())
def test_a_damaged_checkpoint_is_always_refused(tmp_path_factory, where, flips, cut):
    """Bytes flipped anywhere in the file, or the file cut short: refused in one line, never resumed from."""
    path = tmp_path_factory.mktemp("damaged") / checkpoint.FILENAME
    state = {"students": {"talent": np.linspace(0, 1, 500), "uid": np.arange(500)}, "codes": np.array(["A", "B"],
                                                                                                     dtype=object)}
    checkpoint.save(path, state, "abc", 2020)
    raw = bytearray(path.read_bytes())
    start = int(where * len(raw))
    if cut:
        raw = raw[:start]
    else:
        for i in range(start, min(start + flips, len(raw))):
            raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(checkpoint.CheckpointError) as e:
        checkpoint.load(path, "abc")
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def _hemsim(run_dir, *extra, env):
    return [HEMSIM, "world.students=300000", "years=8", "seed=2", "checkpoint_every=1", f"hydra.run.dir={run_dir}",
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
    _rewrite(run_dir / checkpoint.FILENAME, {"format": checkpoint.FORMAT, "version": 0, "config": "x", "bytes": 0,
                                             "sha256": ""}, b"")
    out = subprocess.run(_hemsim(run_dir, "resume=true", env=hemsim_env), env=hemsim_env, capture_output=True,
                         text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "format version 0" in lines[0] and checkpoint.FILENAME in lines[0]
    assert not (run_dir / "manifest.json").exists()


def test_cli_never_reads_an_old_pickled_checkpoint(tmp_path, hemsim_env):
    """A checkpoint.pkl planted in a shared run folder: resume=true refuses it in one line, and the command
    it carries never runs."""
    run_dir, marker = tmp_path / "run", tmp_path / "ran"
    run_dir.mkdir()
    (run_dir / checkpoint.LEGACY).write_bytes(pickle.dumps(Planted(marker)))
    out = subprocess.run(_hemsim(run_dir, "resume=true", env=hemsim_env), env=hemsim_env, capture_output=True,
                         text=True)
    assert out.returncode == 2 and "never read" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not marker.exists() and not (run_dir / "manifest.json").exists()

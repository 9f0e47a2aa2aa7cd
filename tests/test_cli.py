"""The `hemsim` command: outputs with documented columns, and bad input refused cleanly."""

import json
import subprocess

import pandas as pd
import pytest

from conftest import HEMSIM
from sim.results import FLOW_ORDER, METRIC_ORDER

FLOW_COLUMNS = ["year", "kind", "origin", "destination", "students"]
METRIC_COLUMNS = ["year", "country", "metric", "value"]
METRICS = set(METRIC_ORDER)  # every metric documented in the README (tests/test_architecture.py checks the README)
FLOW_KINDS = set(FLOW_ORDER)


def hemsim(*args, env=None):
    return subprocess.run([HEMSIM, *args], capture_output=True, text=True, env=env)


def test_a_run_writes_tidy_tables_and_a_manifest(tmp_path, hemsim_env):
    out = tmp_path / "run"
    p = hemsim("world.students=5000", "years=3", "seed=2", "scenario=open_visas", f"hydra.run.dir={out}",
               env=hemsim_env)
    assert p.returncode == 0, p.stderr
    flows, metrics = pd.read_parquet(out / "flows.parquet"), pd.read_parquet(out / "metrics.parquet")
    assert list(flows.columns) == FLOW_COLUMNS and list(metrics.columns) == METRIC_COLUMNS
    assert set(flows.kind) == FLOW_KINDS
    assert set(metrics.metric) == METRICS
    assert sorted(metrics.year.unique()) == [2016, 2017, 2018]
    assert "WORLD" in set(metrics.country)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["seed"] == 2
    assert manifest["config"]["scenario"]["name"] == "open_visas"
    assert manifest["files"]["flows.parquet"]["rows"] == len(flows)
    assert {"numba", "mesa", "hydra-core"} <= set(manifest["versions"])
    assert set(manifest["platform"]) == {"machine", "libc", "cpu_fma"} and manifest["platform"]["machine"]


BAD = [
    ("world.students=-5", "world.students"),
    ("world.studnets=5", "world.studnets"),
    ("scenario=nope", "scenario"),
    ("backend=gpu", "backend"),
    ("world.scale=0", "world.scale"),
    ("behaviour.study.postgraduate_share=1.5", "postgraduate_share"),
    ("years=abc", "years"),
    ("scenario.levers=[{lever:visa_openness,value:0.5,countries:XYZ}]", "XYZ"),
    ("scenario.levers=[{lever:visa_openness,value:1.5}]", "visa_openness"),
    ("scenario.levers=[{lever:visa_openness,value:0.5,start:2021,end:2019}]", "start=2021"),
    ("scenario.levers=[{lever:nope,value:0.5}]", "nope"),
]


@pytest.mark.parametrize("arg,named", BAD)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, hemsim_env, arg, named):
    out = tmp_path / "bad"
    p = hemsim(arg, f"hydra.run.dir={out}", env=hemsim_env)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr + p.stdout
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0] and lines[0].startswith("hemsim: error:")
    assert not out.exists()


def test_bad_value_in_a_sweep_is_refused_before_any_run(tmp_path, hemsim_env):
    out = tmp_path / "sweep"
    p = hemsim("-m", "scenario=baseline,nope", "seed=0,1", f"hydra.sweep.dir={out}", env=hemsim_env)
    assert p.returncode == 2 and "unknown scenario 'nope'" in p.stderr
    assert not out.exists()

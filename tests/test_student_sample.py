"""The optional per-student sample: a panel of students, tidy, and without effect on the results."""

import json
import subprocess

import numpy as np
import pyarrow.parquet as pq

from conftest import HEMSIM, small_config
from sim.model import HemsimModel
from sim.results import OUTCOMES, STUDENTS_SCHEMA


def _run(share: float, backend: str = "numba", students: int = 20_000, years: int = 5):
    cfg = small_config(students=students, years=years, seed=4, backend=backend,
                       scenario="comprehensive_internationalisation")
    cfg.sample_students = share
    return HemsimModel(cfg).run()


def test_sample_follows_the_same_students_and_changes_nothing_else():
    with_sample, without = _run(0.05), _run(0.0)
    assert without.students is None
    assert with_sample.flows.equals(without.flows) and with_sample.metrics.equals(without.metrics)
    s = with_sample.students.to_pandas()
    assert with_sample.students.schema.equals(STUDENTS_SCHEMA)
    enrolled = with_sample.metric("enrolled").sum() / small_config().world.scale   # agents over all years
    assert abs(len(s) / enrolled - 0.05) < 0.01
    # a panel: a student sampled while continuing is in next year's sample too
    first, second = s[s.year == 2017], s[s.year == 2018]
    stayers = set(first.uid[first.outcome == "continuing"])
    assert stayers and stayers <= set(second.uid)
    assert set(s.outcome) <= set(OUTCOMES) and {"continuing", "graduated"} <= set(s.outcome)
    on_exchange, interning = s.exchange_country.notna(), s.internship_country.notna()
    assert on_exchange.any() and s.exchanged[on_exchange].all() and s.interned[interning].all()
    abroad = s[s.country != s.origin]
    assert len(abroad) > 0 and abroad.year_in.max() >= 1


def test_mesa_backend_samples_the_same_students():
    numba, mesa = _run(0.2, "numba", 3_000, 3), _run(0.2, "mesa", 3_000, 3)
    assert numba.students.equals(mesa.students)


def test_cli_writes_students_parquet_in_the_manifest(tmp_path, hemsim_env):
    run_dir = tmp_path / "run"
    subprocess.run([HEMSIM, "world.students=20000", "years=2", "sample_students=0.01", f"hydra.run.dir={run_dir}"],
                   env=hemsim_env, check=True, capture_output=True)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["files"]["students.parquet"]["rows"] == pq.read_table(run_dir / "students.parquet").num_rows > 0
    out = subprocess.run([HEMSIM, "sample_students=1.5", f"hydra.run.dir={tmp_path / 'bad'}"], env=hemsim_env,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "sample_students=1.5" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    uid = pq.read_table(run_dir / "students.parquet", columns=["uid"]).column("uid").to_numpy()
    assert np.all(uid > 0)

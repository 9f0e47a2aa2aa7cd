"""The real world: built from the public data, calibrated by simulation, validated against it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT

DATA = Path(os.environ.get("HEMSIM_DATA_DIR", ROOT.parent / "shared" / "data"))
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="no public data directory beside the checkout")


@pytest.fixture(scope="module")
def env():
    return dict(os.environ, HEMSIM_DATA_DIR=str(DATA))


def test_real_world_has_iso_countries_observed_stocks_and_lists_exclusions():
    from sim.config import Config
    from sim.world import real
    cfg = Config()
    cfg.world.kind, cfg.world.data_dir, cfg.world.scale, cfg.start_year = "oecd", str(DATA), 4000.0, 2016
    w = real.build(cfg)
    assert 180 <= len(w.codes) <= 220 and all(len(c) == 3 and c.isupper() for c in w.codes)
    assert {"USA", "CHN", "IND", "DEU"} <= set(w.codes)
    usa, chn = w.codes.index("USA"), w.codes.index("CHN")
    assert w.observed_stock[chn, usa] > 100_000  # the largest corridor, in real students
    nga = w.codes.index("NGA")
    assert np.isnan(np.delete(w.observed_stock[:, nga], nga)).all()  # Nigeria reports no OECD stocks
    reasons = set(w.excluded.reason)
    assert any("CEPII" in r for r in reasons) and any("aggregate" in r for r in reasons)
    assert (w.excluded.name.astype(str).str.len() > 0).all()


def test_world_oecd_runs_from_the_command_line_in_real_units(tmp_path, env):
    out = tmp_path / "run"
    p = subprocess.run([BIN / "hemsim", "world=oecd", "world.scale=4000", "years=2", f"hydra.run.dir={out}"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    f = pd.read_parquet(out / "flows.parquet")
    assert {"USA", "CHN"} <= set(f.origin) and f.year.min() == 2016
    assert f[f.kind == "enrolled"].students.sum() > 1e6  # millions of real students abroad


def test_missing_data_directory_is_a_clear_error(tmp_path, env):
    p = subprocess.run([BIN / "hemsim", "world=oecd", f"world.data_dir={tmp_path / 'nope'}",
                        f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "world.data_dir" in p.stderr and "Traceback" not in p.stderr


def test_reduced_calibration_runs_on_the_launcher_and_is_reproducible(tmp_path, env):
    results = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.yaml"
        p = subprocess.run([BIN / "hemsim-calibrate", "hydra.sweeper.n_trials=4", "world.scale=8000",
                            f"hydra.sweep.dir={tmp_path / name}", f"calibration.output={out}",
                            "hydra.launcher.progress=false"], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr[-2000:]
        results.append(yaml.safe_load(out.read_text()))
        assert (tmp_path / name / "calibration_report.md").exists()
    assert results[0] == results[1] and "diaspora" in results[0]["choice"]


def test_validation_meets_its_targets_with_the_committed_calibration(tmp_path, env):
    p = subprocess.run([BIN / "hemsim-validate", "--out", str(tmp_path), "--forecast-years", "2"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    v = json.loads((tmp_path / "validation.json").read_text())
    tvd = v["tvd"]
    assert tvd["simulated"] <= 0.25 and tvd["simulated"] < tvd["gravity_fe_ppml"] < tvd["size_only"]
    assert v["gravity_ok"]
    assert (tmp_path / "report.md").read_text().count("|") > 50
    assert (tmp_path / "forecast_2016_2017" / "flows.parquet").exists()

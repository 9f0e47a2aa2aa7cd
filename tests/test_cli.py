"""The `hemsim` command: outputs with documented columns, and bad input refused cleanly."""

import json
import subprocess

import pandas as pd
import pytest

from conftest import HEMSIM

FLOW_COLUMNS = ["year", "kind", "origin", "destination", "students"]
METRIC_COLUMNS = ["year", "country", "metric", "value"]
METRICS = {  # every metric documented in the README
    "enrolled", "entrants", "graduates", "dropouts", "unplaced", "inbound_degree", "outbound_degree",
    "new_inbound_degree", "new_outbound_degree", "international_share", "returnees", "stayers", "brain_drain",
    "net_talent_gain", "mean_skill", "mean_intercultural_competence", "mean_intercultural_competence_nonmobile",
    "exchange_students", "exchange_inbound", "exchange_participation_rate", "exchange_term_or_year_share",
    "internships", "internships_hosted", "intl_experienced_graduates", "graduate_employability",
    "enrolment_rate", "teaching_quality", "intl_course_share", "capacity", "researchers", "papers",
    "intl_coauthored_share", "citations_per_paper", "citations_per_paper_intl", "citations_per_paper_domestic",
    "research_reputation", "researcher_visits", "researchers_moved_out", "researchers_moved_in",
    "researchers_returned", "service_projects", "service_projects_international", "people_reached"}
FLOW_KINDS = {"degree", "enrolled", "return", "stay", "exchange", "internship", "researcher_visit",
              "researcher_move", "researcher_return"}


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

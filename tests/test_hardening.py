"""Hostile and unlucky input: refused in one line (exit 2) before anything is written, never a traceback
or a run that silently means nothing; outputs readable by collaborators; tools that delete only their own.

The fuzz test runs hypothesis over the keys and values of the config schema through the pre-run check
(experiments/preflight.py: fast, no simulation), the same check every entry point uses.
"""

import math
import os
import stat
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HEMSIM
from experiments import preflight
from sim.config import COEFFICIENT_LIMIT, NONNEGATIVE, SHARES, Config, numbers
from sim.errors import ConfigError
from sim.params import config_from

SMALL = ["world.students=3000", "world.researchers=300", "years=2", "progress=false"]
BEHAVIOUR = [k for k, _ in numbers(Config().behaviour)]
HOSTILE = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, -1.0, -5, 1.5, 2, 0, 0.5,
                                     "abc", "", "[1,2]", "true", 1e5, -1e5]),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 20, 10 ** 20))


def _verdict(key, value):
    """None when the pre-run check accepts `key=value`, else its one-line message (it exits 2)."""
    try:
        preflight.check([f"{key}={value}"])
        return None
    except SystemExit as e:
        assert e.code == 2
        return "refused"


def _allowed(key: str, value) -> bool:
    """What the schema allows for a behaviour number (the rule the fuzz test holds the check to)."""
    if isinstance(value, str) or isinstance(value, bool):
        return False
    v = float(value)
    default = dict(numbers(Config().behaviour))[key]
    if isinstance(default, int) and not float(v).is_integer():
        return False
    if not math.isfinite(v):
        return False
    if key in SHARES:
        return 0 <= v <= 1
    if key in NONNEGATIVE:
        return v >= 0
    return abs(v) <= COEFFICIENT_LIMIT


@settings(max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(BEHAVIOUR), value=HOSTILE)
def test_fuzzed_behaviour_values_are_refused_in_one_line_or_accepted_as_the_schema_says(key, value, capsys):
    full = f"behaviour.{key}"
    if not _allowed(key, value):
        assert _verdict(full, value) == "refused", (full, value)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("hemsim: error: ") and "Traceback" not in err[0], err
    else:
        accepted = _verdict(full, value) is None
        # a few allowed values still break a rule across keys (e.g. doctoral_years_min > max): one line then
        err = capsys.readouterr().err.strip().splitlines()
        assert accepted or (len(err) == 1 and full.split(".")[-1] in err[0]), (full, value, err)


@settings(max_examples=30, derandomize=True)
@given(key=st.sampled_from(["seed", "years", "start_year", "world.students", "world.scale", "world.countries",
                            "world.researchers", "world.universities", "sample_students", "checkpoint_every"]),
       value=HOSTILE)
def test_fuzzed_sizes_and_years_never_pass_as_nonsense(key, value):
    """Through the Python API: either a ConfigError of one line naming the key, or a config whose numbers are
    finite, positive where they count things, and small enough for this machine."""
    try:
        cfg = config_from({key: value})
    except ConfigError as e:
        assert "\n" not in str(e) and key.split(".")[-1] in str(e), str(e)
        return
    w = cfg.world
    assert all(math.isfinite(v) for _, v in numbers(w)) and w.scale > 0 and w.students >= 1
    assert 1900 <= cfg.start_year <= 2200 and 1 <= cfg.years <= 500 and 0 <= cfg.seed < 2 ** 63


@pytest.mark.parametrize("override, names", [
    ("behaviour.choice.visa=nan", "behaviour.choice.visa=nan"),
    ("behaviour.quality.crowding_threshold=nan", "crowding_threshold"),
    ("world.scale=inf", "world.scale=inf"),
    ("behaviour.quality.reversion=-1", "a share"),
    ("behaviour.quality.teaching_diffusion=5", "a share"),
    ("behaviour.service.people_per_project=-5", ">= 0"),
    ("behaviour.research.coauthors=-1", ">= 0"),
    ("behaviour.research.citations_log_sd=-0.5", ">= 0"),
    ("behaviour.research.papers_per_researcher=-1", ">= 0"),
    ("world.students=1000000000000", "GiB"),
    ("world.countries=100000 world.universities=100000", "GiB"),
    ("seed=18446744073709551616", "2^63"),
    ("start_year=9999999999", "calendar year"),
    ("+world.studnets=50000", "did you mean world.students"),
    ("~seed", "removing a key"),
    ("years=${oc.env:HOME}", "interpolations"),
    ("scenario.name=../../../../x", "scenario.name"),
])
def test_the_probes_bad_values_stop_in_one_line_in_the_pre_run_check(override, names, capsys):
    """The check every command runs before Hydra writes anything (end to end below, for a few)."""
    with pytest.raises(SystemExit) as e:
        preflight.check([*override.split(), *[a for a in SMALL if a.split("=")[0] not in override]])
    lines = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(lines) == 1 and names in lines[0], lines


@pytest.mark.parametrize("override", ["behaviour.choice.visa=nan", "+world.studnets=50000", "world.students=10000000000000",
                                      "scenario.name=../../../../x"])
def test_bad_values_leave_nothing_written_from_the_command_line(tmp_path, override):
    out = tmp_path / "run"
    p = subprocess.run([HEMSIM, *SMALL, override, f"hydra.run.dir={out}"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not out.exists() and not (tmp_path.parent / "x").exists()


def test_a_sweep_with_no_workers_is_refused_before_its_folder_exists(tmp_path):
    p = subprocess.run([HEMSIM, "-m", "hydra.launcher.n_jobs=0", "seed=0,1", *SMALL, f"hydra.sweep.dir={tmp_path / 's'}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "hydra.launcher.n_jobs=0" in p.stderr and not (tmp_path / "s").exists()


def test_outputs_follow_the_umask(tmp_path):
    from sim.io import atomic_write
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "shared.txt", lambda tmp: open(tmp, "w").write("x"))
        os.umask(0o077)
        atomic_write(tmp_path / "private.txt", lambda tmp: open(tmp, "w").write("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600


def test_aggregate_never_deletes_what_it_did_not_write(tmp_path):
    from sim.analysis import sweep
    from sim.errors import UserError
    from sim.io import write_run
    from sim.model import HemsimModel
    runs = tmp_path / "sweep"
    for seed in (0, 1):
        r = HemsimModel(seed=seed, years=1, **{"world.students": 3000, "world.researchers": 300}).run()
        write_run(runs / f"seed={seed}", {"flows": r.flows, "metrics": r.metrics},
                  {"seed": seed, "scenario": {"name": "baseline"}}, seed, 0.0,
                  extra={"scenario": "baseline", "overrides": [f"seed={seed}"]})
    victim = tmp_path / "thesis"
    victim.mkdir()
    (victim / "thesis.tex").write_text("keep")
    for out, message in ((victim, "did not write"), (runs, "inside or above"), (runs / "seed=0", "inside or above"),
                         (tmp_path, "inside or above")):
        with pytest.raises(UserError, match=message):
            sweep.aggregate(runs, out)
    assert (victim / "thesis.tex").read_text() == "keep" and len(sweep.find_runs(runs)[0]) == 2
    mine = sweep.aggregate(runs, tmp_path / "agg")
    again = sweep.aggregate(runs, tmp_path / "agg")                 # replaces its own output
    assert mine == again and len(sweep.read(again, "metrics").seed.unique()) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_real_world_starts_only_in_its_observed_years():
    from test_real_world import DATA
    if not DATA.is_dir():
        pytest.skip("no public data directory beside the checkout")
    from sim.model import build_world
    cfg = config_from({"world": "oecd", "world.data_dir": str(DATA), "start_year": 1950})
    with pytest.raises(ConfigError, match="start_year=1950: the real world's stocks cover 2013-2016 .* start in 2000-2016"):
        build_world(cfg)
    with pytest.raises(ConfigError, match="start_year=2017: .* start in 2000-2016"):
        build_world(config_from({"world": "oecd", "world.data_dir": str(DATA), "start_year": 2017}))


def test_the_python_api_and_an_ema_point_go_through_the_same_checks():
    from sim.config import Config
    from sim.ema import configure, load_design
    from sim.model import HemsimModel
    with pytest.raises(ConfigError, match="GiB"):
        HemsimModel(**{"world.students": 10 ** 12})
    with pytest.raises(ConfigError, match="a share"):
        HemsimModel(**{"behaviour.quality.reversion": 2.0})
    with pytest.raises(ConfigError, match=r"^calibration.gravity_weight=-0.5: must be a finite number >= 0$"):
        HemsimModel(**{"calibration.gravity_weight": -0.5})
    design = load_design()
    point = {k: lo for k, (lo, hi) in {**design.parameters, **design.levers}.items()}
    first = next(iter(design.parameters))
    with pytest.raises(ConfigError, match="finite"):
        configure(Config(), design, point | {first: np.nan}, 0)


@pytest.fixture
def scenario_dir(tmp_path):
    d = tmp_path / "conf" / "scenario"
    d.mkdir(parents=True)
    (d / "evil.yaml").write_text("# @package _global_\nhydra:\n  callbacks:\n    x:\n      _target_: builtins.open\n"
                                 f"      file: {tmp_path / 'truncated'}\n      mode: w\n")
    (d / "target.yaml").write_text("name: t\nlevers: []\nworld: {_target_: os.system}\n")
    (d / "empty.yaml").write_text("")
    (d / "good.yaml").write_text("name: good\nlevers:\n  - {lever: visa_openness, countries: all, value: 0.9}\n")
    return tmp_path / "conf"


@pytest.mark.parametrize("args, message", [
    (["scenario=../world/oecd"], "not a path"),
    (["--config-dir", "{dir}", "scenario=evil"], "may not add callbacks"),
    (["--config-dir={dir}", "scenario=target"], "unknown key 'scenario.world' (allowed under scenario: name"),
    (["hydra.searchpath=[file://{dir}]", "scenario=empty"], "an empty scenario"),
    (["scenario.levers=[{lever:border_closed,value:0.5}]"], "is a flag"),
    (["scenario.levers=[{lever:visa_openness,value:0.5,start:2500}]"], "start=2500"),
    (["scenario.levers=[{levr:visa_openness,value:0.5}]"], "allowed in a lever: lever, value"),
    (["--config-path", "x"], "use --config-dir"),
])
def test_scenarios_are_data_confined_to_scenario_folders(scenario_dir, capsys, args, message):
    with pytest.raises(SystemExit) as e:
        preflight.check([a.replace("{dir}", str(scenario_dir)) for a in args] + SMALL)
    lines = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (scenario_dir.parent / "truncated").exists()


def test_a_scenario_from_another_folder_is_checked_and_runs(scenario_dir, tmp_path):
    p = subprocess.run([HEMSIM, "--config-dir", str(scenario_dir), "scenario=good", *SMALL,
                        f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=180)
    assert p.returncode == 0 and (tmp_path / "run" / "manifest.json").exists(), p.stderr[-500:]
    p = subprocess.run([HEMSIM, "--config-dir", str(scenario_dir), "scenario=evil", *SMALL,
                        f"hydra.run.dir={tmp_path / 'evil'}"], capture_output=True, text=True, timeout=180)
    assert p.returncode == 2 and not (tmp_path / "evil").exists() and not (tmp_path / "truncated").exists()


def test_a_rerun_cleans_only_its_own_leftovers_and_the_manifest_lists_the_data(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in (".flows.parquet.abc123.tmp", ".checkpoint.hemsim.x.tmp", "students.parquet", "notes.txt"):
        (out / name).write_text("old")
    p = subprocess.run([HEMSIM, *SMALL, f"hydra.run.dir={out}"], capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-400:]
    left = sorted(f.name for f in out.iterdir() if not f.name.startswith(".hydra"))
    assert left == ["flows.parquet", "manifest.json", "metrics.parquet", "notes.txt", "run.log"], left
    import json
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"flows.parquet", "metrics.parquet"} and manifest["data"] == {}


def test_a_file_system_error_is_one_line_naming_the_file(tmp_path):
    """An output that cannot be written (here a folder sits where flows.parquet goes: as root, read-only
    permissions do not stop writes) stops the run in one line, exit 2, with no manifest."""
    out = tmp_path / "run"
    (out / "flows.parquet").mkdir(parents=True)
    p = subprocess.run([HEMSIM, *SMALL, f"hydra.run.dir={out}"], capture_output=True, text=True, timeout=180)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "flows.parquet" in lines[0] and "Traceback" not in p.stderr
    assert not (out / "manifest.json").exists() and not list(out.glob(".*.tmp"))


def test_records_read_back_carry_a_checksum(tmp_path):
    """A manifest changed on disk no longer marks its run complete; a damaged sweep record is refused."""
    import json

    from sim.analysis import sweep
    from sim.errors import UserError
    from sim.io import read_manifest, write_json
    from sim.model import HemsimModel
    from sim.io import write_run
    r = HemsimModel(years=1, **{"world.students": 3000, "world.researchers": 300}).run()
    run = tmp_path / "sweep" / "seed=0"
    write_run(run, {"flows": r.flows, "metrics": r.metrics}, {"seed": 0, "scenario": {"name": "baseline"}}, 0, 0.0)
    assert read_manifest(run) is not None
    m = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(m | {"seed": 7}))             # edited, checksum kept
    assert read_manifest(run) is None
    write_json({"runs": [["seed=0"]]}, tmp_path / "sweep" / "sweep.json", checksum=True)
    record = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    (tmp_path / "sweep" / "sweep.json").write_text(json.dumps(record | {"runs": []}))
    with pytest.raises(UserError, match="damaged sweep record"):
        sweep.find_runs(tmp_path / "sweep")

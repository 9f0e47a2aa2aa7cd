"""The real world: built from the public data, calibrated by simulation, validated against it."""

import json
import os
import re
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
    # incomes in constant dollars (real.incomes): Russia's 2016 is not its rouble-crash current-dollar figure
    rus = w.codes.index("RUS")
    assert w.gdp_pc[rus] == pytest.approx(9_314, rel=0.01)
    nga = w.codes.index("NGA")
    assert np.isnan(np.delete(w.observed_stock[:, nga], nga)).all()  # Nigeria reports no OECD stocks
    reasons = set(w.excluded.reason)
    assert any("CEPII" in r for r in reasons) and any("aggregate" in r for r in reasons)
    assert (w.excluded.name.astype(str).str.len() > 0).all()


def test_incomes_are_constant_dollars_of_the_start_year_and_the_base_year_where_absent():
    from sim.world import real
    scholars = pd.DataFrame({"country": ["AAA", "AAA", "AAA", "BBB"], "year": [2009, 2010, 2016, 2016],
                             "gdp_pc_constant": [900.0, 1_000.0, np.nan, 5_000.0]})
    wdi = pd.DataFrame({"country": ["AAA", "CCC", "CCC", "CCC"], "year": [2015, 2013, 2014, 2019],
                        "gdp_pc_usd": [7.0, 300.0, 400.0, 800.0]})
    got = real.incomes(scholars, wdi, ["AAA", "BBB", "CCC"], 2011)
    # AAA: its own series' nearest year (2010; 2016 is missing); BBB: its only year; CCC: no constant
    # series, so its current dollars of the year nearest the base year 2015 (2014)
    assert got.tolist() == [1_000.0, 5_000.0, 400.0]


def test_real_world_backcast_years_have_their_own_incomes():
    """A world of 2004 (a backcast) is poorer than one of 2016 where the economy grew: China's GDP per
    head roughly tripled in constant dollars; Russia's did not fall with the rouble in 2014-15."""
    from sim.world import loaders as L
    from sim.world import real
    scholars, wdi = L.load_scholar_migration(DATA).frame, L.load_wdi(DATA).frame
    income = {year: dict(zip(["CHN", "RUS"], real.incomes(scholars, wdi, ["CHN", "RUS"], year)))
              for year in (2004, 2013, 2016)}
    assert 2.5 < income[2016]["CHN"] / income[2004]["CHN"] < 4.0
    assert 0.95 < income[2016]["RUS"] / income[2013]["RUS"] < 1.05


def test_world_oecd_runs_from_the_command_line_in_real_units(tmp_path, env):
    out = tmp_path / "run"
    p = subprocess.run([BIN / "hemsim", "world=oecd", "world.scale=4000", "years=2", f"hydra.run.dir={out}"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    f = pd.read_parquet(out / "flows.parquet")
    assert {"USA", "CHN"} <= set(f.origin) and f.year.min() == 2016
    assert f[f.kind == "enrolled"].students.sum() > 1e6  # millions of real students abroad


def refused(command: str, argv: list[str], monkeypatch, capfd) -> str:
    """`COMMAND ARGV` (hemsim, hemsim-calibrate, hemsim-levels) through its main in this process (each command
    itself runs in a test of its own), which must stop with exit status 2 before anything runs; what it wrote to
    stderr (read from the file descriptor: nothing escapes)."""
    from experiments import calibrate, levels, run
    main = {"hemsim": run.main, "hemsim-calibrate": calibrate.main, "hemsim-levels": levels.main}[command]
    monkeypatch.setenv("HEMSIM_DATA_DIR", str(DATA))
    monkeypatch.setattr(sys, "argv", [command, *map(str, argv)])
    capfd.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capfd.readouterr().err
    assert exit_.value.code == 2, err[-2000:]
    return err


def test_missing_data_directory_is_a_clear_error(tmp_path, monkeypatch, capfd):
    err = refused("hemsim", ["world=oecd", f"world.data_dir={tmp_path / 'nope'}", f"hydra.run.dir={tmp_path / 'run'}"],
                  monkeypatch, capfd)
    assert "world.data_dir" in err and "Traceback" not in err


def _damaged_copy(tmp_path: Path, damage: str) -> Path:
    import shutil
    from sim.world import loaders as L
    d = tmp_path / "data"
    shutil.copytree(DATA, d)
    if damage == "empty":
        for f in d.iterdir():
            f.unlink()
    elif damage == "truncated":     # cut at a line boundary: every line parses, most rows are gone
        lines = (DATA / L.CEPII_FILE).read_text(encoding="utf-8-sig").splitlines()[:100]
        (d / L.CEPII_FILE).write_text("\n".join(lines) + "\n")
    elif damage == "header only":
        (d / L.UIS_FILE).write_text((DATA / L.UIS_FILE).read_text().splitlines()[0] + "\n")
    elif damage == "renamed column":
        text = (DATA / L.WDI_FILE).read_text()
        (d / L.WDI_FILE).write_text(text.replace("COUNTRY_CODE", "ISO3", 1))
    elif damage == "one line cut":      # every line parses and coverage holds: only the checksum can tell
        lines = (DATA / L.WDI_FILE).read_text().splitlines()
        (d / L.WDI_FILE).write_text("\n".join(lines[:-1]) + "\n")
    elif damage in ("WDI header only", "zero populations"):
        lines = (DATA / L.WDI_FILE).read_text().splitlines()
        keep = lines[:1] if damage == "WDI header only" else [
            line.rsplit(",", 1)[0] + ",0" if ",SP.POP.TOTL," in line else line for line in lines]
        (d / L.WDI_FILE).write_text("\n".join(keep) + "\n")
    return d


@pytest.mark.parametrize("damage,message", [
    ("empty", "data file not found"), ("truncated", "cepii_geodist.csv: only 1 origins"),
    ("header only", "uis_inbound_mobile_students_2000_2016.csv: only 0 countries"),
    ("renamed column", "missing 'COUNTRY_CODE'"), ("WDI header only", "wdi_selected_2013_2019.csv: only 0 countries"),
    ("zero populations", "wdi_selected_2013_2019.csv: only 0 countries"),
    ("one line cut", "wdi_selected_2013_2019.csv: not the data the real world's constants were fitted on")])
def test_a_damaged_data_directory_stops_in_one_line_naming_the_file(tmp_path, damage, message, monkeypatch, capfd):
    out = tmp_path / "run"
    err = refused("hemsim", ["world=oecd", f"world.data_dir={_damaged_copy(tmp_path, damage)}", "world.scale=4000",
                             "years=1", f"hydra.run.dir={out}"], monkeypatch, capfd)
    assert message in err, err[-2000:]
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (out / "flows.parquet").exists()


def test_reduced_calibration_runs_on_the_launcher_and_is_reproducible(tmp_path, env):
    """The same calibration twice: its two trials on two local processes at once (the launcher's default), then
    one after the other in the launcher's own process (n_jobs=1: no workers to start, the world built once), with
    the same result: reproducible whatever the order the trials finish in and the number of processes."""
    results = []
    for name, launcher in (("a", []), ("b", ["hydra.launcher.n_jobs=1"])):
        out = tmp_path / f"{name}.yaml"
        p = subprocess.run([BIN / "hemsim-calibrate", "hydra.sweeper.n_trials=2", "world.scale=8000", "years=2",
                            "calibration.last_year=2014",
                            f"hydra.sweep.dir={tmp_path / name}", f"calibration.output={out}",
                            "hydra.launcher.progress=false", *launcher], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr[-2000:]
        results.append(yaml.safe_load(out.read_text()))
        report = (tmp_path / name / "calibration_report.md").read_text()
        searched = yaml.safe_load((ROOT / "conf" / "calibrate.yaml").read_text())["hydra"]["sweeper"]["params"]
        assert "near-optimal range" in report and report.count("| `behaviour.choice.") == len(searched)
        assert "At a bound of its search interval" in report
    assert results[0] == results[1] and "diaspora" in results[0]["choice"]


@pytest.mark.parametrize("override,message", [
    ("behaviour.choice.quality=interval(3.0,0.05)", "no value satisfies these bounds"),
    ("behaviour.choice.log_distance=interval(-1.0,0.5)", "allows the wrong sign; the literature agrees it is < 0")])
def test_calibration_refuses_bounds_it_cannot_satisfy_or_of_the_wrong_sign(tmp_path, override, message,
                                                                          monkeypatch, capfd):
    err = refused("hemsim-calibrate", [override, f"hydra.sweep.dir={tmp_path / 'sweep'}",
                                       f"calibration.output={tmp_path / 'fit.yaml'}"], monkeypatch, capfd)
    assert err.startswith(f"hemsim: error: {override}: {message}"), err[-2000:]
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "fit.yaml").exists() and not (tmp_path / "sweep").exists()


@pytest.fixture(scope="module")
def validation(tmp_path_factory, env) -> Path:
    """One `hemsim-validate` at the real world's scale: its report, and the runs the level tests read (the
    calibration years from 2013, and the default run from 2016: its one-year forecast)."""
    out = tmp_path_factory.mktemp("validation")
    p = subprocess.run([BIN / "hemsim-validate", "--out", str(out), "--forecast-years", "1", "--seeds", "2"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    return out


def test_validation_scores_held_out_years_and_the_in_sample_fit(validation):
    tmp_path = validation
    v = json.loads((tmp_path / "validation.json").read_text())
    # out of sample (the default): calibrated on 2013-2014, run from the data of 2014, scored on 2015-2016, beside
    # persistence, dynamic gravity, trends, gravity and size-only (whichever wins), with tests and intervals
    held = v["out_of_sample"]
    assert held["base_year"] == 2014 and held["years"] == [2015, 2016] and held["origins"] >= 30
    t = held["tvd"]
    assert set(t) == {"hemsim", "hemsim_agents", "persistence", "dynamic_gravity", "trend", "gravity_fe_ppml",
                      "size_only"}
    assert held["beats_gravity_and_size_only"] and t["hemsim"] < t["gravity_fe_ppml"]
    assert 0 < t["persistence"] < 0.2
    assert held["beats_persistence"] == (t["hemsim"] < t["persistence"])
    assert held["beats_dynamic_gravity"] == (t["hemsim"] < t["dynamic_gravity"])
    assert set(held["diebold_mariano"]) == {"persistence", "dynamic_gravity", "trend", "gravity_fe_ppml", "size_only"}
    assert 0 <= held["coverage_50"] <= held["coverage_90"] <= 1
    assert set(held["horizons"]["2013"]["hemsim"]) == {"1", "2", "3"}        # horizons in years (JSON keys)
    # the expected corridor stocks average out the agents' dice: a forecast closer to the data than the agents'
    assert t["hemsim"] < t["hemsim_agents"]
    assert {r["year"] for r in held["levels"]["hemsim"]} == {2015, 2016}
    # destination totals held out: every destination UIS reports is scored with the model's own total (not only
    # the OECD-reporting ones, which left the others at zero: a median error of 13,000% in 2016)
    for row in held["levels"]["hemsim"]:
        assert row["median_abs_error"] <= 0.3 and row["off_by_2x"] <= 0.1 * row["destinations"], row
    report = (tmp_path / "report.md").read_text()
    assert report.index("## Out of sample") < report.index("## In sample") and (tmp_path / "out_of_sample.png").exists()
    assert re.search(r"\|\s*CHN\s*\|\s*China\s*\|", report)         # countries come with names
    assert (tmp_path / "held_out_from_2014_seed_1" / "flows.parquet").exists()
    # in sample, labelled as such: the calibrated world over 2013-2016
    v = v["in_sample"]
    tvd = v["tvd"]
    # the report's target (0.25) is missed since the responses to policy fitted to the backtests are in place
    # (0.318, against 0.251 with the stock calibration's own weak responses; README "Fitted values"): the report
    # says so, and the regression bound is the next hundredth; still better than fixed-effects gravity
    assert v["tvd_ok"] == (tvd["simulated"] <= v["tvd_target"] and tvd["simulated"] < tvd["gravity_fe_ppml"])
    assert tvd["simulated"] <= 0.33 and tvd["simulated"] < tvd["gravity_fe_ppml"] < tvd["size_only"]
    # the simulated flows' gravity: each coefficient with the observed sign and within 30% of it (the calibration
    # matches them as a moment: validation.gravity_gap)
    g = {row["term"]: row for row in v["gravity"]}
    for term in ("log_distance", "common_language", "colonial_tie"):
        assert 0.7 <= g[term]["simulated"] / g[term]["observed"] <= 1.3, (term, g[term])
    later = v["tvd_after_first_year"]
    assert set(later) == {"simulated", "size_only", "gravity_fe_ppml", "persistence"} and 0 < later["persistence"] < 0.2
    assert v["beats_persistence"] == (later["simulated"] < later["persistence"])
    assert report.count("|") > 50
    assert (tmp_path / "forecast_2016_2016" / "flows.parquet").exists()
    # beyond stocks (figures the calibration never saw): foreign-born researcher shares rank the 16 GlobSci
    # countries much as the survey does; smaller research systems co-author abroad more (the size effect,
    # as in OpenAlex); the world's internationally co-authored share near the published fifth; foreign
    # doctorates from China and India stay in the USA at least as often as all foreign doctorates
    b = v["beyond_stocks"]
    assert b["foreign_born_spearman"] >= 0.5 and b["coauthorship_size_spearman"] <= -0.3
    assert b["coauthorship_spearman"] > 0 and 0.15 <= b["world_intl_coauthored_share"] <= 0.30
    stay = b["us_doctoral_stay"]
    assert min(stay["CHN"], stay["IND"]) >= b["us_doctoral_stay_all"] - 0.05
    # five years on (a year's stayers less five years of later returns): US doctorates within 0.60-0.80 of the
    # published 0.70 (Finn & Pennington 2018), fewer than at graduation; graduates below the doctorate kept in
    # 20-45% of cases (OECD IMO: 20-40%; stay_constant was set to this, docs/ODD.md 7.8)
    assert 0.60 <= b["us_doctoral_stay_all"] < b["us_doctoral_stay_at_graduation"]
    assert b["us_doctoral_stay_all"] <= 0.80
    assert 0.20 <= b["intl_graduate_retention_five_years"] <= 0.45
    assert b["intl_graduate_retention_five_years"] < b["intl_graduate_retention_at_graduation"]
    # the paired experiment (an enrolment shock abroad at the same seed): US patents respond to foreign graduate
    # students as Chellaraj et al. estimate (0.33-0.68; graduate_students was set to this, docs/ODD.md 7.17)
    # and US papers to foreign doctoral students within the range built from Stuen et al. (0.10-0.60: 7.19)
    r = b["research_response"]
    assert r["log_change"]["foreign_graduate_students"] > 0.05 and r["log_change"]["foreign_doctoral_students"] > 0.05
    assert 0.33 <= b["us_patent_elasticity"] <= 0.68 and 0.10 <= b["us_paper_elasticity"] <= 0.60
    assert "Research and innovation respond to foreign graduate students" in report
    assert (tmp_path / "response_shocked_2016_2023" / "flows.parquet").exists()


# ---- levels (sim/inference/levels.py) ------------------------------------------------------------------
def _levels(run: Path, start: int, years: int):
    """Level errors of a run of world=oecd from `start` (its first `years` years)."""
    from sim.model import build_world
    from sim.params import config_from
    from sim.inference import levels
    world = build_world(config_from({"world": "oecd", "world.data_dir": str(DATA), "start_year": start,
                                     "progress": False}))
    t = levels.targets(world, DATA, list(range(start, start + years)))
    inbound, outbound = levels.simulated(pd.read_parquet(run / "flows.parquet"), world, t)
    return levels.errors(inbound, t), outbound, t


def test_a_uis_total_far_from_its_year_is_no_level_target():
    """Yemen's last UIS total is 2011's: a target for 2013 (two years away), none after, and listed; the UAE's
    2012 total still stands for 2014 but not for 2016."""
    from sim.model import build_world
    from sim.params import config_from
    from sim.inference import levels
    world = build_world(config_from({"world": "oecd", "world.data_dir": str(DATA), "start_year": 2013}))
    t = levels.targets(world, DATA, [2013, 2014, 2015, 2016])
    yem, are = world.codes.index("YEM"), world.codes.index("ARE")
    assert np.isfinite(t.inbound[0, yem]) and np.isnan(t.inbound[1:, yem]).all()
    assert np.isfinite(t.inbound[1, are]) and np.isnan(t.inbound[3, are])
    assert {("YEM", 2014), ("YEM", 2016), ("ARE", 2016)} <= set(t.stale) and ("YEM", 2013) not in t.stale


@pytest.mark.parametrize("run,start,years", [("fit_2013_2016", 2013, 4), ("forecast_2016_2016", 2016, 1)])
def test_real_world_holds_the_observed_levels_in_every_calibration_year(validation, run, start, years):
    """Destinations with >= 10,000 international students (UIS): median error <= 15%, none off by more than
    2x, their total within 10%, in each year, from the calibration run and from the default run (world=oecd
    from 2016, seed 0: the validation's one-year forecast); and the origins' students in the reporting
    destinations (OECD/UIS) likewise."""
    e, outbound, t = _levels(validation / run, start, years)
    assert (e.median_abs_error <= 0.15).all() and (e.off_by_2x == 0).all(), e.to_string()
    assert ((e.total_ratio - 1).abs() <= 0.10).all(), e.to_string()
    big = t.outbound >= 10_000
    ratio = np.maximum(outbound[big], 1.0) / t.outbound[big]
    assert np.expm1(np.median(np.abs(np.log(ratio)))) <= 0.15 and (np.abs(np.log(ratio)) <= np.log(2)).mean() >= 0.95


def test_levels_fit_writes_constants_that_world_oecd_reads(tmp_path, env, monkeypatch, capfd):
    out = tmp_path / "levels.yaml"
    p = subprocess.run([BIN / "hemsim-levels", "--iterations", "4", "--out", str(out), "--report-dir",
                        str(tmp_path / "report"), "world.scale=2000"], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    fitted = yaml.safe_load(out.read_text())
    dest, orig = fitted["world"]["destination_constants"], fitted["world"]["origin_constants"]
    assert len(dest) == len(orig) > 180 and all(np.isfinite(list(dest.values())))
    fit = pd.read_csv(tmp_path / "report" / "levels_fit.csv")
    assert set(fit.iteration) == {0, 1, 2, 3, 4} and set(fit.start) == {2013, 2016}
    # the fit makes progress from the constants at zero; the best iterate is the one written (fewest destinations
    # off by 2x in the worst year, then the smallest worst-year median error: early on, with the constants far
    # from the data, the count can rise while the error falls), its trend with it
    worst = fit.groupby("iteration").agg(off=("off_by_2x", "max"), error=("median_abs_error", "max"))
    assert worst.error[4] < 0.8 * worst.error[0]
    kept = fit[fit.kept].iteration.unique()
    assert list(kept) == [min(worst.index, key=lambda i: (worst.off[i], worst.error[i]))]
    assert (fitted["behaviour"]["choice"]["abroad_trend"] != 0) == (kept[0] != 0)
    err = refused("hemsim-levels", ["--iterations", "0"], monkeypatch, capfd)
    assert "--iterations=0" in err and "Traceback" not in err


def test_calibrated_behaviour_has_the_signs_the_literature_agrees_on():
    """quality, common language, colonial ties > 0; distance < 0; cost < 0 in utility (the cost parameter
    enters as -cost); the network elasticity in the range estimated for student flows. The calibration's
    bounds enforce it (conf/calibrate.yaml), and the composed real world (the stock calibration with the
    backtests' responses) has it."""
    from sim.params import config_from
    choice = config_from({"world": "oecd"}).behaviour.choice
    assert min(choice.quality, choice.common_language, choice.colonial_tie, choice.cost) > 0
    assert choice.log_distance <= -0.2 and 0.2 <= choice.diaspora <= 0.7
    bounds = yaml.safe_load((ROOT / "conf" / "calibrate.yaml").read_text())["hydra"]["sweeper"]["params"]
    lo_hi = {k.split(".")[-1]: [float(x) for x in re.findall(r"-?[\d.]+", v)] for k, v in bounds.items()}
    assert all(lo_hi[k][0] > 0 for k in ("quality", "common_language", "colonial_tie"))
    assert lo_hi["log_distance"][1] < 0


def test_responses_fitted_to_the_backtests_lie_within_the_literature_bounds():
    """The backtests' fit and each held-out fit (conf/backtest/fit/responses.yaml) inside the bounds of the
    sweep that made them (conf/backtest_fit.yaml), and those bounds carry the literature's signs: fees,
    visas and the nest deter or weigh positively, post-study terms do not deter."""
    bounds = yaml.safe_load((ROOT / "conf" / "backtest_fit.yaml").read_text())["hydra"]["sweeper"]["params"]
    lo_hi = {k: [float(x) for x in re.findall(r"-?[\d.]+", v)] for k, v in bounds.items()}
    short = {k.split(".")[-1]: v for k, v in lo_hi.items()}
    assert all(short[k][0] > 0 for k in ("cost", "visa", "nest")) and short["nest"][1] <= 1
    assert all(short[k][0] >= 0 for k in ("post_study_work", "post_study_income_gap", "visa_talent"))
    record = yaml.safe_load((ROOT / "conf" / "backtest" / "fit" / "responses.yaml").read_text())
    fits = [record["fit"], record["until_2014"], *record["leave_one_out"].values()]
    assert len(record["leave_one_out"]) == len(list((ROOT / "conf" / "backtest").glob("*.yaml")))
    for fit in fits:
        assert set(fit) == set(lo_hi)
        assert all(lo_hi[k][0] <= v <= lo_hi[k][1] for k, v in fit.items()), fit


@pytest.mark.parametrize("world,calibrated,responses", [
    ("oecd", "oecd_calibrated.yaml", "oecd_responses.yaml"),
    ("oecd_holdout", "oecd_holdout_calibrated.yaml", "oecd_holdout_responses.yaml")])
def test_each_choice_coefficient_comes_from_one_fit_and_the_real_world_runs_at_it(world, calibrated, responses):
    """The stock calibration (conf/calibrate.yaml: the gravity terms and free movement, which only the European
    cross-section of stocks identifies) and the backtests' fit (conf/backtest_fit.yaml: the other responses
    to policy) search disjoint coefficients, each writes its own file, and the composed world holds each
    file's values: a coefficient left behind in the other file would silently override the fit."""
    from sim.params import config_from
    searched = {name: {k.split(".")[-1] for k in yaml.safe_load((ROOT / "conf" / name).read_text())
                       ["hydra"]["sweeper"]["params"]} for name in ("calibrate.yaml", "backtest_fit.yaml")}
    assert "free_movement" in searched["calibrate.yaml"] and "cost" in searched["backtest_fit.yaml"]
    assert not searched["calibrate.yaml"] & searched["backtest_fit.yaml"]
    files = {name: yaml.safe_load((ROOT / "conf" / "behaviour" / f).read_text())["choice"]
             for name, f in (("calibrate.yaml", calibrated), ("backtest_fit.yaml", responses))}
    choice = config_from({"world": world}).behaviour.choice
    for name, values in files.items():
        assert set(values) == searched[name], (name, sorted(values))
        assert all(getattr(choice, k) == v for k, v in values.items()), name


def test_constants_of_unknown_countries_or_not_finite_are_refused():
    from sim.config import Config, validate
    from sim.errors import ConfigError
    from sim.model import HemsimModel
    cfg = Config()
    cfg.years, cfg.world.students = 1, 5_000
    cfg.world.destination_constants = {"ZZZ": 1.0}
    with pytest.raises(ConfigError, match=r"^world.destination_constants.ZZZ: not a country of this world"):
        HemsimModel(validate(cfg))
    cfg.world.destination_constants, cfg.world.origin_constants = {}, {"C01": float("nan")}
    with pytest.raises(ConfigError, match=r"^world.origin_constants.C01=nan: must be a finite number"):
        validate(cfg)

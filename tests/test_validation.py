"""The validation's predictors and scores (sim/inference/validation.py) on small frames, and the held-out
world's configuration: nothing fitted on the scored years may show through it."""

import numpy as np
import pytest
import pandas as pd
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from sim.inference import validation as V

ORIGINS, DESTINATIONS = ["AAA", "BBB"], ["XXX", "YYY", "ZZZ"]


def _stocks(values: dict[int, np.ndarray]) -> pd.DataFrame:
    """{year: (2, 3) students} -> year, origin, destination, students (origins sending > MIN_ABROAD)."""
    return pd.DataFrame([{"year": y, "origin": o, "destination": d, "students": float(m[i, j])}
                         for y, m in values.items() for i, o in enumerate(ORIGINS)
                         for j, d in enumerate(DESTINATIONS)])


BASE = np.array([[30_000.0, 10_000.0, 5_000.0], [8_000.0, 16_000.0, 40_000.0]])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1e5, allow_nan=False), min_size=6, max_size=6),
       st.lists(st.floats(0.0, 1e5, allow_nan=False), min_size=6, max_size=6))
def test_tvd_is_a_distance_between_shares(a, b):
    obs = _stocks({2015: BASE})
    pred = _stocks({2015: np.array(a).reshape(2, 3)})
    tvd = V.tvd_by_origin(obs, pred).tvd
    assert ((tvd >= -1e-12) & (tvd <= 1 + 1e-12)).all()
    assert np.allclose(V.tvd_by_origin(obs, _stocks({2015: BASE * 7.0})).tvd, 0.0)     # shares, not levels
    assert np.allclose(V.tvd_by_origin(obs, pred.assign(students=pred.students * 3)).tvd, tvd)


def test_persistence_carries_the_base_year_and_trends_continue_each_corridors_growth():
    later = BASE * np.array([[1.0, 1.5, 2.0], [1.2, 1.0, 0.7]])
    obs = _stocks({2013: BASE, 2014: later})
    carried = V.carried_forward(obs, 2014, [2015, 2016])
    assert sorted(carried.year.unique()) == [2015, 2016] and np.allclose(carried.students, np.tile(later.ravel(), 2))
    t = V.trend(obs, 2014, [2015, 2016], pseudo=0.0).set_index(["year", "origin", "destination"]).students
    growth = (later / BASE).ravel()
    assert np.allclose(t.loc[2015].to_numpy(), later.ravel() * growth)
    assert np.allclose(t.loc[2016].to_numpy(), later.ravel() * growth ** 2)


def _geography(origins, destinations) -> pd.DataFrame:
    r = np.random.default_rng(0)
    rows = [{"origin": o, "destination": d, "distw_km": float(r.uniform(500, 15_000)), "dist_km": np.nan,
             "comlang_off": int(r.random() < 0.3), "colony": int(r.random() < 0.1)}
            for o in origins for d in destinations]
    return pd.DataFrame(rows)


def test_dynamic_gravity_recovers_a_process_it_can_represent():
    """Stocks that follow exp(0.8 ln(1 + S_{t-1}) - 0.3 ln distance + origin and destination effects): fitted on
    three years, its forecast of the fourth is that process's."""
    r = np.random.default_rng(1)
    origins, dests = [f"O{i:02d}" for i in range(12)], [f"D{j}" for j in range(6)]
    geo = _geography(origins, dests)
    dist = geo.set_index(["origin", "destination"]).distw_km
    a, b = dict(zip(origins, r.normal(2.0, 0.5, 12))), dict(zip(dests, r.normal(0.0, 0.5, 6)))

    def step(s):
        return {(o, d): float(np.exp(0.8 * np.log1p(s[o, d]) - 0.3 * np.log(dist[o, d]) + a[o] + b[d]))
                for o in origins for d in dests}
    s = {(o, d): float(r.uniform(100, 5_000)) for o in origins for d in dests}
    frames = []
    for y in range(2012, 2016):
        frames.append(pd.DataFrame([{"year": y, "origin": o, "destination": d, "students": v}
                                    for (o, d), v in s.items()]))
        s = step(s)
    seen = pd.concat(frames[:3], ignore_index=True)
    fc = V.dynamic_gravity(seen, geo, 2014, [2015]).set_index(["origin", "destination"]).students
    truth = frames[3].set_index(["origin", "destination"]).students
    assert np.allclose(fc.reindex(truth.index), truth, rtol=1e-4)


def test_diebold_mariano_tells_a_better_forecast_from_noise():
    r = np.random.default_rng(2)
    loss = pd.DataFrame({"origin": np.repeat(np.arange(60), 2), "year": np.tile([2015, 2016], 60)})
    loss["ref"] = r.uniform(0.05, 0.2, len(loss))
    loss["better"] = loss.ref * 0.8
    loss["same"] = loss.ref + r.normal(0, 0.01, len(loss))
    good = V.diebold_mariano(loss, "better", "ref")
    assert good["statistic"] < -3 and good["p_value"] < 0.01 and good["origins"] == 60
    assert V.diebold_mariano(loss, "same", "ref")["p_value"] > 0.01


@given(st.integers(0, 2 ** 31))
@settings(max_examples=10, deadline=None)
def test_conformal_intervals_cover_as_they_claim_on_synthetic_errors(seed):
    """Errors of one law in the calibration year and the held-out years (spread growing like a random walk's
    with the horizon): the intervals set from the calibration year cover their share of held-out values."""
    r = np.random.default_rng(seed)

    def errors(year, spread, n):
        return pd.DataFrame({"year": year, "what": np.repeat(["corridor", "destination"], n // 2),
                             "error": np.r_[r.normal(0, spread, n // 2), r.normal(0, spread / 3, n // 2)]})
    calibration = errors(2014, 0.2, 4_000)
    held = pd.concat([errors(2015, 0.2, 4_000), errors(2016, 0.2 * np.sqrt(2), 4_000)], ignore_index=True)
    c = V.interval_coverage(calibration, held, {2015: 1, 2016: 2})
    assert abs(c["coverage_90"] - 0.9) < 0.03 and abs(c["coverage_50"] - 0.5) < 0.04
    narrow = V.interval_coverage(calibration.assign(error=calibration.error / 3), held, {2015: 1, 2016: 2})
    assert narrow["coverage_90"] < 0.6             # intervals from too small errors cover too little


@settings(max_examples=30, deadline=None)
@given(st.floats(-0.6, 0.9), st.integers(0, 2 ** 31))
def test_growth_persistence_recovers_the_persistence_of_growth_and_ignores_series_breaks(rho, seed):
    """Log growth g_t = 0.05 + rho (g_{t-1} - 0.05) + noise in 40 destinations over 17 years, with a jump
    of a factor of ten in some series (a change of definition): the slope comes back within sampling error,
    the jumps left out; the years after `last_year` are not read."""
    r = np.random.default_rng(seed)
    rows = []
    for d in range(40):
        g, level = 0.05, 10.0
        for year in range(2000, 2017):
            g = 0.05 + rho * (g - 0.05) + r.normal(0, 0.08)
            level += g + (np.log(10.0) if (d % 7 == 0 and year == 2008) else 0.0)
            rows.append({"country": f"C{d:02d}", "year": year, "inbound": float(np.exp(level))})
    uis = pd.DataFrame(rows)
    slope, pairs = V.growth_persistence(uis, 2014)
    assert abs(slope - rho) < 0.15 and pairs < 40 * 13
    # later years cannot change the estimate
    assert V.growth_persistence(uis.assign(inbound=np.where(uis.year > 2014, 1.0, uis.inbound)), 2014)[0] == slope


def test_the_real_worlds_entrant_momentum_is_the_persistence_of_growth_up_to_its_base_year():
    import os
    from sim.world import loaders
    uis = loaders.load_uis_inbound(os.environ.get("HEMSIM_DATA_DIR", ROOT.parent / "shared" / "data")).frame
    for world, base_year in (("oecd", 2015), ("oecd_holdout", 2014)):
        text = (ROOT / f"conf/world/{world}.yaml").read_text()
        value = yaml.safe_load(text)["world"]["entrant_momentum"]
        assert value == round(V.growth_persistence(uis, base_year)[0], 2), world


def test_level_errors_count_destinations_off_by_more_than_twice():
    obs = pd.DataFrame({"year": 2015, "country": ["XXX", "YYY", "ZZZ", "SML"],
                        "inbound": [100_000.0, 50_000.0, 20_000.0, 500.0]})
    pred = obs.assign(inbound=[110_000.0, 20_000.0, 20_000.0, 1e6])
    e = V.level_errors(obs, pred).iloc[0]
    assert e.destinations == 3 and e.off_by_2x == 1 and np.isclose(e.median_abs_error, 0.1)


def test_the_held_out_world_carries_only_what_was_fitted_on_its_years():
    """world=oecd_holdout layers its own behaviour and constants over world=oecd: every key of the
    full calibration must be replaced, or a value fitted on 2015-2016 would show through."""
    from sim.params import config_from
    full = yaml.safe_load((ROOT / "conf/world/oecd_levels.yaml").read_text())
    held = yaml.safe_load((ROOT / "conf/world/oecd_holdout_levels.yaml").read_text())
    behaviour = yaml.safe_load((ROOT / "conf/behaviour/oecd_holdout_calibrated.yaml").read_text())["choice"]
    for key in ("destination_constants", "origin_constants"):
        assert set(held["world"][key]) == set(full["world"][key])
    cfg = config_from({"world": "oecd_holdout"})
    assert cfg.world.destination_constants == held["world"]["destination_constants"]
    assert cfg.world.origin_constants == held["world"]["origin_constants"]
    assert cfg.behaviour.choice.abroad_trend == held["behaviour"]["choice"]["abroad_trend"]
    assert {k: getattr(cfg.behaviour.choice, k) for k in behaviour} == behaviour
    full_behaviour = yaml.safe_load((ROOT / "conf/behaviour/oecd_calibrated.yaml").read_text())["choice"]
    assert set(behaviour) == set(full_behaviour)
    # the responses to policy: the backtests' fit to the outcomes observed up to 2014, every key of world=oecd's
    responses = yaml.safe_load((ROOT / "conf/behaviour/oecd_holdout_responses.yaml").read_text())["choice"]
    full_responses = yaml.safe_load((ROOT / "conf/behaviour/oecd_responses.yaml").read_text())["choice"]
    assert set(responses) == set(full_responses) and {k: getattr(cfg.behaviour.choice, k) for k in responses} == responses
    record = yaml.safe_load((ROOT / "conf/backtest/fit/responses.yaml").read_text())
    assert responses == {k.split(".")[-1]: round(v, 4) for k, v in record["until_2014"].items()}
    assert full_responses == {k.split(".")[-1]: round(v, 4) for k, v in record["fit"].items()}
    # both were fitted on 2013-2014 only (their headers are written by the fitting commands)
    for path in ("conf/world/oecd_holdout_levels.yaml", "conf/behaviour/oecd_holdout_calibrated.yaml"):
        header = (ROOT / path).read_text().splitlines()[:3]
        assert any("2013-2014" in line for line in header), path


def test_world_oecd_runs_at_the_responses_fitted_to_the_backtests_not_the_stock_calibrations():
    """The responses to policy of the composed real world are the backtests' fit, whatever the stock
    calibration's file holds (it is composed first)."""
    from sim.params import config_from
    record = yaml.safe_load((ROOT / "conf/backtest/fit/responses.yaml").read_text())["fit"]
    choice = config_from({"world": "oecd"}).behaviour.choice
    assert {k: getattr(choice, k.split(".")[-1]) for k in record} == {k: round(v, 4) for k, v in record.items()}


def test_reports_name_iso3_countries_and_leave_other_codes_alone():
    from sim.analysis.countries import legend, name, with_names
    assert (name("KOR"), name("USA"), name("KSV"), name("C07"), name("WORLD")) == (
        "South Korea", "United States", "Kosovo", "C07", "WORLD")
    t = with_names(pd.DataFrame({"origin": ["IND", "C01"], "destination": ["GBR", "C02"], "students": [1, 2]}),
                   ["origin", "destination"])
    assert list(t.columns) == ["origin", "origin_name", "destination", "destination_name", "students"]
    assert t.origin_name.tolist() == ["India", "C01"] and t.destination_name.tolist() == ["United Kingdom", "C02"]
    assert legend(["DEU", "C01", "WORLD"]).to_dict("records") == [{"code": "DEU", "name": "Germany"}]


def test_ppml_recovers_the_gravity_coefficients_of_data_drawn_from_a_known_model():
    """Poisson counts from a gravity model with origin, destination and year effects (distance -1.2,
    language 1.4, colonial tie 0.8): the estimates within two standard errors, the errors small."""
    rng = np.random.default_rng(5)
    o, d, y = (a.ravel() for a in np.meshgrid(np.arange(40), np.arange(12), np.arange(3), indexing="ij"))
    frame = pd.DataFrame({"origin": [f"O{i:02d}" for i in o], "destination": [f"D{j:02d}" for j in d], "year": 2013 + y,
                          "log_distance": rng.normal(8, 1, len(o)), "common_language": rng.integers(0, 2, len(o)),
                          "colonial_tie": rng.integers(0, 2, len(o))})
    truth = pd.Series({"log_distance": -1.2, "common_language": 1.4, "colonial_tie": 0.8})
    eta = 12 + frame[V.GRAVITY_TERMS] @ truth + rng.normal(0, 1, 40)[o] + rng.normal(0, 1, 12)[d] + 0.1 * y
    frame["students"] = rng.poisson(np.exp(eta)).astype(float)
    params, se, fitted = V.ppml(frame)
    assert (abs(params - truth) < 2 * se + 1e-3).all(), (params, se)
    assert (se < 0.05).all() and len(fitted) == len(frame)


def _gravity_world(colonial: float, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Poisson stocks (their draws from `seed`) of a known gravity model (distance -1.2, language 1.4, colonial
    ties `colonial`) on one geography table (the CEPII columns `with_geography` reads)."""
    rng = np.random.default_rng(5)
    o, d = (a.ravel() for a in np.meshgrid(np.arange(40), np.arange(12), indexing="ij"))
    geo = pd.DataFrame({"origin": [f"O{i:02d}" for i in o], "destination": [f"D{j:02d}" for j in d],
                        "distw_km": np.exp(rng.normal(8, 1, len(o))), "dist_km": np.nan,
                        "comlang_off": rng.integers(0, 2, len(o)), "colony": rng.integers(0, 2, len(o))})
    g = V.with_geography(geo[["origin", "destination"]], geo)
    origin_effect, draws = rng.normal(0, 1, 40)[o], np.random.default_rng(seed)
    stocks = []
    for year in (2013, 2014):
        eta = (20 - 1.2 * g.log_distance + 1.4 * g.common_language + colonial * g.colonial_tie + origin_effect
               + 0.1 * (year - 2013))
        stocks.append(g[["origin", "destination"]].assign(year=year, students=draws.poisson(np.exp(eta)).astype(float)))
    return pd.concat(stocks, ignore_index=True), geo


def test_the_gravity_moment_is_zero_on_the_data_and_grows_with_a_wrong_colonial_effect():
    """Stocks drawn from the observed model score a gap near 0; stocks whose colonial-tie effect is 1.6x the
    observed score about (0.6^2) / 3 (one of three coefficients 60% off), and the objective adds weight x gap."""
    observed, geo = _gravity_world(0.8)
    target = V.gravity_target(observed, geo, weight=0.5)
    same, _ = _gravity_world(0.8, seed=9)
    assert V.gravity_gap(target, observed, same) < 0.003
    wrong, _ = _gravity_world(1.28, seed=9)
    gap = V.gravity_gap(target, observed, wrong)
    assert 0.09 < gap < 0.15, gap
    plain, scored = V.objective(observed, wrong, 0.1), V.objective(observed, wrong, 0.1, target)
    assert scored.gravity == gap and scored.value == pytest.approx(plain.value + 0.5 * gap)
    assert scored.tvd == plain.tvd and plain.gravity == 0.0


def _metrics(years, **series) -> pd.DataFrame:
    """Tidy metrics of one country (USA) from {metric: value per year}."""
    return pd.DataFrame([{"year": y, "country": "USA", "metric": k, "value": float(v[i])}
                         for k, v in series.items() for i, y in enumerate(years)])


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 0.5), st.floats(0.05, 0.5), st.floats(0.0, 1.5), st.floats(0.0, 1.5))
def test_research_response_recovers_the_elasticities_of_a_known_response(grad_rise, doc_rise, e_patents, e_papers):
    """A shocked run whose patents and papers move as known powers of the foreign students in the window's
    years gives those powers back; the years before the window (here wild) do not count."""
    from sim.inference.research_response import elasticities
    years = list(range(2016, 2024))
    ones = np.ones(len(years))
    ramp = np.where(np.array(years) >= 2020, 1.0, 0.0)       # the shock has worked through from 2020
    grad, doc = 1 + grad_rise * ramp, 1 + doc_rise * ramp
    base = _metrics(years, international_graduate_students=5e5 * ones, doctoral_students=4e5 * ones,
                    doctoral_international_share=0.3 * ones, papers=1e6 * ones, patent_applications=2e5 * ones)
    early = np.where(np.array(years) < 2020, 7.0, 1.0)       # noise before the window
    shocked = _metrics(years, international_graduate_students=5e5 * grad * early, doctoral_students=4e5 * doc,
                       doctoral_international_share=0.3 * ones, papers=1e6 * doc ** e_papers * early,
                       patent_applications=2e5 * grad ** e_patents)
    r = elasticities(base, shocked, "USA", window=4)
    assert r["years"] == [2020, 2021, 2022, 2023]
    assert abs(r["patent_elasticity"] - e_patents) < 1e-9 and abs(r["paper_elasticity"] - e_papers) < 1e-9
    # a shock that did not reach the country has no elasticity, rather than a division by zero
    still = elasticities(base, base, "USA", window=4)
    assert np.isnan(still["patent_elasticity"]) and np.isnan(still["paper_elasticity"])

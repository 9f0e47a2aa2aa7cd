"""Fit of simulated student stocks to the observed ones, next to simple reference predictors.

Observed: the OECD bilateral stocks of international students, rescaled to UIS totals (see the
loaders), for the destinations that report them. Simulated: `flows.parquet` rows of kind
`enrolled` (the stock of degree-mobile students enrolled in a year). The fit is the per-origin
total-variation distance (TVD) between destination shares, averaged over origins with more than
20,000 students abroad (in the reporting destinations), as in migration-model validation
(Suleimenova et al. 2017 use the averaged relative difference for Flee). Reference predictors:
a size-only model (shares proportional to destinations' totals), a gravity model with origin
and destination fixed effects estimated by PPML (Santos Silva & Tenreyro 2006), and persistence:
each year predicted by the year before's observed stocks (the forecaster's bar: shares move slowly).

Out of sample (`out_of_sample`): a world calibrated on the years up to a base year (world=oecd_holdout:
2013-2014) runs from the data of the base year (world.start_from=observed: its students are the observed
ones and corridor constants keep their shares, the "exact hat algebra" of trade models, Dekle, Eaton &
Kortum 2008), and the later years are scored against predictors that know the same years: persistence
(the base year's observed stocks carried forward), a dynamic gravity model (PPML on the lagged stock),
corridor trends, size-only and static gravity fitted up to the base year and carried forward; Diebold-
Mariano tests compare the simulation with each; intervals are set from the forecast's own errors in the
last calibration year (split conformal) and their coverage of the held-out values is reported.

The gravity fits go through pyfixest or statsmodels and LAPACK/BLAS, whose kernels OpenBLAS picks by CPU:
their estimates can differ in the last bits between machines (README, "Reproducibility"); the scores of the
simulation and of the other predictors are computed without them, and the gravity moment of the calibration
objective is rounded well above those bits (`gravity_gap`).
"""

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyfixest as pf
import statsmodels.api as sm

from sim import fpmath

MIN_ABROAD = 20_000
GRAVITY_TERMS = ["log_distance", "common_language", "colonial_tie"]
GRAVITY_FORMULA = f"students ~ {' + '.join(GRAVITY_TERMS)} | origin + destination + year"
GAP_DIGITS = 6        # the gravity moment's decimals: far above the last bits BLAS may change between CPUs


def _matrix(frame: pd.DataFrame, value: str = "students") -> pd.DataFrame:
    return frame.pivot_table(index="origin", columns="destination", values=value, aggfunc="sum", fill_value=0.0)


def tvd_by_origin(observed: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Per year and origin (with > MIN_ABROAD observed abroad): TVD between destination shares.

    Both frames: year, origin, destination, students. Destinations are those observed each year.
    """
    rows = []
    for year, obs in observed.groupby("year"):
        o = _matrix(obs)
        p = _matrix(predicted[predicted.year == year]).reindex(index=o.index, columns=o.columns, fill_value=0.0)
        big = o.sum(axis=1) > MIN_ABROAD
        po = o[big].div(o[big].sum(axis=1), axis=0)
        total = p[big].sum(axis=1)
        pp = p[big].div(total.where(total > 0), axis=0).fillna(0.0)
        tvd = 0.5 * (po - pp).abs().sum(axis=1)
        tvd[total <= 0] = 1.0  # nothing predicted: as far as shares can be
        rows.append(pd.DataFrame({"year": year, "origin": tvd.index, "tvd": tvd.to_numpy(),
                                  "abroad": o[big].sum(axis=1).to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def persistence(observed: pd.DataFrame) -> pd.DataFrame:
    """One-year-ahead persistence: each year's prediction is the previous observed year's stocks (the
    first year has none)."""
    years = sorted(observed.year.unique())
    following = dict(zip(years[:-1], years[1:]))
    prev = observed[observed.year.isin(following)].copy()
    prev["year"] = prev.year.map(following)
    return prev


def size_only(observed: pd.DataFrame) -> pd.DataFrame:
    """Shares proportional to each destination's total (its own nationals left out)."""
    out = []
    for year, obs in observed.groupby("year"):
        o = _matrix(obs)
        total = o.sum(axis=0)
        pred = pd.DataFrame(np.tile(total.to_numpy(), (len(o), 1)), index=o.index, columns=o.columns)
        for c in set(o.index) & set(o.columns):
            pred.loc[c, c] = 0.0
        pred = pred.div(pred.sum(axis=1), axis=0).mul(o.sum(axis=1), axis=0)
        out.append(pred.stack().rename("students").reset_index().assign(year=year))
    return pd.concat(out, ignore_index=True)


def with_geography(frame: pd.DataFrame, geography: pd.DataFrame) -> pd.DataFrame:
    """Add log distance, common language and colonial tie (geography: origin, destination, dist_km, ...)."""
    g = geography[["origin", "destination", "distw_km", "dist_km", "comlang_off", "colony"]].copy()
    g["log_distance"] = fpmath.log(g.distw_km.fillna(g.dist_km).to_numpy(float))
    g = g.rename(columns={"comlang_off": "common_language", "colony": "colonial_tie"})
    g["colonial_tie"] = np.maximum(g.colonial_tie, g.merge(
        g[["origin", "destination", "colonial_tie"]].rename(columns={"origin": "destination", "destination": "origin"}),
        on=["origin", "destination"], how="left", suffixes=("", "_r")).colonial_tie_r.fillna(0).to_numpy())
    return frame.merge(g[["origin", "destination", *GRAVITY_TERMS]], on=["origin", "destination"], how="inner")


def _identified(f: pd.DataFrame) -> np.ndarray:
    """Rows whose origin, destination and year all have students, found by iterating (dropping a group can empty
    another): a group with none has a fixed effect of minus infinity, and its rows a fitted value of 0."""
    keep = np.ones(len(f), bool)
    while True:
        now = keep.copy()
        for effect in ("origin", "destination", "year"):
            now &= f.students.where(keep, 0.0).groupby(f[effect]).transform("sum").to_numpy() > 0
        if (now == keep).all():
            return keep
        keep = now


def ppml(frame: pd.DataFrame):
    """PPML gravity with origin, destination and year fixed effects (Santos Silva & Tenreyro 2006).

    Estimated by pyfixest's fepois (the fixed effects projected out, as R's fixest does: 0.2-1.5 s at ~30,000
    corridor-years, where a dense GLM of ~250 dummies took 5-30 s); standard errors clustered by country
    pair (CRV1). Rows of an origin, destination or year with no students are fitted as 0 (`_identified`).
    Returns (coefficients, standard errors, fitted frame)."""
    f = frame[frame.origin != frame.destination].dropna(subset=GRAVITY_TERMS).reset_index(drop=True)
    f = f.assign(origin=f.origin.astype(str), destination=f.destination.astype(str), year=f.year.astype(int))
    keep = _identified(f)
    data = f[keep].assign(pair=lambda d: d.origin + "-" + d.destination)
    with warnings.catch_warnings():     # pyfixest's notices (e.g. of its Numba compilation) are not the user's
        warnings.simplefilter("ignore")
        fit = pf.fepois(GRAVITY_FORMULA, data=data, vcov={"CRV1": "pair"})
        predicted = np.asarray(fit.predict(type="response"), float)
    if len(predicted) != int(keep.sum()):
        raise ValueError(f"PPML: fitted {len(predicted)} of {int(keep.sum())} identified corridor-years")
    students = np.zeros(len(f))
    students[keep] = predicted
    params = fit.coef().reindex(GRAVITY_TERMS).astype(float)
    se = fit.se().reindex(GRAVITY_TERMS).astype(float)
    return params, se, f[["year", "origin", "destination"]].assign(students=students)


def on_grid(simulated: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Simulated stocks on the observed grid of (year, origin, destination), zeros where none."""
    grid = observed[["year", "origin", "destination"]]
    return grid.merge(simulated, on=["year", "origin", "destination"], how="left").fillna({"students": 0.0})


def carried_forward(frame: pd.DataFrame, base_year: int, years) -> pd.DataFrame:
    """A frame's base-year rows as the prediction of each of `years` (persistence out of sample)."""
    base = frame[frame.year == base_year]
    return pd.concat([base.assign(year=y) for y in years], ignore_index=True)


def dynamic_gravity(seen: pd.DataFrame, geography: pd.DataFrame, base_year: int, years) -> pd.DataFrame:
    """Dynamic gravity forecast: PPML of each corridor's stock on its stock the year before (ln(1 + S_{t-1})),
    distance, language and colonial ties, with origin and destination fixed effects, fitted on the transitions
    of the seen years (Beine, Noel & Ragot 2014 use the lagged stock as the network term); each later year
    predicted from the one before, the base year's observed stocks first."""
    lagged = seen.assign(year=seen.year + 1).rename(columns={"students": "lag"})
    f = with_geography(seen.merge(lagged, on=["year", "origin", "destination"], how="inner"), geography)
    f = f[f.origin != f.destination].dropna(subset=GRAVITY_TERMS).reset_index(drop=True)
    if f.empty:
        raise ValueError(f"dynamic gravity: no two consecutive seen years up to {base_year}")
    origins, dests = sorted(f.origin.unique()), sorted(f.destination.unique())

    def design(frame):
        o = pd.get_dummies(pd.Categorical(frame.origin, categories=origins), dtype=float).to_numpy()
        d = pd.get_dummies(pd.Categorical(frame.destination, categories=dests), dtype=float).to_numpy()[:, 1:]
        return np.hstack([fpmath.log1p(frame.lag.to_numpy(float))[:, None], frame[GRAVITY_TERMS].to_numpy(float), o, d])

    res = sm.GLM(f.students.to_numpy(float), design(f), family=sm.families.Poisson(), hasconst=True) \
        .fit(method="newton", maxiter=100)
    state = with_geography(seen[seen.year == base_year].rename(columns={"students": "lag"}), geography)
    state = state[state.origin.isin(origins) & state.destination.isin(dests) & (state.origin != state.destination)]
    state = state.dropna(subset=GRAVITY_TERMS).reset_index(drop=True)
    out = []
    for y in years:
        x, beta = design(state), np.asarray(res.params, float)
        students = fpmath.exp(np.array([fpmath.dot(row, beta) for row in x]))   # not BLAS: no CPU-dependent sums
        out.append(state[["origin", "destination"]].assign(year=y, students=students))
        state = state.assign(lag=students)
    return pd.concat(out, ignore_index=True)


BREAK = 0.5     # a destination's yearly log change of UIS inbound students beyond this is a series break


def growth_persistence(uis: pd.DataFrame, last_year: int) -> tuple[float, int]:
    """How much of a destination's growth of international students carries on to the next year: the OLS
    slope of the yearly log growth of UIS inbound totals on the year before's (pooled over destinations, with
    an intercept: the common growth), over the years up to `last_year` (what a forecast from it may know).
    Pairs with a change beyond BREAK log points are left out (UIS definitions changed in some series).
    Returns (slope, pairs). world=oecd's entrant_momentum (conf/world/oecd.yaml)."""
    series = uis.dropna(subset=["inbound"]).query("inbound > 0 and year <= @last_year")
    table = series.pivot_table(index="year", columns="country", values="inbound").sort_index()
    table = table.reindex(range(int(table.index.min()), int(table.index.max()) + 1))
    growth = pd.DataFrame(fpmath.log(table.to_numpy(float)), index=table.index, columns=table.columns).diff()
    pairs = pd.concat([growth.shift(1).stack().rename("before"), growth.stack().rename("after")], axis=1).dropna()
    pairs = pairs[(pairs.before.abs() < BREAK) & (pairs.after.abs() < BREAK)]
    x = pairs.before.to_numpy(float) - pairs.before.mean()
    y = pairs.after.to_numpy(float) - pairs.after.mean()
    return float(np.sum(x * y) / np.sum(x * x)), len(pairs)


def trend(seen: pd.DataFrame, base_year: int, years, pseudo: float = 100.0) -> pd.DataFrame:
    """Corridor trend extrapolation: each corridor's growth from the year before the base year to the base year,
    (S_base + pseudo) / (S_base-1 + pseudo), continued (`pseudo` real students keep small corridors from
    extrapolating one year's jump)."""
    key = ["origin", "destination"]
    base = seen[seen.year == base_year].set_index(key).students
    before = seen[seen.year == base_year - 1].set_index(key).students.reindex(base.index).fillna(0.0)
    growth = (base + pseudo) / (before + pseudo)
    return pd.concat([(base * fpmath.power(growth.to_numpy(float), y - base_year)).rename("students").reset_index()
                      .assign(year=y)
                      for y in years], ignore_index=True)


def diebold_mariano(loss: pd.DataFrame, model: str, reference: str) -> dict:
    """Diebold & Mariano (1995) test of equal forecast accuracy on per-origin TVD losses (`loss`: one row per
    origin and year, a column per predictor): the loss differential is averaged over each origin's years first
    (an origin's years are not independent), then tested across origins (t statistic, two-sided p from the
    normal law). Negative: `model` is more accurate."""
    from scipy.stats import norm
    diff = (loss[model] - loss[reference]).groupby(loss.origin).mean()
    n = len(diff)
    se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    stat = float(diff.mean() / se) if se > 0 else float("nan")
    return {"mean_difference": float(diff.mean()), "statistic": stat, "p_value": float(2 * norm.sf(abs(stat))),
            "origins": n}


def out_of_sample(observed: pd.DataFrame, predictions: dict[str, pd.DataFrame], geography: pd.DataFrame,
                  base_year: int) -> dict[str, pd.DataFrame]:
    """Per-origin TVD, in the years after `base_year`, of the given predictions (the simulation's readings)
    and of the reference predictors that know the years up to it (see the module's docstring)."""
    seen = observed[observed.year <= base_year]
    later = observed[observed.year > base_year]
    years = sorted(later.year.unique())
    _, _, gravity = ppml(with_geography(seen, geography))
    predictors = dict(predictions) | {
        "persistence": carried_forward(seen, base_year, years),
        "dynamic_gravity": dynamic_gravity(seen, geography, base_year, years),
        "trend": trend(seen, base_year, years),
        "gravity_fe_ppml": carried_forward(gravity, base_year, years),
        "size_only": carried_forward(size_only(seen[seen.year == base_year]), base_year, years),
    }
    return {name: tvd_by_origin(later, p) for name, p in predictors.items()}


def log_errors(observed: pd.DataFrame, forecast: pd.DataFrame, minimum: float, pseudo: float = 50.0) -> pd.DataFrame:
    """ln((observed + pseudo) / (forecast + pseudo)) of corridor stocks (observed >= minimum) and of destination
    totals, by year: what the intervals of a forecast must cover. Returns year, what (corridor|destination),
    observed, forecast, error."""
    key = ["year", "origin", "destination"]
    j = observed.merge(forecast, on=key, how="left", suffixes=("", "_fc")).fillna({"students_fc": 0.0})
    corridors = j[j.students >= minimum].assign(what="corridor")
    dest = j.groupby(["year", "destination"], as_index=False)[["students", "students_fc"]].sum().assign(what="destination")
    out = pd.concat([corridors, dest], ignore_index=True)
    out["error"] = fpmath.log(((out.students + pseudo) / (out.students_fc + pseudo)).to_numpy(float))
    return out[["year", "what", "students", "students_fc", "error"]].rename(
        columns={"students": "observed", "students_fc": "forecast"})


def interval_coverage(calibration: pd.DataFrame, held: pd.DataFrame, horizon: dict[int, int],
                      levels=(0.5, 0.9)) -> dict:
    """Coverage of forecast intervals set from the forecast's own errors in a calibration year (split conformal
    prediction, Vovk et al. 2005): the interval at level a of a value of kind k (corridor, destination) is its
    forecast x exp(+-q), q the a-quantile of |error| of that kind at horizon 1 in `calibration`, widened by
    sqrt(horizon) (errors that accumulate like a random walk's). `held`: log_errors of the held-out years;
    `horizon`: year -> years since the forecast's base. Returns {"coverage_50": ..., "coverage_90": ...,
    "half_width": {kind: {level: q}}, "values": n}."""
    q = {k: {a: float(np.quantile(np.abs(g.error), a)) for a in levels} for k, g in calibration.groupby("what")}
    h = np.sqrt(held.year.map(horizon).to_numpy(float))
    out = {"values": int(len(held)), "half_width": q}
    for a in levels:
        width = held.what.map({k: v[a] for k, v in q.items()}).to_numpy(float) * h
        out[f"coverage_{round(a * 100)}"] = float(np.mean(np.abs(held.error.to_numpy(float)) <= width))
    return out


def level_errors(observed: pd.DataFrame, predicted: pd.DataFrame, minimum: float = 10_000) -> pd.DataFrame:
    """Per year: median absolute error and count off by 2x of destination totals (year, country, inbound)
    over the destinations with at least `minimum` observed international students."""
    j = observed.merge(predicted, on=["year", "country"], how="left", suffixes=("", "_pred"))
    j = j[j.inbound >= minimum].fillna({"inbound_pred": 0.0})
    j["off"] = np.abs(fpmath.log((np.maximum(j.inbound_pred, 1.0) / j.inbound).to_numpy(float)))
    return j.groupby("year").agg(destinations=("off", "size"),
                                 median_abs_error=("off", lambda x: fpmath.expm1(np.median(x))),
                                 off_by_2x=("off", lambda x: int((x > math.log(2)).sum()))).reset_index()


def fit_summary(observed: pd.DataFrame, simulated: pd.DataFrame) -> dict:
    """Mean per-origin TVD of the simulation and of the two reference predictors, in the same sample."""
    sim = tvd_by_origin(observed, simulated)
    size = tvd_by_origin(observed, size_only(observed))
    return {"tvd_simulated": float(sim.tvd.mean()), "tvd_size_only": float(size.tvd.mean()),
            "origins": int(sim.origin.nunique()), "per_origin": sim}


@dataclass(frozen=True)
class GravityTarget:
    """The observed stocks' PPML gravity coefficients, a moment the calibration matches (with its weight)."""
    coefficients: pd.Series
    geography: pd.DataFrame
    weight: float


def gravity_target(observed: pd.DataFrame, geography: pd.DataFrame, weight: float) -> GravityTarget:
    return GravityTarget(ppml(with_geography(observed, geography))[0], geography, weight)


def gravity_gap(target: GravityTarget, observed: pd.DataFrame, simulated: pd.DataFrame) -> float:
    """Mean over the gravity terms of the squared relative gap between the simulated stocks' PPML coefficient
    and the observed one (0.25: a coefficient 1.5x or 0.5x the observed). Indirect inference: the simulated
    world should show the observed conditional effects of distance, language and colonial ties, not only
    shares that a wrong mix of them can match. Rounded to GAP_DIGITS decimals: the fit's BLAS sums may move
    its last bits between CPUs, and the calibration's path must not."""
    b = ppml(with_geography(on_grid(simulated, observed), target.geography))[0]    # the grid: reporting pairs
    rel = ((b - target.coefficients) / target.coefficients.abs()).to_numpy(float)
    return round(float(np.mean(rel * rel)), GAP_DIGITS)


class Score(NamedTuple):
    value: float     # the objective: tvd + level_weight x level + gravity weight x gravity
    tvd: float       # mean per-origin TVD of destination shares
    level: float     # mean squared log ratio of simulated to observed totals
    gravity: float   # gravity_gap (0 without a target)


def objective(observed: pd.DataFrame, simulated: pd.DataFrame, level_weight: float,
              gravity: GravityTarget | None = None) -> Score:
    """Calibration objective: mean per-origin TVD + level_weight x mean squared log ratio of totals
    (+ the gravity target's weight x `gravity_gap`).

    simulated: flows of kind `enrolled` (year, origin, destination, students). Totals are over the
    destinations that report, year by year.
    """
    tvd = tvd_by_origin(observed, simulated).tvd.mean()
    reporting = set(observed.destination)
    sim_total = simulated[simulated.destination.isin(reporting)].groupby("year").students.sum()
    obs_total = observed.groupby("year").students.sum()
    ratio = sim_total.reindex(obs_total.index).fillna(1.0) / obs_total
    log_ratio = fpmath.log(ratio.clip(lower=1e-6).to_numpy(float))
    level = float(np.mean(log_ratio * log_ratio))
    weight = gravity.weight if gravity is not None else 0.0
    gap = gravity_gap(gravity, observed, simulated) if weight > 0 else 0.0
    return Score(float(tvd + level_weight * level + weight * gap), float(tvd), level, gap)

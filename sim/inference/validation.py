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
2013-2014) runs from the base year, and the later years are scored against predictors that know the
same years: persistence (the base year's observed stocks carried forward), size-only and gravity
fitted up to the base year and carried forward, and two readings of the simulation: its own shares,
and its changes applied to the base year's observed stocks (observed x simulated(t) / simulated(base),
corridor by corridor: how a calibrated model is used to forecast, e.g. the "exact hat algebra" of
trade models, Dekle, Eaton & Kortum 2008), which asks whether the model's dynamics add to persistence.

The gravity fits go through statsmodels and LAPACK/BLAS, whose kernels OpenBLAS picks by CPU: their
estimates can differ in the last bits between machines (README, "Reproducibility"); the scores of the
simulation and of the other predictors are computed without them.
"""

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm

from sim import fpmath

MIN_ABROAD = 20_000
GRAVITY_TERMS = ["log_distance", "common_language", "colonial_tie"]


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


def ppml(frame: pd.DataFrame):
    """PPML gravity with origin, destination and year fixed effects (Santos Silva & Tenreyro 2006).

    Estimated by statsmodels' GLM Poisson (Newton's method); standard errors robust to heteroskedasticity and
    clustered by country pair (the sandwich computed from the score, without n x n matrices).
    Returns (coefficients, standard errors, fitted frame)."""
    f = frame[frame.origin != frame.destination].dropna(subset=GRAVITY_TERMS).reset_index(drop=True)
    effects = pd.DataFrame({"o": f.origin.astype(str), "d": f.destination.astype(str),
                            "y": f.year.astype(int).astype(str)})
    dummies = [pd.get_dummies(effects.o, dtype=float).to_numpy(),   # full origin set: the intercept
               pd.get_dummies(effects[["d", "y"]], drop_first=True, dtype=float).to_numpy()]
    x = np.hstack([f[GRAVITY_TERMS].to_numpy(float), *dummies])
    y = f.students.to_numpy(float)
    # Newton's method on the (concave) Poisson likelihood: the same estimates as statsmodels' default
    # IRLS in a third of the time at ~30,000 corridor-years x ~250 effects; the dummies hold the constant
    res = sm.GLM(y, x, family=sm.families.Poisson(), hasconst=True).fit(method="newton", maxiter=100)
    mu = res.fittedvalues
    bread = np.linalg.pinv((x * mu[:, None]).T @ x)
    pairs = pd.factorize(f.origin.astype(str).str.cat(f.destination.astype(str), sep="-"))[0]
    scores = np.zeros((pairs.max() + 1, x.shape[1]))
    np.add.at(scores, pairs, x * (y - mu)[:, None])
    cov = bread @ (scores.T @ scores) @ bread
    k = len(GRAVITY_TERMS)
    params = pd.Series(res.params[:k], index=GRAVITY_TERMS)
    se = pd.Series(np.sqrt(np.diag(cov)[:k]), index=GRAVITY_TERMS)
    fitted = f[["year", "origin", "destination"]].assign(students=mu)
    return params, se, fitted


def carried_forward(frame: pd.DataFrame, base_year: int, years) -> pd.DataFrame:
    """A frame's base-year rows as the prediction of each of `years` (persistence out of sample)."""
    base = frame[frame.year == base_year]
    return pd.concat([base.assign(year=y) for y in years], ignore_index=True)


def simulated_change(observed: pd.DataFrame, simulated: pd.DataFrame, base_year: int, years,
                     pseudo: float = 100.0) -> pd.DataFrame:
    """Observed base-year stocks times each corridor's simulated growth since the base year.

    The growth is (simulated(t) + pseudo) / (simulated(base) + pseudo): `pseudo` (real students, about
    one agent at the real world's scale) keeps a corridor with few agents from swinging on one of them."""
    base = observed[observed.year == base_year][["origin", "destination", "students"]]
    key = ["origin", "destination"]
    sim_base = simulated[simulated.year == base_year].groupby(key).students.sum().rename("base")
    out = []
    for y in years:
        sim_y = simulated[simulated.year == y].groupby(key).students.sum().rename("now")
        g = base.join(sim_base, on=key).join(sim_y, on=key).fillna({"base": 0.0, "now": 0.0})
        out.append(g[key].assign(year=y, students=g.students * (g.now + pseudo) / (g.base + pseudo)))
    return pd.concat(out, ignore_index=True)


def out_of_sample(observed: pd.DataFrame, simulated: pd.DataFrame, geography: pd.DataFrame,
                  base_year: int) -> dict[str, pd.DataFrame]:
    """Per-origin TVD, in the years after `base_year`, of the simulation run from the base year and
    of the reference predictors that know the years up to it (see the module's docstring)."""
    seen = observed[observed.year <= base_year]
    later = observed[observed.year > base_year]
    years = sorted(later.year.unique())
    _, _, gravity = ppml(with_geography(seen, geography))
    predictors = {
        "hemsim": simulated,
        "hemsim_change": simulated_change(observed, simulated, base_year, years),
        "persistence": carried_forward(seen, base_year, years),
        "gravity_fe_ppml": carried_forward(gravity, base_year, years),
        "size_only": carried_forward(size_only(seen[seen.year == base_year]), base_year, years),
    }
    return {name: tvd_by_origin(later, p) for name, p in predictors.items()}


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


def objective(observed: pd.DataFrame, simulated: pd.DataFrame, level_weight: float) -> tuple[float, float, float]:
    """Calibration objective: mean per-origin TVD + level_weight x mean squared log ratio of totals.

    simulated: flows of kind `enrolled` (year, origin, destination, students). Returns (objective,
    TVD, level term). Totals are over the destinations that report, year by year.
    """
    tvd = tvd_by_origin(observed, simulated).tvd.mean()
    reporting = set(observed.destination)
    sim_total = simulated[simulated.destination.isin(reporting)].groupby("year").students.sum()
    obs_total = observed.groupby("year").students.sum()
    ratio = sim_total.reindex(obs_total.index).fillna(1.0) / obs_total
    log_ratio = fpmath.log(ratio.clip(lower=1e-6).to_numpy(float))
    level = float(np.mean(log_ratio * log_ratio))
    return float(tvd + level_weight * level), float(tvd), level

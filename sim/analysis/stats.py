"""Statistics across seeds (and parameter draws): bands per scenario, and policy effects as paired differences.

Runs of two scenarios at the same seed share every agent's dice (common random numbers), so
the difference scenario - baseline at each seed is the policy's effect on that draw of the
world; its mean over seeds with a t interval is the estimate reported. This is far tighter than
comparing the two scenarios' bands.

A study over parameter draws (`uncertainty.draw`, sim/parameter_draws.py) pairs runs on draw and seed, and
splits each effect's spread (`decompose`): the parameter part is the spread of the draws' mean effects
(with the seed noise they still carry removed), the stochastic part the spread of one run's effect across
seeds within a draw (one-way random-effects analysis of variance).
"""

import numpy as np
import pandas as pd
from scipy import stats

WORLD = "WORLD"
LEVEL = 0.90  # bands and intervals are 90%
DRAW = "uncertainty.draw"   # the column of a study's parameter draws (a swept key)


def keys(df: pd.DataFrame) -> list[str]:
    """The columns that identify a run besides scenario: seed and any swept parameters."""
    skip = {"scenario", "year", "country", "metric", "value", "kind", "origin", "destination", "students"}
    return [c for c in df.columns if c not in skip]


def world_series(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    m = metrics[(metrics.metric == metric) & (metrics.country == WORLD)]
    return m.drop(columns=["metric", "country"])


def bands(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per scenario and year: mean, and the 5% and 95% quantiles across runs (seeds)."""
    m = world_series(metrics, metric)
    g = m.groupby(["scenario", "year"]).value
    out = pd.DataFrame({"mean": g.mean(), "low": g.quantile((1 - LEVEL) / 2), "high": g.quantile((1 + LEVEL) / 2),
                        "runs": g.size()})
    return out.reset_index()


def paired(metrics: pd.DataFrame, baseline: str, metric: str, country: str = WORLD) -> pd.DataFrame:
    """Per run and year: scenario value - baseline value at the same seed (and parameters)."""
    m = metrics[(metrics.metric == metric) & (metrics.country == country)].drop(columns=["metric", "country"])
    on = keys(m) + ["year"]
    base = m[m.scenario == baseline].drop(columns="scenario").rename(columns={"value": "baseline"})
    pairs = m[m.scenario != baseline].merge(base, on=on, how="inner")
    pairs["effect"] = pairs.value - pairs.baseline
    return pairs


def summarise(effect: pd.Series) -> pd.Series:
    """Mean of paired effects with a 90% t interval (NaN interval for a single run)."""
    n = effect.size
    mean = effect.mean()
    if n < 2:
        return pd.Series({"effect": mean, "low": np.nan, "high": np.nan, "runs": n})
    half = stats.t.ppf((1 + LEVEL) / 2, n - 1) * effect.std(ddof=1) / np.sqrt(n)
    return pd.Series({"effect": mean, "low": mean - half, "high": mean + half, "runs": n})


def has_draws(frame: pd.DataFrame) -> bool:
    """Whether the runs span several parameter draws."""
    return DRAW in frame.columns and frame[DRAW].nunique() > 1


def decompose(effect: pd.Series, draw: pd.Series) -> pd.Series:
    """The paired effects of a study over draws x seeds: their mean (each draw weighs the same: draws are
    equally likely parameter sets) with a 90% t interval over the draws' means, and the 90% ranges of one
    run's effect due to parameters (`param_low`, `param_high`), to the dice (`stoch_low`, `stoch_high`) and to
    both (`total_low`, `total_high`), normal ranges around the mean from the variance components; and the
    parameters' share of that variance. Var(draw mean) = var_param + var_stoch / seeds, so var_param is
    estimated as var(draw means) - mean within-draw variance / seeds (at least 0)."""
    groups = pd.DataFrame({"effect": effect.to_numpy(), "draw": draw.to_numpy()}).groupby("draw").effect
    means, sizes = groups.mean(), groups.size()
    n = len(means)
    mean = means.mean()
    within = groups.var(ddof=1).mean() if sizes.min() > 1 else np.nan
    between = means.var(ddof=1) if n > 1 else np.nan
    var_param = max(between - (within if np.isfinite(within) else 0.0) * np.mean(1.0 / sizes), 0.0) \
        if n > 1 else np.nan
    z = stats.norm.ppf((1 + LEVEL) / 2)
    half = stats.t.ppf((1 + LEVEL) / 2, n - 1) * np.sqrt(between / n) if n > 1 else np.nan
    total = var_param + within
    return pd.Series({"effect": mean, "low": mean - half, "high": mean + half, "runs": int(sizes.sum()),
                      "draws": n, "param_low": mean - z * np.sqrt(var_param), "param_high": mean + z * np.sqrt(var_param),
                      "stoch_low": mean - z * np.sqrt(within), "stoch_high": mean + z * np.sqrt(within),
                      "total_low": mean - z * np.sqrt(total), "total_high": mean + z * np.sqrt(total),
                      "param_share": var_param / total if total > 0 else np.nan})


def _summarise_pairs(pairs: pd.DataFrame) -> pd.Series:
    return decompose(pairs.effect, pairs[DRAW]) if has_draws(pairs) else summarise(pairs.effect)


def effects(metrics: pd.DataFrame, baseline: str, metric: str, country: str = WORLD) -> pd.DataFrame:
    """Per scenario and year: the mean paired effect and its 90% interval (and, over draws, `decompose`'s
    parameter and stochastic ranges)."""
    pairs = paired(metrics, baseline, metric, country)
    return pairs.groupby(["scenario", "year"]).apply(_summarise_pairs).reset_index()


def final_window(metrics: pd.DataFrame, years: int = 3) -> pd.DataFrame:
    """Metrics averaged over the last `years` recorded years, per run, country and metric."""
    last = metrics.year.max()
    m = metrics[metrics.year > last - years]
    return m.groupby(["scenario", *keys(m), "country", "metric"], dropna=False).value.mean().reset_index()


def summary_table(metrics: pd.DataFrame, baseline: str, outcomes: list[str], years: int = 3) -> pd.DataFrame:
    """WORLD outcomes over the final years, one row per outcome and scenario: the mean with its
    5-95% band across runs, and the paired effect against the baseline with its 90% interval; over
    parameter draws also the effect's 90% ranges due to parameters and to the dice, and the parameters'
    share of its variance (`decompose`)."""
    fw = final_window(metrics, years)
    fw = fw[fw.country == WORLD]
    draws = has_draws(fw)
    rows = []
    for metric in outcomes:
        for scenario in [baseline] + sorted(set(fw.scenario) - {baseline}):
            v = fw[(fw.scenario == scenario) & (fw.metric == metric)].value
            row = {"outcome": metric, "scenario": scenario, "runs": v.size,
                   "mean [5%, 95%]": f"{_fmt(v.mean())} [{_fmt(v.quantile(0.05))}, {_fmt(v.quantile(0.95))}]",
                   "effect (90% CI)": ""}
            if draws:
                row |= {"parameters 90%": "", "stochastic 90%": "", "parameter share": ""}
            if scenario != baseline:
                e = _final_effect(fw, baseline, scenario, metric)
                row["effect (90% CI)"] = f"{_fmt(e.effect)} ({_fmt(e.low)}, {_fmt(e.high)})"
                if draws:
                    row["parameters 90%"] = f"{_fmt(e.param_low)} .. {_fmt(e.param_high)}"
                    row["stochastic 90%"] = f"{_fmt(e.stoch_low)} .. {_fmt(e.stoch_high)}"
                    row["parameter share"] = f"{e.param_share:.0%}" if np.isfinite(e.param_share) else "n/a"
            rows.append(row)
    return pd.DataFrame(rows)


def _final_effect(fw, baseline, scenario, metric) -> pd.Series:
    m = fw[fw.metric == metric].drop(columns=["metric", "country"])
    on = keys(m)
    a = m[m.scenario == scenario].drop(columns="scenario")
    b = m[m.scenario == baseline].drop(columns="scenario")
    pairs = a.merge(b, on=on, suffixes=("", "_base"))
    pairs["effect"] = pairs.value - pairs.value_base
    return _summarise_pairs(pairs)


def country_effects(metrics: pd.DataFrame, baseline: str, metric: str, years: int = 3) -> pd.DataFrame:
    """Per scenario and country (not WORLD): the paired effect over the final years with its interval."""
    fw = final_window(metrics, years)
    fw = fw[(fw.metric == metric) & (fw.country != WORLD)].drop(columns="metric")
    on = keys(fw) + ["country"]
    base = fw[fw.scenario == baseline].drop(columns="scenario").rename(columns={"value": "baseline"})
    pairs = fw[fw.scenario != baseline].merge(base, on=on)
    pairs["effect"] = pairs.value - pairs.baseline
    return pairs.groupby(["scenario", "country"]).apply(_summarise_pairs).reset_index()


def flow_matrix(flows: pd.DataFrame, scenario: str, kind: str, years: int = 3) -> pd.DataFrame:
    """Mean yearly flow (real students) by origin x destination over the final years, across runs."""
    last = flows.year.max()
    f = flows[(flows.scenario == scenario) & (flows.kind == kind) & (flows.year > last - years)]
    runs = max(1, f[keys(f)].drop_duplicates().shape[0]) if len(f) else 1
    total = f.groupby(["origin", "destination"]).students.sum() / (runs * years)
    return total.unstack(fill_value=0.0)


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.4f}"

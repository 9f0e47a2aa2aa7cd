"""What would have happened without the policy: counterfactuals of an observed series, from its own past
or from destinations the policy did not touch.

An observed effect is the observed value after the event relative to a counterfactual, minus one. Two
estimators, both reported by the backtests (sim/inference/backtest.py), since neither is right for every
series:
- `pre_trend`: the series' log-linear trend over the years before the event, extrapolated (right when the
  series grew steadily and nothing else changed at the event);
- `synthetic_control` (Abadie, Diamond & Hainmueller 2010): a convex combination of donor series (other
  destinations) that tracks the treated series' log-index before the event; after it, the combination is
  the counterfactual (right when shocks common to destinations move the series, wrong when the donors
  themselves gained from the policy, as a diverted student goes somewhere).
Series are pandas Series indexed by year; missing years are left out of the fits.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from sim import fpmath


@dataclass(frozen=True)
class Counterfactual:
    estimator: str
    observed: float          # the observed value at the outcome year
    counterfactual: float    # the estimator's value without the policy
    path: pd.Series          # the counterfactual over the pre-event and outcome years
    weights: dict            # synthetic control: donor -> weight; pre-trend: {"growth": yearly log growth}

    @property
    def effect(self) -> float:
        return self.observed / self.counterfactual - 1.0


def pre_period(series: pd.Series, event_year: int, window: int) -> pd.Series:
    """The series' observed values in the `window` years before `event_year`."""
    s = series.dropna()
    s = s[(s.index >= event_year - window) & (s.index < event_year)]
    if len(s) < 2:
        raise ValueError(f"{len(s)} observed year(s) before {event_year} in a window of {window}: need at least 2")
    return s


def pre_trend(series: pd.Series, event_year: int, outcome_year: int, window: int = 6) -> Counterfactual:
    """The log-linear trend of the `window` years before the event, extrapolated to `outcome_year`."""
    pre = pre_period(series, event_year, window)
    x = pre.index.to_numpy(float)
    slope, intercept = fpmath.linear_fit(x - x.mean(), fpmath.log(pre.to_numpy(float)))
    years = np.arange(int(x.min()), outcome_year + 1)
    path = pd.Series(fpmath.exp(intercept + slope * (years - x.mean())), index=years)
    return Counterfactual("pre_trend", _at(series, outcome_year), float(path[outcome_year]), path,
                          {"growth": float(slope)})


def synthetic_control(series: pd.Series, donors: pd.DataFrame, event_year: int, outcome_year: int,
                      window: int = 6) -> Counterfactual:
    """Donor weights (>= 0, summing to 1; found by SLSQP, whose LAPACK may differ in the last bits between CPUs:
    an analysis of the data, not the model's arithmetic) minimising the squared gap between the treated series' log-index and
    the donors' over the `window` years before the event (each series relative to its last pre-event year);
    the counterfactual is the treated series' last pre-event value moved by the weighted donors' log-index."""
    pre = pre_period(series, event_year, window)
    base = int(pre.index.max())
    usable = donors.loc[:, donors.reindex(list(pre.index) + [outcome_year]).notna().all()]
    if usable.shape[1] == 0:
        raise ValueError(f"no donor observed in every year of {list(pre.index)} and {outcome_year}")
    log_donors = pd.DataFrame(fpmath.log(usable.to_numpy(float)), index=usable.index, columns=usable.columns)
    log_donors = log_donors - log_donors.loc[base]
    target = pd.Series(fpmath.log(pre.to_numpy(float)), index=pre.index) - fpmath.log(float(pre[base]))
    a = log_donors.loc[pre.index].to_numpy()
    b = target.to_numpy()
    k = a.shape[1]
    result = minimize(lambda w: float(np.sum((a @ w - b) ** 2)), np.full(k, 1.0 / k), method="SLSQP",
                      bounds=[(0.0, 1.0)] * k, constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0}],
                      options={"ftol": 1e-12, "maxiter": 500})
    w = np.clip(result.x, 0.0, None)
    w = w / w.sum()
    years = [y for y in log_donors.index if pre.index.min() <= y <= outcome_year]
    path = pd.Series(float(pre[base]) * fpmath.exp(log_donors.loc[years].to_numpy() @ w), index=years)
    weights = {str(c): round(float(v), 4) for c, v in zip(usable.columns, w) if v > 1e-4}
    return Counterfactual("synthetic_control", _at(series, outcome_year), float(path[outcome_year]), path, weights)


def _at(series: pd.Series, year: int) -> float:
    if year not in series.index or not np.isfinite(series[year]):
        raise ValueError(f"no observed value in the outcome year {year}")
    return float(series[year])

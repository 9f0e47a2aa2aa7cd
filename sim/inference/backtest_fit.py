"""The responses fitted to the backtests: simulated method of moments through emulators.

The moments are the backtests' effects (sim/inference/backtest.py); the parameters the choice's responses
to policy (cost, post-study work and its income-gap term, visa and its talent term, the nest of going
abroad), searched within bounds from the literature (conf/backtest_fit.yaml, docs/ODD.md 7.2).

1. A design: `hemsim-backtest --fit` runs an Optuna sweep with a seeded random sampler on the launchers
   (local or Slurm); each trial runs every case at one point of the box (`trial`), and records each
   outcome's simulated effect (trial.json). The design does not depend on the objective, so the fits below
   can leave a case out without the search having been steered by it.
2. Emulators: a Gaussian process per outcome (scikit-learn's, through LAPACK: the fit may differ in the last
   bits between CPUs; it is written once, conf/backtest/fit/responses.yaml, and the runs read it) of the effect's score
   (backtest.score: the log of its magnitude, in effect) over the box (anisotropic RBF plus
   noise: seed noise is part of a trial's effect).
3. Fits: the expected weighted squared log ratios of simulated to observed effects under the emulators (squared error of the mean plus the
   emulator's variance, so the fit stays where the design has looked) minimised over the box (L-BFGS-B from
   the best design points): once with every case (the fit), and once without each case (its held-out fit).
   The report then simulates the model itself at those points: what it shows are runs, not emulations.
4. Refinement: the fits' points are run as trials themselves and the emulators refitted with them, a few
   rounds (`refine_points`; hemsim-backtest --refine): a random design of 90 points in 7 dimensions leaves
   the emulators off by up to 2x near the optimum (the UK stock at the first fit: emulated -22%, simulated
   -35%), and each round puts runs where the fits look.

Beside the backtests' effects the objective holds a stock moment (the responses must keep where students
go), a published moment (the fee elasticity of a destination's share within the published range: no loss
inside it) and a weak prior at the centre of each bound, so that a response the remaining cases cannot
identify (post-study work in the fit without the UK) takes the middle of its literature range instead of
wherever the emulators' noise puts it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import yaml

from sim import fpmath
from sim.errors import UserError
from sim.inference import backtest as B
from sim.inference import elasticity
from sim.io import atomic_write, write_json

TRIAL = "trial.json"
# The stock moment: the mean per-origin total-variation distance between the expected and the observed
# destination shares of the case worlds at their start (levels.resolve_expected), weighted so that 0.1 of
# it costs as much as one outcome off by a log ratio of 0.45. The responses must keep where students go.
STOCKS, STOCK_WEIGHT = "stocks", 2.0
# The published moment: the mean fee elasticity over elasticity.DESTINATIONS, scored on the log of its
# magnitude, no loss within the published range (-1.0 to -0.5), outside it like an effect's log error.
PUBLISHED, FEE_ELASTICITY, ELASTICITY_WEIGHT = "published", "fee_elasticity", 1.0
ELASTICITY_FLOOR = 1e-3     # a magnitude below (or a positive elasticity) is scored as this
# The prior: PRIOR_WEIGHT x the squared distance from the centre of the bounds (in the unit box). At 0.05 a
# response at a bound costs 0.0125 more than at the centre: a tiebreak where the data are silent, small
# against an effect off by 1.5x (a squared log error of 0.16).
PRIOR_WEIGHT = 0.05
ANCHOR_STARTS = 6           # local minimisations of an emulated objective, from the best design points
# The emulated effects are capped at -90%: in a single-seed trial a small corridor can empty (-100%, a log
# of -4.6) by chance, and a few such draws wreck a Gaussian process (5-fold cross-validated R^2 of the
# Denmark outcome 0.09 uncapped, 0.61 capped). No observed effect is beyond -79%, so a capped trial is a
# miss either way.
EMULATED_FLOOR = -0.9
# Seed noise is part of a trial's effect: the emulators' noise is at least this share of an outcome's
# variance over the design, so they smooth single-seed draws instead of interpolating them.
NOISE_FLOOR = 0.05


def bounds_of(params: dict[str, str]) -> dict[str, tuple[float, float]]:
    """{behaviour.choice.name: (low, high)} from the sweep's `interval(a, b)` parameters (one-line errors)."""
    out = {}
    for key, spec in params.items():
        found = re.fullmatch(r"\s*interval\(\s*([^,]+),\s*([^)]+)\)\s*", str(spec))
        if not found:
            raise UserError(f"hydra.sweeper.params.{key}={spec}: the fit needs an interval(low, high)")
        low, high = float(found[1]), float(found[2])
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise UserError(f"hydra.sweeper.params.{key}={spec}: needs finite bounds with low < high")
        out[key] = (low, high)
    return out


def trial(config, cases_dir: Path, out_dir: Path, params: dict[str, float]) -> float:
    """Every case at the trial's parameters (one seed: the config's, one backcast: its world's); the
    outcomes' effects and the objective written to out_dir/trial.json."""
    from sim.world import loaders
    cases = B.load_cases(cases_dir)
    uis = loaders.load_uis_inbound(config.world.data_dir).frame.dropna(subset=["inbound"])
    rows = []
    for case in cases:
        effects = B.simulated_effects(B.simulate(case, config, [config.seed], [config.world.backcast]))
        for o in case.outcomes:
            observed = B.effect_of(next(iter(B.observed_effects(case, o, uis).values())))
            simulated = float(effects.set_index("outcome").effect[o.name])
            rows.append({"case": case.name, "outcome": o.name, "weight": o.weight, "observed": observed,
                         "simulated": simulated})
    tvd = float(np.mean([B.world_for(B.case_config(config, c, config.seed, config.world.backcast, False))
                         .level_fit["tvd"] for c in cases]))
    rows.append({"case": STOCKS, "outcome": "tvd", "weight": STOCK_WEIGHT, "observed": None, "simulated": tvd})
    rows.append({"case": PUBLISHED, "outcome": FEE_ELASTICITY, "weight": ELASTICITY_WEIGHT,
                 "observed": list(elasticity.PUBLISHED),
                 "simulated": float(np.mean(list(elasticity.world_fee_elasticities(config).values())))})
    value = trial_objective(rows)
    write_json({"objective": value if np.isfinite(value) else None, "params": params, "rows": rows},
               Path(out_dir) / TRIAL)
    return value if np.isfinite(value) else 1e6


def trial_objective(rows: list[dict], leave_out: str | None = None) -> float:
    """The outcomes' weighted losses (without the case `leave_out`) plus the weighted stock and published
    moments."""
    stocks = sum(r["weight"] * r["simulated"] for r in rows if r["case"] == STOCKS)
    published = sum(r["weight"] * range_loss(magnitude(r["simulated"]), r["observed"])
                    for r in rows if r["case"] == PUBLISHED)
    return B.objective([r for r in rows if r["case"] not in (STOCKS, PUBLISHED)], leave_out) + stocks + published


def magnitude(elasticity_value: float) -> float:
    """ln |elasticity| of a negative elasticity (ln ELASTICITY_FLOOR for one that is not)."""
    return float(fpmath.log(max(-elasticity_value, ELASTICITY_FLOOR)))


def range_loss(log_magnitude: float, published: list[float]) -> float:
    """The squared distance of ln |elasticity| from the published range of magnitudes (0 inside it)."""
    low, high = sorted(float(fpmath.log(abs(v))) for v in published)
    return max(0.0, low - log_magnitude, log_magnitude - high) ** 2


def read_trials(sweep_dir: Path, refined: int | None = None) -> list[dict]:
    """The design's trials (sweep_dir/trial_<n>/) and those of the refinement rounds 1..`refined` (every
    round: None) (sweep_dir/refine_<r>/trial_<j>/), each with its `source` (its folder, relative to the sweep's)."""
    rounds = sorted(Path(sweep_dir).glob(f"{REFINE}*/"), key=lambda p: int(p.name[len(REFINE):]))
    rounds = [p for p in rounds if refined is None or int(p.name[len(REFINE):]) <= refined]
    files = [*sorted(Path(sweep_dir).glob(f"trial_*/{TRIAL}")), *(f for r in rounds for f in sorted(r.glob(f"trial_*/{TRIAL}")))]
    trials = [json.loads(p.read_text()) | {"source": str(p.parent.relative_to(sweep_dir))} for p in files]
    if not trials:
        raise UserError(f"{sweep_dir}: no trials ({TRIAL}) to fit")
    return trials


class Emulators:
    """A Gaussian process per outcome of the simulated effect's score (backtest.score: the log of its
    magnitude, in effect), on parameters scaled to the unit box."""

    def __init__(self, trials: list[dict], bounds: dict[str, tuple[float, float]]):
        from sim.inference import gp
        self.names = list(bounds)
        self.low = np.array([bounds[k][0] for k in self.names])
        self.high = np.array([bounds[k][1] for k in self.names])
        self.x = np.array([self.scale([t["params"][k] for k in self.names]) for t in trials])
        self.keys = [(r["case"], r["outcome"]) for r in trials[0]["rows"]]
        first = {(r["case"], r["outcome"]): r for r in trials[0]["rows"]}
        self.observed = {k: first[k]["observed"] for k in self.keys}
        self.weight = {k: first[k]["weight"] for k in self.keys}
        self.models = {}
        for key in self.keys:
            raw = np.array([_row(t, key)["simulated"] for t in trials], float)
            y = raw if key[0] == STOCKS else \
                np.array([magnitude(v) for v in raw]) if key[0] == PUBLISHED else \
                B.score(np.maximum(raw, EMULATED_FLOOR))
            self.models[key] = gp.fit(self.x, y, NOISE_FLOOR, restarts=2)     # the kernel: sim/inference/gp.py

    def scale(self, values) -> np.ndarray:
        return (np.asarray(values, float) - self.low) / (self.high - self.low)

    def params(self, unit: np.ndarray) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in zip(self.names, self.low + unit * (self.high - self.low))}

    def effect(self, key, unit: np.ndarray) -> float:
        value = float(self.models[key].predict(unit[None, :])[0])
        return value if key[0] == STOCKS else -float(fpmath.exp(value)) if key[0] == PUBLISHED else \
            float(B.unscore(value))

    def objective(self, unit: np.ndarray, leave_out: frozenset = frozenset()) -> float:
        """The trials' objective, expected under the emulators: the outcomes' weighted squared log errors (the
        mean's plus the emulator's variance; without the (case, outcome) keys in `leave_out`), the stock
        moment, the published moment (its distance from the range, plus the variance) and the prior."""
        x = unit[None, :]
        total = PRIOR_WEIGHT * float(np.sum((unit - 0.5) ** 2))
        for k in self.keys:
            if k in leave_out:
                continue
            mean, sd = (float(v[0]) for v in self.models[k].predict(x, return_std=True))
            if k[0] == STOCKS:
                total += self.weight[k] * mean
            elif k[0] == PUBLISHED:
                total += self.weight[k] * (range_loss(mean, self.observed[k]) + sd * sd)
            else:
                total += self.weight[k] * ((mean - float(B.score(self.observed[k]))) ** 2 + sd * sd)
        return total

    def minimise(self, leave_out: frozenset = frozenset()) -> np.ndarray:
        from scipy.optimize import minimize
        starts = self.x[np.argsort([self.objective(x, leave_out) for x in self.x], kind="stable")[:ANCHOR_STARTS]]
        best = min((minimize(self.objective, s, args=(leave_out,), method="L-BFGS-B",
                             bounds=[(0.0, 1.0)] * len(self.names)) for s in starts), key=lambda r: r.fun)
        return np.clip(best.x, 0.0, 1.0)


def _row(trial: dict, key) -> dict:
    return next(r for r in trial["rows"] if (r["case"], r["outcome"]) == key)


def fits(sweep_dir: Path, bounds: dict[str, tuple[float, float]], cases_dir: Path, refined: int | None = None,
         holdout_last_year: int = 2014) -> dict:
    """The emulators fitted to the sweep's trials (its design and refinement rounds 1..`refined`, None: all),
    minimised: the fit, the held-out fits and, for a world calibrated on the years up to `holdout_last_year`, a
    fit to the outcomes observed by then only; with the emulators' predictions at the fit."""
    every = read_trials(sweep_dir, refined)
    trials = [t for t in every if all(np.isfinite(r["simulated"]) for r in t["rows"])]
    if len(trials) < 2 * len(bounds):
        raise UserError(f"{sweep_dir}: {len(trials)} trials with every outcome measured; the emulators need at least "
                        f"{2 * len(bounds)} (run more: hydra.sweeper.n_trials)")
    em = Emulators(trials, bounds)
    full = em.minimise()
    cases = sorted({k[0] for k in em.keys} - {STOCKS, PUBLISHED})
    years = {(c.name, o.name): o.year for c in B.load_cases(cases_dir) for o in c.outcomes}
    later = frozenset(k for k in em.keys if years.get(k, 0) > holdout_last_year)
    return {"fit": em.params(full),
            "leave_one_out": {c: em.params(em.minimise(frozenset(k for k in em.keys if k[0] == c))) for c in cases},
            "until_" + str(holdout_last_year): em.params(em.minimise(later)),
            "emulated": {f"{c}/{o}": round(em.effect((c, o), full), 4) for c, o in em.keys},
            "bounds": {k: list(v) for k, v in bounds.items()},
            "trials": len(trials), "refinement_trials": sum(REFINE in t.get("source", "") for t in trials),
            "sweep": str(sweep_dir),
            "best_trial_objective": round(min(trial_objective(t["rows"]) for t in trials), 4)}


def write(doc: dict, record: Path, behaviour_dir: Path | None = None, holdout_last_year: int = 2014) -> dict:
    """The fits (`fits`) to the record the backtests read and, into behaviour_dir, the behaviour files the real
    worlds compose (`adopt`)."""
    text = ("# The responses fitted to the backtests by hemsim-backtest --fit (sim/inference/backtest_fit.py):"
            "\n# `fit` saw every case; `leave_one_out.<case>` every case but that one. The backtests run at them;\n"
            "# world=oecd runs at `fit` (conf/behaviour/oecd_responses.yaml), world=oecd_holdout at\n"
            f"# `until_{holdout_last_year}` (conf/behaviour/oecd_holdout_responses.yaml).\n"
            + yaml.safe_dump(doc, sort_keys=False))
    atomic_write(record, lambda tmp: Path(tmp).write_text(text))
    if behaviour_dir is not None:
        adopt(doc, behaviour_dir, holdout_last_year)
    return doc


RESPONSES = {"oecd": "oecd_responses.yaml", "oecd_holdout": "oecd_holdout_responses.yaml"}
Z90 = 1.6449   # the standard normal's 95% quantile: a two-sided 90% range


def jackknife_ranges(doc: dict, z: float = Z90) -> dict[str, list[float]]:
    """Each response's 90% range from the leave-one-case-out fits: the fit +- z jackknife standard errors,
    sqrt((n - 1) / n x sum over the n cases of (fit without it - their mean)^2) (Quenouille 1956; Tukey 1958),
    within the bounds of the fit. A response no fit moves (every one at a bound), or whose range would span
    its whole bounds, gets none: the cases say nothing of its spread, and it stays at the fit (drawn over its
    bounds, it would move the stocks its level constants were fitted to)."""
    loo = list(doc["leave_one_out"].values())
    n, out = len(loo), {}
    for key, value in doc["fit"].items():
        values = np.array([fit[key] for fit in loo], float)
        se = float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))
        low, high = doc["bounds"][key]
        if se > 0 and (value - z * se > low or value + z * se < high):
            out[key] = [round(max(low, value - z * se), 2), round(min(high, value + z * se), 2)]
    return out


def adopt(doc: dict, behaviour_dir: Path, holdout_last_year: int = 2014) -> None:
    """The fitted responses as files of the behaviour group, composed by the real worlds after their stock
    calibration: world=oecd takes the fit to every case; world=oecd_holdout, which is scored on the years after
    `holdout_last_year`, the fit to the outcomes observed by then (no outcome of a later year shows through)."""
    sources = {"oecd": ("fit", "every backtest case"),
               "oecd_holdout": (f"until_{holdout_last_year}", f"the outcomes observed up to {holdout_last_year}")}
    for world, (key, what) in sources.items():
        nested: dict = {}
        for name, value in doc[key].items():
            _, group, param = name.split(".")
            nested.setdefault(group, {})[param] = round(float(value), 4)
        text = (f"# The responses to policy of world={world}: fitted by hemsim-backtest --fit to {what}\n"
                f"# (conf/backtest/fit/responses.yaml, `{key}`; docs/ODD.md section 6, Responses to policy). Composed after\n"
                f"# the stock calibration, which takes them as given. Written by the fit: do not edit by hand.\n"
                + yaml.safe_dump(nested, sort_keys=True))
        atomic_write(behaviour_dir / RESPONSES[world], lambda tmp, text=text: Path(tmp).write_text(text))


# ---- refinement: the fits' points run as trials -------------------------------------------------------------
REFINE = "refine_"


def refine_points(doc: dict) -> list[dict[str, float]]:
    """The points the fits chose: the fit, each held-out fit, the fit to the earlier years (in that order)."""
    return [doc["fit"], *doc["leave_one_out"].values(), *(v for k, v in doc.items() if k.startswith("until_"))]


def refine(sweep_dir: Path, bounds: dict[str, tuple[float, float]], cases_dir: Path, base: dict, rounds: int,
           launcher: str = "local", n_jobs: int = 2, partition: str = "") -> dict:
    """`rounds` rounds of: fit the emulators, run a trial at each point the fits chose (sim/batch.py, on local
    processes or a Slurm array; into sweep_dir/refine_<round>/, resumable), refit. `base`: the trials'
    config (keyword parameters of sim.params.config_from: world=oecd and the sweep's fixed overrides).
    Round r starts from the fits to the design and rounds 1..r-1 only, so a rerun resumes where it stopped;
    with no rounds, the fits use every round on disk. Returns the last fits."""
    import hashlib
    from sim.batch import run_chunks
    if rounds == 0:
        return fits(sweep_dir, bounds, cases_dir)
    doc = fits(sweep_dir, bounds, cases_dir, refined=0)
    names = list(bounds)
    for r in range(1, rounds + 1):
        x = np.array([[p[k] for k in names] for p in refine_points(doc)], float)
        identity = json.dumps({"round": r, "names": names, "points": x.tolist(), "base": base}, sort_keys=True)
        out = Path(sweep_dir) / f"{REFINE}{r}"
        run_chunks(out, hashlib.sha256(identity.encode()).hexdigest(), identity, evaluate_points,
                   (base, names, str(cases_dir), str(out)), x, 1, n_jobs, launcher, partition)
        doc = fits(sweep_dir, bounds, cases_dir, refined=r)
    return doc


def evaluate_points(base: dict, names: list[str], cases_dir: str, out_dir: str, points, seeds: int) -> list[dict]:
    """sim/batch.py's task: a trial (`trial`) at each (index, values) point, into out_dir/trial_<index>/."""
    import logging
    from sim.params import config_from
    logging.getLogger("MESA").setLevel(logging.WARNING)
    rows = []
    for j, values in points:
        params = {k: round(float(v), 4) for k, v in zip(names, values)}
        value = trial(config_from({**base, **params}), Path(cases_dir), Path(out_dir) / f"trial_{j}", params)
        rows.append({"point": int(j), "objective": float(value)})
    return rows

"""A Gaussian-process emulator of hemsim: outcomes and policy effects over parameters and levers, instantly.

    from sim.inference.emulator import Emulator
    em = Emulator.load("results/emulator/emulator.json")
    em.predict({"visa_openness": 0.5, "behaviour.choice.cost": 1.0})
    #   outcome  kind     mean  sd  low_50  high_50  low_90  high_90      (one row per outcome and kind)

What is emulated. The inputs are a design's uncertain parameters and policy levers (conf/uncertainty/
<design>.yaml, sim/ema.py), each over its range. At every design point hemsim runs twice with the same
parameters and seed: with the levers set for every country from `lever_start` years after the start, and
without them (the baseline: each lever at the world's own, neutral value). The outcome is the run with
levers (the final-years WORLD mean of each design outcome); the effect is with levers minus without,
seed by seed (common random numbers: the same dice, so the difference is the policy's and little noise).
Every point runs at its own seeds (point j at seeds j*K .. j*K+K-1), so the seed noise is independent
between points, as the GP's white-noise term assumes.

How. A space-filling design (scipy's Latin hypercube, scrambled and optimised for centred discrepancy,
seeded) is run through the batch path of hemsim-sensitivity (sim/batch.py: chunks on local processes
or a Slurm array, resumable). One GP per outcome and per effect (sim/inference/gp.py: anisotropic RBF
plus white noise, inputs scaled to the unit box, outputs standardised) is fitted to the training design
and checked on a second, independent design (another scramble seed, other seeds): the share of held-out
runs inside the 50% and 90% predictive intervals, R^2, and the RMSE as a share of the outcome's sd.

Stored as data, never code: emulator.json holds the training inputs and outputs, the scaling, each GP's
fitted hyperparameters, the design's ranges and defaults, and the validation, with a SHA-256 of its
content. Loading rebuilds each GP from those numbers (fixed kernel, no optimiser) and conditions it on
the stored data; a file that does not match its checksum is refused.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from sim.errors import UserError
from sim.inference import gp

FORMAT, VERSION = "hemsim-emulator", 1
KINDS = ("outcome", "effect")
LEVELS = (0.5, 0.9)
COLUMNS = ["outcome", "kind", "mean", "sd", "low_50", "high_50", "low_90", "high_90"]
VALIDATION_COLUMNS = ["outcome", "kind", "coverage_90", "coverage_50", "r2", "rmse_sd", "n"]
NOISE_FLOOR = 0.001         # seed noise is at least 0.1% of an output's variance over the design (gp.py);
# measured on the default design of 9 parameters (160 training, 48 held-out runs): 0.01 over-covers (mean 50% coverage 0.64),
# 0.001 is near nominal (0.54; 90%: 0.88); an output whose noise the fit finds larger is not affected
RESTARTS = 2


# ---- the design ---------------------------------------------------------------------------------------
def inputs_of(design, base) -> list[dict]:
    """The emulator's inputs: each parameter and lever of the design with its range and the value a query
    takes when it does not name it. A parameter defaults to the config's value (the world's default, with
    the command line's overrides); a lever to its constant neutral value (not pulled: e.g. 0 for a
    scholarship) when that lies in its range; otherwise (a lever whose neutral value differs by country,
    such as visa_openness, or a value outside the range) to the midpoint of its range."""
    from sim.ema import _get
    from sim.policies import LEVERS
    out = []
    for name, (low, high) in design.parameters.items():
        value = float(_get(base, name, "design"))
        inside = low <= value <= high
        out.append({"name": name, "kind": "parameter", "low": low, "high": high,
                    "default": value if inside else (low + high) / 2, "default_from": "config" if inside else "midpoint"})
    for name, (low, high) in design.levers.items():
        neutral = LEVERS[name].default
        inside = isinstance(neutral, (int, float)) and low <= float(neutral) <= high
        out.append({"name": name, "kind": "lever", "low": low, "high": high,
                    "default": float(neutral) if inside else (low + high) / 2,
                    "default_from": "neutral" if inside else "midpoint"})
    return out


def space_filling(n: int, dims: int, seed: int, split: int) -> np.ndarray:
    """n points in the unit box: a scrambled Latin hypercube optimised for centred discrepancy, seeded by
    (seed, split) so that the training (split 0) and held-out (split 1) designs are independent."""
    from scipy.stats import qmc
    if n == 0:
        return np.zeros((0, dims))
    return qmc.LatinHypercube(dims, scramble=True, optimization="random-cd",
                              rng=np.random.default_rng([seed, split])).random(n)


def design_points(inputs: list[dict], samples: int, holdout: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(points: rows of input values, split: "train" | "holdout" per row); training rows first."""
    low, high = _bounds(inputs)
    unit = np.vstack([space_filling(samples, len(inputs), seed, 0), space_filling(holdout, len(inputs), seed, 1)])
    return low + unit * (high - low), np.array(["train"] * samples + ["holdout"] * holdout)


def evaluate_chunk(base, design, names: list[str], points, seeds: int) -> list[dict]:
    """One row per point and seed: the design's outcomes with the levers (`outcome:<metric>`) and without
    them (`baseline:<metric>`), at the same parameters and seed (point j runs seeds j*K .. j*K+K-1)."""
    from sim.ema import point_outcomes
    neutral = replace(design, levers={})
    rows = []
    for index, values in points:
        point = dict(zip(names, map(float, values)))
        for k in range(seeds):
            seed = int(index) * seeds + k
            with_levers = point_outcomes(base, design, point, seed)
            row = {"point": int(index), "seed": seed, **{f"outcome:{o}": v for o, v in with_levers.items()}}
            if design.levers:
                without = point_outcomes(base, neutral, {p: point[p] for p in design.parameters}, seed)
                row |= {f"baseline:{o}": v for o, v in without.items()}
            rows.append(row)
    return rows


def tidy(rows, names: list[str], x: np.ndarray, split: np.ndarray, outcomes, effects: bool):
    """design.parquet: one row per point (point, split, each input, `outcome:<metric>` and, with levers,
    `effect:<metric>`: means over the point's seeds of with - without levers)."""
    import pandas as pd
    rows = rows.copy()
    for o in outcomes if effects else ():
        rows[f"effect:{o}"] = rows[f"outcome:{o}"] - rows[f"baseline:{o}"]
    targets = [f"{kind}:{o}" for kind in (KINDS if effects else KINDS[:1]) for o in outcomes]
    means = rows.groupby("point")[targets].mean().sort_index()
    if len(means) != len(x):
        raise UserError(f"{len(means)} of {len(x)} design points evaluated; rerun the same command to finish")
    table = pd.DataFrame(x, columns=names).assign(point=np.arange(len(x)), split=split)
    return table[["point", "split", *names]].join(means.reset_index(drop=True))


# ---- fitting and validation ---------------------------------------------------------------------------
def fit_record(table, inputs: list[dict], outcomes, meta: dict, noise_floor: float = NOISE_FLOOR,
               restarts: int = RESTARTS) -> dict:
    """The emulator as a JSON-ready record: a GP per outcome (and effect) fitted to the training rows of
    `table` (design.parquet's layout), validated on its held-out rows. `meta` (design, config, seeds, ...)
    is stored as it is."""
    from sklearn.exceptions import ConvergenceWarning
    names = [i["name"] for i in inputs]
    targets = [c for c in table.columns if c.split(":", 1)[0] in KINDS]
    train = table[table.split == "train"]
    if len(train) < 2:
        raise UserError(f"samples={len(train)}: the emulator needs at least 2 training points")
    x = _unit(train[names].to_numpy(float), inputs)
    models = {}
    for t in targets:
        y = train[t].to_numpy(float)
        if not np.isfinite(y).all():
            raise UserError(f"{t}: not finite at {int((~np.isfinite(y)).sum())} training points")
        if np.all(y == y[0]):                  # e.g. an effect the levers cannot have in these years: exactly that
            models[t] = {"constant_output": float(y[0])}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = gp.fit(x, y, noise_floor, restarts)
        models[t] = gp.hyperparameters(model) | gp.scaling(model)
    record = {"format": FORMAT, "version": VERSION, **meta, "inputs": inputs, "outcomes": list(meta["outcomes"]),
              "targets": targets, "noise_floor": noise_floor,
              "train": {"x": train[names].to_numpy(float).tolist(), "y": {t: train[t].tolist() for t in targets}},
              "models": models}
    holdout = table[table.split == "holdout"]
    record["validation"] = validate(Emulator(record), holdout) if len(holdout) else []
    return record


def validate(emulator: "Emulator", holdout) -> list[dict]:
    """Per outcome and kind, on held-out runs: coverage of the 90% and 50% predictive intervals (shares),
    R^2, and the RMSE as a share of the outcome's sd over the training design (rmse_sd)."""
    from sklearn.metrics import r2_score
    pred = emulator.predict_many(holdout[emulator.names].to_dict("records"))
    out = []
    for t in emulator.targets:
        kind, outcome = t.split(":", 1)
        p = pred[(pred.kind == kind) & (pred.outcome == outcome)].sort_values("point", kind="stable")
        y = holdout[t].to_numpy(float)
        mean, sd = p["mean"].to_numpy(), p["sd"].to_numpy()
        rmse = float(np.sqrt(np.mean((y - mean) ** 2)))
        scale = float(np.std(emulator.record["train"]["y"][t]))        # ddof 0, as the fit's scaling
        out.append({"outcome": outcome, "kind": kind, "coverage_90": gp.coverage(y, mean, sd, 0.9),
                    "coverage_50": gp.coverage(y, mean, sd, 0.5),
                    "r2": _finite(r2_score(y, mean)) if len(y) > 1 else None,
                    "rmse_sd": _finite(rmse / scale) if scale > 0 else None, "n": int(len(y))})
    return out


# ---- the emulator -------------------------------------------------------------------------------------
class Emulator:
    """A trained emulator: instant predictions of every outcome and effect, with 50% and 90% intervals.

    `Emulator.load(path)` reads emulator.json (checksum-checked); `predict(point)` and `predict_many(points)`
    take {input name: value}; inputs not named take their defaults (`defaults`, `describe()`); a value outside
    the trained range, non-finite or of an unknown input is a UserError of one line."""

    def __init__(self, record: dict, source: str = "emulator"):
        self.record, self.source = record, source
        try:
            self.inputs = record["inputs"]
            self.names = [i["name"] for i in self.inputs]
            self.low, self.high = _bounds(self.inputs)
            self.defaults = {i["name"]: float(i["default"]) for i in self.inputs}
            self.targets = list(record["targets"])
            x = _unit(np.asarray(record["train"]["x"], float).reshape(-1, len(self.names)), self.inputs)
            self.models = {t: record["models"][t]["constant_output"] if "constant_output" in record["models"][t]
                           else gp.refit(x, np.asarray(record["train"]["y"][t], float), record["models"][t])
                           for t in self.targets}
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise UserError(f"{source}: not a hemsim emulator record ({type(e).__name__}: {e}); train it again "
                            "(hemsim-emulate train)") from None

    @classmethod
    def load(cls, path) -> "Emulator":
        """The emulator stored at `path` (emulator.json, or the folder holding it); a missing, damaged or
        changed file is a one-line UserError naming it."""
        from sim.io import read_checked_json
        path = Path(path)
        path = path / "emulator.json" if path.is_dir() else path
        if not path.is_file():
            raise UserError(f"emulator={path}: no such file (train one: hemsim-emulate train out=FOLDER)")
        record = read_checked_json(path)
        if record is None or "sha256" not in record:
            raise UserError(f"emulator={path}: damaged or changed since it was written (its SHA-256 does not "
                            "match); train it again")
        if record.get("format") != FORMAT or record.get("version") != VERSION:
            raise UserError(f"emulator={path}: not a {FORMAT} record of version {VERSION}")
        return cls(record, f"emulator={path}")

    def save(self, path) -> None:
        """Write the record as JSON with its SHA-256 (atomically)."""
        from sim.io import write_json
        write_json(self.record, Path(path), checksum=True)

    def describe(self):
        """The inputs as a table: name, kind (parameter | lever), low, high, default, default_from
        (config | neutral | midpoint)."""
        import pandas as pd
        return pd.DataFrame(self.inputs)[["name", "kind", "low", "high", "default", "default_from"]]

    def point(self, values: Mapping | None = None) -> np.ndarray:
        """The full input vector of a query: the named values (checked) and the defaults for the rest."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise UserError(f"{unknown[0]}: not an input of this emulator (inputs: {', '.join(self.names)})")
        out = np.array([self.defaults[n] for n in self.names])
        for i, n in enumerate(self.names):
            if n not in values:
                continue
            v = values[n]
            try:
                if isinstance(v, bool):
                    raise TypeError
                v = float(v)
            except (TypeError, ValueError):
                raise UserError(f"{n}={v!r}: not a number") from None
            if not math.isfinite(v):
                raise UserError(f"{n}={v}: not a finite number")
            if not self.low[i] <= v <= self.high[i]:
                raise UserError(f"{n}={v:g}: outside the emulator's trained range [{self.low[i]:g}, {self.high[i]:g}]")
            out[i] = v
        return out

    def predict(self, values: Mapping | None = None):
        """Every outcome and effect at one input point: a DataFrame with columns outcome, kind (outcome |
        effect), mean, sd, low_50, high_50, low_90, high_90 (the outcome's units; the sd and intervals are
        for a new run at one seed, the seed noise included). `attrs["inputs"]` holds the full point used and
        `attrs["defaulted"]` the inputs that took their defaults."""
        table = self.predict_many([values or {}]).drop(columns="point")
        table.attrs = {"inputs": dict(zip(self.names, map(float, self.point(values)))),
                       "defaulted": [n for n in self.names if n not in (values or {})]}
        return table

    def predict_many(self, points: list[Mapping]):
        """predict() at several points at once (e.g. a lever's values for a band): the same columns after
        `point` (the index in `points`)."""
        import pandas as pd
        x = np.array([self.point(p) for p in points]).reshape(-1, len(self.names))
        unit = _unit(x, self.inputs)
        frames = []
        for t in self.targets:
            kind, outcome = t.split(":", 1)
            if isinstance(self.models[t], float):             # a constant output: that value, no spread
                mean, sd = np.full(len(x), self.models[t]), np.zeros(len(x))
            else:
                mean, sd = gp.predict(self.models[t], unit)
            (l50, h50), (l90, h90) = (gp.interval(mean, sd, level) for level in LEVELS)
            frames.append(pd.DataFrame({"point": np.arange(len(x)), "outcome": outcome, "kind": kind, "mean": mean,
                                        "sd": sd, "low_50": l50, "high_50": h50, "low_90": l90, "high_90": h90}))
        table = pd.concat(frames, ignore_index=True)
        order = {t: i for i, t in enumerate(self.targets)}
        table["_order"] = [order[f"{k}:{o}"] for k, o in zip(table.kind, table.outcome)]
        return table.sort_values(["point", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)

    def sweep(self, name: str, values=None, at: Mapping | None = None, n: int = 21):
        """predict_many() along one input (`values`, default n evenly spaced over its range) with the others at
        `at` or their defaults: a band for a figure. The input's value is the column `name` after `point`."""
        if name not in self.names:
            raise UserError(f"{name}: not an input of this emulator (inputs: {', '.join(self.names)})")
        i = self.names.index(name)
        values = np.linspace(self.low[i], self.high[i], n) if values is None else np.asarray(values, float)
        table = self.predict_many([dict(at or {}) | {name: float(v)} for v in values])
        table.insert(1, name, values[table.point.to_numpy()])
        return table

    def validation(self):
        """The held-out validation as a table (VALIDATION_COLUMNS)."""
        import pandas as pd
        return pd.DataFrame(self.record.get("validation") or [], columns=VALIDATION_COLUMNS)


def _bounds(inputs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([float(i["low"]) for i in inputs]), np.array([float(i["high"]) for i in inputs])


def _unit(x: np.ndarray, inputs: list[dict]) -> np.ndarray:
    """Input values scaled to the unit box of the design's ranges."""
    low, high = _bounds(inputs)
    return (np.asarray(x, float) - low) / (high - low)


def _finite(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None

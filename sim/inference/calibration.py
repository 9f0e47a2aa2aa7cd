"""Calibration of the real world's behavioural parameters to the observed student stocks.

Each trial (a point of `hemsim-calibrate`'s search, an Optuna sweep over conf/calibrate.yaml) is a
simulation of the calibration years scored by the per-origin total-variation distance of destination
shares plus penalties on totals and on the gravity coefficients (validation.objective). After the search, the best trial's parameters
are written as a behaviour config (conf/behaviour/oecd_calibrated.yaml) with a report of each
estimate's near-optimal range and of the estimates that ended at a bound of their interval. Search
intervals must keep the signs the literature agrees on (`SIGNS`).
"""

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from sim.config import Config
from sim.inference.validation import Score, gravity_target, objective
from sim.io import write_json
from sim.model import HemsimModel, build_world
from sim.world import loaders

# The signs the literature agrees on (conf/calibrate.yaml; docs/ODD.md, Calibration): a search interval that allows the
# wrong sign is refused, since a fit through wrong-signed behaviour gives wrong policy answers.
SIGNS = {"quality": 1, "common_language": 1, "colonial_tie": 1, "cost": 1, "log_distance": -1, "diaspora": 1}
AT_BOUND = 0.01               # an estimate within 1% of the interval's width from a bound is reported as at it
RESULTS = "optimization_results.yaml"
TRIAL = "trial.json"          # each trial's objective and parameters, in its run folder
NEAR = 0.05                   # the near-optimal trials: objective within 5% of the best


@lru_cache(maxsize=2)
def _world(key):
    return build_world(_config_cache[key])


_config_cache: dict = {}


@lru_cache(maxsize=2)
def _observed(data_dir: str, first: int, last: int):
    obs = loaders.rescaled_oecd_stocks(data_dir).frame
    return obs[(obs.year >= first) & (obs.year <= last)]


@lru_cache(maxsize=2)
def target(data_dir: str, first: int, last: int, weight: float):
    """The observed gravity coefficients of the calibration years (fitted once per process), or None (weight 0)."""
    if weight == 0:
        return None
    return gravity_target(_observed(data_dir, first, last), loaders.load_cepii(data_dir).frame, weight)


def evaluate(config: Config) -> Score:
    """Run the configured world over the calibration years; its Score (objective, TVD, level, gravity terms)."""
    key = (config.world.data_dir, config.world.scale, config.world.seed, config.world.universities,
           config.world.researchers, config.start_year)
    _config_cache.setdefault(key, config)
    results = HemsimModel(config, _world(key)).run()
    flows = results.flows.to_pandas()
    c = config.calibration
    return objective(_observed(config.world.data_dir, c.first_year, c.last_year), flows[flows.kind == "enrolled"],
                     c.level_weight, target(config.world.data_dir, c.first_year, c.last_year, c.gravity_weight))


def uncertainty(sweep_dir: Path, best: float, within: float = NEAR) -> pd.DataFrame:
    """Each parameter's range over the near-optimal trials (objective within `within` of the best,
    relative): how well the data pin it down (a flat objective leaves a wide range)."""
    trials = [json.loads(p.read_text()) for p in sorted(sweep_dir.glob(f"trial_*/{TRIAL}"))]
    near = [t["params"] for t in trials if t["objective"] <= best * (1 + within)]
    frame = pd.DataFrame(near)
    return pd.DataFrame({"low": frame.min(), "high": frame.max(), "trials": len(frame)},
                        index=frame.columns if len(frame) else pd.Index([], dtype=object))


def write_calibration(sweep_dir: Path, output: Path, seconds: float, years: str = "2013-2016",
                      world: str = "oecd", bounds: dict | None = None) -> dict:
    """The best trial's parameters as a behaviour config, and a short report beside the trials."""
    result = yaml.safe_load((sweep_dir / RESULTS).read_text())
    nested: dict = {}      # the responses to policy are not here: world=oecd composes them (oecd_responses.yaml)
    for key, value in result["best_params"].items():
        _, group, name = key.split(".")
        nested.setdefault(group, {})[name] = round(float(value), 4)
    header = (f"# Fitted by hemsim-calibrate to the OECD/UIS stocks {years} (best objective "
              f"{result['best_value']:.4f}) within the sign bounds of conf/calibrate.yaml, with the level\n"
              f"# constants of world={world} (conf/world/{world}_levels.yaml); each estimate's near-optimal range: "
              f"{sweep_dir}/calibration_report.md\n")
    output.write_text(header + yaml.safe_dump(nested, sort_keys=True))
    spread = uncertainty(sweep_dir, result["best_value"])
    lines = ["# Calibration of the real world", "", f"Best objective: {result['best_value']:.4f} "
             f"(mean per-origin TVD + level and gravity penalties), in {seconds / 60:.1f} minutes.", "",
             f"Uncertainty: the range of each parameter over the {int(spread.trials.max()) if len(spread) else 0} "
             f"trials whose objective is within {NEAR:.0%} of the best (the bounds of conf/calibrate.yaml carry "
             "the signs the literature agrees on).", "",
             "| parameter | value | near-optimal range |", "|---|---|---|"] + \
            [f"| `{k}` | {v:.4f} | {spread.low.get(k, float('nan')):.3f} .. {spread.high.get(k, float('nan')):.3f} |"
             for k, v in result["best_params"].items()] + \
            ["", "At a bound of its search interval (the data push beyond what the literature allows; the fit "
             "there is a constrained one): " + (", ".join(f"`{k}`" for k in at_bounds(result["best_params"],
                                                                                        bounds or {})) or "none") + ".",
             "", f"Written to `{output}`; `hemsim-validate` reports the fit against the data."]
    (sweep_dir / "calibration_report.md").write_text("\n".join(lines) + "\n")
    return result


def at_bounds(best: dict[str, float], bounds: dict[str, tuple[float, float]]) -> list[str]:
    """The estimates that ended at a bound: the data push beyond the interval (said in the report)."""
    return [k for k, v in best.items() if k in bounds and min(v - bounds[k][0], bounds[k][1] - v)
            <= AT_BOUND * (bounds[k][1] - bounds[k][0])]


def wrong_sign(key: str, low: float, high: float) -> str | None:
    """Why a search interval for `key` (behaviour.section.name) allows a sign the literature rules out, or None."""
    sign = SIGNS.get(key.rsplit(".", 1)[-1])
    if sign == 1 and low <= 0 or sign == -1 and high >= 0:
        return (f"allows the wrong sign; the literature agrees it is {'> 0' if sign == 1 else '< 0'} "
                f"(conf/calibrate.yaml; docs/ODD.md, Calibration)")
    return None


def record_trial(output_dir: Path, score: Score, params: dict[str, float]) -> None:
    """A trial's objective, its terms and parameters, in its run folder (`uncertainty` reads them back)."""
    write_json({"objective": score.value, "tvd": score.tvd, "level": score.level, "gravity": score.gravity,
                "params": params}, Path(output_dir) / TRIAL)

"""`hemsim-calibrate`: fit the real world's behavioural parameters to observed student stocks.

    hemsim-calibrate                                   # 120 CMA-ES trials, 2 at a time, ~15 min
    hemsim-calibrate hydra.sweeper.n_trials=400 hydra/launcher=slurm hydra.launcher.partition=short

Each trial is a simulation of 2013-2016 (conf/calibrate.yaml) scored by the per-origin total-
variation distance of destination shares plus a penalty on totals. The best parameters are written
to conf/behaviour/oecd_calibrated.yaml (used by `world=oecd`) with a fit report in the sweep dir.
The result is reproducible from the sampler's seed (hydra.sweeper.sampler.seed).
"""

import logging
import sys
import time
from functools import lru_cache
from pathlib import Path

import hydra
import pandas as pd
import yaml
from omegaconf import DictConfig

from experiments import preflight
from sim.config import Config
from sim.errors import UserError

# The signs the literature agrees on (conf/calibrate.yaml; docs/ODD.md, Calibration): a search interval that allows the
# wrong sign is refused, since a fit through wrong-signed behaviour gives wrong policy answers.
SIGNS = {"quality": 1, "common_language": 1, "colonial_tie": 1, "cost": 1, "log_distance": -1, "diaspora": 1}
AT_BOUND = 0.01               # an estimate within 1% of the interval's width from a bound is reported as at it
RESULTS = "optimization_results.yaml"
TRIAL = "trial.json"          # each trial's objective and parameters, in its run folder
NEAR = 0.05                   # the near-optimal trials: objective within 5% of the best


@lru_cache(maxsize=2)
def _world(key):
    from sim.model import build_world
    return build_world(_config_cache[key])


_config_cache: dict = {}


@lru_cache(maxsize=2)
def _observed(data_dir: str, first: int, last: int):
    from sim.world import loaders
    obs = loaders.rescaled_oecd_stocks(data_dir).frame
    return obs[(obs.year >= first) & (obs.year <= last)]


def evaluate(config: Config) -> tuple[float, float, float]:
    """Run the configured world over the calibration years; (objective, TVD, level term)."""
    from sim.analysis.validation import objective
    from sim.model import HemsimModel
    key = (config.world.data_dir, config.world.scale, config.world.seed, config.world.universities,
           config.world.researchers, config.start_year)
    _config_cache.setdefault(key, config)
    results = HemsimModel(config, _world(key)).run()
    flows = results.flows.to_pandas()
    c = config.calibration
    return objective(_observed(config.world.data_dir, c.first_year, c.last_year), flows[flows.kind == "enrolled"],
                     c.level_weight)


@hydra.main(config_path=str(preflight.CONF_DIR), config_name="calibrate", version_base="1.3")
def _trial(cfg: DictConfig) -> float:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        config = preflight.to_config(cfg)
        value, tvd, level = evaluate(config)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"trial: objective {value:.4f} (TVD {tvd:.4f}, level {level:.4f})")
    from hydra.core.hydra_config import HydraConfig
    from sim.io import write_json
    params = {k: float(v) for k, v in (o.split("=", 1) for o in HydraConfig.get().overrides.task)
              if k.startswith("behaviour.")}
    write_json({"objective": value, "tvd": tvd, "level": level, "params": params},
               Path(HydraConfig.get().runtime.output_dir) / TRIAL)
    return value


def uncertainty(sweep_dir: Path, best: float, within: float = NEAR) -> pd.DataFrame:
    """Each parameter's range over the near-optimal trials (objective within `within` of the best,
    relative): how well the data pin it down (a flat objective leaves a wide range)."""
    import json
    trials = [json.loads(p.read_text()) for p in sorted(sweep_dir.glob(f"trial_*/{TRIAL}"))]
    near = [t["params"] for t in trials if t["objective"] <= best * (1 + within)]
    frame = pd.DataFrame(near)
    return pd.DataFrame({"low": frame.min(), "high": frame.max(), "trials": len(frame)},
                        index=frame.columns if len(frame) else pd.Index([], dtype=object))


def write_calibration(sweep_dir: Path, output: Path, seconds: float, years: str = "2013-2016",
                      world: str = "oecd", bounds: dict | None = None) -> dict:
    """The best trial's parameters as a behaviour config, and a short report beside the trials."""
    result = yaml.safe_load((sweep_dir / RESULTS).read_text())
    nested: dict = {"choice": {"nest": 0.05}}
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
             f"(mean per-origin TVD + level penalty), in {seconds / 60:.1f} minutes.", "",
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


def intervals(argv: list[str]) -> dict[str, tuple[float, float]]:
    """The search intervals the command line asks for (conf/calibrate.yaml and overrides), checked:
    low < high, finite, and within the literature's sign; a one-line error (exit 2) otherwise."""
    import math
    import re
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    overrides = [a for a in argv if not a.startswith("-") and "=" in a]
    swept = {k: v for k, v in (a.split("=", 1) for a in overrides) if "(" in v or "," in v}  # key=interval(a,b)
    fixed = [a for a in overrides if a.split("=", 1)[0] not in swept]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(preflight.CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="calibrate", overrides=fixed, return_hydra_config=True)
    except HydraException as e:
        preflight.fail(preflight.explain(e, fixed, preflight._fields_of))
    out = {}
    for key, spec in (OmegaConf.to_container(cfg.hydra.sweeper.params) | swept).items():
        name = key if key in swept else f"hydra.sweeper.params.{key}"     # as the user wrote it
        found = re.fullmatch(r"\s*interval\(\s*([^,]+),\s*([^)]+)\)\s*", str(spec))
        if not found:
            continue
        try:
            low, high = float(found[1]), float(found[2])
        except ValueError:
            preflight.fail(f"{name}={spec}: the bounds must be numbers, e.g. interval(0.05, 2.0)")
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            preflight.fail(f"{name}={spec}: no value satisfies these bounds "
                           f"(they must be finite with low < high)")
        sign = SIGNS.get(key.rsplit(".", 1)[-1])
        if sign == 1 and low <= 0 or sign == -1 and high >= 0:
            preflight.fail(f"{name}={spec}: allows the wrong sign; the literature agrees it is "
                           f"{'> 0' if sign == 1 else '< 0'} (conf/calibrate.yaml; docs/ODD.md, Calibration)")
        out[key] = (low, high)
    GlobalHydra.instance().clear()
    return out


def at_bounds(best: dict[str, float], bounds: dict[str, tuple[float, float]]) -> list[str]:
    """The estimates that ended at a bound: the data push beyond the interval (said in the report)."""
    return [k for k, v in best.items() if k in bounds and min(v - bounds[k][0], bounds[k][1] - v)
            <= AT_BOUND * (bounds[k][1] - bounds[k][0])]


def main() -> None:
    argv = sys.argv[1:]
    bounds = intervals(argv)
    if "-m" not in argv and "--multirun" not in argv:
        sys.argv.insert(1, "-m")
    sweep_dir = Path(next((a.split("=", 1)[1] for a in argv if a.startswith("hydra.sweep.dir=")),
                          "results/calibration/oecd"))
    output = Path(next((a.split("=", 1)[1] for a in argv if a.startswith("calibration.output=")),
                       "conf/behaviour/oecd_calibrated.yaml"))
    given = dict(a.split("=", 1) for a in argv if "=" in a and not a.startswith("-"))
    years = f"{given.get('calibration.first_year', 2013)}-{given.get('calibration.last_year', 2016)}"
    started = time.perf_counter()
    _trial()
    result = write_calibration(sweep_dir, output, time.perf_counter() - started, years, given.get("world", "oecd"),
                               bounds)
    stuck = at_bounds(result["best_params"], bounds)
    print(f"best objective {result['best_value']:.4f}; parameters written to {output}"
          + (f"; at a bound of their interval (the data push beyond it): {', '.join(stuck)}" if stuck else ""))


if __name__ == "__main__":
    main()

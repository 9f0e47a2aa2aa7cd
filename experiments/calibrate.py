"""`hemsim-calibrate`: fit the real world's behavioural parameters to observed student stocks.

    hemsim-calibrate                                   # 120 CMA-ES trials, 2 at a time, ~15 min
    hemsim-calibrate hydra.sweeper.n_trials=400 hydra/launcher=slurm hydra.launcher.partition=short

Each trial is a simulation of 2013-2016 (conf/calibrate.yaml) scored by the per-origin total-
variation distance of destination shares plus a penalty on totals (sim/inference/calibration.py).
The best parameters are written to conf/behaviour/oecd_calibrated.yaml (used by `world=oecd`) with a
fit report in the sweep dir. The result is reproducible from the sampler's seed
(hydra.sweeper.sampler.seed).
"""

import logging
import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

from experiments import preflight
from sim.errors import UserError

@hydra.main(config_path=str(preflight.CONF_DIR), config_name="calibrate", version_base="1.3")
def _trial(cfg: DictConfig) -> float:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.inference import calibration
    try:
        config = preflight.to_config(cfg)
        value, tvd, level = calibration.evaluate(config)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"trial: objective {value:.4f} (TVD {tvd:.4f}, level {level:.4f})")
    from hydra.core.hydra_config import HydraConfig
    params = {k: float(v) for k, v in (o.split("=", 1) for o in HydraConfig.get().overrides.task)
              if k.startswith("behaviour.")}
    calibration.record_trial(HydraConfig.get().runtime.output_dir, value, tvd, level, params)
    return value


def intervals(argv: list[str]) -> dict[str, tuple[float, float]]:
    """The search intervals the command line asks for (conf/calibrate.yaml and overrides), checked:
    low < high, finite, and within the literature's sign; a one-line error (exit 2) otherwise."""
    import math
    import re
    from sim.inference.calibration import wrong_sign
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
        wrong = wrong_sign(key, low, high)
        if wrong:
            preflight.fail(f"{name}={spec}: {wrong}")
        out[key] = (low, high)
    GlobalHydra.instance().clear()
    return out


def main() -> None:
    from sim.inference.calibration import at_bounds, write_calibration
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

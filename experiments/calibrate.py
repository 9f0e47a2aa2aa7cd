"""`hemsim-calibrate`: fit the real world's behavioural parameters to observed student stocks.

    hemsim-calibrate                                   # 120 CMA-ES trials, 2 at a time, ~15 min
    hemsim-calibrate hydra.sweeper.n_trials=400 hydra/launcher=slurm hydra.launcher.partition=short
    hemsim-calibrate --posterior                       # ABC-SMC posterior (conf/posterior.yaml), ~1 hour
    hemsim-calibrate --posterior posterior.population=32 posterior.generations=3 posterior.output=/tmp/post

Each trial is a simulation of 2013-2016 (conf/calibrate.yaml) scored by the per-origin total-
variation distance of destination shares plus a penalty on totals (sim/inference/calibration.py).
The best parameters are written to conf/behaviour/oecd_calibrated.yaml (used by `world=oecd`) with a
fit report in the sweep dir. The result is reproducible from the sampler's seed
(hydra.sweeper.sampler.seed). With --posterior, the same simulations and objective drive ABC-SMC (pyabc)
over the same intervals as uniform priors and write a posterior beside the point estimate
(results/calibration/oecd_posterior/: abc.db, posterior.parquet, posterior_report.md).
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
        score = calibration.evaluate(config)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"trial: objective {score.value:.4f} (TVD {score.tvd:.4f}, level {score.level:.4f}, "
          f"gravity {score.gravity:.4f})")
    from hydra.core.hydra_config import HydraConfig
    params = {k: float(v) for k, v in (o.split("=", 1) for o in HydraConfig.get().overrides.task)
              if k.startswith("behaviour.")}
    calibration.record_trial(HydraConfig.get().runtime.output_dir, score, params)
    return score.value


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


def posterior_config(overrides: list[str], bounds: dict[str, tuple[float, float]], scale: float):
    """The model config of a posterior's particles: conf/calibrate.yaml with the command line's fixed
    overrides, world.scale=posterior.scale, and each prior's key at its midpoint (an unknown key fails here,
    with the keys allowed there)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException
    given = overrides + [f"world.scale={scale!r}"] + [f"{k}={(lo + hi) / 2!r}" for k, (lo, hi) in bounds.items()]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(preflight.CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="calibrate", overrides=given + ["hydra/launcher=basic"])
        return preflight.to_config(cfg)
    except UserError as e:
        preflight.fail(str(e))
    except (HydraException, OmegaConfBaseException) as e:
        preflight.fail(preflight.explain(e, given, preflight._fields_of))
    finally:
        GlobalHydra.instance().clear()


def _point_estimate(path: Path) -> dict[str, float]:
    """The point calibration's parameters (conf/behaviour/oecd_calibrated.yaml), flat, for the report."""
    import yaml
    try:
        nested = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {f"behaviour.{group}.{k}": float(v) for group, values in nested.items() if isinstance(values, dict)
            for k, v in values.items() if isinstance(v, (int, float))}


def posterior(argv: list[str]) -> None:
    """`hemsim-calibrate --posterior [posterior.<key>=<value> ...] [config overrides]`: ABC-SMC over the search
    intervals of conf/calibrate.yaml with the settings of conf/posterior.yaml (sim/inference/posterior.py).
    Every input is checked before anything is written (one line, exit 2)."""
    from sim.inference import calibration, posterior as abc
    unknown = next((a for a in argv if a.startswith("-") or "=" not in a), None)
    if unknown:
        preflight.fail(f"{unknown}: not an override of hemsim-calibrate --posterior (give posterior.<key>=<value> "
                       f"or a config key=value; conf/posterior.yaml lists the posterior's keys)")
    mine = [a for a in argv if a.startswith("posterior.")]
    rest = [a.removeprefix("hydra.sweeper.params.") for a in argv if not a.startswith("posterior.")]  # a prior
    for a in rest:
        preflight._check_form(a)        # no keys added with '+' or removed with '~', no ${...}
        key = a.split("=", 1)[0].lstrip("+~")
        if key == "world.scale":
            preflight.fail(f"{a}: with --posterior the scale is posterior.scale (conf/posterior.yaml)")
        if key.startswith("hydra"):
            preflight.fail(f"{a}: not used by --posterior (its output folder is posterior.output; the priors are "
                           f"hydra.sweeper.params.* or key=interval(low, high))")
    try:
        settings = abc.load_settings(mine)
    except UserError as e:
        preflight.fail(str(e))
    bounds = intervals(rest)
    fixed = [a for a in rest if not ("(" in a.split("=", 1)[1] or "," in a.split("=", 1)[1])
             and not a.startswith("hydra")]
    bounds = {k: v for k, v in bounds.items() if k not in {a.split("=", 1)[0] for a in fixed}}  # a value: fixed
    config = posterior_config(fixed, bounds, settings.scale)
    try:
        abc.check_bounds(config, bounds)
        abc.check_history(Path(settings.output) / abc.DB, settings.resume)
        c = config.calibration
        observed = calibration._observed(config.world.data_dir, c.first_year, c.last_year)
        alone = settings.n_procs == 1 and settings.sampler == "local"     # else one Numba thread a worker
        gravity = calibration.target(config.world.data_dir, c.first_year, c.last_year, c.gravity_weight)
        model = abc.Discrepancy(abc.HemsimSimulator(config, threads=None if alone else 1), observed,
                                c.level_weight, gravity, settings.seed)
        meta = {"world": config.world.kind, "years": f"{c.first_year}-{c.last_year}", "start_year": config.start_year,
                "level_weight": c.level_weight, "gravity_weight": c.gravity_weight, "overrides": fixed}
        record = abc.run(model, bounds, settings, meta, point=_point_estimate(Path(c.output)))
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    last = record["generations"]
    print(f"posterior: {record['particles']} particles, generation {last['generation'][-1]}, epsilon "
          f"{last['epsilon'][-1]:.4f}, {record['total_simulations']} simulations in {record['minutes']:.1f} min; "
          f"written to {settings.output}/ ({abc.PARQUET}, {abc.DB}, {abc.REPORT})")


def main() -> None:
    from sim.inference.calibration import at_bounds, write_calibration
    argv = sys.argv[1:]
    if "--posterior" in argv:
        posterior([a for a in argv if a != "--posterior"])
        return
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

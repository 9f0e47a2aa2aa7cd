"""hemsim as an EMA Workbench model: exploratory modelling over uncertain behaviour and policy levers.

    from ema_workbench import perform_experiments
    from sim.ema import ema_model
    model = ema_model(years=6, seeds=(0, 1), **{"world.students": 50_000})
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=8)

The uncertainties are behavioural parameters and the levers are policy levers, with the ranges of a
design in `conf/uncertainty/<name>.yaml` (`design=`); the outcomes are WORLD metrics averaged over
the final years of each run. Seeds are EMA replications: every scenario and policy runs with the same
seeds, so two policies are compared on the same dice (common random numbers). Each outcome comes as
its mean over the seeds (`papers`: shape (experiments,), what PRIM and feature scoring read) and
seed by seed (`papers_by_seed`: (experiments, seeds)). `point_outcomes` runs one point, the function the EMA model wraps and
hemsim-sensitivity calls: inside one process the world is built once per world configuration and
the compiled kernels are loaded once, so a point costs only its simulation.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import yaml

from sim.config import Config, Lever, validate
from sim.errors import ConfigError
from sim.params import CONF_DIR, config_from
from sim.policies import LEVERS

DESIGN_DIR = CONF_DIR / "uncertainty"


@dataclass(frozen=True)
class Design:
    """What varies and what is measured: config key -> (low, high); lever -> (low, high); outcomes."""
    name: str
    parameters: dict
    levers: dict
    outcomes: tuple
    lever_start: int = 1
    final_years: int = 3


def load_design(name: str = "default") -> Design:
    """conf/uncertainty/<name>.yaml (or a path to a design file), checked: every key, lever and outcome
    known, every range finite and increasing and within the lever's own range (ConfigError naming the
    file and key otherwise)."""
    from pathlib import Path
    from sim.results import METRIC_ORDER
    path = Path(name) if str(name).endswith((".yaml", ".yml")) else DESIGN_DIR / f"{name}.yaml"
    if not path.is_file():
        found = ", ".join(sorted(p.stem for p in DESIGN_DIR.glob("*.yaml")))
        raise ConfigError(f"design={name}: no {path} (designs: {found}, or a path to a .yaml file)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not a readable YAML design ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a design is a mapping with parameters, levers and outcomes")
    unknown = set(raw) - {"parameters", "levers", "outcomes", "lever_start", "final_years"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]} (allowed: parameters, levers, outcomes, "
                          f"lever_start, final_years)")
    parameters = {k: _range(path, f"parameters.{k}", v) for k, v in (raw.get("parameters") or {}).items()}
    levers = {k: _range(path, f"levers.{k}", v) for k, v in (raw.get("levers") or {}).items()}
    for lever, (low, high) in levers.items():
        if lever not in LEVERS:
            raise ConfigError(f"{path}: levers.{lever}: not a lever (levers: {', '.join(LEVERS)})")
        spec = LEVERS[lever]
        if spec.unit == "flag":
            raise ConfigError(f"{path}: levers.{lever}: a flag (0 or 1), not a range to sample; set it in a scenario")
        if low < spec.low or high > spec.high:
            raise ConfigError(f"{path}: levers.{lever}=[{low}, {high}]: outside the lever's range "
                              f"[{spec.low}, {spec.high}]")
    outcomes = tuple(raw.get("outcomes") or ())
    for o in outcomes:
        if o not in METRIC_ORDER:
            raise ConfigError(f"{path}: outcomes: {o} is not a metric (metrics: {', '.join(METRIC_ORDER[:6])}, ...)")
    if not outcomes:
        raise ConfigError(f"{path}: outcomes: name at least one metric")
    design = Design(name, parameters, levers, outcomes, int(raw.get("lever_start", 1)), int(raw.get("final_years", 3)))
    base = Config()
    for key in parameters:                                    # every parameter is a number in the config
        if not isinstance(_get(base, key, path), (int, float)):
            raise ConfigError(f"{path}: parameters.{key}: not a numeric config value")
    return design


def _range(path, key: str, value) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {key}={value!r}: must be [low, high], two numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"{path}: {key}=[{low}, {high}]: must be finite with low < high")
    return low, high


def _get(cfg, key: str, where):
    obj = cfg
    for part in key.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{where}: {key}: not a config key")
        obj = getattr(obj, part)
    return obj


def _set(cfg, key: str, value: float) -> None:
    *parents, last = key.split(".")
    obj = cfg
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, last, type(getattr(obj, last))(value))


def configure(base: Config, design: Design, point: dict, seed: int) -> Config:
    """The Config of one point: the base with the point's parameters set and its levers in force for every
    country from `lever_start` years after the start (after the scenario's own levers), and the seed."""
    missing = (set(design.parameters) | set(design.levers)) - set(point)
    extra = set(point) - set(design.parameters) - set(design.levers)
    if missing or extra:
        raise ConfigError(f"point: {'missing ' + sorted(missing)[0] if missing else 'unknown ' + sorted(extra)[0]} "
                          f"(the design {design.name} has {', '.join([*design.parameters, *design.levers])})")
    cfg = copy.deepcopy(base)
    for key in design.parameters:
        _set(cfg, key, point[key])
    start = cfg.start_year + design.lever_start
    cfg.scenario.levers = [*cfg.scenario.levers,
                           *(Lever(lever=k, value=float(point[k]), countries="all", start=start) for k in design.levers)]
    cfg.seed = int(seed)
    cfg.progress = False
    return validate(cfg)


_WORLDS: dict = {}       # this process's built worlds, by world_key (a few: a design rarely varies the world)


def cached_world(cfg: Config):
    """The world of this config, built once per process (and per world configuration): EMA points,
    sensitivity chunks and the dashboard's resets reuse it."""
    from sim.model import build_world
    key = world_key(cfg)
    if key not in _WORLDS:
        if len(_WORLDS) >= 4:
            _WORLDS.pop(next(iter(_WORLDS)))
        _WORLDS[key] = build_world(cfg)
    return _WORLDS[key]


def world_key(cfg: Config) -> str:
    """What the world is built from: its config, study durations and the start year."""
    return repr((cfg.world, cfg.behaviour.study, cfg.behaviour.progression, cfg.start_year))


def run_point(cfg: Config):
    """Run one configured point (the world built once per world configuration in this process)."""
    from sim.model import HemsimModel
    return HemsimModel(cfg, cached_world(cfg)).run()


def summarise(metrics, outcomes, final_years: int) -> dict[str, float]:
    """{outcome: WORLD value averaged over the final years} from a run's metrics table (pyarrow)."""
    m = metrics.to_pandas()
    m = m[(m.country == "WORLD") & m.metric.isin(outcomes)]
    last = sorted(m.year.unique())[-final_years:]
    means = m[m.year.isin(last)].groupby("metric").value.mean()
    return {o: float(means.get(o, np.nan)) for o in outcomes}


def point_outcomes(base: Config, design: Design, point: dict, seed: int) -> dict[str, float]:
    """One point, one seed: the design's outcomes."""
    cfg = configure(base, design, point, seed)
    return summarise(run_point(cfg).metrics, design.outcomes, design.final_years)


def ema_model(design: str = "default", seeds=(0,), name: str = "hemsim", levers: bool = True,
              posterior_draws: int = 0, **overrides):
    """An `ema_workbench.ReplicatorModel` of hemsim: uncertainties, levers and outcomes from the design,
    the seeds as replications (common random numbers across scenarios and policies). `overrides` are
    config keywords as for HemsimModel (e.g. years=6, world="oecd", scenario="post_study_work",
    **{"world.students": 50_000}); `levers=False` leaves the policy to the scenario (no EMA levers).
    `posterior_draws=N`: the uncertainty is the real world's posterior instead of the design's ranges: one
    integer uncertainty `uncertainty.draw` in 0..N-1, each a weighted particle of `uncertainty.posterior`
    (sim/parameter_draws.py), so EMA's scenarios are posterior draws and its replications seeds."""
    from dataclasses import replace
    from ema_workbench import ArrayOutcome, IntegerParameter, RealParameter, ReplicatorModel, ScalarOutcome
    d = load_design(design)
    if not levers:
        d = replace(d, levers={})
    if isinstance(posterior_draws, bool) or not isinstance(posterior_draws, int) or posterior_draws in (1,) \
            or posterior_draws < 0:
        raise ConfigError(f"posterior_draws={posterior_draws!r}: 0 (the design's ranges) or an integer >= 2")
    if posterior_draws:
        d = replace(d, parameters={})
        overrides = overrides | {"uncertainty.source": "posterior", "uncertainty.draw": 0}   # checks the file now
    base = config_from({"progress": False} | overrides)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ConfigError(f"seeds={seeds!r}: must be a non-empty list of integers >= 0")

    def function(**kwargs):
        seed = kwargs.pop("seed")
        point_base = base
        if posterior_draws:
            point_base = copy.deepcopy(base)
            point_base.uncertainty.draw = int(kwargs.pop("uncertainty.draw"))
        return point_outcomes(point_base, d, kwargs, seed)

    model = ReplicatorModel(name, function=function)
    model.uncertainties = [RealParameter(k, lo, hi) for k, (lo, hi) in d.parameters.items()] + \
        ([IntegerParameter("uncertainty.draw", 0, posterior_draws - 1)] if posterior_draws else [])
    model.levers = [RealParameter(k, lo, hi) for k, (lo, hi) in d.levers.items()]
    # the mean over seeds (one number per experiment: what PRIM and feature scoring read) and each seed's value
    model.outcomes = [*(ScalarOutcome(o, variable_name=o, function=np.mean) for o in d.outcomes),
                      *(ArrayOutcome(f"{o}_by_seed", variable_name=o) for o in d.outcomes)]
    model.replications = [{"seed": int(s)} for s in seeds]
    return model

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

import numpy as np

from sim.config import Config, Lever
from sim.design import DESIGN_DIR, Design, _get, load_design, set_key  # noqa: F401  (the design's home; imported from here too)
from sim.errors import ConfigError
from sim.params import config_from
from sim.parameter_draws import resolve

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
        set_key(cfg, key, point[key])
    start = cfg.start_year + design.lever_start
    cfg.scenario.levers = [*cfg.scenario.levers,
                           *(Lever(lever=k, value=float(point[k]), countries="all", start=start) for k in design.levers)]
    cfg.seed = int(seed)
    cfg.progress = False
    return resolve(cfg)


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

"""A posterior over behavioural parameters by ABC-SMC (pyabc), beside the point calibration.

The point calibration (calibration.py) finds one parameter set; its "near-optimal range" is not an
uncertainty. Here the same simulation and the same objective (validation.objective: per-origin TVD of
destination shares + a penalty on totals) drive approximate Bayesian computation by sequential Monte
Carlo (Toni et al. 2009; Beaumont et al. 2009; pyabc: Klinger, Rickert & Hasenauer 2018; Schaelte et al.
2022): priors uniform over the search intervals of conf/calibrate.yaml, a particle accepted when its
objective is within epsilon, epsilon the weighted median of the previous generation's objectives.
The model returns the objective itself (a discrepancy, Wilkinson 2013), so pyabc's distance is the
identity on it and pyabc's history stores three numbers a particle, not its flows.

Reproducible: pyabc draws its proposals from numpy's global generator, and its multicore samplers reseed
each worker from the operating system (`np.random.seed()`) and collect particles in completion order, so
only the SingleCoreSampler gives the same posterior for the same seed. `SeededSampler` (pyabc's
MappingSampler, reseeded by counter) gives the same particles whatever the number of processes: task i
of generation t seeds numpy from (seed, t, i), results come back in task order, and each particle's run
seed is a hash of its parameters (the model is a pure function). sampler=dask uses pyabc's
DaskDistributedSampler (a cluster; not reproducible bit for bit: particles arrive as workers finish).

The record is pyabc's SQLite history (`abc.db`: resumable with ABCSMC.load, readable with pyabc's
History and `abc-server`); `posterior.parquet` is the last generation's weighted particles in long form
with a checksummed sidecar (`posterior.json`), read back by `read_posterior` (no pickle anywhere).
"""

import copy
import dataclasses
import hashlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import MappingSampler
from pyabc.weighted_statistics import effective_sample_size, weighted_mean, weighted_quantile, weighted_std

from sim.config import Config, validate
from sim.errors import ConfigError, UserError
from sim.inference.validation import GravityTarget, objective
from sim.posterior_file import (COLUMNS, PARQUET, SCHEMA, SIDECAR, WEIGHT_TOLERANCE,  # noqa: F401  (the format's home)
                                read_posterior, wide, write_particles)

CONF = Path(__file__).resolve().parents[2] / "conf" / "posterior.yaml"
DB, REPORT, FIGURE = "abc.db", "posterior_report.md", "posterior"
SAMPLERS = ("local", "dask")
TRANSITIONS = ("normal", "local")   # pyabc's MultivariateNormalTransition | LocalTransition (per-particle covariance)
X0 = {"objective": 0.0, "tvd": 0.0, "level": 0.0, "gravity": 0.0}   # the data against themselves: pyabc's observed statistics
MAX_SEED = 2 ** 32                                   # numpy's legacy global seed


@dataclass
class Settings:
    """conf/posterior.yaml (`posterior.<key>=` on the command line); `check` says what is allowed."""
    population: int = 96
    generations: int = 8
    max_simulations: int = 2600
    min_epsilon: float = 0.0
    scale: float = 1000.0
    sampler: str = "local"
    transition: str = "normal"
    n_procs: int = 2
    dask_address: str | None = None
    seed: int = 0
    output: str = "results/calibration/oecd_posterior"
    resume: bool = False


# ---- settings ----------------------------------------------------------------------------------------
def load_settings(overrides: list[str], path: Path = CONF) -> Settings:
    """conf/posterior.yaml with `posterior.<key>=<value>` overrides, checked; a UserError naming the key
    otherwise (an unknown key lists the allowed ones)."""
    import yaml
    raw = dict((yaml.safe_load(path.read_text()) or {}).get("posterior") or {})
    for item in overrides:
        key, _, value = item.partition("=")
        try:
            raw[key.removeprefix("posterior.")] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"{item}: not a value (give a number, a word or true/false)") from None
    allowed = [f.name for f in dataclasses.fields(Settings)]
    for key, value in raw.items():
        if key not in allowed:
            raise ConfigError(f"unknown key 'posterior.{key}' (allowed under posterior: {', '.join(allowed)})")
        raw[key] = _typed(key, value)
    return check(Settings(**raw))


def _typed(key: str, value):
    """A value of the field's type (an int where a number is allowed), else a one-line error."""
    kind = {f.name: f.type for f in dataclasses.fields(Settings)}[key]
    if key == "dask_address" and value is None:
        return None
    wanted = {int: (int,), float: (int, float), bool: (bool,), str: (str,)}.get(kind, (str,))
    if isinstance(value, bool) and kind is not bool or not isinstance(value, wanted):
        what = {int: "a whole number", float: "a number", bool: "true or false"}.get(kind, "a string")
        raise ConfigError(f"posterior.{key}={value}: must be {what}")
    return float(value) if kind is float else value


def check(s: Settings) -> Settings:
    """What a posterior needs: at least 2 particles a generation, a finite positive scale, known sampler."""
    if s.population < 2:
        raise ConfigError(f"posterior.population={s.population}: must be an integer >= 2")
    if s.generations < 1:
        raise ConfigError(f"posterior.generations={s.generations}: must be an integer >= 1")
    if s.max_simulations < s.population:
        raise ConfigError(f"posterior.max_simulations={s.max_simulations}: must be >= posterior.population="
                          f"{s.population}")
    if not (math.isfinite(s.min_epsilon) and s.min_epsilon >= 0):
        raise ConfigError(f"posterior.min_epsilon={s.min_epsilon}: must be a finite number >= 0")
    if not (math.isfinite(s.scale) and s.scale > 0):
        raise ConfigError(f"posterior.scale={s.scale}: must be a finite number > 0 (real students per agent)")
    if s.sampler not in SAMPLERS:
        raise ConfigError(f"posterior.sampler={s.sampler}: unknown sampler (allowed: {', '.join(SAMPLERS)})")
    if s.transition not in TRANSITIONS:
        raise ConfigError(f"posterior.transition={s.transition}: unknown proposal kernel (allowed: "
                          f"{', '.join(TRANSITIONS)})")
    if s.n_procs < 1:
        raise ConfigError(f"posterior.n_procs={s.n_procs}: must be an integer >= 1")
    if not 0 <= s.seed < MAX_SEED:
        raise ConfigError(f"posterior.seed={s.seed}: must be in [0, 2^32)")
    if not s.output.strip():
        raise ConfigError("posterior.output='': give a folder")
    return s


def check_bounds(config: Config, bounds: dict[str, tuple[float, float]]) -> None:
    """Each prior's key exists in the config and both ends of its interval pass sim.config.validate (a share
    stays in [0, 1], ...): the whole prior is valid before any simulation."""
    if not bounds:
        raise ConfigError("no parameter to infer: hydra.sweeper.params of conf/calibrate.yaml has no interval(...)")
    for key, ends in bounds.items():
        for end in ends:
            set_parameter(copy.deepcopy(config), key, end, validated=True)


def set_parameter(config: Config, key: str, value: float, validated: bool = False) -> Config:
    """config with `key` (dotted: behaviour.choice.cost) set to value (sim/design.set_key: unknown keys are a
    one-line error), validated if asked."""
    from sim.design import set_key
    set_key(config, key, value)
    return validate(config) if validated else config


# ---- the model: a simulation at a particle's parameters, scored ----------------------------------------
def particle_seed(seed: int, params: dict[str, float]) -> int:
    """The run seed of a particle: a hash of the base seed and its parameters (exact float bits), so the
    model is a pure function of them and a re-run or a resumed run repeats every simulation."""
    text = json.dumps([seed, sorted((k, float(v).hex()) for k, v in params.items())])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1   # < 2^63


@dataclass
class HemsimSimulator:
    """A hemsim run of `config` at given parameters and seed; its enrolled stocks (year, origin,
    destination, students): what validation.objective scores. The real world and the tests' synthetic
    worlds are both this, with another config."""
    config: Config
    threads: int | None = None      # Numba threads in this process (1 in each of several workers)

    def __call__(self, params: dict[str, float], seed: int) -> pd.DataFrame:
        from sim.ema import cached_world      # the world built once per process (a worker keeps it)
        from sim.model import HemsimModel
        if self.threads:
            import numba
            numba.set_num_threads(self.threads)
        cfg = copy.deepcopy(self.config)
        for key, value in params.items():
            set_parameter(cfg, key, value)
        cfg.seed, cfg.progress = seed, False
        flows = HemsimModel(cfg, cached_world(self.config)).run().flows.to_pandas()
        return flows[flows.kind == "enrolled"][["year", "origin", "destination", "students"]]


@dataclass
class Discrepancy:
    """pyabc's model: simulate at a particle's parameters (run seed from them) and score the stocks against
    the observed ones with the calibration's objective. Returns {objective, tvd, level, gravity}."""
    simulate: object                 # (params, seed) -> enrolled stocks
    observed: pd.DataFrame
    level_weight: float
    gravity: GravityTarget | None    # the gravity moment (None: not scored)
    seed: int

    def __call__(self, parameters) -> dict:
        params = {k: float(parameters[k]) for k in sorted(parameters.keys())}
        score = objective(self.observed, self.simulate(params, particle_seed(self.seed, params)),
                          self.level_weight, self.gravity)
        return {"objective": score.value, "tvd": score.tvd, "level": score.level, "gravity": score.gravity}


def objective_distance(x: dict, x_0: dict) -> float:
    """pyabc's distance: the model already scored the particle against the data (x_0 is X0)."""
    return float(x["objective"])


def prior(bounds: dict[str, tuple[float, float]]) -> pyabc.Distribution:
    """Uniform priors over the search intervals (scipy's uniform: loc, scale = low, high - low)."""
    return pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in bounds.items()})


# ---- samplers --------------------------------------------------------------------------------------------
class SeededSampler(MappingSampler):
    """pyabc's MappingSampler, reseeded by counter: task i of generation t (t = -1: the prior sample that
    sets the first epsilon) seeds numpy and `random` from (seed, t + 1, i) instead of the operating system,
    and `map_` returns results in task order (builtin map, joblib), so the particles, their order and the
    posterior depend on the seed only, not on the number of processes or their timing."""

    def __init__(self, map_=map, seed: int = 0):
        super().__init__(map_=map_, mapper_pickles=False)
        self.seed = seed

    def __getstate__(self):
        return super().__getstate__(), self.seed

    def __setstate__(self, state):
        base, self.seed = state
        super().__setstate__(base)

    def map_function(self, simulate_one, task):
        t, i = task
        state = np.random.SeedSequence([self.seed, t + 1, i]).generate_state(1)[0]
        np.random.seed(int(state))
        random.seed(int(state))
        simulate_one = self.unpickle(simulate_one)
        sample, n = self._create_empty_sample(), 0
        while True:
            new = simulate_one()
            sample.append(new)
            n += 1
            if new.accepted:
                return sample, n

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        results = list(self.map_(partial(self.map_function, self.pickle(simulate_one)), [(t, i) for i in range(n)]))
        self.nr_evaluations_ = sum(k for _, k in results)
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        return sample


class PoolMap:
    """An ordered map over n_procs spawned processes kept for the whole run, so each builds the world once.
    Spawned, not forked (Numba's OpenMP threads do not survive a fork); not joblib's loky, whose workers
    restart when their memory grows by 300 MB (joblib's leak check), i.e. after building the world."""

    def __init__(self, n_procs: int):
        self.n_procs, self.pool = n_procs, None

    def __call__(self, fn, items):
        if self.pool is None:
            import multiprocessing
            self.pool = multiprocessing.get_context("spawn").Pool(self.n_procs)
        return self.pool.map(fn, list(items), chunksize=1)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def make_sampler(s: Settings):
    """local: SeededSampler (in this process, or over PoolMap's n_procs processes); dask: pyabc's DaskDistributedSampler
    on the scheduler at dask_address (or a LocalCluster of n_procs workers)."""
    if s.sampler == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("posterior.sampler=dask: needs the 'distributed' package (pip install distributed)") \
                from None
        client = Client(s.dask_address) if s.dask_address else \
            Client(LocalCluster(n_workers=s.n_procs, threads_per_worker=1, processes=True))
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
    return SeededSampler(map_=map if s.n_procs == 1 else PoolMap(s.n_procs), seed=s.seed)


# ---- inference -------------------------------------------------------------------------------------------
def infer(model, bounds: dict[str, tuple[float, float]], s: Settings, db: Path, meta: dict | None = None):
    """Run (or with s.resume continue) ABC-SMC into the SQLite history `db`; returns pyabc's History.
    A fresh run refuses to overwrite an existing history (it is a calibration record)."""
    db = Path(db).resolve()
    url = f"sqlite:///{db}"
    check_history(db, s.resume)
    np.random.seed(s.seed)
    random.seed(s.seed)
    sampler = make_sampler(s)
    try:
        kernel = pyabc.MultivariateNormalTransition() if s.transition == "normal" else \
            pyabc.LocalTransition(k_fraction=0.25)
        return _infer(pyabc.ABCSMC(model, prior(bounds), objective_distance, population_size=s.population,
                                   sampler=sampler, eps=pyabc.MedianEpsilon(), transitions=kernel),
                      bounds, s, db, url, meta)
    finally:
        close = getattr(getattr(sampler, "map_", None), "close", None) or getattr(sampler, "shutdown", None)
        if close:        # the local processes, or the Dask client (the cluster itself stays up)
            close()


def _infer(abc, bounds, s: Settings, db: Path, url: str, meta: dict | None):
    if s.resume:
        history = abc.load(url, 1)
        if list(history.get_distribution(0, 0)[0].columns) != sorted(bounds):
            raise UserError(f"{db}: its parameters differ from the priors asked for; resume with the same intervals")
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
        history = abc.new(url, X0, meta_info={k: json.dumps(v, default=str) for k, v in (meta or {}).items()})
    remaining = s.generations - history.n_populations
    if remaining > 0 and history.total_nr_simulations < s.max_simulations:
        history = abc.run(minimum_epsilon=s.min_epsilon, max_nr_populations=remaining,
                          max_total_nr_simulations=s.max_simulations)
    return history


def check_history(db: Path, resume: bool) -> None:
    """A fresh run never overwrites a history (it is a calibration record); a resumed one needs one."""
    if resume and not Path(db).is_file():
        raise UserError(f"{db}: no history to resume (posterior.resume=true); run without it first")
    if not resume and Path(db).exists():
        raise UserError(f"{db}: a history is already there; posterior.resume=true continues it, or choose "
                        f"another posterior.output")


def tidy(history, t: int | None = None) -> pd.DataFrame:
    """A generation's (default: the last) weighted particles in long form: particle, parameter, value,
    weight (summing to 1 over particles), generation, epsilon."""
    t = history.max_t if t is None else t
    points, weights = history.get_distribution(m=0, t=t)
    epsilon = float(history.get_all_populations().set_index("t").epsilon[t])
    wide = points.reset_index(drop=True).assign(particle=np.arange(len(points), dtype=np.int64),
                                                weight=weights / weights.sum())
    long = wide.melt(id_vars=["particle", "weight"], var_name="parameter", value_name="value")
    long = long.assign(generation=np.int64(t), epsilon=epsilon).sort_values(["particle", "parameter"], kind="stable")
    return long[COLUMNS].astype({"particle": "int64", "value": "float64", "weight": "float64",
                                 "generation": "int64", "epsilon": "float64"}).reset_index(drop=True)


def generations(history) -> pd.DataFrame:
    """Per generation: epsilon, simulations, acceptance rate, effective sample size of the weights, seconds."""
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0].reset_index(drop=True)
    ess = [float(effective_sample_size(history.get_distribution(0, int(t))[1])) for t in pops.t]
    return pd.DataFrame({"generation": pops.t.astype("int64"), "epsilon": pops.epsilon.astype(float),
                         "simulations": pops.samples.astype("int64"), "particles": pops.particles.astype("int64"),
                         "acceptance_rate": (pops.particles / pops.samples).astype(float), "ess": ess,
                         "seconds": pops.wall_time.astype(float)})


def summary(posterior: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: weighted mean, sd, 5% and 95% quantiles (pyabc's weighted statistics)."""
    points, w = wide(posterior)
    rows = {k: {"mean": weighted_mean(points[k].to_numpy(float), w), "sd": weighted_std(points[k].to_numpy(float), w),
                "q05": weighted_quantile(points[k].to_numpy(float), w, alpha=0.05),
                "q95": weighted_quantile(points[k].to_numpy(float), w, alpha=0.95)} for k in points.columns}
    return pd.DataFrame.from_dict(rows, orient="index").astype(float)


def draw(posterior: pd.DataFrame, n: int) -> pd.DataFrame:
    """The parameter sets of draws 0..n-1 from the weighted particles: exactly what runs with
    `uncertainty.source=posterior uncertainty.draw=k` take (sim/parameter_draws.from_particles, counter-based).
    Columns: the parameters."""
    from sim.parameter_draws import from_particles
    points, w = wide(posterior)
    names = list(points.columns)
    return pd.DataFrame([from_particles(k, points.to_numpy(float), w, names) for k in range(n)], columns=names)


# ---- files -----------------------------------------------------------------------------------------------
def write_posterior(folder: Path, history, record: dict) -> dict:
    """posterior.parquet (tidy, last generation) and its sidecar posterior.json (the parquet's SHA-256, the
    run's record, itself checksummed). The old sidecar goes first: a run killed in between leaves a
    parquet that read_posterior refuses, never a stale pair that passes."""
    gens = generations(history)
    return write_particles(folder, tidy(history), record | {
        "pyabc": pyabc.__version__, "generations": gens.to_dict(orient="list"),
        "total_simulations": int(history.total_nr_simulations), "database": DB})


# ---- the report ------------------------------------------------------------------------------------------
def plot(posterior: pd.DataFrame, bounds: dict[str, tuple[float, float]], folder: Path,
         draws: int = 4000) -> list[Path]:
    """Marginal posteriors over the prior intervals: ArviZ's plot_dist (matplotlib backend) as histograms of a
    weighted resample of the particles (ArviZ takes draws, not weights; a KDE of a resample would smooth
    with the resample's size, not the particles'), with the mean and 90% interval: posterior.png and .pdf."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from arviz_base import from_dict
    from arviz_plots import plot_dist
    sample = draw(posterior, draws)
    short = {k.rsplit(".", 1)[-1]: k for k in sample.columns}     # titles: the last part of each key
    tree = from_dict({"posterior": {name: sample[k].to_numpy(float)[None, :] for name, k in short.items()}})
    cols = min(4, len(short))
    rows = -(-len(short) // cols)
    pc = plot_dist(tree, backend="matplotlib", kind="hist", point_estimate="mean", ci_kind="eti", ci_prob=0.9,
                   stats={"dist": {"bins": 20}}, col_wrap=cols,
                   figure_kwargs={"figsize": (3.6 * cols, 2.6 * rows), "layout": "constrained"})
    fig = pc.viz["figure"].item() if hasattr(pc.viz["figure"], "item") else pc.viz["figure"]
    for ax in fig.axes:
        key = short.get(ax.get_title())
        if key in bounds:
            ax.set_xlim(*bounds[key])
    paths = [Path(folder) / f"{FIGURE}.png", Path(folder) / f"{FIGURE}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return paths


def report(folder: Path, posterior: pd.DataFrame, sidecar: dict, bounds: dict[str, tuple[float, float]],
           point: dict[str, float] | None = None) -> Path:
    """posterior_report.md: per parameter the prior, the weighted posterior mean, sd and 90% interval and the
    sd's shrinkage from the prior's; per generation epsilon, acceptance rate and ESS."""
    s = summary(posterior)
    gens = pd.DataFrame(sidecar["generations"])
    prior_sd = {k: (hi - lo) / math.sqrt(12) for k, (lo, hi) in bounds.items()}
    lines = ["# Posterior of the behavioural parameters (ABC-SMC)", "",
             f"pyabc {sidecar['pyabc']}, {sidecar['particles']} particles in the last of {len(gens)} generations, "
             f"{sidecar['total_simulations']} simulations, {sidecar.get('minutes', float('nan')):.1f} minutes; "
             f"seed {sidecar.get('settings', {}).get('seed')}, sampler {sidecar.get('settings', {}).get('sampler')}. "
             f"Record: `{DB}` (pyabc History; `abc-server {DB}` to browse). Particles: `{PARQUET}` "
             "(read with `sim.inference.posterior.read_posterior`).", "",
             "Priors uniform over the search intervals of conf/calibrate.yaml; a particle is a run scored by the "
             "calibration's objective (mean per-origin TVD + level and gravity penalties), accepted below epsilon.", "",
             "| parameter | prior | mean | sd | 5% | 95% | sd / prior sd |" + (" point estimate |" if point else ""),
             "|---|---|---|---|---|---|---|" + ("---|" if point else "")]
    for k, r in s.iterrows():
        lo, hi = bounds.get(k, (float("nan"), float("nan")))
        lines.append(f"| `{k}` | U({lo:g}, {hi:g}) | {r['mean']:.4f} | {r['sd']:.4f} | {r.q05:.4f} | {r.q95:.4f} | "
                     f"{r.sd / prior_sd.get(k, float('nan')):.2f} |" + (f" {point.get(k, float('nan')):.4f} |"
                                                                       if point else ""))
    lines += ["", "| generation | epsilon | simulations | acceptance rate | ESS | seconds |", "|---|---|---|---|---|---|"]
    lines += [f"| {int(g.generation)} | {g.epsilon:.4f} | {int(g.simulations)} | {g.acceptance_rate:.3f} | "
              f"{g.ess:.1f} | {g.seconds:.0f} |" for g in gens.itertuples()]
    last = gens.iloc[-1] if len(gens) else None
    if last is not None and last.ess < last.particles / 3:
        lines += ["", f"**Few particles carry the weight**: the last generation's effective sample size is "
                      f"{last.ess:.1f} of {int(last.particles)} particles; its intervals are rough (more particles, "
                      f"posterior.population, make them smoother)."]
    if last is not None and len(gens) > 1 and gens.epsilon.iloc[-2] - last.epsilon < 0.1 * gens.epsilon.iloc[-2]:
        lines += ["", f"Epsilon fell by less than 10% in the last generation ({gens.epsilon.iloc[-2]:.4f} -> "
                      f"{last.epsilon:.4f}): further generations narrow the posterior little (the objective's "
                      f"seed-to-seed noise, or too few particles, limits it)."]
    lines += ["", f"Marginals: `{FIGURE}.png` / `{FIGURE}.pdf` (ArviZ plot_dist: histograms of a weighted resample, "
              "the mean and the 90% equal-tailed interval)."]
    path = Path(folder) / REPORT
    from sim.io import atomic_write
    atomic_write(path, lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    return path


def run(model, bounds: dict[str, tuple[float, float]], s: Settings, meta: dict | None = None,
        point: dict[str, float] | None = None) -> dict:
    """Infer, then write posterior.parquet/.json, the report and the figure into s.output. Returns the
    sidecar record."""
    folder = Path(s.output)
    started = time.perf_counter()
    logging.getLogger("MESA").setLevel(logging.WARNING)
    history = infer(model, bounds, s, folder / DB, meta)
    if history.max_t < 0:
        raise UserError(f"{folder / DB}: no generation finished (posterior.max_simulations={s.max_simulations}?)")
    record = {"settings": dataclasses.asdict(s), "priors": {k: {"distribution": "uniform", "low": lo, "high": hi}
                                                             for k, (lo, hi) in bounds.items()},
              "minutes": (time.perf_counter() - started) / 60} | (meta or {})
    sidecar = write_posterior(folder, history, record)
    posterior = read_posterior(folder / PARQUET)
    plot(posterior, bounds, folder)
    report(folder, posterior, sidecar, bounds, point)
    return sidecar

"""The hemsim model: a Mesa world of countries and universities whose students live in arrays.

One step is one academic year: the mechanisms of SCHEDULE, in order (each one module of
sim/mechanisms/, see base.py), then the year's outcomes. Before the first recorded year the
model spins up for as many years as the longest programme, under the world's default policies,
so the first recorded year starts from a full system rather than an empty one; a run from the data
(world.start_from=observed) ends its spin-up on the observed students (sim/mechanisms/assimilation.py).

As a Mesa model it is built from keyword parameters (the command line's keys), runs with
`run_model()` until its years are done, and keeps the WORLD value of every metric in a
`mesa.DataCollector`, so `mesa.batch_run(HemsimModel, ...)` works. Its full outputs (flows and
metrics of every country, the per-student sample) are the tidy tables of `run()`.
"""

from functools import partial

import mesa
import numpy as np
from mesa.experimental.scenarios import Scenario

from sim import initial_state, spin_up, state as shared
from sim.agents import AgentStudents, Country, University
from sim.config import Config, rules_for
from sim.diaspora import Diaspora
from sim.errors import ConfigError
from sim.outcomes import Flow, Metric
from sim.policies import build_tables, in_force
from sim.population import ArrayStudents
from sim.researchers import Researchers
from sim.results import FLOW_ORDER, METRIC_ORDER, Recorder, Results, in_order
from sim.schedule import SCHEDULE
from sim.universities import Agreements, Universities
from sim.world import levels, synthetic
from sim.world.world import World


def build_world(cfg: Config) -> World:
    """The configured world, with its destination and origin constants (sim/world/levels.py)."""
    if cfg.world.kind == "oecd":
        from sim.world import real
        world = real.build(cfg)
    else:
        world = synthetic.build(cfg)
    levels.apply(world, cfg.world.destination_constants, cfg.world.origin_constants)
    return world


class HemsimScenario(Scenario):
    """Mesa's Scenario of a hemsim model: `rng` is the run seed; the other attributes are the keyword
    parameters the model was built from (`scenario`, `years`, dotted keys such as `world.students`),
    none when it was built from a Config; `config` is the validated Config either way."""
    config: Config | None = None


class HemsimModel(mesa.Model):
    """Countries and universities as Mesa agents; students and researchers as arrays.

    HemsimModel(scenario="open_visas", seed=1, years=3, **{"world.students": 20000})
        keyword parameters: the same keys as the command line (sim/params.py), validated the
        same way (a bad key or value raises ValueError naming it); `rng=` is Mesa's name for `seed`.
    HemsimModel(cfg)
        a `Config` object (sim/config.py), e.g. from a notebook or a calibration.
    `world` reuses an already built World, or names a world (`world="oecd"`, as on the command line);
    `state` continues from a checkpoint (sim/checkpoint.py).
    A subclass may run another schedule (`schedule = SCHEDULE + (MyMechanism,)`: docs/adding-a-mechanism.md).
    """

    schedule = SCHEDULE

    def __init__(self, cfg: Config | None = None, world: World | None = None, state: dict | None = None, *,
                 seed: int | None = None, rng: int | None = None, scenario: str | HemsimScenario | None = None,
                 **params):
        if isinstance(world, str):           # world="oecd": the config group, as on the command line
            world, params = None, {"world": world} | params
        cfg, mesa_scenario = _configure(cfg, seed, rng, scenario, params)
        super().__init__(rng=cfg.seed, scenario=mesa_scenario)
        self.cfg = cfg
        self.seed = cfg.seed
        self.world = w = world if world is not None else build_world(cfg)
        self.rules = rules_for(cfg.behaviour, self.schedule)
        self.policy_tables = build_tables(cfg.scenario.levers, w, cfg.start_year, cfg.years)
        self.default_policy = in_force(build_tables([], w, cfg.start_year, 1), 0)
        self.policy = self.default_policy
        # state: structures of arrays (the agents below are views of their rows)
        self.universities = Universities.from_world(w)
        self.agreements = Agreements.from_world(w)
        self.diaspora = Diaspora.empty(w.n_countries)
        self.corridor_constant = np.zeros((w.n_countries, w.n_countries))   # a run from the data sets them
        self.students = ArrayStudents(cfg.seed) if cfg.backend == "numba" else AgentStudents(self)
        self.country_agents = [Country(self, i) for i in range(w.n_countries)]
        self.university_agents = [University(self, u) for u in range(w.n_universities)]
        # the yearly cycle and what it records
        self.mechanisms = [cls() for cls in self.schedule]
        self.metric_names = in_order([o.name for m in self.mechanisms for o in m.outcomes if isinstance(o, Metric)],
                                     METRIC_ORDER)
        self.flow_kinds = in_order([o.name for m in self.mechanisms for o in m.outcomes if isinstance(o, Flow)],
                                   FLOW_ORDER)
        self.recorder = Recorder(w.codes, sampling=cfg.sample_students > 0)
        self.world_metrics: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={"year": partial(_last, key="year")}
            | {name: partial(_last, key=name) for name in self.metric_names})
        # shared fields of the model itself (sim/state.py declares them all, with who sets them)
        self.census = None
        self.destinations = None
        self.workforce = None
        self.arrivals = None
        self.sampling = False              # take the per-student sample this year
        self.year = cfg.start_year - self.spin_up_years  # the year the next step simulates
        self.researchers = Researchers(w, cfg.seed, first_year=self.year)
        # the spun-up state is cached when the world is the config's own (sim/spin_up.py)
        cache_key = spin_up.key(cfg, self.schedule) if state is None and world is None and not self.reference \
            and spin_up.enabled(cfg) else None
        state = state if cache_key is None else spin_up.load(cache_key)
        if state is not None:
            self._restore(state)
        else:
            self.diaspora = initial_state.diaspora(self)
            self.researchers.seed_origins(w.univ_country, *initial_state.researcher_origins(self))
            for _ in range(self.spin_up_years):
                self._year(recorded=False)
            if cfg.world.start_from == "observed":      # the last spin-up year ended on the observed stocks
                initial_state.corridor_constants(self)
            if cache_key is not None:     # not the recorder: nothing is recorded in a spin-up, and whether
                state = self.state()      # this run samples students is its own (sample_students)
                del state["recorded"]
                spin_up.save(cache_key, state, self.year)
        self.running = self.year < self.end_year

    @property
    def reference(self) -> bool:
        """The Mesa reference backend (one mesa.Agent per student)."""
        return self.students.reference

    @property
    def spin_up_years(self) -> int:
        """Years simulated before the first recorded one: the longest path through first degree, master's and
        doctorate, so the first recorded year starts from full programmes and a flowing doctoral pipeline."""
        b = self.cfg.behaviour
        return b.study.first_degree_years + b.study.postgraduate_years + b.progression.doctoral_years_max

    @property
    def end_year(self) -> int:
        """The year after the last recorded one."""
        return self.cfg.start_year + self.cfg.years

    def mechanism(self, cls):
        """The model's instance of a mechanism class of the schedule."""
        return next(m for m in self.mechanisms if isinstance(m, cls))

    # ---- the yearly cycle -------------------------------------------------------------------------
    def step(self) -> None:
        """One recorded academic year; the model stops running after the last."""
        year = self.year
        self.policy = in_force(self.policy_tables, year - self.cfg.start_year)
        flows, metrics = self._year(recorded=True)
        self.recorder.add(year, flows, metrics)
        self.world_metrics = {"year": year} | {name: float(values[-1]) for name, values in metrics.items()}
        self.datacollector.collect(self)
        self.running = self.year < self.end_year

    def _year(self, recorded: bool, run=None):
        """The schedule, then (in recorded years) the year's flows and metrics, in output order. `run(mechanism)`
        runs one step (default: `mechanism.step(self)`; sim/contract.py watches each step through it)."""
        self.sampling = recorded and self.cfg.sample_students > 0
        shared.reset_year(self)
        for mechanism in self.mechanisms:
            if run is None:
                mechanism.step(self)
            else:
                run(mechanism)
        outcomes = (self._outcomes() if recorded else (None, None))
        self.year += 1
        return outcomes

    def _outcomes(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        flows, metrics = {}, {}
        for m in self.mechanisms:
            f, v = m.flows(self), m.metrics(self)
            declared = {o.name for o in m.outcomes if isinstance(o, Flow)}, {o.name for o in m.outcomes
                                                                             if isinstance(o, Metric)}
            assert (set(f), set(v)) == declared, f"{m.name}: outcomes differ from those it declares"
            flows.update(f)
            metrics.update(v)
        return {k: flows[k] for k in self.flow_kinds}, {k: metrics[k] for k in self.metric_names}

    def run(self, progress: bool = False, checkpoint_every: int = 0, on_checkpoint=None) -> Results:
        """Run the remaining recorded years and return their tables; every `checkpoint_every` years
        (counted from the start year) before the last, call `on_checkpoint(self)` to save the state."""
        from tqdm.auto import tqdm  # imported when a run starts: keeps `import sim.model` quick
        for _ in tqdm(range(self.end_year - self.year), desc=f"{self.cfg.scenario.name} seed {self.seed}",
                      unit="year", initial=self.year - self.cfg.start_year, total=self.cfg.years,
                      disable=not progress, leave=False):
            self.step()
            if checkpoint_every and on_checkpoint and self.year < self.end_year \
                    and (self.year - self.cfg.start_year) % checkpoint_every == 0:
                on_checkpoint(self)
        return self.recorder.results()

    # ---- checkpoints ------------------------------------------------------------------------------
    def state(self) -> dict:
        """Everything that changes from year to year (the world and the rules are rebuilt from the
        config): see sim/checkpoint.py."""
        if self.reference:
            raise TypeError("checkpoints need the numba backend")
        return {"year": self.year,  # Mesa's own clock (steps, time) restarts at 0 in a resumed model
                "universities": self.universities.state(), "diaspora": self.diaspora.state(),
                "corridor_constant": self.corridor_constant, "workforce": self.workforce,
                "students": self.students.state(), "researchers": self.researchers.state(),
                "mechanisms": {m.name: m.state() for m in self.mechanisms},
                "recorded": (self.recorder.flow_chunks, self.recorder.metric_chunks, self.recorder.student_chunks)}

    def _restore(self, state: dict) -> None:
        self.year = state["year"]
        self.universities = Universities.from_state(state["universities"])
        self.diaspora = Diaspora.from_state(state["diaspora"])
        self.corridor_constant = state["corridor_constant"]
        self.workforce = state["workforce"]
        self.students = ArrayStudents.from_state(state["students"])
        self.researchers = Researchers.from_state(state["researchers"])
        for m in self.mechanisms:
            m.restore(state["mechanisms"][m.name])
        if "recorded" in state:          # a checkpoint (a spin-up state has no recorded years)
            self.recorder.flow_chunks, self.recorder.metric_chunks, self.recorder.student_chunks = state["recorded"]
        for year, values in self.recorder.world_values().items():   # the years recorded before the checkpoint
            self.world_metrics = {"year": year} | values
            self.datacollector.collect(self)


def _last(model: HemsimModel, key: str):
    """A DataCollector reporter: the WORLD value of a metric (or the year) in the year just recorded."""
    return model.world_metrics[key]


def _configure(cfg, seed, rng, scenario, params) -> tuple[Config, HemsimScenario]:
    """The Config and Mesa Scenario of a model: from a Config object, or from keyword parameters."""
    if isinstance(scenario, Scenario):
        given = {k: v for k, v in vars(scenario).items() if k not in ("rng", "model", "config")}
        return _configure(cfg, seed, scenario.rng if rng is None else rng, None, given | params)
    if rng is not None and seed is not None and rng != seed:
        raise ConfigError(f"seed={seed}, rng={rng}: give the seed once (rng is Mesa's name for it)")
    seed = seed if seed is not None else rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ConfigError(f"seed={seed!r}: must be an integer >= 0 (hemsim's random numbers are counter-based: a "
                          f"seed, not a generator)")
    if cfg is not None:
        if not isinstance(cfg, Config):
            raise ConfigError(f"cfg={type(cfg).__name__}: pass a sim.config.Config, or keyword parameters")
        if scenario is not None or params or (seed is not None and seed != cfg.seed):
            raise ConfigError("pass either a Config or keyword parameters, not both")
        return cfg, HemsimScenario(rng=cfg.seed, config=cfg)
    from sim.params import config_from
    given = ({} if scenario is None else {"scenario": scenario}) | ({} if seed is None else {"seed": int(seed)}) | params
    cfg = config_from(given)
    return cfg, HemsimScenario(rng=cfg.seed, config=cfg, **given)

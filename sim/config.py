"""The configuration schema: what a valid hemsim config is.

The dataclasses are registered with Hydra's ConfigStore (see `experiments/run.py`) so that a
misspelt key or a value of the wrong type fails when the config is composed. `validate` then
checks what types cannot: ranges, sizes, years and country names, and raises `ConfigError`
with a one-line message that names the key and what is allowed. The library itself takes a
plain `Config` object, so it can be driven from a notebook without Hydra.
"""

import collections
import dataclasses
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from sim.errors import ConfigError
from sim.mechanisms.base import NONNEGATIVE as NONNEGATIVE_BOUND, SHARE, bound
from sim.policies import LEVERS
from sim.schedule import SCHEDULE

MISSING = "???"  # omegaconf.MISSING (a required key), spelt out so the library does not import omegaconf


@dataclass
class WorldConfig:
    kind: str = "synthetic"          # which world builder: synthetic | oecd (real data)
    data_dir: str = "../shared/data" # where the public data are (world=oecd)
    countries: int = 40              # number of countries
    universities: int = 400          # number of universities (each country has at least one)
    students: int = 200_000          # student agents enrolled at the start
    scale: float = 100.0             # real students per student agent
    seed: int = 0                    # the world's own seed: same world for every run seed
    researchers: int = 20_000        # researcher agents
    fields: int = 4                  # fields of study
    capacity_slack: float = 1.25     # seats per expected student, national systems
    # utility constants by ISO3 code (world=oecd; fitted by hemsim-levels: conf/world/oecd_levels.yaml)
    destination_constants: dict[str, float] = field(default_factory=dict)   # of studying in a country
    origin_constants: dict[str, float] = field(default_factory=dict)        # of going abroad from a country
    # SHA-256 of each data file those constants were fitted on (written by hemsim-levels): other data are refused
    data_sha256: dict[str, str] = field(default_factory=dict)
    # world=oecd: the baseline follows the dated policy history (sim/world/policy_history.yaml); false: the
    # imputed policies of every year
    policy_history: bool = True
    # world=oecd, a start year before the bilateral stocks (2013): how the earlier stocks are built
    # (sim/world/real.py, backcast): uis_year | uis_smoothed
    backcast: str = "uis_year"
    # the students enrolled in the year before the start year: the model's own (spin_up) or the observed corridor
    # stocks of that year, with corridor constants that make the baseline keep their shares (observed:
    # sim/mechanisms/assimilation.py); world=oecd runs from the data, its calibrations from the spin-up
    start_from: str = "spin_up"
    # start_from=observed: how much of the corridors' last observed change the baseline's entrants carry on
    # (0: entrants replace leavers, so the stocks keep their shares; 1: the entrants the last two observed
    # years imply). world=oecd: the persistence of destinations' growth in UIS before the data (docs/ODD.md 5)
    entrant_momentum: float = 0.0


def sections(schedule) -> dict[str, type]:
    """{config section: its Params dataclass} of the mechanisms of a schedule that have one, in schedule order."""
    return {cls.section: cls.params() for cls in schedule if cls.section}


# Behavioural parameters: one section per mechanism of the schedule, each defined (with its defaults and
# bounds) in the mechanism's own module as `Params` (sim/mechanisms/base.py).
BehaviourConfig = dataclasses.make_dataclass(
    "BehaviourConfig", [(name, params, field(default_factory=params)) for name, params in sections(SCHEDULE).items()],
    module=__name__)
BehaviourConfig.__doc__ = ("Behavioural parameters: one section per mechanism of sim/schedule.py, each its module's "
                           "`Params`.")


class Rules(collections.namedtuple("Rules", list(sections(SCHEDULE)))):
    """Every mechanism's rule (the NamedTuple its kernels read), one per behaviour section."""

    @classmethod
    def from_config(cls, behaviour) -> "Rules":
        """The rules of a behaviour config: each section's values as the `Rule` of the module that defines
        the section's `Params` (a mechanism module defines both: sim/mechanisms/base.py)."""
        return cls(**{name: rule_of(getattr(behaviour, name)) for name in cls._fields})


def rules_for(behaviour, schedule):
    """The rules of a model's schedule: `Rules` for hemsim's own; for a schedule with mechanisms of its own
    (a model subclass trying one out), theirs too, from the config where it has their section, else from
    their defaults."""
    wanted = sections(schedule)
    if tuple(wanted) == Rules._fields:
        return Rules.from_config(behaviour)
    kind = collections.namedtuple("ScheduleRules", list(wanted))
    return kind(**{name: rule_of(getattr(behaviour, name, None) or params()) for name, params in wanted.items()})


def rule_of(section):
    """A config section's values as its mechanism's rule."""
    return sys.modules[type(section).__module__].Rule(**dataclasses.asdict(section))


@dataclass
class Lever:
    """One policy lever: who, what, how much, from which year to which (inclusive)."""
    lever: str = MISSING             # a name from sim.policies.LEVERS
    value: float = MISSING
    countries: Any = "all"           # "all", a group (e.g. high_income), non_<group>, a code, or a list
    origins: Any = None              # a destination's lever: the origins it applies to (default all)
    destinations: Any = None         # an origin's lever: the destinations it applies to (default all)
    mode: str = "set"                # set | add | scale
    start: Any = None                # first calendar year in force (None: from the start)
    end: Any = None                  # last calendar year in force (None: to the end)


@dataclass
class ScenarioConfig:
    name: str = "baseline"
    description: str = ""
    levers: list[Lever] = field(default_factory=list)


@dataclass
class CalibrationConfig:
    """What `hemsim-calibrate` fits (the search space is hydra.sweeper.params in conf/calibrate.yaml)."""
    first_year: int = 2013           # observed years fitted: first_year .. last_year
    last_year: int = 2016
    level_weight: float = 0.1        # weight of the squared log ratio of simulated to observed totals
    gravity_weight: float = 0.25     # weight of the gravity moment (validation.gravity_gap): the simulated stocks'
                                     # PPML coefficients of distance, language, colonial ties against the observed
    output: str = "conf/behaviour/oecd_calibrated.yaml"  # where the fitted parameters are written


@dataclass
class UncertaintyConfig:
    """Which parameter set a run takes: the config's own, or draw `draw` of a distribution of them
    (sim/parameter_draws.py, which applies and checks it when a config is composed: `resolve`), so that a
    study of draws x seeds shows parameter and stochastic uncertainty."""
    draw: int = -1                   # -1: none (the config's values); k >= 0: the k-th draw
    source: str = "design"           # design: uniform over conf/uncertainty/<design>.yaml's parameters (a prior) |
                                     # posterior: a weighted particle of a posterior.parquet
    design: str = "default"
    posterior: str = "results/calibration/oecd_posterior/posterior.parquet"


@dataclass
class Config:
    world: WorldConfig = field(default_factory=WorldConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    seed: int = 0
    start_year: int = 2016
    years: int = 12
    backend: str = "numba"           # numba (fast) | mesa (reference: one mesa.Agent per student)
    progress: bool = True
    seeds_per_job: int = 1           # a job runs seeds seed .. seed + seeds_per_job - 1 (amortises start-up)
    checkpoint_every: int = 0        # save the run's state every N recorded years (0: never); numba backend
    resume: bool = False             # continue from the run directory's checkpoint, if there is one
    sample_students: float = 0.0     # share of students followed in students.parquet (0: no per-student output)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)


BACKENDS = ("numba", "mesa")
WORLD_KINDS = ("synthetic", "oecd")
MODES = ("set", "add", "scale")
BACKCASTS = ("uis_year", "uis_smoothed")
START_FROM = ("spin_up", "observed")     # world.start_from


def _positive_int(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, int) or value < low:
        raise ConfigError(f"{name}={value}: must be an integer >= {low}")


def number_in(value, where: str, low: float, high: float) -> float:
    """`value` as a float if it is a finite number (not a bool) in [low, high]; else a one-line ConfigError
    naming `where` (for the data files a user hands over: case files, the policy history)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ConfigError(f"{where}={value}: needs a finite number in [{low:g}, {high:g}]")
    return float(value)


def _share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value}: must be a share in [0, 1]")


def validate(cfg: Config) -> Config:
    """Check what the schema's types cannot; raise ConfigError naming the first bad key."""
    w = cfg.world
    if w.kind not in WORLD_KINDS:
        raise ConfigError(f"world.kind={w.kind}: unknown world (allowed: {', '.join(WORLD_KINDS)})")
    _positive_int("world.countries", w.countries, 2)
    _positive_int("world.universities", w.universities)
    if w.universities < w.countries:
        raise ConfigError(f"world.universities={w.universities}: must be >= world.countries={w.countries}")
    _positive_int("world.students", w.students)
    _positive_int("world.fields", w.fields)
    _positive_int("world.researchers", w.researchers, 0)
    if w.fields > 16:
        raise ConfigError(f"world.fields={w.fields}: at most 16")
    if not w.scale > 0:
        raise ConfigError(f"world.scale={w.scale}: must be > 0 (real students per agent)")
    if not w.capacity_slack >= 1.0:
        raise ConfigError(f"world.capacity_slack={w.capacity_slack}: must be >= 1")
    _positive_int("world.seed", w.seed, 0)
    if w.backcast not in BACKCASTS:
        raise ConfigError(f"world.backcast={w.backcast}: unknown backcast (allowed: {', '.join(BACKCASTS)})")
    if w.start_from not in START_FROM:
        raise ConfigError(f"world.start_from={w.start_from}: unknown start (allowed: {', '.join(START_FROM)})")
    if not 0.0 <= w.entrant_momentum <= 1.0:
        raise ConfigError(f"world.entrant_momentum={w.entrant_momentum}: must be within 0..1")
    if w.start_from == "observed" and cfg.backend != "numba":
        raise ConfigError(f"world.start_from=observed: needs backend=numba (the reference backend "
                          f"backend={cfg.backend} starts from its spin-up only)")
    for key in ("destination_constants", "origin_constants"):
        for code, value in getattr(w, key).items():
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"world.{key}.{code}={value}: must be a finite number")
    _validate_numbers(cfg)
    _validate_size(cfg)
    _positive_int("seed", cfg.seed, 0)
    if cfg.seed >= 2 ** 63:
        raise ConfigError(f"seed={cfg.seed}: must be < 2^63 (a 64-bit counter-based key)")
    _positive_int("years", cfg.years)
    if cfg.years > MAX_YEARS:
        raise ConfigError(f"years={cfg.years}: at most {MAX_YEARS}")
    _positive_int("seeds_per_job", cfg.seeds_per_job)
    _positive_int("start_year", cfg.start_year, YEARS[0])
    if cfg.start_year > YEARS[1]:
        raise ConfigError(f"start_year={cfg.start_year}: must be a calendar year from {YEARS[0]} to {YEARS[1]}")
    if not re.fullmatch(r"[A-Za-z0-9_][\w.-]{0,99}", cfg.scenario.name) or ".." in cfg.scenario.name:
        raise ConfigError(f"scenario.name={cfg.scenario.name!r}: letters, digits, _ . - only (it names the "
                          f"run's folder), at most 100, no '..'")
    if cfg.backend not in BACKENDS:
        raise ConfigError(f"backend={cfg.backend}: unknown backend (allowed: {', '.join(BACKENDS)})")
    _positive_int("checkpoint_every", cfg.checkpoint_every, 0)
    _share("sample_students", cfg.sample_students)
    for key in ("level_weight", "gravity_weight"):
        value = getattr(cfg.calibration, key)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ConfigError(f"calibration.{key}={value}: must be a finite number >= 0")
    if cfg.checkpoint_every and cfg.backend != "numba":
        raise ConfigError(f"checkpoint_every={cfg.checkpoint_every}: checkpoints need backend=numba "
                          f"(the Mesa reference backend is for small checks)")
    c, s = cfg.behaviour.choice, cfg.behaviour.study
    if not 0.0 < c.nest <= 1.0:
        raise ConfigError(f"behaviour.choice.nest={c.nest}: must be in (0, 1]")
    _positive_int("behaviour.choice.applications", c.applications)
    _positive_int("behaviour.choice.abroad_applications", c.abroad_applications)
    if c.abroad_applications > c.applications:
        raise ConfigError("behaviour.choice.abroad_applications: must be <= behaviour.choice.applications")
    _positive_int("behaviour.study.first_degree_years", s.first_degree_years)
    _positive_int("behaviour.study.postgraduate_years", s.postgraduate_years)
    _share("behaviour.study.postgraduate_share", s.postgraduate_share)
    _share("behaviour.careers.diaspora_decay", cfg.behaviour.careers.diaspora_decay)
    e = cfg.behaviour.exchange
    _share("behaviour.exchange.short_share", e.short_share)
    _share("behaviour.exchange.term_share", e.term_share)
    if e.short_share + e.term_share > 1:
        raise ConfigError("behaviour.exchange.term_share: short_share + term_share must be <= 1")
    r = cfg.behaviour.research
    _share("behaviour.research.incumbent_share", r.incumbent_share)
    _share("behaviour.research.return_rate", r.return_rate)
    _share("behaviour.quality.reputation_memory", cfg.behaviour.quality.reputation_memory)
    for i, lever in enumerate(cfg.scenario.levers):
        _validate_lever(f"scenario.levers[{i}]", lever, cfg)
    return cfg


# What each behaviour number may be. Every number must be finite; a parameter's bound is declared with it in
# its Params (sim/mechanisms/base.py: share, nonnegative); the rest are coefficients of logits and log-linear
# rates, which take either sign. tests/test_hardening.py fuzzes values through the pre-run check.
def _bounded(kind: str) -> frozenset:
    return frozenset(f"{section}.{f.name}" for section, params in sections(SCHEDULE).items()
                     for f in dataclasses.fields(params) if bound(f) == kind)


SHARES = _bounded(SHARE)               # in [0, 1]: shares, yearly rates and probabilities, weights of a running mean
NONNEGATIVE = _bounded(NONNEGATIVE_BOUND)  # >= 0: sizes, counts, rates per person, spreads, gains and penalties
COEFFICIENT_LIMIT = 1e4        # any other number: a coefficient beyond this is not a behaviour but a typo
YEARS = (1900, 2200)           # calendar years a run may start in (the real world: the data's years)
MAX_YEARS = 500


def numbers(obj, prefix: str = ""):
    """(dotted key, value) of every number in a config dataclass, depth first."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from numbers(value, f"{prefix}{f.name}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{f.name}", value


def _validate_numbers(cfg: Config) -> None:
    for key, value in [*numbers(cfg.world, "world."), *numbers(cfg.behaviour, "behaviour.")]:
        if not math.isfinite(value):
            raise ConfigError(f"{key}={value}: must be a finite number")
    for key, value in numbers(cfg.behaviour):
        if key in SHARES and not 0.0 <= value <= 1.0:
            raise ConfigError(f"behaviour.{key}={value}: a share, must be in [0, 1]")
        if key in NONNEGATIVE and value < 0:
            raise ConfigError(f"behaviour.{key}={value}: must be >= 0")
        if key not in SHARES | NONNEGATIVE and abs(value) > COEFFICIENT_LIMIT:
            raise ConfigError(f"behaviour.{key}={value}: a coefficient, must be within ±{COEFFICIENT_LIMIT:,.0f}")
    p = cfg.behaviour.progression
    if p.doctoral_years_min > p.doctoral_years_max:
        raise ConfigError(f"behaviour.progression.doctoral_years_min={p.doctoral_years_min}: must be <= "
                          f"doctoral_years_max={p.doctoral_years_max}")


# Peak memory of a run by its sizes (measured: a 1:1 world of 250M students and 6.7M researchers peaks
# at 12.5 GiB, ~54 bytes a student; corridor tables are countries x countries float64, ~40 of them)
BYTES_PER_STUDENT, BYTES_PER_RESEARCHER, BYTES_PER_CORRIDOR, BYTES_FIXED = 64, 128, 8 * 40, 2 ** 30


def memory_estimate(cfg: Config) -> int:
    """Bytes a run of this config needs at its peak, estimated from its sizes before anything is allocated."""
    w = cfg.world
    return int(BYTES_PER_STUDENT * w.students + BYTES_PER_RESEARCHER * w.researchers
               + BYTES_PER_CORRIDOR * w.countries ** 2 + 1024 * w.universities * w.fields + BYTES_FIXED)


def physical_memory() -> int:
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):      # not POSIX: no limit we can know
        return 2 ** 62


def _validate_size(cfg: Config) -> None:
    need, have = memory_estimate(cfg), physical_memory()
    if need > have:
        w = cfg.world
        raise ConfigError(f"world.students={w.students:,}, world.researchers={w.researchers:,}, "
                          f"world.countries={w.countries:,}, world.universities={w.universities:,}: a run needs "
                          f"~{need / 2 ** 30:,.0f} GiB, this machine has {have / 2 ** 30:,.0f} GiB (fewer agents: raise "
                          f"world.scale and lower world.students)")


def _validate_lever(where: str, lever: Lever, cfg: Config) -> None:
    spec = LEVERS.get(lever.lever)
    if spec is None:
        raise ConfigError(f"{where}.lever={lever.lever}: unknown lever (allowed: {', '.join(sorted(LEVERS))})")
    if lever.mode not in MODES:
        raise ConfigError(f"{where}.mode={lever.mode}: unknown mode (allowed: {', '.join(MODES)})")
    if lever.mode == "set" and not spec.low <= lever.value <= spec.high:
        raise ConfigError(f"{where}.value={lever.value}: {lever.lever} must be in [{spec.low}, {spec.high}]")
    if not isinstance(lever.value, (int, float)) or isinstance(lever.value, bool) or not math.isfinite(lever.value):
        raise ConfigError(f"{where}.value={lever.value}: must be a finite number")
    if lever.mode == "scale" and lever.value < 0:
        raise ConfigError(f"{where}.value={lever.value}: a scale factor must be >= 0")
    if spec.unit == "flag" and (lever.mode != "set" or lever.value not in (0, 1)):
        raise ConfigError(f"{where}: {lever.lever} is a flag: mode=set with value 0 or 1 (got mode={lever.mode}, "
                          f"value={lever.value})")
    for key in ("start", "end"):
        year = getattr(lever, key)
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ConfigError(f"{where}.{key}={year}: must be a calendar year (integer) or null")
        if year is not None and not YEARS[0] <= year <= YEARS[1]:
            raise ConfigError(f"{where}.{key}={year}: must be a calendar year from {YEARS[0]} to {YEARS[1]}")
    if lever.start is not None and lever.end is not None and lever.start > lever.end:
        raise ConfigError(f"{where}: start={lever.start} is after end={lever.end}")

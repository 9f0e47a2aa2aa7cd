"""The configuration schema: what a valid hemsim config is.

The dataclasses are registered with Hydra's ConfigStore (see `experiments/run.py`) so that a
misspelt key or a value of the wrong type fails when the config is composed. `validate` then
checks what types cannot: ranges, sizes, years and country names, and raises `ConfigError`
with a one-line message that names the key and what is allowed. The library itself takes a
plain `Config` object, so it can be driven from a notebook without Hydra.
"""

from dataclasses import dataclass, field
from typing import Any

from sim.errors import ConfigError
from sim.policies import LEVERS

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


@dataclass
class ChoiceParams:
    """Degree-mobility choice (multinomial logit over destination countries, then universities)."""
    abroad_constant: float = -4.75   # utility of any foreign destination vs home
    postgraduate_abroad: float = 1.2  # extra abroad utility for postgraduate entrants
    talent_abroad: float = 0.35      # abroad utility per talent band step
    resources_abroad: float = 0.6    # abroad utility per family-resources band step
    quality: float = 3.0             # per unit of destination quality index
    log_distance: float = -0.8       # per log(km)
    common_language: float = 1.4
    colonial_tie: float = 0.8
    diaspora: float = 0.35           # per log(1 + network per 100,000 students of the origin)
    visa: float = 2.0                # per unit of visa openness (0..1)
    post_study_work: float = 0.25    # per year of post-study work right
    cost: float = 1.2                # per unit of net cost / family income
    international_courses: float = 1.5  # per unit of the destination's share of international courses
    university_quality: float = 4.0  # within-country choice among universities
    nest: float = 1.0                # weight of the destinations' inclusive value in going abroad (1: plain logit)
    abroad_applications: int = 2     # ranked applications a mobile student sends abroad
    applications: int = 3            # ranked applications in all (the rest at home)


@dataclass
class StudyParams:
    """Progression, dropout and learning."""
    first_degree_years: int = 4
    postgraduate_years: int = 2
    postgraduate_share: float = 0.3  # share of entrants at postgraduate level
    dropout_constant: float = -3.0   # logit of the yearly dropout probability
    dropout_talent: float = -0.5
    dropout_teaching: float = -1.0
    dropout_abroad: float = 0.3
    skill_rate: float = 0.25         # skill gained per year at teaching quality 1
    skill_talent: float = 0.2
    competence_home: float = 0.02    # intercultural competence per year at home
    competence_abroad: float = 0.25  # extra per year abroad
    competence_courses: float = 0.1  # extra per year at a university teaching all its programmes internationally


@dataclass
class CareerParams:
    """Stay or return after graduating abroad (logit of staying)."""
    stay_constant: float = -1.6
    post_study_work: float = 0.35    # per year of post-study work right
    income_gap: float = 0.8          # per log(GDP pc destination / origin)
    return_incentive: float = 2.0    # per unit of return incentive (0..1)
    visa: float = 0.8                # per unit of visa openness
    diaspora_decay: float = 0.05     # share of the diaspora stock lost each year
    employability_constant: float = -0.6   # logit of a graduate job within a year
    employability_skill: float = 1.5       # per unit of skill
    employability_competence: float = 1.0  # per unit of intercultural competence
    employability_internship: float = 0.4  # an internship abroad


@dataclass
class ExchangeParams:
    """Exchange studies through partnership agreements."""
    apply_constant: float = -3.4     # logit of applying in an eligible year
    apply_talent: float = 0.3
    apply_resources: float = 0.5     # per family-resources band step
    apply_funding: float = 1.5       # per unit of exchange funding
    apply_courses: float = 2.0       # per unit of the university's international-course share
    short_share: float = 0.1         # stays shorter than a term
    term_share: float = 0.6          # one-term stays (the rest: a year)


@dataclass
class InternshipParams:
    """Overseas internships in the final year."""
    apply_constant: float = -4.2
    apply_competence: float = 2.0    # per unit of intercultural competence
    apply_talent: float = 0.3
    apply_funding: float = 2.5       # per unit of placement funding
    places_funding: float = 1.0      # extra places per unit of the world's mean placement funding
    host_language: float = 1.0       # host choice: common language
    host_distance: float = -0.8      # host choice: per log(km)
    skill: float = 0.08              # skill gained
    competence: float = 0.15         # intercultural competence gained


@dataclass
class QualityParams:
    """Teaching quality and reputation of universities."""
    teaching_diffusion: float = 0.15 # share of the gap to better partners closed a year at full exchange intensity
    faculty_diffusion: float = 0.03  # per unit of visiting and migrant researchers per 100 staff
    reversion: float = 0.15          # share of the gain over the base teaching quality lost a year without renewal
    research_spillover: float = 0.02 # teaching gain per unit of research reputation above average
    crowding_threshold: float = 0.97 # occupancy above which teaching suffers
    crowding_penalty: float = 0.5    # per unit of occupancy above the threshold
    expansion_penalty: float = 0.3   # per unit of yearly capacity growth
    reputation_weight: float = 0.08  # quality shift per unit of log research reputation
    reputation_memory: float = 0.3   # weight of this year's citations in the reputation average


@dataclass
class ResearchParams:
    """Researchers: output, team assembly (Guimera et al. 2005), citations, mobility."""
    papers_per_researcher: float = 1.0  # papers a researcher leads a year at productivity 1
    coauthors: float = 2.5             # mean co-authors besides the lead (Poisson)
    incumbent_share: float = 0.45      # a co-author slot goes to a repeat collaborator (when there is one)
    intl_constant: float = -3.0        # logit of a new co-author coming from a partner abroad
    intl_cooperation: float = 1.5      # per unit of research-cooperation funding
    intl_partners: float = 0.25        # per log(1 + agreements of the university)
    intl_trend: float = 0.03           # per year since the start (falling costs of collaborating)
    intl_visit: float = 2.0            # while visiting a partner abroad
    citations_log_mean: float = 1.6    # log citations of a domestic paper at quality 0.5
    citations_log_sd: float = 1.0
    citations_quality: float = 1.5     # per unit of the team's mean university quality
    intl_premium: float = 0.45         # citation premium of international co-authorship, at saturation
    premium_countries: float = 1.5     # how fast the premium saturates with more countries
    open_science_productivity: float = 0.3  # productivity gain when the university and its partners share
    cooperation_productivity: float = 0.1   # productivity gain from cooperation funding
    visit_constant: float = -4.0       # logit of a research visit abroad in a year
    visit_grants: float = 2.5          # per unit of researcher-mobility grants
    migrate_constant: float = -5.2     # logit of moving to a partner abroad
    migrate_income: float = 0.8        # per log income gap to the destination
    migrate_visa: float = 1.0          # per unit of the destination's visa openness
    return_rate: float = 0.08          # yearly probability a migrant researcher returns


@dataclass
class ServiceParams:
    """Service projects with international organisations, enterprises and NGOs."""
    projects_per_100_researchers: float = 0.6
    partners: float = 0.04             # per partnership agreement of the university
    funding: float = 1.5               # per unit of service-partnership funding
    intl_constant: float = -1.2        # logit of a project having a foreign partner
    intl_funding: float = 1.5
    people_per_project: float = 2500.0 # mean people reached (lognormal)


@dataclass
class BehaviourConfig:
    choice: ChoiceParams = field(default_factory=ChoiceParams)
    study: StudyParams = field(default_factory=StudyParams)
    careers: CareerParams = field(default_factory=CareerParams)
    exchange: ExchangeParams = field(default_factory=ExchangeParams)
    internships: InternshipParams = field(default_factory=InternshipParams)
    quality: QualityParams = field(default_factory=QualityParams)
    research: ResearchParams = field(default_factory=ResearchParams)
    service: ServiceParams = field(default_factory=ServiceParams)


@dataclass
class Lever:
    """One policy lever: who, what, how much, from which year to which (inclusive)."""
    lever: str = MISSING             # a name from sim.policies.LEVERS
    value: float = MISSING
    countries: Any = "all"           # "all", a group (e.g. high_income), a code, or a list
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
    output: str = "conf/behaviour/oecd_calibrated.yaml"  # where the fitted parameters are written


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


BACKENDS = ("numba", "mesa")
WORLD_KINDS = ("synthetic", "oecd")
MODES = ("set", "add", "scale")


def _positive_int(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, int) or value < low:
        raise ConfigError(f"{name}={value}: must be an integer >= {low}")


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
    _positive_int("seed", cfg.seed, 0)
    _positive_int("years", cfg.years)
    _positive_int("seeds_per_job", cfg.seeds_per_job)
    _positive_int("start_year", cfg.start_year, 1900)
    if cfg.backend not in BACKENDS:
        raise ConfigError(f"backend={cfg.backend}: unknown backend (allowed: {', '.join(BACKENDS)})")
    _positive_int("checkpoint_every", cfg.checkpoint_every, 0)
    _share("sample_students", cfg.sample_students)
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


def _validate_lever(where: str, lever: Lever, cfg: Config) -> None:
    spec = LEVERS.get(lever.lever)
    if spec is None:
        raise ConfigError(f"{where}.lever={lever.lever}: unknown lever (allowed: {', '.join(sorted(LEVERS))})")
    if lever.mode not in MODES:
        raise ConfigError(f"{where}.mode={lever.mode}: unknown mode (allowed: {', '.join(MODES)})")
    if lever.mode == "set" and not spec.low <= lever.value <= spec.high:
        raise ConfigError(f"{where}.value={lever.value}: {lever.lever} must be in [{spec.low}, {spec.high}]")
    if lever.mode == "scale" and lever.value < 0:
        raise ConfigError(f"{where}.value={lever.value}: a scale factor must be >= 0")
    for key in ("start", "end"):
        year = getattr(lever, key)
        if year is not None and not isinstance(year, int):
            raise ConfigError(f"{where}.{key}={year}: must be a calendar year (integer) or null")
    if lever.start is not None and lever.end is not None and lever.start > lever.end:
        raise ConfigError(f"{where}: start={lever.start} is after end={lever.end}")

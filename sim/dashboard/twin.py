"""The dashboard's model: a policy scenario and its baseline on the same world and seed, stepped together.

The dashboard shows what a policy does, so every view compares the scenario with the baseline at the
same seed (common random numbers: the difference is the policy's effect, not noise). `PolicyTwin` is a
Mesa model whose keyword parameters are the dashboard's controls; it builds two HemsimModels that share
one world (built once per world configuration in the process, `sim.ema.cached_world`) and steps them
in lockstep. Controls that do not make a valid config are refused: the twin then holds the one-line
reason in `error` and does not run, so the page shows a message, never a traceback.
"""

import math

import mesa
import numpy as np

from sim.config import Lever, validate
from sim.errors import ConfigError
from sim.results import WORLD
from sim.params import CONF_DIR
from sim.policies import LEVERS, country_indices

# The levers on the dashboard. Levers whose default is each country's own value (visa openness,
# post-study work) move by a change added to it; the others are set to the slider's value.
DASHBOARD_LEVERS = ("visa_openness", "post_study_work_years", "tuition_factor", "inbound_scholarship",
                    "outbound_scholarship", "return_incentive", "exchange_funding", "intl_course_target",
                    "research_cooperation", "researcher_mobility", "service_funding")

# WORLD metrics collected each year (Mesa DataCollector columns "<label>" and "<label> (baseline)").
TRACKED = {"international students": "inbound_degree", "returnees": "returnees", "papers": "papers",
           "international co-authorship share": "intl_coauthored_share", "teaching quality": "teaching_quality",
           "service projects": "service_projects"}


def lever_mode(lever: str) -> str:
    return "add" if isinstance(LEVERS[lever].default, str) else "set"


def lever_range(lever: str) -> tuple[float, float, float]:
    """(low, high, neutral) of the dashboard's slider for a lever."""
    spec = LEVERS[lever]
    if lever_mode(lever) == "add":
        span = spec.high - spec.low
        return -span, span, 0.0
    return spec.low, spec.high, float(spec.default)


def scenario_names() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


class PolicyTwin(mesa.Model):
    """A scenario (with the dashboard's lever settings on top) and the baseline, same world and seed.

    world: synthetic | oecd; scenario_name: a file of conf/scenario; seed: an integer (text from the
    page is parsed); years; students: world.students; countries: who the levers apply to ("all", a group
    such as high_income, or comma-separated codes); lever_start: years after the start the levers take
    effect; one keyword per lever of DASHBOARD_LEVERS (its slider value; neutral values add nothing).
    `scenario`/`rng` are accepted for Mesa's SolaraViz, which passes them on reset.
    """

    def __init__(self, world="synthetic", scenario_name="baseline", seed=0, years=12, students=200_000,
                 countries="all", lever_start=1, scenario=None, rng=None, **levers):
        self.error = None
        self.sim = self.base = None
        self.settings = dict(world=world, scenario_name=scenario_name, seed=seed, years=years, students=students,
                             countries=countries, lever_start=lever_start) | levers
        try:
            seed = _seed(seed)
            super().__init__(rng=seed)
            self._build(world, scenario_name, seed, years, students, countries, lever_start, levers)
        except ConfigError as e:
            if not hasattr(self, "steps"):
                super().__init__(rng=0)
            self.error = str(e)
        self.datacollector = mesa.DataCollector(model_reporters={
            **{label: _reporter("sim", metric) for label, metric in TRACKED.items()},
            **{f"{label} (baseline)": _reporter("base", metric) for label, metric in TRACKED.items()}})
        self.running = self.error is None and self.sim.running

    def _build(self, world, scenario_name, seed, years, students, countries, lever_start, levers):
        from sim.ema import cached_world
        from sim.model import HemsimModel
        from sim.params import config_from
        unknown = sorted(set(levers) - set(DASHBOARD_LEVERS))
        if unknown:
            raise ConfigError(f"{unknown[0]}: not a dashboard lever (levers: {', '.join(DASHBOARD_LEVERS)})")
        if scenario_name not in scenario_names():
            raise ConfigError(f"scenario={scenario_name}: unknown scenario (allowed: {', '.join(scenario_names())})")
        common = {"world": world, "seed": seed, "years": _integer("years", years, 1, 100),
                  "world.students": _integer("students", students, 1_000, 50_000_000), "progress": False}
        cfg = config_from(common | {"scenario": scenario_name})
        base = config_from(common | {"scenario": "baseline"})
        chosen = _countries(countries)
        start = cfg.start_year + _integer("lever_start", lever_start, 0, cfg.years)
        for lever, value in levers.items():
            low, high, neutral = lever_range(lever)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise ConfigError(f"{lever}={value!r}: must be a number in [{low:g}, {high:g}]")
            if value != neutral:
                cfg.scenario.levers.append(Lever(lever=lever, value=float(value), countries=chosen,
                                                 mode=lever_mode(lever), start=start))
        validate(cfg)
        shared = cached_world(cfg)
        country_indices(chosen, list(shared.codes), shared.groups, "countries")   # known even with no lever moved
        self.sim = HemsimModel(cfg, shared)          # build_tables checks the countries against the world
        self.base = HemsimModel(base, shared)
        self.start_year, self.end_year = cfg.start_year, cfg.start_year + cfg.years

    def step(self) -> None:
        if self.error is not None or not self.sim.running:
            self.running = False
            return
        self.sim.step()
        self.base.step()
        self.datacollector.collect(self)
        self.running = self.sim.running

    # ---- what the views read -----------------------------------------------------------------------
    @property
    def year(self) -> int | None:
        """The last simulated year (None before the first step)."""
        return None if self.sim is None or self.sim.year == self.start_year else self.sim.year - 1

    @property
    def codes(self) -> list[str]:
        return [] if self.sim is None else list(self.sim.world.codes)

    def series(self, which: str, metric: str, country: str = WORLD) -> tuple[np.ndarray, np.ndarray]:
        """(years, values) of one metric for one country (or WORLD), from the scenario or the baseline."""
        model = self.sim if which == "sim" else self.base
        if model is None:
            return np.array([], int), np.array([])
        column = list(model.recorder.countries).index(country)
        rows = [(c["year"][0], c["value"][column]) for c in model.recorder.metric_chunks if c["metric"][0] == metric]
        return np.array([y for y, _ in rows], int), np.array([v for _, v in rows], float)

    def corridors(self, which: str, kind: str, top: int = 10):
        """The `top` largest origin -> destination corridors of a flow kind in the last simulated year:
        a DataFrame origin, destination, students (real units)."""
        import pandas as pd
        model = self.sim if which == "sim" else self.base
        empty = pd.DataFrame(columns=["origin", "destination", "students"])
        if model is None or self.year is None:
            return empty
        chunks = [c for c in model.recorder.flow_chunks if len(c["year"]) and c["year"][0] == self.year
                  and c["kind"][0] == kind]
        if not chunks:
            return empty
        frame = pd.DataFrame({k: chunks[0][k] for k in ("origin", "destination", "students")})
        return frame.nlargest(top, "students").reset_index(drop=True)


def _reporter(which: str, metric: str):
    def report(twin: PolicyTwin) -> float:
        model = getattr(twin, which)
        return float(model.world_metrics.get(metric, np.nan)) if model is not None else np.nan
    return report


def _seed(value) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) >= 2 ** 63:
        raise ConfigError(f"seed={value!r}: must be a whole number from 0 to 2^63 - 1")
    return int(text)


def _integer(key: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value) or not low <= value <= high:
        raise ConfigError(f"{key}={value!r}: must be a whole number from {low:,} to {high:,}")
    return int(value)


def _countries(text) -> str | list[str]:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ConfigError(f"countries={text!r}: name all, a group (e.g. high_income) or country codes")
    return items[0] if len(items) == 1 else items

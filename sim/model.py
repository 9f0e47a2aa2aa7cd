"""The hemsim model: a Mesa world of countries and universities whose students live in arrays.

One step is one academic year:

    policies in force -> choice tables -> enrolment -> applications and admission under capacity
    -> study year (learning, dropout, graduation) -> stay or return -> outcomes -> networks

Before the first recorded year the model spins up for as many years as the longest programme,
under the world's default policies, so the first recorded year starts from a full system
rather than an empty one.
"""

from dataclasses import dataclass

import mesa
import numpy as np
from tqdm.auto import tqdm

from sim import alias
from sim.agents import AgentStudents, Country, University
from sim.config import Config
from sim.mechanisms import admission, careers, choice
from sim.mechanisms.enrolment import cohort_sizes
from sim.mechanisms.learning import StudyRule
from sim.outcomes import country_metrics, flow_arrays
from sim.policies import build_tables, in_force
from sim.population import ArrayStudents
from sim.results import Recorder, Results
from sim.world import synthetic
from sim.world.world import World

INITIAL_STAY_SHARE = 0.3  # share of mobile graduates assumed to have stayed, for the initial diaspora


@dataclass
class YearTables:
    """Everything the student rules read in one year: group tables, not per-student state."""
    c_accept: np.ndarray      # destination-country alias tables, one row per choice group
    c_alias: np.ndarray
    u_accept: np.ndarray      # university alias tables, one row per (country, field)
    u_alias: np.ndarray
    univ_of: np.ndarray       # (C, max universities per country) university index of each column
    ranked_univs: np.ndarray  # each country's universities, best first (clearing)
    country_offsets: np.ndarray
    p_stay: np.ndarray        # (C, C) probability of staying after graduating abroad
    teaching: np.ndarray      # (U,) teaching quality
    univ_country: np.ndarray
    field_cum: np.ndarray     # (C, F) cumulative field shares
    log_income: np.ndarray    # (C,) log(GDP pc / 6,000)
    postgraduate_share: float
    rule: StudyRule
    applications: int
    abroad_applications: int
    n_fields: int
    n_countries: int


def build_world(cfg: Config) -> World:
    return synthetic.build(cfg)


class HemsimModel(mesa.Model):
    """Countries and universities as Mesa agents; students as arrays (or Mesa agents, backend=mesa)."""

    def __init__(self, cfg: Config, world: World | None = None):
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.seed = cfg.seed
        self.world = world if world is not None else build_world(cfg)
        w = self.world
        self.policy_tables = build_tables(cfg.scenario.levers, w, cfg.start_year, cfg.years)
        self.policy = in_force(build_tables([], w, cfg.start_year, 1), 0)  # the world's defaults
        self.capacity = w.univ_capacity.copy()
        self.quality = w.univ_quality.copy()
        self.teaching = w.univ_teaching.copy()
        self.countries = [Country(self, i) for i in range(w.n_countries)]
        self.universities = [University(self, u) for u in range(w.n_universities)]
        self.students = ArrayStudents(cfg.seed) if cfg.backend == "numba" else AgentStudents(self)
        self.recorder = Recorder(w.codes, w.scale)
        self.year = cfg.start_year
        self.alumni = np.zeros((w.n_countries, w.n_countries))        # graduates who stayed (real students)
        self.enrolled_abroad = np.zeros((w.n_countries, w.n_countries))  # current students (real students)
        self._initial_networks()
        self._spin_up()

    # ---- the yearly cycle -------------------------------------------------------------------
    def step(self) -> None:
        """One recorded academic year."""
        t = self.year - self.cfg.start_year
        self.policy = in_force(self.policy_tables, t)
        tally = self._year(self.year)
        self.recorder.add(self.year, flow_arrays(tally), country_metrics(tally, self.world.scale))
        self.year += 1

    def run(self, progress: bool = False) -> Results:
        for _ in tqdm(range(self.cfg.years), desc=f"{self.cfg.scenario.name} seed {self.seed}", unit="year",
                      disable=not progress, leave=False):
            self.step()
        return self.recorder.results()

    def _year(self, year: int):
        tables = self.year_tables()
        free = np.maximum(self.capacity - self.students.seats_taken(self.world.n_universities), 0)
        sizes = cohort_sizes(self.world.cohort, self.policy["enrolment_rate"],
                             self.world.enrolment_rate)
        self.students.enrol(year, sizes, tables)
        unplaced = self.students.admit(year, tables, free)
        self.students.study(year, tables)
        tally = self.students.tally(tables, unplaced)
        self.students.remove_leavers()
        self._update_networks(tally)
        return tally

    def _spin_up(self) -> None:
        s = self.cfg.behaviour.study
        for year in range(self.cfg.start_year - max(s.first_degree_years, s.postgraduate_years), self.cfg.start_year):
            self._year(year)

    # ---- group tables -----------------------------------------------------------------------
    def year_tables(self) -> YearTables:
        w, b = self.world, self.cfg.behaviour
        c_accept, c_alias = alias.build(self.destination_probabilities())
        u_accept, u_alias, univ_of = choice.university_tables(w, self.quality, self.capacity,
                                                              b.choice.university_quality)
        ranked, offsets = admission.home_ranking(w.univ_country, self.quality, w.n_countries)
        return YearTables(
            c_accept=c_accept, c_alias=c_alias, u_accept=u_accept, u_alias=u_alias, univ_of=univ_of,
            ranked_univs=ranked, country_offsets=offsets,
            p_stay=careers.stay_probabilities(w, self.policy, b.careers), teaching=self.teaching,
            univ_country=w.univ_country, field_cum=np.cumsum(w.field_share, axis=1),
            log_income=np.log(w.gdp_pc / 6_000.0), postgraduate_share=b.study.postgraduate_share,
            rule=StudyRule.from_params(b.study), applications=b.choice.applications,
            abroad_applications=b.choice.abroad_applications, n_fields=w.n_fields, n_countries=w.n_countries)

    def destination_probabilities(self) -> np.ndarray:
        w, p = self.world, self.cfg.behaviour.choice
        q = choice.quality_index(self.quality, self.capacity, w.univ_country, w.n_countries, p.university_quality)
        tuition = np.bincount(w.univ_country, w.univ_tuition_intl * self.capacity, w.n_countries) \
            / np.bincount(w.univ_country, self.capacity, w.n_countries)
        # the network in real students per 1,000 students of the origin: invariant to world.scale
        students_at_home = (w.cohort * w.scale)[:, None] * 4.0
        network = 1000.0 * (self.alumni + self.enrolled_abroad) / students_at_home
        return choice.destination_probabilities(w, self.policy, network, q, tuition, p)

    # ---- networks ---------------------------------------------------------------------------
    def _initial_networks(self) -> None:
        """Diaspora before the start: the stock the default world's flows would have built.

        Expected yearly entrants abroad under the default policies with no network, times the
        years they stay enrolled, plus the share who stayed after graduating, accumulated over
        the network's memory (1 / decay years).
        """
        w, b = self.world, self.cfg.behaviour
        flows = choice.expected_entrants(self.destination_probabilities(), w, b.study.postgraduate_share) * w.scale
        np.fill_diagonal(flows, 0.0)
        years = (1 - b.study.postgraduate_share) * b.study.first_degree_years \
            + b.study.postgraduate_share * b.study.postgraduate_years
        self.enrolled_abroad = flows * years
        self.alumni = flows * INITIAL_STAY_SHARE / max(b.careers.diaspora_decay, 1e-3)

    def _update_networks(self, tally) -> None:
        off = ~np.eye(self.world.n_countries, dtype=bool)
        decay = self.cfg.behaviour.careers.diaspora_decay
        self.alumni = (1 - decay) * self.alumni + tally.stayed * off * self.world.scale
        self.enrolled_abroad = (tally.enrolled - tally.graduates - tally.dropouts) * off * self.world.scale

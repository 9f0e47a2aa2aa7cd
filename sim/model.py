"""The hemsim model: a Mesa world of countries and universities whose students live in arrays.

One step is one academic year:

    policies in force -> capacity growth -> group tables -> enrolment -> applications and admission
    -> exchanges -> internships -> study year (learning, dropout, graduation) -> stay or return
    -> research (mobility, teams, papers, citations) -> service projects -> outcomes
    -> education quality, reputation and networks for the next year

Before the first recorded year the model spins up for as many years as the longest programme,
under the world's default policies, so the first recorded year starts from a full system
rather than an empty one.
"""

from dataclasses import dataclass

import mesa
import numpy as np
from mesa.discrete_space import Network

from sim import alias
from sim.agents import AgentStudents, Country, University
from sim.config import Config
from sim.mechanisms import admission, careers, choice, exchange, internships, quality, rule_from, service
from sim.mechanisms.careers import EmployabilityRule
from sim.mechanisms.enrolment import cohort_sizes
from sim.mechanisms.exchange import ExchangeRule
from sim.mechanisms.internships import InternshipRule
from sim.mechanisms.learning import StudyRule
from sim.mechanisms.research import ResearchRule
from sim.outcomes import flow_arrays, student_metrics, student_sample
from sim.policies import build_tables, in_force
from sim.population import ArrayStudents
from sim.researchers import Researchers
from sim.results import Recorder, Results
from sim.university_outcomes import research_flows, university_metrics
from sim.world import synthetic
from sim.world.world import World

INITIAL_STAY_SHARE = 0.3  # share of mobile graduates assumed to have stayed, for the initial diaspora
NETWORK_UNIT = 100_000.0  # the diaspora network is counted per this many students of the origin


@dataclass
class YearTables:
    """Everything the student rules read in one year: group tables, not per-student state."""
    c_table: np.ndarray       # destination-country alias table, one row per choice group
    u_table: np.ndarray       # university alias table, one row per (country, field)
    first_univ: np.ndarray    # (C + 1,) each country's first university (u_table column j: first_univ[d] + j)
    ranked_univs: np.ndarray  # each country's universities, best first (clearing), at positions first_univ[d]..
    p_stay: np.ndarray        # (C, C) probability of staying after graduating abroad
    teaching: np.ndarray      # (U,) teaching quality
    courses: np.ndarray       # (U,) share of international courses
    univ_country: np.ndarray
    field_cum: np.ndarray     # (C, F) cumulative field shares
    log_income: np.ndarray    # (C,) log(GDP pc / 6,000)
    exchange_funding: np.ndarray    # (C,)
    e_slots: np.ndarray       # (E,) open exchange slots per agreement
    e_table: np.ndarray       # agreement alias table, one row per university
    edge_of: np.ndarray       # (U, max agreements) agreement index of each column, -1 = none
    edge_to: np.ndarray       # (E,) partner university of each agreement
    internship_funding: np.ndarray  # (C,)
    h_table: np.ndarray       # internship host alias table, one row per origin
    h_places: np.ndarray      # (C,) internship places per host
    has_host: np.ndarray      # (C,) whether an origin has any host open
    postgraduate_share: float
    rule: StudyRule
    exchange_rule: ExchangeRule
    internship_rule: InternshipRule
    employability_rule: EmployabilityRule
    applications: int
    abroad_applications: int
    n_fields: int
    n_countries: int


def build_world(cfg: Config) -> World:
    if cfg.world.kind == "oecd":
        from sim.world import real
        return real.build(cfg)
    return synthetic.build(cfg)


class HemsimModel(mesa.Model):
    """Countries and universities as Mesa agents; students and researchers as arrays."""

    def __init__(self, cfg: Config, world: World | None = None, state: dict | None = None):
        """A model at the start of its first recorded year (after spin-up), or, given the `state`
        of a checkpoint, where that checkpoint left off."""
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.seed = cfg.seed
        self.world = world if world is not None else build_world(cfg)
        w, b = self.world, cfg.behaviour
        self.policy_tables = build_tables(cfg.scenario.levers, w, cfg.start_year, cfg.years)
        self.default_policy = in_force(build_tables([], w, cfg.start_year, 1), 0)
        self.policy = self.default_policy
        # university state the mechanisms change year by year
        self.capacity = w.univ_capacity.copy()
        self.quality = w.univ_quality.copy()
        self.teaching = w.univ_teaching.copy()
        self.courses = w.univ_intl_courses.copy()
        self.reputation = np.ones(w.n_universities)
        self.growth = np.zeros(w.n_universities)
        self.countries = [Country(self, i) for i in range(w.n_countries)]
        self.universities = [University(self, u) for u in range(w.n_universities)]
        self.partnerships = self._partnership_network()
        self.students = ArrayStudents(cfg.seed) if cfg.backend == "numba" else AgentStudents(self)
        self.researchers = Researchers(w, cfg.seed)
        self.rules = dict(study=StudyRule.from_params(b.study, b.internships),
                          exchange=rule_from(ExchangeRule, b.exchange),
                          internship=rule_from(InternshipRule, b.internships),
                          employability=rule_from(EmployabilityRule, b.careers),
                          research=rule_from(ResearchRule, b.research))
        self.recorder = Recorder(w.codes, sampling=cfg.sample_students > 0)
        self.year = cfg.start_year
        self.alumni = np.zeros((w.n_countries, w.n_countries))           # graduates who stayed (real students)
        self.enrolled_abroad = np.zeros((w.n_countries, w.n_countries))  # current students (real students)
        if state is not None:
            self._restore(state)
            return
        self._initial_networks()
        self._spin_up()

    def _partnership_network(self) -> Network:
        """The agreements between universities as a Mesa network; each University sits in its cell."""
        import networkx as nx
        w = self.world
        graph = nx.Graph()
        graph.add_nodes_from(range(w.n_universities))
        graph.add_edges_from((int(a), int(b), {"slots": int(s), "regional": bool(r)})
                             for a, b, s, r in zip(w.edge_from, w.edge_to, w.edge_slots, w.edge_regional) if a < b)
        network = Network(graph, random=self.random, layout=None)
        for u in self.universities:
            u.cell = network[u.index]
        return network

    # ---- the yearly cycle -------------------------------------------------------------------
    def step(self) -> None:
        """One recorded academic year."""
        self.policy = in_force(self.policy_tables, self.year - self.cfg.start_year)
        flows, metrics, sample = self._year(self.year)
        self.recorder.add(self.year, flows, metrics)
        if sample is not None:
            self.recorder.add_students(self.year, sample, self.world.univ_country)
        self.year += 1

    def run(self, progress: bool = False, checkpoint_every: int = 0, on_checkpoint=None) -> Results:
        """Run the remaining recorded years; every `checkpoint_every` years (counted from the start
        year) before the last, call `on_checkpoint(self)` to save the model's state."""
        from tqdm.auto import tqdm  # imported when a run starts: keeps `import sim.model` quick
        end = self.cfg.start_year + self.cfg.years
        for _ in tqdm(range(end - self.year), desc=f"{self.cfg.scenario.name} seed {self.seed}", unit="year",
                      initial=self.year - self.cfg.start_year, total=self.cfg.years, disable=not progress,
                      leave=False):
            self.step()
            if checkpoint_every and on_checkpoint and self.year < end \
                    and (self.year - self.cfg.start_year) % checkpoint_every == 0:
                on_checkpoint(self)
        return self.recorder.results()

    # ---- checkpoints --------------------------------------------------------------------------
    UNIVERSITY_STATE = ("capacity", "quality", "teaching", "courses", "reputation", "growth",
                        "alumni", "enrolled_abroad")

    def state(self) -> dict:
        """Everything that changes from year to year (the world and the rules are rebuilt from
        the config): see sim/checkpoint.py."""
        if not isinstance(self.students, ArrayStudents):
            raise TypeError("checkpoints need the numba backend")
        return {"year": self.year,  # Mesa's own clock (steps, time) restarts at 0 in a resumed model
                "universities": {k: getattr(self, k) for k in self.UNIVERSITY_STATE},
                "students": self.students.state(), "researchers": vars(self.researchers),
                "recorded": (self.recorder.flow_chunks, self.recorder.metric_chunks, self.recorder.student_chunks)}

    def _restore(self, state: dict) -> None:
        self.year = state["year"]
        for k, v in state["universities"].items():
            setattr(self, k, v)
        self.students = ArrayStudents.from_state(state["students"])
        vars(self.researchers).update(state["researchers"])
        self.recorder.flow_chunks, self.recorder.metric_chunks, self.recorder.student_chunks = state["recorded"]

    def _year(self, year: int, recorded: bool = True):
        """One year of the cycle; returns its flows, metrics and (in recorded years, when asked
        for) the per-student sample."""
        w = self.world
        self._expand()
        tables = self.year_tables()
        free = np.maximum(self.capacity - self.students.seats_taken(w.n_universities), 0)
        sizes = cohort_sizes(w.cohort, self.policy["enrolment_rate"], w.enrolment_rate)
        self.students.enrol(year, sizes, tables)
        unplaced = self.students.admit(year, tables, free)
        edge_use = self.students.exchange(year, tables)
        self.students.internships(year, tables)
        self.students.study(year, tables)
        tally = self.students.tally(tables, unplaced)
        share = self.cfg.sample_students
        sample = student_sample(self.students.columns(), self.seed, share) if share > 0 and recorded else None
        enrolled = self.students.seats_taken(w.n_universities)
        self.students.remove_leavers()
        research = self.researchers.year(year, year - self.cfg.start_year, w, self.policy, self.quality.mean(axis=1),
                                         self._open_share(), self.rules["research"])
        projects = self._service(year)
        self._update_universities(edge_use, enrolled, research)
        self._update_networks(tally)
        flows = {k: v * w.scale for k, v in flow_arrays(tally).items()}
        flows.update(research_flows(research, w.researcher_scale))
        metrics = student_metrics(tally, w.scale)
        metrics.update(university_metrics(self, enrolled, research, projects))
        return flows, metrics, sample

    def _spin_up(self) -> None:
        s = self.cfg.behaviour.study
        for year in range(self.cfg.start_year - max(s.first_degree_years, s.postgraduate_years), self.cfg.start_year):
            self._year(year, recorded=False)

    # ---- universities: expansion, service, quality --------------------------------------------
    def _expand(self) -> None:
        rate = self.policy["capacity_growth"][self.world.univ_country]
        self.growth = rate
        self.capacity = np.ceil(self.capacity * (1.0 + rate)).astype(np.int64)

    def _open_share(self) -> np.ndarray:
        w = self.world
        return quality.open_share(w.edge_from, w.edge_to, w.univ_country, self.policy["open_science"],
                                  w.n_universities)

    def _service(self, year: int):
        w, p = self.world, self.cfg.behaviour.service
        researchers_real = self.researchers_per_university() * w.researcher_scale
        partners = np.bincount(w.edge_from, minlength=w.n_universities)
        return service.projects(self.seed, year, researchers_real, partners, w.univ_country, w.service_capacity,
                                self.policy["service_funding"], self.policy["border_closed"] > 0.5,
                                p.projects_per_100_researchers, p.partners, p.funding, p.intl_constant, p.intl_funding,
                                p.people_per_project)

    def researchers_per_university(self) -> np.ndarray:
        return np.bincount(self.researchers.univ, minlength=self.world.n_universities)

    def _update_universities(self, edge_use, enrolled, research) -> None:
        w, q = self.world, self.cfg.behaviour.quality
        staff = np.maximum(research.researchers, 1)
        guests = research.visitors_in + research.arrivals_in
        visitors_teaching = self._guest_teaching(research)
        self.reputation = quality.reputation_update(self.reputation, research.citations, research.researchers,
                                                    q.reputation_memory)
        self.teaching = quality.teaching_update(self.teaching, w.univ_teaching, w.edge_from, w.edge_to, edge_use,
                                                self.capacity, enrolled, self.growth, self.reputation,
                                                visitors_teaching, 100.0 * guests / staff, q)
        self.quality = quality.choice_quality(w.univ_quality, self.reputation, self.teaching, w.univ_teaching,
                                              q.reputation_weight)
        self.courses = quality.courses(w.univ_intl_courses, w.univ_country, self.policy["intl_course_target"])

    def _guest_teaching(self, research) -> np.ndarray:
        """Mean teaching quality at the home universities of each university's guest researchers."""
        r, u = self.researchers, self.world.n_universities
        guest_at = np.where(r.visiting >= 0, r.visiting, np.where(r.moved == 1, r.univ, -1))
        is_guest = guest_at >= 0
        total = np.bincount(guest_at[is_guest], self.teaching[r.home[is_guest]], u)
        count = np.bincount(guest_at[is_guest], minlength=u)
        return np.divide(total, count, out=self.teaching.copy(), where=count > 0)

    # ---- group tables -----------------------------------------------------------------------
    def year_tables(self) -> YearTables:
        w, b = self.world, self.cfg.behaviour
        c_table = alias.build(self.destination_probabilities())
        u_table = choice.university_tables(w, self.quality, self.capacity, b.choice.university_quality)
        ranked = admission.home_ranking(w.univ_country, self.quality)
        e_slots, e_table, edge_of = exchange.agreement_tables(w, self.policy, w.edge_slots)
        h_table, h_places, has_host = internships.host_tables(w, self.policy, b.internships)
        return YearTables(
            c_table=c_table, u_table=u_table, first_univ=w.first_univ,
            ranked_univs=ranked,
            p_stay=careers.stay_probabilities(w, self.policy, b.careers), teaching=self.teaching,
            courses=self.courses, univ_country=w.univ_country, field_cum=np.cumsum(w.field_share, axis=1),
            log_income=np.log(w.gdp_pc / 6_000.0), exchange_funding=self.policy["exchange_funding"],
            e_slots=e_slots, e_table=e_table, edge_of=edge_of, edge_to=w.edge_to,
            internship_funding=self.policy["internship_funding"], h_table=h_table,
            h_places=h_places, has_host=has_host, postgraduate_share=b.study.postgraduate_share,
            rule=self.rules["study"], exchange_rule=self.rules["exchange"], internship_rule=self.rules["internship"],
            employability_rule=self.rules["employability"], applications=b.choice.applications,
            abroad_applications=b.choice.abroad_applications, n_fields=w.n_fields, n_countries=w.n_countries)

    def destination_probabilities(self) -> np.ndarray:
        w, p = self.world, self.cfg.behaviour.choice
        capacity_courses = np.bincount(w.univ_country, self.courses * self.capacity, w.n_countries) \
            / np.bincount(w.univ_country, self.capacity, w.n_countries)
        q = choice.quality_index(self.quality, self.capacity, w.univ_country, w.n_countries, p.university_quality)
        tuition = np.bincount(w.univ_country, w.univ_tuition_intl * self.capacity, w.n_countries) \
            / np.bincount(w.univ_country, self.capacity, w.n_countries)
        # the network in real students per 100,000 students of the origin: invariant to world.scale
        students_at_home = np.maximum(w.cohort * w.scale, 1.0)[:, None] * 4.0
        network = NETWORK_UNIT * (self.alumni + self.enrolled_abroad) / students_at_home
        return choice.destination_probabilities(w, self.policy, network, q, tuition, capacity_courses, p)

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
        if w.observed_stock is not None:  # a real world: observed stocks where a destination reports them
            seen = ~np.isnan(w.observed_stock)
            flows = np.where(seen, np.nan_to_num(w.observed_stock) / years, flows)
        self.enrolled_abroad = flows * years
        self.alumni = flows * INITIAL_STAY_SHARE / max(b.careers.diaspora_decay, 1e-3)

    def _update_networks(self, tally) -> None:
        off = ~np.eye(self.world.n_countries, dtype=bool)
        decay = self.cfg.behaviour.careers.diaspora_decay
        c = tally.counts
        self.alumni = (1 - decay) * self.alumni + c["stayed"] * off * self.world.scale
        self.enrolled_abroad = (c["enrolled"] - c["graduates"] - c["dropouts"]) * off * self.world.scale

"""Mesa agents: Country and University in both backends; Student in the Mesa reference backend.

Countries and universities are few (hundreds, thousands), so they are `mesa.Agent`s; their
state lives in the model's arrays (one source of truth for the kernels) and the agents read it
through properties. Students are `mesa.Agent`s only in the reference backend (`backend=mesa`),
whose `step`-style methods are the readable specification of the student rules. The rules'
arithmetic is the same scalar functions the kernels call, so both backends give the same
students the same outcomes; what the reference checks independently is the orchestration:
who applies where, who is admitted, who leaves, what is counted.
"""

import mesa
import numpy as np

from sim.mechanisms import careers, choice, enrolment, exchange, internships, learning
from sim.outcomes import EXCHANGED, INTERNED, YearTally, tally
from sim.population import COLUMNS, TRANSIENT


def select(applicants: list["Student"], places: int, score) -> list["Student"]:
    """The applicants with the highest score (ties: lower uid), up to the places available."""
    return sorted(applicants, key=lambda s: (-score(s), s.uid))[:max(places, 0)]


class Country(mesa.Agent):
    """A country: its higher-education system, economy and policies in force."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.code = model.world.codes[index]

    @property
    def gdp_pc(self) -> float:
        return float(self.model.world.gdp_pc[self.index])

    @property
    def policy(self) -> dict[str, float]:
        """The levers in force this year."""
        return {name: float(v[self.index]) for name, v in self.model.policy.items()}

    @property
    def universities(self):
        return self.model.agents_by_type[University].select(lambda u: u.country == self.index)


class University(mesa.Agent):
    """A university: quality, teaching, capacity, international tuition and courses."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.country = int(model.world.univ_country[index])

    @property
    def capacity(self) -> int:
        return int(self.model.capacity[self.index])

    @property
    def quality(self) -> np.ndarray:
        return self.model.quality[self.index]

    @property
    def teaching(self) -> float:
        return float(self.model.teaching[self.index])

    def admit(self, applicants: list["Student"], free: int) -> list["Student"]:
        """The most talented applicants (ties: lower uid), up to the free seats."""
        return select(applicants, free, lambda s: s.talent)


class Student(mesa.Agent):
    """One student (reference backend): the rules of enrolment, choice, study and careers."""

    def __init__(self, model, uid: int, origin: int, year: int, tables):
        super().__init__(model)
        self.uid, self.origin = uid, origin
        talent, field, resources, level = enrolment.draw_entrant(
            model.seed, year, uid, origin, tables.field_cum, tables.log_income, tables.postgraduate_share)
        self.talent = float(talent)  # a float32 value, as in the array backend
        self.field, self.resources, self.level = int(field), int(resources), int(level)
        self.univ = -1
        self.year_in = 0
        self.skill = 0.0
        self.competence = 0.0
        self.mobility = 0            # bits: EXCHANGED, INTERNED
        self.outcome = learning.CONTINUING
        self.new_year()

    def new_year(self) -> None:
        """Forget last year's events."""
        self.partner, self.stay, self.host, self.intern, self.score = -1, 0.0, -1, 0, 0.0

    def application(self, k: int, year: int, tables) -> int:
        """The university of my k-th ranked application."""
        return int(choice.application(
            self.model.seed, year, self.uid, self.origin, self.field, self.talent, self.resources, self.level, k,
            tables.abroad_applications, tables.c_table, tables.u_table, tables.first_univ, tables.n_fields))

    @property
    def abroad(self) -> bool:
        return int(self.model.world.univ_country[self.univ]) != self.origin

    def exchange_application(self, year: int, tables) -> int:
        """The agreement I apply along for an exchange this year, or -1."""
        c = int(tables.univ_country[self.univ])
        if not exchange.eligible(self.level, self.year_in, tables.rule.first_degree_years, c == self.origin,
                                 bool(self.mobility & EXCHANGED)):
            return -1
        if not exchange.wants_exchange(self.model.seed, year, self.uid, self.talent, self.resources,
                                       float(tables.exchange_funding[c]), float(tables.courses[self.univ]),
                                       tables.exchange_rule):
            return -1
        return int(exchange.agreement(self.model.seed, year, self.uid, self.univ, tables.e_table, tables.edge_of))

    def go_on_exchange(self, edge: int, year: int, tables) -> None:
        self.partner = int(tables.edge_to[edge])
        self.stay = float(np.float32(exchange.length(self.model.seed, year, self.uid, tables.exchange_rule)))
        self.mobility |= EXCHANGED

    def internship_application(self, year: int, tables) -> int:
        """The host country I apply to for an internship abroad, or -1."""
        if not tables.has_host[self.origin] or not internships.eligible(
                self.level, self.year_in, tables.rule.first_degree_years, tables.rule.postgraduate_years,
                int(tables.univ_country[self.univ]) == self.origin):
            return -1
        funding = float(tables.internship_funding[self.origin])
        if not internships.wants_internship(self.model.seed, year, self.uid, self.talent, self.competence, funding,
                                            tables.internship_rule):
            return -1
        self.score = float(internships.priority(self.competence, funding))
        return int(internships.host(self.model.seed, year, self.uid, self.origin, tables.h_table))

    def go_on_internship(self, host: int) -> None:
        self.host, self.intern = host, 1
        self.mobility |= INTERNED

    def study(self, year: int, tables) -> None:
        """A year of learning; then dropout, graduation, and for graduates abroad: stay or return."""
        abroad, taught = learning.conditions(self.origin, self.univ, self.partner, self.stay, tables.univ_country,
                                             tables.teaching)
        skill, competence, outcome = learning.study_year(
            self.model.seed, year, self.uid, self.talent, self.skill, self.competence, abroad, taught,
            float(tables.courses[self.univ]), self.intern, self.level, self.year_in, tables.rule)
        self.skill = float(np.float32(skill))  # stored as float32, as in the array backend
        self.competence = float(np.float32(competence))
        self.year_in += 1
        self.outcome = int(outcome)
        if self.outcome == learning.GRADUATED and self.abroad:
            host = int(self.model.world.univ_country[self.univ])
            stay = careers.stays(self.model.seed, year, self.uid, tables.p_stay[self.origin, host])
            self.outcome = careers.STAYED if stay else careers.RETURNED


class AgentStudents:
    """The reference backend: the same interface as `ArrayStudents`, one mesa.Agent per student."""

    def __init__(self, model):
        self.model = model
        self.entrants: list[Student] = []

    @property
    def all(self) -> mesa.agent.AgentSet:
        if Student in self.model.agents_by_type:
            return self.model.agents_by_type[Student]
        return mesa.agent.AgentSet([], random=self.model.random)

    def __len__(self) -> int:
        return len(self.all)

    def seats_taken(self, n_universities: int) -> np.ndarray:
        return np.bincount([s.univ for s in self.all], minlength=n_universities).astype(np.int64)

    def enrol(self, year: int, sizes: np.ndarray, tables) -> None:
        self.all.do("new_year")
        self.entrants = [Student(self.model, int(enrolment.uid_of(year, c, j)), c, year, tables)
                         for c in range(len(sizes)) for j in range(int(sizes[c]))]

    def admit(self, year: int, tables, free: np.ndarray) -> np.ndarray:
        universities = self.model.universities
        pending = self.entrants
        for k in range(tables.applications):
            by_university: dict[int, list[Student]] = {}
            for s in pending:
                by_university.setdefault(s.application(k, year, tables), []).append(s)
            for u, applicants in by_university.items():
                for s in universities[u].admit(applicants, int(free[u])):
                    s.univ = u
                    free[u] -= 1
            pending = [s for s in pending if s.univ < 0]
        # clearing: by talent, each to the best university at home with a seat left
        for s in sorted(pending, key=lambda s: (-s.talent, s.uid)):
            lo, hi = tables.first_univ[s.origin], tables.first_univ[s.origin + 1]
            for u in tables.ranked_univs[lo:hi]:
                if free[u] > 0:
                    s.univ = int(u)
                    free[u] -= 1
                    break
        unplaced = np.zeros(tables.n_countries, np.int64)
        for s in pending:
            if s.univ < 0:
                unplaced[s.origin] += 1
                s.remove()
        return unplaced

    def exchange(self, year: int, tables) -> np.ndarray:
        """Each agreement takes the most talented of its applicants, up to its slots; returns the use of each."""
        by_agreement: dict[int, list[Student]] = {}
        for s in self.all:
            edge = s.exchange_application(year, tables)
            if edge >= 0:
                by_agreement.setdefault(edge, []).append(s)
        use = np.zeros(len(tables.e_slots), np.int64)
        for edge, applicants in by_agreement.items():
            for s in select(applicants, int(tables.e_slots[edge]), lambda s: s.talent):
                s.go_on_exchange(edge, year, tables)
                use[edge] += 1
        return use

    def internships(self, year: int, tables) -> None:
        """Each host country takes the most competent of its applicants (funding first), up to its places."""
        by_host: dict[int, list[Student]] = {}
        for s in self.all:
            host = s.internship_application(year, tables)
            if host >= 0:
                by_host.setdefault(host, []).append(s)
        for host, applicants in by_host.items():
            for s in select(applicants, int(tables.h_places[host]), lambda s: s.score):
                s.go_on_internship(host)

    def study(self, year: int, tables) -> None:
        self.all.do("study", year, tables)

    def columns(self) -> dict[str, np.ndarray]:
        """The students as the array backend's columns (in uid order)."""
        students = sorted(self.all, key=lambda s: s.uid)
        return {name: np.array([getattr(s, name) for s in students], dtype=dtype)
                for name, dtype in {**COLUMNS, **TRANSIENT}.items()}

    def tally(self, tables, unplaced: np.ndarray) -> YearTally:
        return tally(self.columns(), tables.univ_country, tables.employability_rule, unplaced)

    def remove_leavers(self) -> None:
        for s in list(self.all):
            if s.outcome != learning.CONTINUING:
                s.remove()

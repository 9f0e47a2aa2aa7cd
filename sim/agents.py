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

from sim.mechanisms import careers, choice, enrolment, learning
from sim.outcomes import YearTally, tally


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
        ranked = sorted(applicants, key=lambda s: (-s.talent, s.uid))
        return ranked[:free]


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
        self.outcome = learning.CONTINUING

    def application(self, k: int, year: int, tables) -> int:
        """The university of my k-th ranked application."""
        return int(choice.application(
            self.model.seed, year, self.uid, self.origin, self.field, self.talent, self.resources, self.level, k,
            tables.abroad_applications, tables.c_accept, tables.c_alias, tables.u_accept, tables.u_alias,
            tables.univ_of, tables.n_fields))

    @property
    def abroad(self) -> bool:
        return int(self.model.world.univ_country[self.univ]) != self.origin

    def study(self, year: int, tables) -> None:
        """A year of learning; then dropout, graduation, and for graduates abroad: stay or return."""
        skill, competence, outcome = learning.study_year(
            self.model.seed, year, self.uid, self.talent, self.skill, self.competence, float(self.abroad),
            float(tables.teaching[self.univ]), self.level, self.year_in, tables.rule)
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
    def all(self):
        return self.model.agents_by_type[Student] if Student in self.model.agents_by_type else []

    def __len__(self) -> int:
        return len(self.all)

    def seats_taken(self, n_universities: int) -> np.ndarray:
        return np.bincount([s.univ for s in self.all], minlength=n_universities).astype(np.int64)

    def enrol(self, year: int, sizes: np.ndarray, tables) -> None:
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
            lo, hi = tables.country_offsets[s.origin], tables.country_offsets[s.origin + 1]
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

    def study(self, year: int, tables) -> None:
        self.all.do("study", year, tables)

    def tally(self, tables, unplaced: np.ndarray) -> YearTally:
        students = list(self.all)
        col = lambda name, dtype: np.array([getattr(s, name) for s in students], dtype=dtype)  # noqa: E731
        return tally(col("origin", np.uint16), col("univ", np.int32), tables.univ_country, col("outcome", np.uint8),
                     col("year_in", np.uint8), col("skill", np.float32), col("competence", np.float32), unplaced)

    def remove_leavers(self) -> None:
        for s in list(self.all):
            if s.outcome != learning.CONTINUING:
                s.remove()

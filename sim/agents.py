"""Mesa agents: Country and University in both backends; Student in the Mesa reference backend.

Countries and universities are few (hundreds, thousands), so they are `mesa.Agent`s. Their
state lives in the model's structures of arrays (`model.universities`, `model.agreements`,
`model.diaspora`, the policy tables: one source of truth for the kernels), and each agent is a
view of its own row, with the per-institution rules of selection that the reference backend
applies one agent at a time (`University.admit`, `Country.clear`).

Students are `mesa.Agent`s only in the reference backend (`backend=mesa`), one attribute per
column of `sim/students.py`. Their rules live with each mechanism (`sim/mechanisms/`), whose
`step_agents` applies them to these agents one at a time through the same scalar functions the
kernels call, so both backends give the same students the same outcomes; what the reference
checks independently is the orchestration: who applies where, who is admitted, who leaves,
what is counted.
"""

import mesa
import numpy as np

from sim.students import ALL, CONTINUING, RESET


def select(applicants: list["Student"], places: int, score) -> list["Student"]:
    """The applicants with the highest score (ties: lower uid), up to the places available."""
    return sorted(applicants, key=lambda s: (-score(s), s.uid))[:max(places, 0)]


class Country(mesa.Agent):
    """A country: its higher-education system, economy, diaspora and the policies in force."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.code = model.world.codes[index]
        self.name = model.world.names[index]

    def __repr__(self) -> str:
        return f"Country({self.code})"

    @property
    def gdp_pc(self) -> float:
        return float(self.model.world.gdp_pc[self.index])

    @property
    def population(self) -> float:
        """Tertiary-age population (people)."""
        return float(self.model.world.population[self.index])

    @property
    def policy(self) -> dict[str, float | np.ndarray]:
        """The levers in force this year: a country's lever as a number; a corridor's as an array over the other
        end of the corridor (a destination's lever by origin, an origin's by destination: sim/policies.py)."""
        from sim.policies import DESTINATION, LEVERS
        i = self.index
        return {name: (float(v[i]) if v.ndim == 1 else v[:, i].copy() if LEVERS[name].side == DESTINATION
                       else v[i, :].copy()) for name, v in self.model.policy.items()}

    @property
    def universities(self) -> mesa.agent.AgentSet:
        lo, hi = self.model.world.first_univ[self.index:self.index + 2]
        return mesa.agent.AgentSet(self.model.university_agents[lo:hi], random=self.model.random)

    @property
    def students_abroad(self) -> dict[str, float]:
        """Real students of this country enrolled abroad, by destination code (the current network)."""
        return self._by_code(self.model.diaspora.enrolled_abroad[self.index])

    @property
    def alumni_abroad(self) -> dict[str, float]:
        """Graduates of this country who stayed abroad (the alumni network), by destination code."""
        return self._by_code(self.model.diaspora.alumni[self.index])

    def _by_code(self, row: np.ndarray) -> dict[str, float]:
        return {code: float(v) for code, v in zip(self.model.world.codes, row) if v > 0}

    def clear(self, applicants: list["Student"], free: np.ndarray, ranked: np.ndarray) -> None:
        """Clearing: offer the country's remaining seats to its own unplaced entrants, most talented
        first (ties: lower uid), each to the best university (`ranked`: best first) with a seat left."""
        for s in select(applicants, len(applicants), lambda s: s.talent):
            for u in ranked:
                if free[u] > 0:
                    s.univ = int(u)
                    free[u] -= 1
                    break


class University(mesa.Agent):
    """A university: seats, quality, teaching, courses, reputation, research, partners."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.country = int(model.world.univ_country[index])

    def __repr__(self) -> str:
        return f"University({self.index}, {self.model.world.codes[self.country]})"

    def _row(self, name: str):
        return getattr(self.model.universities, name)[self.index]

    capacity = property(lambda self: int(self._row("capacity")), doc="seats (agents)")
    quality = property(lambda self: self._row("quality"), doc="(F,) quality by field as students see it")
    teaching = property(lambda self: float(self._row("teaching")), doc="teaching quality 0..1")
    courses = property(lambda self: float(self._row("courses")), doc="share of international courses")
    reputation = property(lambda self: float(self._row("reputation")), doc="research reputation (world mean 1)")
    researchers = property(lambda self: int(self._row("researchers")), doc="researchers appointed this year (agents)")
    papers = property(lambda self: int(self._row("papers")), doc="papers led this year")

    @property
    def partners(self) -> mesa.agent.AgentSet:
        """The universities abroad this one has a partnership agreement with."""
        agents = self.model.university_agents
        return mesa.agent.AgentSet([agents[v] for v in self.model.agreements.partners_of(self.index)],
                                   random=self.model.random)

    def admit(self, applicants: list["Student"], free: int) -> list["Student"]:
        """The most talented applicants (ties: lower uid), up to the free seats."""
        return select(applicants, free, lambda s: s.talent)


class Student(mesa.Agent):
    """One student (reference backend): an attribute per column of sim/students.py."""

    def __init__(self, model, uid: int, origin: int, talent, field: int, resources: int, level: int):
        super().__init__(model)
        self.uid, self.origin = uid, origin
        self.talent = float(talent)  # a float32 value, as in the array backend
        self.field, self.resources, self.level = int(field), int(resources), int(level)
        self.univ = -1
        self.year_in = 0
        self.skill = 0.0
        self.competence = 0.0
        self.mobility = 0
        self.outcome = CONTINUING
        self.new_year()

    def new_year(self) -> None:
        """Forget last year's events."""
        for name, value in RESET.items():
            setattr(self, name, value)


class AgentStudents:
    """The reference backend's population: one mesa.Agent per student."""

    reference = True

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

    def start_year(self) -> None:
        self.all.do("new_year")

    def seats_taken(self, n_universities: int) -> np.ndarray:
        """Students per university (entrants without a seat yet not counted)."""
        return np.bincount([s.univ for s in self.all if s.univ >= 0], minlength=n_universities).astype(np.int64)

    def columns(self) -> dict[str, np.ndarray]:
        """The students as the array backend's columns (in uid order)."""
        students = sorted(self.all, key=lambda s: s.uid)
        return {name: np.array([getattr(s, name) for s in students], dtype=dtype) for name, dtype in ALL.items()}


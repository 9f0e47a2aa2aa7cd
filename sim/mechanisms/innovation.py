"""Innovation: patent applications by country.

A knowledge production function (Griliches 1979; Romer 1990): a country's patent applications a
year are

    patents = patents_per_researcher x researchers^research_elasticity x research scale
              x (graduate stock / population)^skills_elasticity x skills scale
              x (1 + graduate_students x international graduate students / researchers)

with the scales set so that a country with the world's mean researchers and graduate share files
`patents_per_researcher` per researcher. Researchers and international graduate students (master's
and doctoral, the regressor of Chellaraj, Maskus & Mattoo 2008) both enter the R&D labour of the
country; the skilled workforce absorbs and applies what research produces. `graduate_students` is
set so that the real world's elasticity of US patent applications to its foreign graduate students,
measured by the validation's paired experiment, lands on their estimate (about 0.45; docs/ODD.md
7.17). A final outcome: patents feed nothing back.
"""

from dataclasses import dataclass

import numpy as np

from sim import fpmath
from sim.mechanisms.base import Mechanism, nonnegative, rule_type
from sim.outcomes import Metric, by_country, international_graduate_students, with_world


@dataclass
class Params:
    """behaviour.innovation: patent applications."""
    patents_per_researcher: float = nonnegative(0.4)   # a year, at the world's mean researchers and graduate share
    research_elasticity: float = 0.8      # of patents to researchers
    skills_elasticity: float = 0.5        # of patents to the graduate share of the population
    graduate_students: float = nonnegative(0.9)        # R&D labour of an international graduate student, per researcher


Rule = InnovationRule = rule_type(Params, "InnovationRule")


def patents(researchers, graduate_share, students_per_researcher, rule, mean_researchers, mean_share) -> np.ndarray:
    """(C,) patent applications a year (see the module docstring)."""
    r = np.maximum(researchers, 0.0)
    return (rule.patents_per_researcher * mean_researchers * fpmath.power(r / mean_researchers, rule.research_elasticity)
            * fpmath.power(np.maximum(graduate_share, 0.0) / mean_share, rule.skills_elasticity)
            * (1 + rule.graduate_students * students_per_researcher))


class Innovation(Mechanism):
    """Patent applications from researchers, the skilled workforce and international graduate students."""
    section = "innovation"
    reads = ("universities.researchers", "workforce", "census")
    outcomes = (Metric("patent_applications", "patents/year", "patent applications of the country"),)

    def __init__(self):
        self.reference = None        # the world's mean researchers and graduate share in the first recorded year

    def step(self, m) -> None:
        w, u, c = m.world, m.universities, m.census
        researchers = by_country(u.researchers, w.univ_country, w.n_countries) * w.researcher_scale
        share = m.workforce.sum(axis=(0, 1)) / w.population
        international = international_graduate_students(c) * w.scale
        per_researcher = np.divide(international, researchers, out=np.zeros(w.n_countries), where=researchers > 0)
        if self.reference is None or m.year <= m.cfg.start_year:
            self.reference = np.array([max(researchers.mean(), 1e-9), max(share.mean(), 1e-12)])
        self.patents = patents(researchers, share, per_researcher, m.rules.innovation, *self.reference)

    def state(self) -> dict:
        return {"reference": self.reference}

    def restore(self, state: dict) -> None:
        self.reference = state["reference"]

    def metrics(self, m) -> dict[str, np.ndarray]:
        return {"patent_applications": with_world(self.patents)}

"""Expansion of higher education: university seats grow by the country's `capacity_growth`.

Seats grow at the start of the year, before anyone is admitted; growth that outpaces resources
strains teaching quality (quality.py, `expansion_penalty`). Cohorts grow with the
`enrolment_rate` lever (enrolment.py).
"""

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.outcomes import Metric, by_country, with_world


class Expansion(Mechanism):
    reads = ("universities.capacity",)
    writes = ("universities.capacity", "universities.growth")
    outcomes = (Metric("capacity", "seats", "university seats (real students)"),)

    def step(self, m) -> None:
        u = m.universities
        u.growth = m.policy["capacity_growth"][m.world.univ_country]
        u.capacity = np.ceil(u.capacity * (1.0 + u.growth)).astype(np.int64)

    def metrics(self, m) -> dict[str, np.ndarray]:
        w = m.world
        return {"capacity": with_world(by_country(m.universities.capacity, w.univ_country, w.n_countries)) * w.scale}

"""Graduation ends the students' year: graduates and dropouts leave the student population.

The per-student sample (when asked for) sees every student as the year leaves them; then graduates
and dropouts leave, and the students who continue abroad (by the year's census, `census`) become
next year's network of current students abroad (`diaspora.enrolled_abroad`; stayers have joined the
alumni network in careers.py).
"""

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.outcomes import off_diagonal, student_sample
from sim.students import CONTINUING


class Graduation(Mechanism):
    """Graduates and dropouts leave the student population; the students who continue abroad are the
    network of current students abroad."""
    reads = ("uid", "origin", "univ", "outcome", "census")
    writes = ("diaspora.enrolled_abroad",)

    def step_arrays(self, m) -> None:
        s, w = m.students, m.world
        if m.sampling:
            m.recorder.add_students(m.year, student_sample(s.columns(), m.seed, m.cfg.sample_students),
                                    w.univ_country)
        flags = s.scratch("flags")
        np.equal(s.a["outcome"], CONTINUING, out=flags.view(np.bool_))
        s.keep(flags, 0)
        self._refresh_network(m)

    def step_agents(self, m) -> None:
        w = m.world
        if m.sampling:
            m.recorder.add_students(m.year, student_sample(m.students.columns(), m.seed, m.cfg.sample_students),
                                    w.univ_country)
        for s in list(m.students.all):
            if s.outcome != CONTINUING:
                s.remove()
        self._refresh_network(m)

    def _refresh_network(self, m) -> None:
        """The students who continue abroad (the year's census: enrolled - graduates - dropouts) are the
        network of current students abroad that next year's entrants see."""
        c = m.census
        m.diaspora.enrolled_abroad = off_diagonal(c.enrolled - c.graduates - c.dropouts) * m.world.scale

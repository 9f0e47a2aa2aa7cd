"""The state before the first simulated year: what the world's past flows would have built.

Two things cannot start empty: the diaspora networks that the destination choice sees, and where the
researchers at the start come from. Both are the expected flows of the mechanisms' own rules under the
world's default policies (no network yet): the degree choice for the networks, the doctoral choice and
the doctoral stay rule for the researchers. This module stands above the mechanisms (it applies several
of their rules) and below the model, which calls it once.
"""

import numpy as np

from sim.diaspora import Diaspora
from sim.mechanisms.careers import stay_probabilities
from sim.mechanisms.library.common import years_enrolled
from sim.mechanisms.library.destinations import expected_entrants, probabilities
from sim.mechanisms.progression import Progression
from sim.students import DOCTORAL


def diaspora(m) -> Diaspora:
    """The network the default world's flows would have built before the start (sim/diaspora.py)."""
    w, study = m.world, m.rules.study
    entrants = expected_entrants(probabilities(m), w, study.postgraduate_share) * w.scale
    years = years_enrolled(study, m.rules.progression)
    return Diaspora.before_the_start(entrants, years, m.rules.careers.diaspora_decay, w.observed_stock)


def researcher_origins(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the researchers at the start come from, as hiring would have made them: in country c,
    (domestic[c], foreign[c, o], returnee[c, t]) in proportion to the doctoral graduates of c who stayed
    home, of o who studied in c and stayed, of c who studied in t and came back (the doctoral choice and
    the doctoral stay rule under the default policies)."""
    stage = Progression()
    doctoral = probabilities(m, quality=stage.seen_quality(m, DOCTORAL), asc=stage.asc(m, DOCTORAL))
    flows = expected_entrants(doctoral, m.world, 0.05)                   # (o, d), relative
    p = m.rules.careers
    stay = stay_probabilities(m.world, m.policy, p, p.doctoral_stay_constant)
    return np.diag(flows).copy(), (flows * stay).T, flows * (1 - stay)

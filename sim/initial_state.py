"""The state before the first simulated year: what the world's past flows would have built.

Three things cannot start empty: the diaspora networks that the destination choice sees, and where the
researchers at the start come from. Both are the expected flows of the mechanisms' own rules under the
world's default policies (no network yet): the degree choice for the networks, the doctoral choice and
the doctoral stay rule for the researchers. This module stands above the mechanisms (it applies several
of their rules) and below the model, which calls it once. The third is for a run from the data only
(world.start_from=observed): the corridor constants that make the baseline keep the observed shares.
"""

import numpy as np

from sim import fpmath
from sim.diaspora import Diaspora
from sim.mechanisms.careers import later_return_rates, stay_probabilities
from sim.mechanisms.expected_stocks import leaving_share
from sim.mechanisms.library.common import years_enrolled
from sim.mechanisms.library.destinations import expected_entrants, probabilities
from sim.mechanisms.progression import Progression
from sim.students import DOCTORAL


def diaspora(m) -> Diaspora:
    """The network the default world's flows would have built before the start (sim/diaspora.py)."""
    w, study = m.world, m.rules.study
    entrants = expected_entrants(probabilities(m), w, study.postgraduate_share) * w.scale
    years = years_enrolled(study, m.rules.progression)
    careers = m.rules.careers
    return Diaspora.before_the_start(entrants, years, careers.diaspora_decay, w.observed_stock,
                                     later_return_rates(w, m.policy, careers))


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


CORRIDOR_PSEUDO = 10.0      # real students added to every observed corridor: an observed zero stays possible
CORRIDOR_TOLERANCE = 1e-3   # largest change of a constant (log points) at the fixed point
CORRIDOR_ITERATIONS = 50


def corridor_constants(m) -> np.ndarray:
    """(C, C) the utility a[o, d] of each observed corridor that the covariates leave out, such that the
    expected entrants of the degree choice (under the start year's default policies and the state after the
    spin-up) are spread over the observed destinations of each origin as the students who leave the observed
    stocks of the year before the start are (stock x the share of a destination's international students
    who graduated or dropped out that year: entrants replace them, so the baseline keeps the stocks'
    shares), with as many on them as without the constants (so going abroad at all, and the
    unobserved destinations, keep the model's). In one logit group a = ln(target share / model share) is
    exact; over the choice's groups it is iterated to its fixed point. The "exact hat algebra" of
    quantitative trade models (Dekle, Eaton & Kortum 2008): the baseline reproduces the observed shares, so
    what a scenario changes comes from the mechanisms alone. Needs m.policy = the default policies."""
    w = m.world
    n = w.n_countries
    stock = w.stock_before_start
    seen = ~np.isnan(stock) & ~np.eye(n, dtype=bool)
    leaving = leaving_share(m.census)
    observed = np.where(seen, (np.nan_to_num(stock) + CORRIDOR_PSEUDO) * leaving, 0.0)
    observed = np.maximum(observed + entrant_momentum_term(stock, w.stock_two_before_start, leaving,
                                                           m.cfg.world.entrant_momentum), 0.0)
    m.corridor_constant = np.zeros((n, n))
    for _ in range(CORRIDOR_ITERATIONS):
        flows = expected_entrants(probabilities(m), w, m.rules.study.postgraduate_share)
        open_ = seen & (flows > 0)          # a destination closed under the default policies keeps no target
        model = _shares(np.where(open_, flows, 0.0))
        target = _shares(np.where(open_, observed, 0.0))
        step = np.where(open_, fpmath.log(np.where(open_, target, 1.0) / np.where(open_, model, 1.0)), 0.0)
        m.corridor_constant = m.corridor_constant + step
        if np.abs(step).max() < CORRIDOR_TOLERANCE:
            break
    return m.corridor_constant


def entrant_momentum_term(stock: np.ndarray, before: np.ndarray | None, leaving: np.ndarray,
                          momentum: float) -> np.ndarray:
    """(C, C) what the corridors' last observed change adds to the entrants that replace leavers: momentum x
    (1 - leaving share) x (stock - the stock the year before), on the corridors observed in both years (0
    elsewhere; the caller keeps each target at or above zero). With momentum 1 the entrants are those the two
    years imply (stock = (1 - leaving) x the year before + entrants); with 0 the stocks keep their shares."""
    if before is None or momentum == 0.0:
        return np.zeros_like(stock)
    both = ~np.isnan(stock) & ~np.isnan(before) & ~np.eye(stock.shape[0], dtype=bool)
    return np.where(both, momentum * (1.0 - leaving) * (np.nan_to_num(stock) - np.nan_to_num(before)), 0.0)


def _shares(x: np.ndarray) -> np.ndarray:
    """Each row as shares of its sum (a row of zeros stays zeros)."""
    total = x.sum(axis=1, keepdims=True)
    return x / np.where(total > 0, total, 1.0)

"""Overseas internships in the final year of study.

Final-year students studying in their own country may seek an internship with an enterprise
abroad. The propensity rises with intercultural competence, talent and the placement funding of
their country (internship programmes). They apply to a host country drawn from a table that
weighs the host's enterprise demand by distance and common language; each host takes the most
competent applicants (funded applicants first among equals) up to its places, which are the
enterprises' own demand plus the places that placement programmes pay for.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, rng


class InternshipRule(NamedTuple):
    apply_constant: float
    apply_competence: float
    apply_talent: float
    apply_funding: float


@njit(cache=True)
def eligible(level, year_in, first_degree_years, postgraduate_years, at_home):
    duration = postgraduate_years if level == 1 else first_degree_years
    return at_home and year_in == duration - 1


@njit(cache=True)
def wants_internship(seed, year, uid, talent, competence, funding, rule):
    """Whether an eligible student seeks an internship abroad: the rule both backends use."""
    logit = (rule.apply_constant + rule.apply_competence * competence + rule.apply_talent * talent
             + rule.apply_funding * funding)
    return rng.uniform(seed, rng.INTERNSHIP, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True)
def host(seed, year, uid, origin, h_table):
    return alias.draw(h_table, origin, rng.key(seed, rng.INTERNSHIP_HOST, year, uid), 0)


@njit(cache=True)
def priority(competence, funding):
    """Hosts rank applicants by competence; placement funding adds to it."""
    return np.float32(competence + funding)


@njit(cache=True, parallel=True)
def applications(seed, year, uid, origin, univ, talent, competence, level, year_in, univ_country, funding,
                 first_degree_years, postgraduate_years, h_table, has_host, rule, out):
    """Fill out[i] with the host country student i applies to (-1: none)."""
    for i in prange(uid.shape[0]):
        out[i] = -1
        o = origin[i]
        if has_host[o] and eligible(level[i], year_in[i], first_degree_years, postgraduate_years,
                                    univ_country[univ[i]] == o):
            if wants_internship(seed, year, uid[i], np.float64(talent[i]), np.float64(competence[i]), funding[o],
                                rule):
                out[i] = host(seed, year, uid[i], o, h_table)


@njit(cache=True, parallel=True)
def priorities(applicants, competence, origin, funding):
    """The hosts' ranking score of each applicant (population indices): kept for applicants only."""
    out = np.empty(applicants.shape[0], np.float32)
    for m in prange(applicants.shape[0]):
        i = applicants[m]
        out[m] = priority(np.float64(competence[i]), funding[origin[i]])
    return out


def host_tables(world, policy, p):
    """Alias tables of host countries per origin, the places per host, and which origins have any host."""
    n = world.n_countries
    eye = np.eye(n, dtype=bool)
    closed = policy["border_closed"] > 0.5
    # placement funding buys places on top of enterprises' own demand
    funded = 1.0 + p.places_funding * policy["internship_funding"].mean()
    places = np.where(closed, 0, np.round(world.internship_demand * funded)).astype(np.int64)
    w = (places[None, :].astype(float) * np.exp(p.host_language * world.common_language
                                                + p.host_distance * np.log(np.where(eye, 1.0, world.distance_km))))
    w[eye] = 0.0
    w[closed, :] = 0.0
    has_host = w.sum(axis=1) > 0
    w[~has_host, 0] = 1.0  # never drawn: origins without hosts do not apply
    return alias.build(w), places, has_host

"""Exchange studies (credit mobility) through bilateral partnership agreements.

Students of a first degree, past their first year and before their last, studying in their own
country and not yet exchanged, may apply for a term or a year at a partner university. The
propensity rises with talent, family resources, exchange funding of their country and the
international courses of their university (Souto-Otero et al. 2013 on Erasmus participation).
An applicant applies along one of their university's agreements (drawn in proportion to its
slots); each agreement takes the most talented applicants up to its slots, which grow with the
country's agreements and funding. Stays last a short term, a term or a year (Erasmus+: most
stays last one term or one academic year).
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, rng

LENGTHS = (0.25, 0.5, 1.0)  # years: short stay, one term, one year


class ExchangeRule(NamedTuple):
    apply_constant: float
    apply_talent: float
    apply_resources: float
    apply_funding: float
    apply_courses: float
    short_share: float
    term_share: float


@njit(cache=True)
def eligible(level, year_in, first_degree_years, at_home, done):
    return level == 0 and 1 <= year_in <= first_degree_years - 2 and at_home and not done


@njit(cache=True)
def wants_exchange(seed, year, uid, talent, resources, funding, courses, rule):
    """Whether an eligible student applies for an exchange this year: the rule both backends use."""
    logit = (rule.apply_constant + rule.apply_talent * talent + rule.apply_resources * (resources - 1.0)
             + rule.apply_funding * funding + rule.apply_courses * courses)
    return rng.uniform(seed, rng.EXCHANGE, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True)
def agreement(seed, year, uid, univ, e_table, edge_of):
    """The agreement (edge index) an applicant applies along, or -1 if the university has none open."""
    j = alias.draw(e_table, univ, rng.key(seed, rng.EXCHANGE_PARTNER, year, uid), 0)
    return edge_of[univ, j]


@njit(cache=True)
def length(seed, year, uid, rule):
    """Length of a stay in years: short, one term or one year."""
    u = rng.uniform(seed, rng.EXCHANGE_LENGTH, year, uid, 0)
    if u < rule.short_share:
        return LENGTHS[0]
    if u < rule.short_share + rule.term_share:
        return LENGTHS[1]
    return LENGTHS[2]


@njit(cache=True, parallel=True)
def applications(seed, year, uid, origin, univ, talent, resources, level, year_in, mobility, univ_country,
                 funding, courses, first_degree_years, e_table, edge_of, rule, done_bit, out):
    """Fill out[i] with the agreement student i applies along this year (-1: does not apply)."""
    for i in prange(uid.shape[0]):
        out[i] = -1
        u = univ[i]
        c = univ_country[u]
        if eligible(level[i], year_in[i], first_degree_years, c == origin[i], (mobility[i] & done_bit) != 0):
            if wants_exchange(seed, year, uid[i], np.float64(talent[i]), resources[i], funding[c], courses[u], rule):
                out[i] = agreement(seed, year, uid[i], u, e_table, edge_of)


def agreement_tables(world, policy, edge_slots: np.ndarray):
    """Open slots per agreement this year, and alias tables of each university's agreements.

    Slots = base slots x agreements factor x (1 + funding) of the sending country; regional
    agreements open only when both countries join the regional programme; a closed border closes
    every agreement across it.
    """
    c_from, c_to = world.univ_country[world.edge_from], world.univ_country[world.edge_to]
    factor = policy["exchange_agreements"][c_from] * (1.0 + policy["exchange_funding"][c_from])
    regional_open = (policy["regional_programme"][c_from] > 0.5) & (policy["regional_programme"][c_to] > 0.5)
    closed = (policy["border_closed"][c_from] > 0.5) | (policy["border_closed"][c_to] > 0.5)
    open_ = np.where(world.edge_regional, regional_open, True) & ~closed
    slots = np.where(open_, np.round(edge_slots * factor), 0).astype(np.int64)
    counts = np.bincount(world.edge_from, minlength=world.n_universities)
    width = max(1, int(counts.max()))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(world.edge_from)) - start[world.edge_from]
    edge_of = np.full((world.n_universities, width), -1, np.int32)
    weight = np.zeros((world.n_universities, width))
    edge_of[world.edge_from, rank] = np.arange(len(world.edge_from))
    weight[world.edge_from, rank] = slots
    none = weight.sum(axis=1) == 0
    weight[none, 0] = 1.0          # a university with no open agreement: its draws land on a -1 column
    edge_of[none, 0] = -1
    return slots, alias.build(weight), edge_of


@njit(cache=True, parallel=True)
def lengths(seed, year, uids, rule):
    """Stay lengths of the students with these uids."""
    out = np.empty(uids.shape[0], np.float32)
    for m in prange(uids.shape[0]):
        out[m] = length(seed, year, uids[m], rule)
    return out

"""Degree-mobility choice: study at home or abroad, and where.

A nested random-utility (multinomial logit) choice, McFadden (1974). The upper level picks a
country; the lower level a university within it, with probability proportional to
capacity x exp(university_quality x quality). The utility of a foreign destination d for a
student of origin o, field f, talent band t, resources band r and level l is

    V = abroad_constant + talent_abroad (t - 1.5) + resources_abroad (r - 1) + postgraduate_abroad l
        + quality Q[d, f] + log_distance ln(km) + common_language + colonial_tie
        + diaspora ln(1 + network[o, d]) + visa openness[d] + post_study_work years[d]
        + international_courses (share of programmes taught internationally in d)
        - cost ln(1 + net cost[o, d] / family income[o, r])

and of home V = quality Q[o, f]. The choice is a nested logit: a destination among the foreign
ones with probability exp(V_d - asc) / sum, and abroad at all with probability
logistic(asc + nest x ln sum_d exp(V_d - asc) - V_home), where asc is the first line above;
nest = 1 gives the plain multinomial logit over home and all destinations. The determinants are those of gravity studies of student
mobility (Beine, Noel & Ragot 2014; Abbott & Silles 2016): quality, distance, language,
colonial ties, networks, costs and migration prospects. The network is the diaspora (graduates who stayed, decaying) plus current students of o in d, per
100,000 students of o, so behaviour does not depend on how many real students an agent stands for.
A closed border or a visa openness of
0 makes a destination impossible. Utilities live on group tables (origin x field x talent x
resources x level), never per student; students sample from alias tables.

A student's ranked applications: the first names a country drawn from the table. A student
whose first country is foreign sends `abroad_applications` draws abroad (a draw may land at
home); the rest go to home universities. All of a student's draws in a year come from one
counter key (stream CHOICE): the k-th application's country is its draw 2k, its university
draw 2k + 1.
"""

import numpy as np
from numba import njit, prange

from sim import alias, rng
from sim.mechanisms.enrolment import talent_band

TALENT_BANDS, RESOURCE_BANDS, LEVELS = 4, 3, 2
RESOURCE_INCOME_FACTOR = np.array([0.5, 1.2, 3.5])  # family income / GDP per capita by resources band
LIVING_COST_SHARE = 0.35                            # yearly living cost / destination GDP per capita


def quality_index(quality: np.ndarray, capacity: np.ndarray, univ_country: np.ndarray,
                  n_countries: int, beta: float) -> np.ndarray:
    """(C, F) inclusive value of each country's universities: a capacity-weighted smooth maximum."""
    weights = capacity / np.bincount(univ_country, capacity, n_countries)[univ_country]
    out = np.zeros((n_countries, quality.shape[1]))
    np.add.at(out, univ_country, weights[:, None] * np.exp(beta * quality))
    return np.log(out) / beta


def destination_probabilities(world, policy, network, quality_idx, tuition, courses, p) -> np.ndarray:
    """(groups, C) choice probabilities over destination countries (home included)."""
    n, f = world.n_countries, world.n_fields
    eye = np.eye(n, dtype=bool)
    pair = (p.log_distance * np.log(np.where(eye, 1.0, world.distance_km))
            + p.common_language * world.common_language + p.colonial_tie * world.colonial_tie
            + p.diaspora * np.log1p(network)
            + p.visa * policy["visa_openness"][None, :] + p.post_study_work * policy["post_study_work_years"][None, :]
            + p.international_courses * courses[None, :])
    cost = tuition * policy["tuition_factor"] + LIVING_COST_SHARE * world.gdp_pc
    net = cost[None, :] * (1 - policy["inbound_scholarship"][None, :]) * (1 - policy["outbound_scholarship"][:, None])
    income = world.gdp_pc[:, None, None] * RESOURCE_INCOME_FACTOR[None, :, None]          # (o, r, 1)
    money = -p.cost * np.log1p(net[:, None, :] / income)                                     # (o, r, d)
    t = np.arange(TALENT_BANDS)[:, None, None] - 1.5
    r = np.arange(RESOURCE_BANDS)[None, :, None] - 1.0
    lv = np.arange(LEVELS)[None, None, :]
    asc = p.abroad_constant + p.talent_abroad * t + p.resources_abroad * r + p.postgraduate_abroad * lv  # (t, r, l)
    v = (pair[:, None, None, None, None, :] + money[:, None, None, :, None, :]
         + p.quality * quality_idx.T[None, :, None, None, None, :])                        # (o, f, t, r, l, d)
    home = p.quality * quality_idx                                                             # (o, f)
    closed = policy["border_closed"] > 0.5
    blocked = (closed[:, None] | closed[None, :] | (policy["visa_openness"] <= 0)[None, :]) | eye
    v = np.where(blocked[:, None, None, None, None, :], -np.inf, v)
    # nested logit: where to go among foreign destinations, then whether to go (weight `nest` on the
    # inclusive value; nest = 1 is the plain multinomial logit over home and all destinations)
    top = v.max(axis=-1, keepdims=True)
    finite = np.isfinite(top)
    e = np.exp(np.where(finite, v - np.where(finite, top, 0.0), -np.inf))
    total = e.sum(axis=-1, keepdims=True)
    inclusive = np.where(finite, np.log(np.where(total > 0, total, 1.0)) + np.where(finite, top, 0.0), -np.inf)
    go = asc[None, None, :, :, :, None] + p.nest * inclusive - home[:, :, None, None, None, None]
    p_abroad = np.where(np.isfinite(go), 1.0 / (1.0 + np.exp(-np.where(np.isfinite(go), go, 0.0))), 0.0)
    prob = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0) * p_abroad
    idx = np.arange(n)
    prob[idx, :, :, :, :, idx] = 1.0 - p_abroad[idx, :, :, :, :, 0]
    return prob.reshape(n * f * TALENT_BANDS * RESOURCE_BANDS * LEVELS, n)


def university_tables(world, quality: np.ndarray, capacity: np.ndarray, beta: float) -> np.ndarray:
    """Alias table of the within-country choice, one row per (country, field): column j of row
    (d, f) is university first_univ[d] + j, the j-th university of d (a country's universities
    are one index range); columns past a country's universities have no weight and are never drawn.
    """
    n, f = world.n_countries, world.n_fields
    first = world.first_univ
    width = int(np.diff(first).max())
    column = np.arange(world.n_universities) - first[world.univ_country]
    weight = np.zeros((n, f, width))
    weight[world.univ_country, :, column] = capacity[:, None] * np.exp(beta * (quality - quality.max()))
    return alias.build(weight.reshape(n * f, width))


@njit(cache=True, inline="always")
def group_of(origin, field, talent, resources, level, n_fields):
    return (((np.int64(origin) * n_fields + field) * TALENT_BANDS + talent_band(talent)) * RESOURCE_BANDS
            + resources) * LEVELS + level


@njit(cache=True)
def application(seed, year, uid, origin, field, talent, resources, level, k, n_abroad, c_table, u_table, first_univ,
                n_fields):
    """The university of a student's k-th ranked application (the rule both backends use)."""
    return _application(rng.key(seed, rng.CHOICE, year, uid), origin, field, talent, resources, level, k, n_abroad,
                        c_table, u_table, first_univ, n_fields)


@njit(cache=True, inline="always")  # inlined into the kernels' loops: a call per student costs more than the rule
def _application(key, origin, field, talent, resources, level, k, n_abroad, c_table, u_table, first_univ, n_fields):
    """`application` given the student's key."""
    g = group_of(origin, field, talent, resources, level, n_fields)
    first = alias.draw(c_table, g, key, 0)
    if k == 0:
        country = first
    elif first != origin and k < n_abroad:
        country = alias.draw(c_table, g, key, 2 * k)
    else:
        country = np.int64(origin)
    return _university(key, country, field, k, u_table, first_univ, n_fields)


@njit(cache=True, inline="always")
def _university(key, country, field, k, u_table, first_univ, n_fields):
    """The university of the k-th application, in `country`: the key's draw 2k + 1."""
    return first_univ[country] + alias.draw(u_table, country * n_fields + field, key, 2 * k + 1)


@njit(cache=True, parallel=True)
def first_applications(seed, year, uid, origin, field, talent, resources, level, c_table, u_table, first_univ,
                       n_fields):
    """The first application (k = 0 of `application`) of every student in the given columns: the
    entrants, a contiguous block (pass slices), read in order with the rule written out flat so
    that the loop vectorises."""
    out = np.empty(uid.shape[0], np.int32)
    pre = rng.prefix(seed, rng.CHOICE, year)       # shared by every student: computed once
    for i in prange(uid.shape[0]):
        key = rng.key_from(pre, uid[i])
        country = alias.draw(c_table, group_of(origin[i], field[i], talent[i], resources[i], level[i], n_fields),
                             key, 0)
        out[i] = _university(key, country, field[i], 0, u_table, first_univ, n_fields)
    return out


@njit(cache=True, parallel=True)
def applications(candidates, k, n_abroad, seed, year, uid, origin, field, talent, resources, level,
                 c_table, u_table, first_univ, n_fields):
    """The k-th application of each candidate (indices into the population)."""
    out = np.empty(candidates.shape[0], np.int32)
    pre = rng.prefix(seed, rng.CHOICE, year)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        out[m] = _application(rng.key_from(pre, uid[i]), origin[i], field[i], talent[i], resources[i], level[i], k,
                              n_abroad, c_table, u_table, first_univ, n_fields)
    return out


def expected_entrants(prob: np.ndarray, world, postgraduate_share: float) -> np.ndarray:
    """(C, C) expected entrants (agents) by origin and destination under choice probabilities `prob`.

    Weights each choice group by its share of a cohort: field shares, quartile talent bands,
    resources bands from the normal law of the resources score, and the postgraduate share.
    """
    from scipy.special import ndtr

    from sim.mechanisms.enrolment import RESOURCE_CUTS, RESOURCE_INCOME

    n, f = world.n_countries, world.n_fields
    mean = RESOURCE_INCOME * np.log(world.gdp_pc / 6_000.0)
    below = ndtr(np.array(RESOURCE_CUTS)[None, :] - mean[:, None])                     # (C, 2)
    resources = np.diff(np.concatenate([np.zeros((n, 1)), below, np.ones((n, 1))], axis=1), axis=1)  # (C, R)
    level = np.array([1 - postgraduate_share, postgraduate_share])
    share = (world.field_share[:, :, None, None, None] * (1 / TALENT_BANDS)
             * resources[:, None, None, :, None] * level[None, None, None, None, :])       # (o, f, t, r, l)
    share = np.broadcast_to(share, (n, f, TALENT_BANDS, RESOURCE_BANDS, LEVELS)).reshape(n, -1)
    p = prob.reshape(n, -1, n)
    return np.einsum("og,ogd->od", share, p) * world.cohort[:, None]

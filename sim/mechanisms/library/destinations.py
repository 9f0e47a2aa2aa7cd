"""The destination choice both degree choice (choice.py) and progression (progression.py) make.

A nested logit (McFadden 1974) on group tables, never per student (the equations: choice.py's
docstring and docs/ODD.md 7.2). The destinations nest gives, by origin, field and resources band,
the probability of each foreign destination and its inclusive value; going abroad at all is a
logistic in the going-abroad constant of the group, the inclusive value and the utility of home.
A student's ranked applications then draw from alias tables built here: the k-th application's
destination is its key's draw 3k + 1, its university the key's draw 3k + 2 (`ranked_application`);
each mechanism keys its students' draws with a stream of its own.

`destination_nest(m, quality)` and `probabilities(m, quality, asc)` read the model's shared state (universities'
capacity, quality and courses, the diaspora, the corridor constants, this year's policy): the declared reads of the
mechanisms that call them.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from sim import alias, fpmath, rng
from sim.mechanisms.library.common import LIVING_COST_SHARE, RESOURCE_CUTS, RESOURCE_INCOME, talent_band, \
    years_enrolled

TALENT_BANDS, RESOURCE_BANDS, LEVELS = 4, 3, 2
RESOURCE_INCOME_FACTOR = np.array([0.5, 1.2, 3.5])  # family income / GDP per capita by resources band
TREND_BASE_YEAR = 2016                              # the trend of going abroad counts calendar years from here



def quality_index(quality: np.ndarray, capacity: np.ndarray, univ_country: np.ndarray,
                  n_countries: int, beta: float) -> np.ndarray:
    """(C, F) inclusive value of each country's universities: a capacity-weighted smooth maximum."""
    weights = capacity / np.bincount(univ_country, capacity, n_countries)[univ_country]
    out = np.zeros((n_countries, quality.shape[1]))
    np.add.at(out, univ_country, weights[:, None] * fpmath.exp(beta * quality))
    return fpmath.log(out) / beta


def entry_asc(p) -> np.ndarray:
    """(T, R, L) utility of going abroad at all, by talent band, resources band and level (the first line of V)."""
    t = np.arange(TALENT_BANDS)[:, None, None] - 1.5
    r = np.arange(RESOURCE_BANDS)[None, :, None] - 1.0
    lv = np.arange(LEVELS)[None, None, :]
    return p.abroad_constant + p.talent_abroad * t + p.resources_abroad * r + p.postgraduate_abroad * lv


class Destinations(NamedTuple):
    """Where students go if they go abroad, and what going abroad is worth to them."""
    share: np.ndarray      # (C, F, R, C) probability of each destination given going abroad (0: home, blocked)
    inclusive: np.ndarray  # (C, F, R) ln sum_d exp(V_d - asc) over open foreign destinations (-inf: none open)
    home: np.ndarray       # (C, F) utility of studying at home
    openness: np.ndarray   # (C, F, R) visa openness of the destinations, weighted by their probabilities


def destinations(world, policy, network, quality_idx, tuition, courses, p, years_since: float = 0.0,
                 corridor: np.ndarray | None = None, recruitment: np.ndarray | None = None) -> Destinations:
    """The lower nest of the choice: the utilities of foreign destinations (without the constant of going
    abroad, which does not depend on the destination) by origin, field and resources band; `years_since`:
    calendar years since TREND_BASE_YEAR (the trend of going abroad lowers home's utility); `corridor`: the
    (C, C) corridor constants of a run from the data (sim/initial_state.py), else none; `recruitment`: the (C,)
    recruitment effort of each destination's universities (finance.py), aimed at the origins it charges."""
    n = world.n_countries
    eye = np.eye(n, dtype=bool)
    pair = (p.log_distance * fpmath.log(np.where(eye, 1.0, world.distance_km))
            + p.common_language * world.common_language + p.colonial_tie * world.colonial_tie
            + p.diaspora * fpmath.log1p(network)
            + p.visa * policy["visa_openness"]
            + right_to_stay(world, policy, p)
            + p.international_courses * courses[None, :] + world.destination_constant[None, :])
    if corridor is not None:
        pair = pair + corridor
    if recruitment is not None:
        pair = pair + p.recruitment * recruitment[None, :] * (policy["tuition_factor"] > 0)
    money = money_utility(world, policy, tuition, p.cost)                                        # (o, r, d)
    v = pair[:, None, None, :] + money[:, None, :, :] + p.quality * quality_idx.T[None, :, None, :]  # (o, f, r, d)
    closed = policy["border_closed"] > 0.5
    blocked = (closed[:, None] | closed[None, :] | (policy["visa_openness"] <= 0)) | eye
    v = np.where(blocked[:, None, None, :], -np.inf, v)
    top = v.max(axis=-1, keepdims=True)
    finite = np.isfinite(top)
    e = fpmath.exp(np.where(finite, v - np.where(finite, top, 0.0), -np.inf))
    total = e.sum(axis=-1, keepdims=True)
    inclusive = np.where(finite, fpmath.log(np.where(total > 0, total, 1.0)) + np.where(finite, top, 0.0), -np.inf)
    share = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    home = p.quality * quality_idx - (world.origin_constant + p.abroad_trend * years_since)[:, None]
    openness = (share * policy["visa_openness"][:, None, None, :]).sum(axis=-1)
    return Destinations(share=share, inclusive=inclusive[..., 0], home=home, openness=openness)


def money_utility(world, policy, tuition: np.ndarray, cost: float) -> np.ndarray:
    """(o, r, d) -cost x ln(1 + net cost of studying in d / the family income of band r in o): tuition (the
    (C,) capacity-weighted mean a destination charges) times the corridor's tuition factor plus living
    costs, less scholarships."""
    fees = tuition[None, :] * policy["tuition_factor"] + LIVING_COST_SHARE * world.gdp_pc[None, :]     # (o, d)
    net = fees * (1 - policy["inbound_scholarship"]) * (1 - policy["outbound_scholarship"])
    income = world.gdp_pc[:, None, None] * RESOURCE_INCOME_FACTOR[None, :, None]          # (o, r, 1)
    return -cost * fpmath.log1p(net[:, None, :] / income)


def right_to_stay(world, policy, p) -> np.ndarray:
    """(o, d) what the right to stay and work after graduating adds to a destination: per year of post-study
    work, more the poorer the origin (income_gap); within a free-movement area a citizen's right, worth
    `free_movement` whatever the destination's rules for the rest of the world (the UK's Tier 1 closure did
    not touch EU students). Kept apart so the post-study coefficient is learnt from visa policy, not from the
    European cross-section of flows."""
    visa_route = (p.post_study_work + p.post_study_income_gap * income_gap(world.gdp_pc, p.post_study_gap_threshold)) \
        * policy["post_study_work_years"]
    return np.where(world.free_movement, p.free_movement, visa_route)


def income_gap(gdp_pc: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """(o, d) ln(GDP per head of d / of o) beyond `threshold` log points, 0 below: how much more a graduate
    earns by staying to work, where that is what makes a stay worth it (the UK's 2012 closure of post-study
    work cut Indian and Pakistani entrants, whose incomes were a 28th and a 30th of the UK's, not Chinese,
    a 6th: HESA; docs/ODD.md 7.3)."""
    log_income = fpmath.log(gdp_pc)
    return np.maximum(log_income[None, :] - log_income[:, None] - threshold, 0.0)


def abroad_probabilities(d: Destinations, asc: np.ndarray, nest: float, visa_talent: float = 0.0) -> np.ndarray:
    """(C, F, T, R, L) probability of going abroad at all: logistic(asc + nest x inclusive value - V_home
    + visa_talent (t - 1.5)(openness - 1)), the upper nest (nest = 1: the plain multinomial logit over home
    and all destinations). The last term: visa restrictions deter the most able applicants most (Kato &
    Sparber 2013), through the openness of the destinations they would choose."""
    t = np.arange(TALENT_BANDS, dtype=np.float64) - 1.5
    go = (asc[None, None, :, :, :] + nest * d.inclusive[:, :, None, :, None] - d.home[:, :, None, None, None]
          + visa_talent * t[None, None, :, None, None] * (d.openness - 1.0)[:, :, None, :, None])
    return np.where(np.isfinite(go), 1.0 / (1.0 + fpmath.exp(-np.where(np.isfinite(go), go, 0.0))), 0.0)


def destination_probabilities(world, policy, network, quality_idx, tuition, courses, p, asc=None) -> np.ndarray:
    """(groups, C) choice probabilities over destination countries (home included), groups (origin, field,
    talent band, resources band, level): the two nests composed. `asc`: the (T, R, L) utility of going
    abroad at all (default: an entrant's, `entry_asc`)."""
    d = destinations(world, policy, network, quality_idx, tuition, courses, p)
    return composed(d, abroad_probabilities(d, entry_asc(p) if asc is None else asc, p.nest, p.visa_talent))


def composed(d: Destinations, p_abroad: np.ndarray) -> np.ndarray:
    """(groups, C) probabilities over destination countries (home included) from the destinations nest and
    the (o, f, t, r, l) probabilities of going abroad: the two nests composed."""
    n = d.share.shape[0]
    prob = d.share[:, :, None, :, None, :] * p_abroad[..., None]
    idx = np.arange(n)
    prob[idx, :, :, :, :, idx] = 1.0 - p_abroad[idx]
    return prob.reshape(-1, n)


def where_table(d: Destinations) -> np.ndarray:
    """Alias table of the destination given going abroad, one row per (origin, field, resources band); a
    row with no open destination (never drawn: its students do not go abroad) points at home."""
    n = d.share.shape[0]
    rows = d.share.reshape(-1, n).copy()
    empty = rows.sum(axis=1) == 0
    rows[empty, np.repeat(np.arange(n), rows.shape[0] // n)[empty]] = 1.0
    return alias.build(rows)


def university_tables(world, weight: np.ndarray) -> np.ndarray:
    """Alias table of the within-country choice, one row per (country, field), from (U, F) weights:
    column j of row (d, f) is university first_univ[d] + j, the j-th university of d (a country's
    universities are one index range); columns past a country's universities have no weight and are
    never drawn. A country whose universities all weigh 0 draws its first one."""
    n, f = world.n_countries, world.n_fields
    first = world.first_univ
    width = int(np.diff(first).max())
    column = np.arange(world.n_universities) - first[world.univ_country]
    table = np.zeros((n, f, width))
    table[world.univ_country, :, column] = weight
    table[:, :, 0] += table.sum(axis=2) == 0
    return alias.build(table.reshape(n * f, width))


def seat_weights(quality: np.ndarray, capacity: np.ndarray, beta: float) -> np.ndarray:
    """(U, F) weight of each university in an entrant's choice within its country: capacity x exp(beta x quality)."""
    return capacity[:, None] * fpmath.exp(beta * (quality - quality.max()))


@njit(cache=True, inline="always")
def group_of(origin, field, talent, resources, level, n_fields):
    """Row of the going-abroad table: (origin, field, talent band, resources band, level)."""
    return (((np.int64(origin) * n_fields + field) * TALENT_BANDS + talent_band(talent)) * RESOURCE_BANDS
            + resources) * LEVELS + level


@njit(cache=True, inline="always")
def where_row(origin, field, resources, n_fields):
    """Row of the destination table: (origin, field, resources band)."""
    return (np.int64(origin) * n_fields + field) * RESOURCE_BANDS + resources


@njit(cache=True, inline="always")  # inlined into the kernels' loops: a call per student costs more than the rule
def ranked_application(key, origin, field, talent, resources, level, k, n_abroad, abroad, where, u_table, first_univ,
                 n_fields):
    """The university of a student's k-th ranked application, given the student's key: whether to go abroad
    is the key's draw 0; the k-th application's destination (among foreign countries) its draw 3k + 1, its
    university its draw 3k + 2. `level` is the last dimension of the going-abroad groups (progression: whether
    the applicant went on exchange)."""
    goes = rng.uniform_at(key, 0) < abroad[group_of(origin, field, talent, resources, level, n_fields)]
    if goes and k < n_abroad:
        country = alias.draw(where, where_row(origin, field, resources, n_fields), key, 3 * k + 1)
    else:
        country = np.int64(origin)
    return university_draw(key, country, field, k, u_table, first_univ, n_fields)


@njit(cache=True, inline="always")
def university_draw(key, country, field, k, u_table, first_univ, n_fields):
    """The university of the k-th application, in `country`: the key's draw 3k + 2."""
    return first_univ[country] + alias.draw(u_table, country * n_fields + field, key, 3 * k + 2)




def expected_entrants(prob: np.ndarray, world, postgraduate_share: float) -> np.ndarray:
    """(C, C) expected entrants (agents) by origin and destination under choice probabilities `prob`.

    Weights each choice group by its share of a cohort: field shares, quartile talent bands,
    resources bands from the normal law of the resources score, and the postgraduate share.
    """
    from scipy.special import ndtr      # here, not at import: a run restored from the spin-up cache needs none

    n, f = world.n_countries, world.n_fields
    mean = RESOURCE_INCOME * fpmath.log(world.gdp_pc / 6_000.0)
    below = ndtr(np.array(RESOURCE_CUTS)[None, :] - mean[:, None])                     # (C, 2)
    resources = np.diff(np.concatenate([np.zeros((n, 1)), below, np.ones((n, 1))], axis=1), axis=1)  # (C, R)
    level = np.array([1 - postgraduate_share, postgraduate_share])
    share = (world.field_share[:, :, None, None, None] * (1 / TALENT_BANDS)
             * resources[:, None, None, :, None] * level[None, None, None, None, :])       # (o, f, t, r, l)
    share = np.broadcast_to(share, (n, f, TALENT_BANDS, RESOURCE_BANDS, LEVELS)).reshape(n, -1)
    p = prob.reshape(n, -1, n)
    return (share[:, :, None] * p).sum(axis=1) * world.cohort[:, None]    # not einsum: its SIMD sums depend on the CPU


def students_at_home(m) -> np.ndarray:
    """(C, 1) real students of each origin: its cohort x the mean years a student stays enrolled."""
    w = m.world
    return np.maximum(w.cohort * w.scale, 1.0)[:, None] * years_enrolled(m.rules.study, m.rules.progression)


def destination_nest(m, quality=None) -> tuple[Destinations, np.ndarray]:
    """The destinations nest under the model's state now, and its alias table, seeing universities'
    quality (a doctoral choice passes the quality its applicants see)."""
    w, u, p = m.world, m.universities, m.rules.choice
    seats = np.bincount(w.univ_country, u.capacity, w.n_countries)
    capacity_courses = np.bincount(w.univ_country, u.courses * u.capacity, w.n_countries) / seats
    q = quality_index(u.quality if quality is None else quality, u.capacity, w.univ_country, w.n_countries,
                      p.university_quality)
    tuition = np.bincount(w.univ_country, w.univ_tuition_intl * u.capacity, w.n_countries) / seats
    # the network in real students per 100,000 students of the origin: invariant to world.scale
    recruitment = np.bincount(w.univ_country, u.recruitment * u.capacity, w.n_countries) / seats
    d = destinations(w, m.policy, m.diaspora.per_100k(students_at_home(m)), q, tuition, capacity_courses, p,
                     m.year - TREND_BASE_YEAR, m.corridor_constant, recruitment)
    return d, where_table(d)


def probabilities(m, quality=None, asc=None) -> np.ndarray:
    """(groups, C) choice probabilities over destination countries (home included) under the model's state
    now (for expected flows), groups (origin, field, talent band, resources band, level); `asc`: the
    (T, R, L) utility of going abroad at all (default: an entrant's)."""
    d, _ = destination_nest(m, quality)
    return composed(d, abroad_probabilities(d, entry_asc(m.rules.choice) if asc is None else asc,
                                            m.rules.choice.nest, m.rules.choice.visa_talent))

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

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, rng
from sim.diaspora import NETWORK_UNIT
from sim.mechanisms import admission
from sim.mechanisms.base import Mechanism, rule_type
from sim.mechanisms.enrolment import talent_band
from sim.outcomes import Flow, Metric, blocks, off_diagonal, pair_counts, with_world


@dataclass
class Params:
    """behaviour.choice: degree-mobility choice (multinomial logit over destination countries, then universities)."""
    abroad_constant: float = -5.0    # utility of any foreign destination vs home
    postgraduate_abroad: float = 1.2  # extra abroad utility for postgraduate entrants
    talent_abroad: float = 0.35      # abroad utility per talent band step
    resources_abroad: float = 0.6    # abroad utility per family-resources band step
    quality: float = 3.0             # per unit of destination quality index
    log_distance: float = -0.8       # per log(km)
    common_language: float = 1.4
    colonial_tie: float = 0.8
    diaspora: float = 0.35           # per log(1 + network per 100,000 students of the origin)
    visa: float = 2.0                # per unit of visa openness (0..1)
    post_study_work: float = 0.25    # per year of post-study work right
    cost: float = 1.2                # per unit of net cost / family income
    international_courses: float = 1.5  # per unit of the destination's share of international courses
    university_quality: float = 4.0  # within-country choice among universities
    nest: float = 1.0                # weight of the destinations' inclusive value in going abroad (1: plain logit)
    abroad_applications: int = 2     # ranked applications a mobile student sends abroad
    applications: int = 3            # ranked applications in all (the rest at home)


Rule = ChoiceRule = rule_type(Params, "ChoiceRule")

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


def entry_asc(p) -> np.ndarray:
    """(T, R, L) utility of going abroad at all, by talent band, resources band and level (the first line of V)."""
    t = np.arange(TALENT_BANDS)[:, None, None] - 1.5
    r = np.arange(RESOURCE_BANDS)[None, :, None] - 1.0
    lv = np.arange(LEVELS)[None, None, :]
    return p.abroad_constant + p.talent_abroad * t + p.resources_abroad * r + p.postgraduate_abroad * lv


def destination_probabilities(world, policy, network, quality_idx, tuition, courses, p, asc=None) -> np.ndarray:
    """(groups, C) choice probabilities over destination countries (home included). `asc`: the (T, R, L)
    utility of going abroad at all (default: an entrant's, `entry_asc`)."""
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
    asc = entry_asc(p) if asc is None else asc                                               # (t, r, l)
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
    return capacity[:, None] * np.exp(beta * (quality - quality.max()))


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


def students_at_home(m) -> np.ndarray:
    """(C, 1) real students of each origin: its cohort x the mean years a student stays enrolled."""
    from sim.mechanisms.progression import years_enrolled
    w = m.world
    return np.maximum(w.cohort * w.scale, 1.0)[:, None] * years_enrolled(m.rules.study, m.rules.progression)


class ChoiceTables(NamedTuple):
    c_table: np.ndarray       # destination-country alias table, one row per choice group
    u_table: np.ndarray       # university alias table, one row per (country, field)
    first_univ: np.ndarray    # (C + 1,) each country's first university (u_table column j: first_univ[d] + j)
    ranked_univs: np.ndarray  # each country's universities, best first (clearing), at positions first_univ[d]..
    n_fields: int


class DegreeChoice(Mechanism):
    """Entrants apply in ranked rounds and universities admit them by talent under their free seats;
    clearing at home for the rest (sim/mechanisms/admission.py: selection under capacity).
    Entrants left without a seat are not enrolled this year."""
    reads = ("uid", "origin", "field", "talent", "resources", "level", "univ")
    writes = ("univ",)
    outcomes = (
        Metric("entrants", "students", "new entrants to its universities"),
        Metric("unplaced", "students", "entrants of this origin who found no seat at all (not enrolled that year)"),
        Metric("new_inbound_degree", "students", "international degree students entering this year"),
        Metric("new_outbound_degree", "students", "nationals entering a degree abroad this year"),
        Flow("degree", "new degree-mobile entrants: origin -> country of study"),
    )

    def probabilities(self, m, quality=None, asc=None) -> np.ndarray:
        """(groups, C) choice probabilities over destination countries (home included) this year; by default
        an entrant's, seeing universities' quality (another choice, e.g. a doctorate's, passes its own)."""
        w, u, p = m.world, m.universities, m.rules.choice
        seats = np.bincount(w.univ_country, u.capacity, w.n_countries)
        capacity_courses = np.bincount(w.univ_country, u.courses * u.capacity, w.n_countries) / seats
        q = quality_index(u.quality if quality is None else quality, u.capacity, w.univ_country, w.n_countries,
                          p.university_quality)
        tuition = np.bincount(w.univ_country, w.univ_tuition_intl * u.capacity, w.n_countries) / seats
        # the network in real students per 100,000 students of the origin: invariant to world.scale
        return destination_probabilities(w, m.policy, m.diaspora.per_100k(students_at_home(m)), q, tuition,
                                         capacity_courses, p, asc)

    def tables(self, m) -> ChoiceTables:
        w, u = m.world, m.universities
        return ChoiceTables(c_table=alias.build(self.probabilities(m)),
                            u_table=university_tables(w, seat_weights(u.quality, u.capacity,
                                                                      m.rules.choice.university_quality)),
                            first_univ=w.first_univ, ranked_univs=admission.home_ranking(w.univ_country, u.quality),
                            n_fields=w.n_fields)

    def step_arrays(self, m) -> None:
        s, w, t, rule = m.students, m.world, self.tables(m), m.rules.choice
        a, first = s.a, s.first_entrant
        free = np.maximum(m.universities.capacity - s.seats_taken(w.n_universities, rows=first), 0)
        pending = np.arange(first, len(s), dtype=np.int64)
        columns = ("uid", "origin", "field", "talent", "resources", "level")
        choosing = (t.c_table, t.u_table, t.first_univ, t.n_fields)
        for k in range(rule.applications):
            if k == 0:  # every entrant: a contiguous block
                apps = first_applications(m.seed, m.year, *(a[c][first:] for c in columns), *choosing)
            else:
                apps = applications(pending, k, rule.abroad_applications, m.seed, m.year, *(a[c] for c in columns),
                                    *choosing)
            seat = admission.admit_round(pending, apps, a["talent"], free)
            a["univ"][pending] = seat
            pending = pending[seat < 0]
        seat = admission.clearing(pending, a["origin"], a["talent"], free, t.ranked_univs, t.first_univ)
        a["univ"][pending] = seat
        lost = pending[seat < 0]
        self.unplaced = np.bincount(a["origin"][lost], minlength=w.n_countries)
        if len(lost):
            flags = s.scratch("flags")
            flags[first:] = 1
            flags[lost] = 0
            s.keep(flags, first)
        a = s.a
        self.entrants = pair_counts(a["origin"][first:], a["univ"][first:], w.univ_country, w.n_countries, blocks())

    def step_agents(self, m) -> None:
        """Round k: each entrant still without a seat applies to their k-th choice; each university
        admits the most talented of its applicants up to its free seats (University.admit). Then
        each country offers its remaining seats to its own unplaced entrants (Country.clear)."""
        w, t, rule = m.world, self.tables(m), m.rules.choice
        free = np.maximum(m.universities.capacity - m.students.seats_taken(w.n_universities), 0)
        pending = m.students.entrants
        for k in range(rule.applications):
            by_university: dict[int, list] = {}
            for s in pending:
                choice = application(m.seed, m.year, s.uid, s.origin, s.field, s.talent, s.resources, s.level, k,
                                     rule.abroad_applications, t.c_table, t.u_table, t.first_univ, t.n_fields)
                by_university.setdefault(int(choice), []).append(s)
            for u, applicants in by_university.items():
                for s in m.university_agents[u].admit(applicants, int(free[u])):
                    s.univ = u
                    free[u] -= 1
            pending = [s for s in pending if s.univ < 0]
        for country in m.country_agents:
            lo, hi = t.first_univ[country.index], t.first_univ[country.index + 1]
            country.clear([s for s in pending if s.origin == country.index], free, t.ranked_univs[lo:hi])
        self.unplaced = np.zeros(w.n_countries, np.int64)
        self.entrants = np.zeros((w.n_countries, w.n_countries), np.int64)
        for s in m.students.entrants:
            if s.univ < 0:
                self.unplaced[s.origin] += 1
                s.remove()
            else:
                self.entrants[s.origin, w.univ_country[s.univ]] += 1

    def metrics(self, m) -> dict[str, np.ndarray]:
        new, scale = off_diagonal(self.entrants), m.world.scale
        return {"entrants": with_world(self.entrants.sum(axis=0)) * scale,
                "unplaced": with_world(self.unplaced) * scale,
                "new_inbound_degree": with_world(new.sum(axis=0)) * scale,
                "new_outbound_degree": with_world(new.sum(axis=1)) * scale}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"degree": off_diagonal(self.entrants) * m.world.scale}

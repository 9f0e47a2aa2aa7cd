"""Degree-mobility choice: study at home or abroad, and where.

A nested random-utility (multinomial logit) choice, McFadden (1974). The upper level picks a
country; the lower level a university within it, with probability proportional to
capacity x exp(university_quality x quality). The utility of a foreign destination d for a
student of origin o, field f, talent band t, resources band r and level l is

    V = abroad_constant + talent_abroad (t - 1.5) + resources_abroad (r - 1) + postgraduate_abroad l
        + quality Q[d, f] + log_distance ln(km) + common_language + colonial_tie
        + diaspora ln(1 + network[o, d]) + visa openness[d] + post_study_work years[d]
        + international_courses (share of programmes taught internationally in d)
        - cost ln(1 + net cost[o, d] / family income[o, r]) + destination_constant[d]

and of home V = quality Q[o, f] - origin_constant[o] - abroad_trend (year - 2016). The two constants carry what the covariates
leave out (a destination's language of instruction, recognition, recruitment; an origin's
propensity to send students abroad): 0 in the synthetic world, fitted to the observed totals in
the real one (sim/world/levels.py), as destination and origin fixed effects are in gravity models;
so is the trend, the rising propensity to study abroad (international students grew about 5% a
year from 2000, faster than enrolment: UIS). The choice is a nested logit: a destination among the foreign
ones with probability exp(V_d - asc) / sum, and abroad at all with probability
logistic(asc + nest x ln sum_d exp(V_d - asc) - V_home), where asc is the first line above;
nest = 1 gives the plain multinomial logit over home and all destinations. The determinants are those of gravity studies of student
mobility (Beine, Noel & Ragot 2014; Abbott & Silles 2016): quality, distance, language,
colonial ties, networks, costs and migration prospects. The network is the diaspora (graduates who stayed, decaying) plus current students of o in d, per
100,000 students of o, so behaviour does not depend on how many real students an agent stands for.
A closed border or a visa openness of
0 makes a destination impossible. Utilities live on group tables, never per student: the
destinations nest by (origin, field, resources band: talent and level do not enter it), going
abroad by (origin, field, talent band, resources band, level); students sample from them.

A student's ranked applications: whether to go abroad is decided once a year (the key's draw 0);
a student who goes sends `abroad_applications` applications abroad, each to a destination drawn
from the destinations nest, and the rest to home universities. All of a student's draws in a year
come from one counter key (stream CHOICE): the k-th application's destination is its draw 3k + 1,
its university draw 3k + 2.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, fpmath, rng
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
    abroad_trend: float = 0.0        # utility of going abroad, per calendar year since 2016 (the real world's is fitted)
    cost: float = 1.2                # per unit of net cost / family income
    international_courses: float = 1.5  # per unit of the destination's share of international courses
    university_quality: float = 4.0  # within-country choice among universities
    nest: float = 1.0                # weight of the destinations' inclusive value in going abroad (1: plain logit)
    abroad_applications: int = 2     # ranked applications a mobile student sends abroad
    applications: int = 3            # ranked applications in all (the rest at home)


Rule = ChoiceRule = rule_type(Params, "ChoiceRule")

TALENT_BANDS, RESOURCE_BANDS, LEVELS = 4, 3, 2
RESOURCE_INCOME_FACTOR = np.array([0.5, 1.2, 3.5])  # family income / GDP per capita by resources band
TREND_BASE_YEAR = 2016                              # the trend of going abroad counts calendar years from here
LIVING_COST_SHARE = 0.35                            # yearly living cost / destination GDP per capita


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


def destinations(world, policy, network, quality_idx, tuition, courses, p, years_since: float = 0.0) -> Destinations:
    """The lower nest of the choice: the utilities of foreign destinations (without the constant of going
    abroad, which does not depend on the destination) by origin, field and resources band; `years_since`:
    calendar years since TREND_BASE_YEAR (the trend of going abroad lowers home's utility)."""
    n = world.n_countries
    eye = np.eye(n, dtype=bool)
    pair = (p.log_distance * fpmath.log(np.where(eye, 1.0, world.distance_km))
            + p.common_language * world.common_language + p.colonial_tie * world.colonial_tie
            + p.diaspora * fpmath.log1p(network)
            + p.visa * policy["visa_openness"][None, :] + p.post_study_work * policy["post_study_work_years"][None, :]
            + p.international_courses * courses[None, :] + world.destination_constant[None, :])
    cost = tuition * policy["tuition_factor"] + LIVING_COST_SHARE * world.gdp_pc
    net = cost[None, :] * (1 - policy["inbound_scholarship"][None, :]) * (1 - policy["outbound_scholarship"][:, None])
    income = world.gdp_pc[:, None, None] * RESOURCE_INCOME_FACTOR[None, :, None]          # (o, r, 1)
    money = -p.cost * fpmath.log1p(net[:, None, :] / income)                                     # (o, r, d)
    v = pair[:, None, None, :] + money[:, None, :, :] + p.quality * quality_idx.T[None, :, None, :]  # (o, f, r, d)
    closed = policy["border_closed"] > 0.5
    blocked = (closed[:, None] | closed[None, :] | (policy["visa_openness"] <= 0)[None, :]) | eye
    v = np.where(blocked[:, None, None, :], -np.inf, v)
    top = v.max(axis=-1, keepdims=True)
    finite = np.isfinite(top)
    e = fpmath.exp(np.where(finite, v - np.where(finite, top, 0.0), -np.inf))
    total = e.sum(axis=-1, keepdims=True)
    inclusive = np.where(finite, fpmath.log(np.where(total > 0, total, 1.0)) + np.where(finite, top, 0.0), -np.inf)
    share = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    home = p.quality * quality_idx - (world.origin_constant + p.abroad_trend * years_since)[:, None]
    return Destinations(share=share, inclusive=inclusive[..., 0], home=home)


def abroad_probabilities(d: Destinations, asc: np.ndarray, nest: float) -> np.ndarray:
    """(C, F, T, R, L) probability of going abroad at all: logistic(asc + nest x inclusive value - V_home),
    the upper nest (nest = 1: the plain multinomial logit over home and all destinations)."""
    go = asc[None, None, :, :, :] + nest * d.inclusive[:, :, None, :, None] - d.home[:, :, None, None, None]
    return np.where(np.isfinite(go), 1.0 / (1.0 + fpmath.exp(-np.where(np.isfinite(go), go, 0.0))), 0.0)


def destination_probabilities(world, policy, network, quality_idx, tuition, courses, p, asc=None) -> np.ndarray:
    """(groups, C) choice probabilities over destination countries (home included), groups (origin, field,
    talent band, resources band, level): the two nests composed. `asc`: the (T, R, L) utility of going
    abroad at all (default: an entrant's, `entry_asc`)."""
    d = destinations(world, policy, network, quality_idx, tuition, courses, p)
    p_abroad = abroad_probabilities(d, entry_asc(p) if asc is None else asc, p.nest)      # (o, f, t, r, l)
    n = world.n_countries
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


@njit(cache=True)
def application(seed, year, uid, origin, field, talent, resources, level, k, n_abroad, abroad, where, u_table,
                first_univ, n_fields):
    """The university of a student's k-th ranked application (the rule both backends use)."""
    return _application(rng.key(seed, rng.CHOICE, year, uid), origin, field, talent, resources, level, k, n_abroad,
                        abroad, where, u_table, first_univ, n_fields)


@njit(cache=True, inline="always")  # inlined into the kernels' loops: a call per student costs more than the rule
def _application(key, origin, field, talent, resources, level, k, n_abroad, abroad, where, u_table, first_univ,
                 n_fields):
    """`application` given the student's key: whether to go abroad is the key's draw 0; the k-th application's
    destination (among foreign countries) its draw 3k + 1, its university its draw 3k + 2."""
    goes = rng.uniform_at(key, 0) < abroad[group_of(origin, field, talent, resources, level, n_fields)]
    if goes and k < n_abroad:
        country = alias.draw(where, where_row(origin, field, resources, n_fields), key, 3 * k + 1)
    else:
        country = np.int64(origin)
    return _university(key, country, field, k, u_table, first_univ, n_fields)


@njit(cache=True, inline="always")
def _university(key, country, field, k, u_table, first_univ, n_fields):
    """The university of the k-th application, in `country`: the key's draw 3k + 2."""
    return first_univ[country] + alias.draw(u_table, country * n_fields + field, key, 3 * k + 2)


@njit(cache=True, parallel=True)
def first_applications(seed, year, uid, origin, field, talent, resources, level, abroad, where, u_table, first_univ,
                       n_fields):
    """The first application (k = 0 of `application`) of every student in the given columns: the
    entrants, a contiguous block (pass slices), read in order with the rule written out flat so
    that the loop vectorises."""
    out = np.empty(uid.shape[0], np.int32)
    pre = rng.prefix(seed, rng.CHOICE, year)       # shared by every student: computed once
    for i in prange(uid.shape[0]):
        key = rng.key_from(pre, uid[i])
        goes = rng.uniform_at(key, 0) < abroad[group_of(origin[i], field[i], talent[i], resources[i], level[i],
                                                        n_fields)]
        there = alias.draw(where, where_row(origin[i], field[i], resources[i], n_fields), key, 1)
        country = there if goes else np.int64(origin[i])
        out[i] = _university(key, country, field[i], 0, u_table, first_univ, n_fields)
    return out


@njit(cache=True, parallel=True)
def applications(candidates, k, n_abroad, seed, year, uid, origin, field, talent, resources, level,
                 abroad, where, u_table, first_univ, n_fields):
    """The k-th application of each candidate (indices into the population)."""
    out = np.empty(candidates.shape[0], np.int32)
    pre = rng.prefix(seed, rng.CHOICE, year)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        out[m] = _application(rng.key_from(pre, uid[i]), origin[i], field[i], talent[i], resources[i], level[i], k,
                              n_abroad, abroad, where, u_table, first_univ, n_fields)
    return out


def expected_entrants(prob: np.ndarray, world, postgraduate_share: float) -> np.ndarray:
    """(C, C) expected entrants (agents) by origin and destination under choice probabilities `prob`.

    Weights each choice group by its share of a cohort: field shares, quartile talent bands,
    resources bands from the normal law of the resources score, and the postgraduate share.
    """
    from scipy.special import ndtr

    from sim.mechanisms.enrolment import RESOURCE_CUTS, RESOURCE_INCOME

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
    from sim.mechanisms.progression import years_enrolled
    w = m.world
    return np.maximum(w.cohort * w.scale, 1.0)[:, None] * years_enrolled(m.rules.study, m.rules.progression)


class ChoiceTables(NamedTuple):
    abroad: np.ndarray        # (groups,) probability of going abroad, groups (origin, field, talent, resources, level)
    where: np.ndarray         # destination alias table given going abroad, rows (origin, field, resources)
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

    def destinations(self, m, quality=None) -> tuple[Destinations, np.ndarray]:
        """The destinations nest under the model's state now, and its alias table, seeing universities'
        quality (another choice, e.g. a doctorate's, passes its own)."""
        w, u, p = m.world, m.universities, m.rules.choice
        seats = np.bincount(w.univ_country, u.capacity, w.n_countries)
        capacity_courses = np.bincount(w.univ_country, u.courses * u.capacity, w.n_countries) / seats
        q = quality_index(u.quality if quality is None else quality, u.capacity, w.univ_country, w.n_countries,
                          p.university_quality)
        tuition = np.bincount(w.univ_country, w.univ_tuition_intl * u.capacity, w.n_countries) / seats
        # the network in real students per 100,000 students of the origin: invariant to world.scale
        d = destinations(w, m.policy, m.diaspora.per_100k(students_at_home(m)), q, tuition, capacity_courses, p,
                         m.year - TREND_BASE_YEAR)
        return d, where_table(d)

    def probabilities(self, m, quality=None, asc=None) -> np.ndarray:
        """(groups, C) choice probabilities over destination countries (home included) this year (for the
        expected flows of the initial state)."""
        d, _ = self.destinations(m, quality)
        p_abroad = abroad_probabilities(d, entry_asc(m.rules.choice) if asc is None else asc, m.rules.choice.nest)
        prob = d.share[:, :, None, :, None, :] * p_abroad[..., None]
        idx = np.arange(m.world.n_countries)
        prob[idx, :, :, :, :, idx] = 1.0 - p_abroad[idx]
        return prob.reshape(-1, m.world.n_countries)

    def tables(self, m) -> ChoiceTables:
        w, u = m.world, m.universities
        d, where = self.year_destinations = self.destinations(m)   # kept for the year: a master's sees the same
        return ChoiceTables(abroad=abroad_probabilities(d, entry_asc(m.rules.choice), m.rules.choice.nest).ravel(),
                            where=where,
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
        choosing = (t.abroad, t.where, t.u_table, t.first_univ, t.n_fields)
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
                                     rule.abroad_applications, t.abroad, t.where, t.u_table, t.first_univ,
                                     t.n_fields)
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

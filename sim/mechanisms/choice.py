"""Degree-mobility choice: study at home or abroad, and where.

A nested random-utility (multinomial logit) choice, McFadden (1974). The upper level picks a
country; the lower level a university within it, with probability proportional to
capacity x exp(university_quality x quality). The utility of a foreign destination d for a
student of origin o, field f, talent band t, resources band r and level l is

    V = abroad_constant + talent_abroad (t - 1.5) + resources_abroad (r - 1) + postgraduate_abroad l
        + quality Q[d, f] + log_distance ln(km) + common_language + colonial_tie
        + diaspora ln(1 + network[o, d]) + visa openness[o, d]
        + (post_study_work + post_study_income_gap max(0, ln(GDP pc[d] / GDP pc[o]) - post_study_gap_threshold))
          x years[o, d]   (outside a free-movement area; inside one: free_movement instead)
        + international_courses (share of programmes taught internationally in d)
        - cost ln(1 + net cost[o, d] / family income[o, r]) + destination_constant[d]

and of home V = quality Q[o, f] - origin_constant[o] - abroad_trend (year - 2016). The two constants carry what the covariates
leave out (a destination's language of instruction, recognition, recruitment; an origin's
propensity to send students abroad): 0 in the synthetic world, fitted to the observed totals in
the real one (sim/world/levels.py), as destination and origin fixed effects are in gravity models;
so is the trend, the rising propensity to study abroad (international students grew about 5% a
year from 2000, faster than enrolment: UIS). The choice is a nested logit: a destination among the foreign
ones with probability exp(V_d - asc) / sum, and abroad at all with probability
logistic(asc + nest x ln sum_d exp(V_d - asc) - V_home + visa_talent (t - 1.5)(openness - 1)), where asc is
the first line above and openness the visa openness of the destinations weighted by their probabilities;
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

from sim import alias, rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type
from sim.mechanisms.library import admission
from sim.mechanisms.library.destinations import abroad_probabilities, destination_nest, entry_asc, group_of, \
    ranked_application, seat_weights, university_draw, university_tables, where_row
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
    post_study_income_gap: float = 0.0  # per year of post-study work and log point of the income gap beyond the threshold
    post_study_gap_threshold: float = nonnegative(0.0)  # log points of ln(GDP pc destination / origin) below which
    #                                                   staying to work adds nothing to a post-study work right
    free_movement: float = 0.75      # a destination in the student's free-movement area (EU/EEA): no visa, the
    #                                  right to stay and work; in place of the post-study work term there. The
    #                                  default is the worth of the 3 years' right it was coded as before (3 x 0.25)
    visa_talent: float = 0.0         # going abroad: per talent band step and unit of the destinations' visa closure
    abroad_trend: float = 0.0        # utility of going abroad, per calendar year since 2016 (the real world's is fitted)
    cost: float = 1.2                # per unit of net cost / family income
    international_courses: float = 1.5  # per unit of the destination's share of international courses
    recruitment: float = 1.0         # per unit of the destination universities' recruitment effort (finance.py),
                                     # for the origins they charge a fee
    university_quality: float = 4.0  # within-country choice among universities
    nest: float = 1.0                # weight of the destinations' inclusive value in going abroad (1: plain logit)
    abroad_applications: int = nonnegative(2)     # ranked applications a mobile student sends abroad
    applications: int = nonnegative(3)            # ranked applications in all (the rest at home)


Rule = ChoiceRule = rule_type(Params, "ChoiceRule")



@njit(cache=True)
def application(seed, year, uid, origin, field, talent, resources, level, k, n_abroad, abroad, where, u_table,
                first_univ, n_fields):
    """The university of a student's k-th ranked application (the rule both backends use)."""
    return ranked_application(rng.key(seed, rng.CHOICE, year, uid), origin, field, talent, resources, level, k, n_abroad,
                        abroad, where, u_table, first_univ, n_fields)


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
        out[i] = university_draw(key, country, field[i], 0, u_table, first_univ, n_fields)
    return out


@njit(cache=True, parallel=True)
def applications(candidates, k, n_abroad, seed, year, uid, origin, field, talent, resources, level,
                 abroad, where, u_table, first_univ, n_fields):
    """The k-th application of each candidate (indices into the population)."""
    out = np.empty(candidates.shape[0], np.int32)
    pre = rng.prefix(seed, rng.CHOICE, year)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        out[m] = ranked_application(rng.key_from(pre, uid[i]), origin[i], field[i], talent[i], resources[i], level[i], k,
                              n_abroad, abroad, where, u_table, first_univ, n_fields)
    return out



class ChoiceTables(NamedTuple):
    abroad: np.ndarray        # (groups,) probability of going abroad, groups (origin, field, talent, resources, level)
    where: np.ndarray         # destination alias table given going abroad, rows (origin, field, resources)
    u_table: np.ndarray       # university alias table, one row per (country, field)
    first_univ: np.ndarray    # (C + 1,) each country's first university (u_table column j: first_univ[d] + j)
    ranked_univs: np.ndarray  # each country's universities, best first (clearing), at positions first_univ[d]..
    n_fields: int


class DegreeChoice(Mechanism):
    """Entrants apply in ranked rounds and universities admit them by talent under their free seats;
    clearing at home for the rest (sim/mechanisms/library/admission.py: selection under capacity).
    Entrants left without a seat are not enrolled this year."""
    section = "choice"
    reads = ("uid", "origin", "field", "talent", "resources", "level", "univ",
             "universities.capacity", "universities.quality", "universities.courses", "universities.recruitment",
             "diaspora.alumni", "diaspora.enrolled_abroad", "corridor_constant")
    writes = ("univ",
              "destinations")
    outcomes = (
        Metric("entrants", "students", "new entrants to its universities"),
        Metric("unplaced", "students", "entrants of this origin who found no seat at all (not enrolled that year)"),
        Metric("new_inbound_degree", "students", "international degree students entering this year"),
        Metric("new_outbound_degree", "students", "nationals entering a degree abroad this year"),
        Flow("degree", "new degree-mobile entrants: origin -> country of study"),
    )

    def tables(self, m) -> ChoiceTables:
        w, u = m.world, m.universities
        d, where = m.destinations = destination_nest(m)   # this year's: a master's applicant sees the same
        return ChoiceTables(abroad=abroad_probabilities(d, entry_asc(m.rules.choice), m.rules.choice.nest,
                                                             m.rules.choice.visa_talent).ravel(),
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

"""Overseas internships in the final year of study.

Final-year students studying in their own country may seek an internship with an enterprise
abroad. The propensity rises with intercultural competence, talent and the placement funding of
their country (internship programmes). They apply to a host country drawn from a table that
weighs the host's enterprise demand by distance and common language; each host takes the most
competent applicants (funded applicants first among equals) up to its places: first the places
an origin's placement funding bought for its own students at that host (`places_funding` x
funding of the origin x the host's demand, spread over hosts as the origin's students apply),
then the enterprises' own demand, open to all.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, fpmath, rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type
from sim.mechanisms.library import admission
from sim.outcomes import Flow, Metric, off_diagonal, pairs, with_world
from sim.population import nonnegative_rows
from sim.students import DOCTORAL, INTERNED, POSTGRADUATE


@dataclass
class Params:
    """behaviour.internships: overseas internships in the final year."""
    apply_constant: float = -4.2
    apply_competence: float = 2.0    # per unit of intercultural competence
    apply_talent: float = 0.3
    apply_funding: float = 2.5       # per unit of placement funding
    places_funding: float = nonnegative(1.0)      # extra places per unit of the world's mean placement funding
    host_language: float = 1.0       # host choice: common language
    host_distance: float = -0.8      # host choice: per log(km)
    skill: float = nonnegative(0.08)              # skill gained (learning.study_year)
    competence: float = nonnegative(0.15)         # intercultural competence gained (learning.study_year)


Rule = InternshipRule = rule_type(Params, "InternshipRule")


@njit(cache=True)
def eligible(level, year_in, first_degree_years, postgraduate_years, at_home):
    """Students in the last year of a first degree or a master's, studying in their own country."""
    duration = postgraduate_years if level == POSTGRADUATE else first_degree_years
    return at_home and level != DOCTORAL and year_in == duration - 1


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
def applications(seed, year, uid, origin, univ, talent, competence, level, year_in, t, rule, out):
    """Fill out[i] with the host country student i applies to (-1: none)."""
    univ_country, funding, table, has_host = t.univ_country, t.funding, t.table, t.has_host
    first_degree_years, postgraduate_years = t.first_degree_years, t.postgraduate_years
    for i in prange(uid.shape[0]):
        out[i] = -1
        o = origin[i]
        if has_host[o] and eligible(level[i], year_in[i], first_degree_years, postgraduate_years,
                                    univ_country[univ[i]] == o):
            if wants_internship(seed, year, uid[i], np.float64(talent[i]), np.float64(competence[i]), funding[o],
                                rule):
                out[i] = host(seed, year, uid[i], o, table)


@njit(cache=True, parallel=True)
def priorities(applicants, competence, origin, funding):
    """The hosts' ranking score of each applicant (population indices): kept for applicants only."""
    out = np.empty(applicants.shape[0], np.float32)
    for m in prange(applicants.shape[0]):
        i = applicants[m]
        out[m] = priority(np.float64(competence[i]), funding[origin[i]])
    return out


def host_tables(world, policy, p):
    """Alias tables of host countries per origin; the enterprises' own places per host; the places each
    origin's placement funding buys at each host (origin x host); and which origins have any host."""
    n = world.n_countries
    eye = np.eye(n, dtype=bool)
    closed = policy["border_closed"] > 0.5
    places = np.where(closed, 0, world.internship_demand).astype(np.int64)
    w = (places[None, :].astype(float) * fpmath.exp(p.host_language * world.common_language
                                                    + p.host_distance * fpmath.log(np.where(eye, 1.0, world.distance_km))))
    w[eye] = 0.0
    w[closed, :] = 0.0
    has_host = w.sum(axis=1) > 0
    # an origin's placement funding buys places for its own students, spread over hosts as they apply
    share = np.divide(w, w.sum(axis=1, keepdims=True), out=np.zeros_like(w), where=has_host[:, None])
    funded = np.round(p.places_funding * policy["internship_funding"][:, None] * places[None, :] * share)
    w[~has_host, 0] = 1.0  # never drawn: origins without hosts do not apply
    return alias.build(w), places, funded.astype(np.int64), has_host


class InternshipTables(NamedTuple):
    table: np.ndarray         # host-country alias table, one row per origin
    places: np.ndarray        # (C,) internship places enterprises offer per host
    funded: np.ndarray        # (C, C) places an origin's placement funding buys at each host
    has_host: np.ndarray      # (C,) whether an origin has any host open
    funding: np.ndarray       # (C,) placement funding in force
    univ_country: np.ndarray  # (U,)
    first_degree_years: int   # study.first_degree_years
    postgraduate_years: int   # study.postgraduate_years


class Internships(Mechanism):
    """Final-year students at home seek internships abroad; each host country takes the most
    competent of its applicants (funded first among equals) up to its places."""
    section = "internships"
    reads = ("uid", "origin", "univ", "talent", "competence", "level", "year_in")
    writes = ("host", "mobility")
    outcomes = (
        Metric("internships", "students/year", "nationals interning abroad in their final year"),
        Metric("internships_hosted", "students/year", "foreign interns the country's enterprises host"),
        Flow("internship", "final-year students interning abroad: origin -> host country"),
    )

    def tables(self, m) -> InternshipTables:
        table, places, funded, has_host = host_tables(m.world, m.policy, m.rules.internships)
        study = m.rules.study
        return InternshipTables(table=table, places=places, funded=funded, has_host=has_host,
                                funding=m.policy["internship_funding"],
                                univ_country=m.world.univ_country, first_degree_years=study.first_degree_years,
                                postgraduate_years=study.postgraduate_years)

    def step_arrays(self, m) -> None:
        a, t = m.students.a, self.tables(m)
        apps = m.students.scratch("choice")
        applications(m.seed, m.year, a["uid"], a["origin"], a["univ"], a["talent"], a["competence"], a["level"],
                     a["year_in"], t, m.rules.internships, apps)
        who = nonnegative_rows(apps)
        n = m.world.n_countries
        score = priorities(who, a["competence"], a["origin"], t.funding)
        # first the places an origin's funding bought at the host, for its own students; then the rest
        funded = admission.admit_round(np.arange(len(who)), (a["origin"][who].astype(np.int64) * n + apps[who]).astype(
            np.int32), score, t.funded.ravel().copy())
        host_of = np.where(funded >= 0, funded % n, -1).astype(np.int32)
        rest = np.flatnonzero(funded < 0)
        host_of[rest] = admission.admit_round(rest, apps[who][rest], score, t.places.copy())
        went = who[host_of >= 0]
        a["host"][went] = host_of[host_of >= 0]
        a["mobility"][went] |= INTERNED
        self.students = pairs(a["origin"][went], host_of[host_of >= 0], n)

    def step_agents(self, m) -> None:
        """Each eligible student decides and picks a host country; each host takes the applicants with
        the highest priority (competence + funding; ties: lower uid), up to its places."""
        from sim.agents import select
        t, rule = self.tables(m), m.rules.internships
        by_host: dict[int, list] = {}
        score = {}
        for s in m.students.all:
            at_home = int(t.univ_country[s.univ]) == s.origin
            funding = float(t.funding[s.origin])
            if t.has_host[s.origin] and eligible(s.level, s.year_in, t.first_degree_years, t.postgraduate_years,
                                                 at_home) \
                    and wants_internship(m.seed, m.year, s.uid, s.talent, s.competence, funding, rule):
                score[s] = float(priority(s.competence, funding))
                by_host.setdefault(int(host(m.seed, m.year, s.uid, s.origin, t.table)), []).append(s)
        went = []
        for h, applicants in by_host.items():           # first the places each origin's funding bought here
            for o in sorted({s.origin for s in applicants}):
                went += [(s, h) for s in select([s for s in applicants if s.origin == o], int(t.funded[o, h]),
                                                lambda s: score[s])]
            placed = {s for s, _ in went}
            went += [(s, h) for s in select([s for s in applicants if s not in placed], int(t.places[h]),
                                            lambda s: score[s])]
        for s, h in went:
            s.host = h
            s.mobility |= INTERNED
        self.students = pairs(np.array([s.origin for s, _ in went], np.int64), np.array([h for _, h in went], np.int64),
                              m.world.n_countries)

    def metrics(self, m) -> dict[str, np.ndarray]:
        scale = m.world.scale
        return {"internships": with_world(self.students.sum(axis=1)) * scale,
                "internships_hosted": with_world(self.students.sum(axis=0)) * scale}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"internship": off_diagonal(self.students) * m.world.scale}

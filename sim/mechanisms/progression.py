"""Progression: graduates who go on to a further degree (a master's, a doctorate), where, and who is admitted.

At the end of the year a graduate goes on to the next level with probability

    logit = constant + talent_coef x talent - field_coef x field / (fields - 1)

(a master's after a first degree; a doctorate after a master's, more in the first, most
research-intensive fields). They choose where through the entrants' destination choice
(`choice.py`, the postgraduate row) with a constant of their own for going abroad, raised for
those who studied abroad on exchange (`exchanged_abroad`: an exchange raises later international
mobility, Parey & Waldinger 2011). Doctoral applicants see quality weighted by research
reputation, q + reputation ln(research reputation). Universities admit them by talent, into their
doctoral places (`places_per_post` doctoral students a funded research post) or, for a master's,
into the seats that next year's continuing students leave. International doctoral applicants from
the top family-resources band pay their own way (own or home-government funds, as most
self-funded and sponsored doctoral students abroad do): they do not need a funded place, only a
supervisor, so they are admitted into places of their own, up to `supervision_per_researcher`
doctoral students per researcher in all, and pay international tuition (finance.py). So more
international doctoral students add to a university's doctoral students rather than only
displacing domestic ones. Admitted, they study at the new level
from next year; an applicant admitted nowhere goes on as a graduate (careers.py). A doctorate
lasts `doctoral_years_min` to `doctoral_years_max` years, drawn once per student (learning.py).
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import fpmath, rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type
from sim.mechanisms.library import admission
from sim.mechanisms.library.common import self_funded
from sim.mechanisms.library.destinations import abroad_probabilities, destination_nest, entry_asc, \
    ranked_application, university_tables
from sim.outcomes import Flow, Metric, off_diagonal, pairs, with_world
from sim.population import rows_at
from sim.students import CONTINUING, DOCTORAL, EXCHANGED, FIRST_DEGREE, GRADUATED, POSTGRADUATE


@dataclass
class Params:
    """behaviour.progression: graduates going on to a master's or a doctorate; doctoral places and length."""
    master_constant: float = -1.4     # logit that a first-degree graduate goes on to a master's (talent 0)
    master_talent: float = 0.7        # per unit of talent
    doctoral_constant: float = -3.2   # logit that a master's graduate goes on to a doctorate (talent 0, field 0)
    doctoral_talent: float = 1.0      # per unit of talent
    doctoral_field: float = 0.8       # less from the first field to the last (research intensity)
    master_abroad: float = 0.0        # utility of a master's abroad, added to choice.postgraduate_abroad
    doctoral_abroad: float = 1.0      # utility of a doctorate abroad, added to choice.postgraduate_abroad
    exchanged_abroad: float = 0.8     # having studied abroad on exchange (Parey & Waldinger 2011)
    reputation: float = 0.3           # weight of log research reputation in the quality doctoral applicants see
    places_per_post: float = nonnegative(0.7)      # doctoral places per funded research post (real people)
    supervision_per_researcher: float = nonnegative(1.5)  # most doctoral students (funded and self-funded) a researcher supervises
    doctoral_years_min: int = nonnegative(3)       # a doctorate lasts doctoral_years_min .. doctoral_years_max years
    doctoral_years_max: int = nonnegative(5)


Rule = ProgressionRule = rule_type(Params, "ProgressionRule")


@njit(cache=True)
def goes_on(seed, year, uid, talent, field, n_fields, level, rule):
    """Whether a graduate of `level` goes on to the next level: the rule both backends use."""
    if level == FIRST_DEGREE:
        logit = rule.master_constant + rule.master_talent * talent
    else:
        logit = (rule.doctoral_constant + rule.doctoral_talent * talent
                 - rule.doctoral_field * field / max(n_fields - 1, 1))
    return rng.uniform(seed, rng.PROGRESSION, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True, parallel=True)
def _going_on(candidates, seed, year, uid, talent, field, n_fields, level, rule):
    keep = np.empty(candidates.shape[0], np.bool_)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        keep[m] = goes_on(seed, year, uid[i], np.float64(talent[i]), field[i], n_fields, level, rule)
    return keep


@njit(cache=True)
def application(seed, year, uid, origin, field, talent, resources, exchanged, k, n_abroad, abroad, where, u_table,
                first_univ, n_fields):
    """The university of an applicant's k-th application (the rule both backends use): the entrants' rule
    (choice.py) on this stage's tables, whose last group dimension is `exchanged` (0/1)."""
    return ranked_application(rng.key(seed, rng.PROGRESSION_CHOICE, year, uid), origin, field, talent, resources,
                               exchanged, k, n_abroad, abroad, where, u_table, first_univ, n_fields)


@njit(cache=True, parallel=True)
def applications(candidates, exchanged, k, n_abroad, seed, year, uid, origin, field, talent, resources, abroad, where,
                 u_table, first_univ, n_fields):
    """The k-th application of each candidate (population indices; `exchanged`: per candidate)."""
    out = np.empty(candidates.shape[0], np.int32)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        out[m] = application(seed, year, uid[i], origin[i], field[i], talent[i], resources[i], exchanged[m], k,
                             n_abroad, abroad, where, u_table, first_univ, n_fields)
    return out


@njit(cache=True, parallel=True)
def to_pools(candidates, apps, origin, resources, univ_country, n_universities):
    """Doctoral applications to the place pools, in place: a self-funded applicant's application to
    university u goes to its self-funded places, u + n_universities."""
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        if self_funded(origin[i], univ_country[apps[m]], resources[i]):
            apps[m] += n_universities


class StageTables(NamedTuple):
    abroad: np.ndarray       # (groups,) probability of going abroad: groups (origin, field, talent, resources, exchanged)
    where: np.ndarray        # destination alias table given going abroad, rows (origin, field, resources)
    u_table: np.ndarray      # university alias table per (country, field)
    first_univ: np.ndarray   # (C + 1,)
    places: np.ndarray       # (U,) places open for this stage (student agents)
    n_fields: int


class Progression(Mechanism):
    """Graduates go on to a doctorate (after a master's) or a master's (after a first degree): they choose
    where, and universities admit them by talent into their places. Admitted, they study at the new
    level from next year (level POSTGRADUATE or DOCTORAL, year 0)."""
    section = "progression"
    reads = ("uid", "origin", "univ", "talent", "field", "resources", "level", "mobility", "outcome",
             "universities.quality", "universities.reputation", "universities.capacity", "universities.courses",
             "universities.recruitment", "universities.continuing", "universities.doctoral_continuing", "universities.posts",
             "diaspora.alumni", "diaspora.enrolled_abroad", "corridor_constant", "researchers", "destinations")
    writes = ("univ", "level", "year_in", "outcome")
    outcomes = (
        Metric("doctoral_entrants", "students", "new doctoral students admitted by the country's universities"),
        Metric("master_progressions", "students", "first-degree graduates admitted to a master's by its universities"),
        Flow("doctoral", "doctoral entrants: origin -> country of the doctorate"),
    )
    STAGES = ((POSTGRADUATE, DOCTORAL), (FIRST_DEGREE, POSTGRADUATE))   # doctorates first: they keep seats

    def seen_quality(self, m, to_level: int) -> np.ndarray:
        """(U, F) the quality applicants to this level see: doctoral applicants weigh research reputation."""
        u, rule = m.universities, m.rules.progression
        if to_level == DOCTORAL:
            return np.clip(u.quality + rule.reputation * fpmath.log(np.maximum(u.reputation, 1e-3))[:, None], 0.01, 0.99)
        return u.quality

    def asc(self, m, to_level: int) -> np.ndarray:
        """(T, R, 2) utility of going abroad for applicants to this level, by talent and resources band and
        whether they studied abroad on exchange: the postgraduate row of an entrant's, plus this stage's."""
        rule = m.rules.progression
        abroad = rule.doctoral_abroad if to_level == DOCTORAL else rule.master_abroad
        return entry_asc(m.rules.choice)[:, :, 1:2] + abroad + rule.exchanged_abroad * np.arange(2)[None, None, :]

    def tables(self, m, to_level: int, places: np.ndarray) -> StageTables:
        w, u, p = m.world, m.universities, m.rules.choice
        seen = self.seen_quality(m, to_level)
        # a doctorate: the nest under the quality doctoral applicants see; a master's: this year's (degree choice)
        d, where = destination_nest(m, seen) if to_level == DOCTORAL else m.destinations
        weight = np.minimum(places, u.capacity)[:, None] * fpmath.exp(p.university_quality * (seen - seen.max()))
        return StageTables(abroad=abroad_probabilities(d, self.asc(m, to_level), p.nest, p.visa_talent).ravel(),
                           where=where,
                           u_table=university_tables(w, weight), first_univ=w.first_univ, places=places,
                           n_fields=w.n_fields)

    def places(self, m, to_level: int) -> np.ndarray:
        """Places open next year: for a doctorate (2U,) the funded doctoral places less the doctoral
        students going on, then the self-funded places up to the supervision limit (both within the
        seats left); for a master's (U,) the seats left by every student going on and the new
        doctoral students."""
        u, w, rule = m.universities, m.world, m.rules.progression
        seats = np.maximum(u.capacity - u.continuing, 0)
        if to_level == DOCTORAL:
            per_student = w.researcher_scale / w.scale            # real researchers -> student agents
            funded = np.floor(rule.places_per_post * u.posts * per_student).astype(np.int64) - u.doctoral_continuing
            funded = np.minimum(np.maximum(funded, 0), seats)
            staff = np.bincount(m.researchers.univ, minlength=w.n_universities)
            supervised = np.floor(rule.supervision_per_researcher * staff * per_student).astype(np.int64)
            own = np.minimum(np.maximum(supervised - u.doctoral_continuing - funded, 0), seats - funded)
            return np.concatenate([funded, own])
        return seats - self.admitted[DOCTORAL]

    @staticmethod
    def _by_university(places: np.ndarray, n_universities: int) -> np.ndarray:
        """(U,) places of every pool of a university together (what applicants see)."""
        return places.reshape(-1, n_universities).sum(axis=0)

    def step_arrays(self, m) -> None:
        a, w, rule = m.students.a, m.world, m.rules.progression
        n_abroad, rounds = m.rules.choice.abroad_applications, m.rules.choice.applications
        self.admitted, self.entrants = {}, {}
        for from_level, to_level in self.STAGES:
            graduates = rows_at(a["level"], a["outcome"], from_level, GRADUATED, GRADUATED)
            pending = graduates[_going_on(graduates, m.seed, m.year, a["uid"], a["talent"], a["field"], w.n_fields,
                                          from_level, rule)]
            free = self.places(m, to_level)
            t = self.tables(m, to_level, self._by_university(free, w.n_universities))
            rows, seats = [], []
            for k in range(rounds):
                exchanged = ((a["mobility"][pending] & EXCHANGED) != 0).astype(np.uint8)
                apps = applications(pending, exchanged, k, n_abroad, m.seed, m.year, a["uid"], a["origin"],
                                    a["field"], a["talent"], a["resources"], t.abroad, t.where, t.u_table, t.first_univ,
                                    t.n_fields)
                if to_level == DOCTORAL:
                    to_pools(pending, apps, a["origin"], a["resources"], w.univ_country, w.n_universities)
                seat = admission.admit_round(pending, apps, a["talent"], free)
                rows.append(pending[seat >= 0])
                seats.append(seat[seat >= 0])
                pending = pending[seat < 0]
            rows, seats = np.concatenate(rows), np.concatenate(seats) % w.n_universities
            a["univ"][rows] = seats
            a["level"][rows] = to_level
            a["year_in"][rows] = 0
            a["outcome"][rows] = CONTINUING
            self.admitted[to_level] = np.bincount(seats, minlength=w.n_universities)
            self.entrants[to_level] = pairs(a["origin"][rows], w.univ_country[seats], w.n_countries)

    def step_agents(self, m) -> None:
        w, rule = m.world, m.rules.progression
        n_abroad, rounds = m.rules.choice.abroad_applications, m.rules.choice.applications
        self.admitted, self.entrants = {}, {}
        for from_level, to_level in self.STAGES:
            pending = [s for s in m.students.all if s.level == from_level and s.outcome == GRADUATED
                       and goes_on(m.seed, m.year, s.uid, s.talent, s.field, w.n_fields, from_level, rule)]
            free = self.places(m, to_level)
            t = self.tables(m, to_level, self._by_university(free, w.n_universities))
            self.admitted[to_level] = np.zeros(w.n_universities, np.int64)
            self.entrants[to_level] = np.zeros((w.n_countries, w.n_countries), np.int64)
            for k in range(rounds):
                by_university: dict[int, list] = {}
                for s in pending:
                    u = application(m.seed, m.year, s.uid, s.origin, s.field, s.talent, s.resources,
                                    int(bool(s.mobility & EXCHANGED)), k, n_abroad, t.abroad, t.where, t.u_table,
                                    t.first_univ, t.n_fields)
                    if to_level == DOCTORAL and self_funded(s.origin, w.univ_country[u], s.resources):
                        u += w.n_universities                 # its self-funded places
                    by_university.setdefault(int(u), []).append(s)
                for pool, applicants in sorted(by_university.items()):
                    u = pool % w.n_universities
                    for s in m.university_agents[u].admit(applicants, int(free[pool])):
                        s.univ, s.level, s.year_in, s.outcome = u, to_level, 0, CONTINUING
                        free[pool] -= 1
                        self.admitted[to_level][u] += 1
                        self.entrants[to_level][s.origin, w.univ_country[u]] += 1
                pending = [s for s in pending if s.outcome != CONTINUING]

    def metrics(self, m) -> dict[str, np.ndarray]:
        scale = m.world.scale
        return {"doctoral_entrants": with_world(self.entrants[DOCTORAL].sum(axis=0)) * scale,
                "master_progressions": with_world(self.entrants[POSTGRADUATE].sum(axis=0)) * scale}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"doctoral": off_diagonal(self.entrants[DOCTORAL]) * m.world.scale}

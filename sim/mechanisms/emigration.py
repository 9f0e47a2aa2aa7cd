"""Graduates who take a job abroad: the skilled emigration of a university system's own graduates.

A graduate of a home university (a first degree or a master's, not going on to a further degree)
looks for work abroad in a country drawn from where their compatriots already are (the alumni
and students abroad of their origin: migrant networks lower the cost of moving, Beine, Docquier
& Özden 2011), and takes a job there with probability

    logit = constant + competence x intercultural competence + experience x [studied or interned abroad]
            + income_gap ln(GDP pc destination / GDP pc origin) + visa x visa openness of the destination

(none across a closed border). Intercultural competence (languages, cultural skills) makes a job
abroad feasible; a stay abroad during the degree also brings contacts and information about a
foreign labour market (Parey & Waldinger 2011: studying abroad raises the probability of working
abroad later by about 15 percentage points). So exchange programmes, internships abroad and
international courses at home raise later skilled emigration: the effect emerges from the
competence and experience the study years built, not from a lever of its own.

Emigrants are brain drain in the graduate workforce: they join the destination's workforce
(workforce.py) instead of their origin's. Doctoral graduates' careers are in research careers.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, rng
from sim.mechanisms.base import Mechanism, rule_type
from sim.outcomes import Flow, Metric, blocks, off_diagonal, ratio, with_world
from sim.students import DOCTORAL, EMIGRATED, GRADUATED


@dataclass
class Params:
    """behaviour.emigration: home graduates taking a job abroad."""
    constant: float = -4.2           # logit of taking a job abroad (competence 0, no stay abroad, no income gap)
    competence: float = 2.0          # per unit of intercultural competence
    experience: float = 1.1          # having studied (exchange) or interned abroad: contacts, information
    income_gap: float = 0.4          # per log(GDP pc destination / origin)
    visa: float = 1.0                # per unit of the destination's visa openness


Rule = EmigrationRule = rule_type(Params, "EmigrationRule")

LEVELS = 2                           # first degree, master's (doctoral graduates: research careers)
# what emigration counts by origin: home graduates who could go, and those who went; each by experience abroad
CANDIDATES, EMIGRANTS = 0, 1


def destination_tables(world, diaspora, policy) -> np.ndarray:
    """Alias table per origin of the country where a graduate looks for work: the origin's alumni and
    students abroad there (real people), plus one so that no open country is out of reach; none at
    home or across a closed border."""
    n = world.n_countries
    closed = policy["border_closed"] > 0.5
    w = diaspora.alumni + diaspora.enrolled_abroad + 1.0
    w[:, closed] = 0.0
    np.fill_diagonal(w, 0.0)
    empty = np.flatnonzero(w.sum(axis=1) == 0)
    w[empty, (empty + 1) % n] = 1.0          # never taken (closed or alone), but every row must be drawable
    return alias.build(w)


@njit(cache=True)
def job_abroad_probability(competence, experienced, gdp_home, gdp_host, visa_host, rule):
    """Probability that a graduate takes the job they looked for abroad."""
    logit = (rule.constant + rule.competence * competence + rule.experience * experienced
             + rule.income_gap * np.log(gdp_host / gdp_home) + rule.visa * visa_host)
    return 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True)
def works_abroad(seed, year, uid, origin, competence, experienced, table, gdp_pc, visa, closed, rule):
    """The country where a home graduate takes a job abroad, or -1 (stays): the rule both backends use."""
    if closed[origin]:
        return np.int64(-1)
    k = rng.key(seed, rng.EMIGRATION, year, uid)
    d = alias.draw(table, origin, k, 0)
    if closed[d] or d == origin:
        return np.int64(-1)
    if rng.uniform_at(k, 1) < job_abroad_probability(competence, experienced, gdp_pc[origin], gdp_pc[d], visa[origin, d],
                                                     rule):
        return np.int64(d)
    return np.int64(-1)


@njit(cache=True)
def candidate(origin, studied_in, level, outcome):
    """A graduate of a home university who does not go on to a further degree (outcome GRADUATED)."""
    return outcome == GRADUATED and level != DOCTORAL and studied_in == origin


@njit(cache=True, parallel=True)
def emigrate(seed, year, uid, origin, univ, level, outcome, competence, mobility, univ_country, table, gdp_pc, visa,
             closed, rule, n, n_blocks):
    """Home graduates who take a job abroad become EMIGRATED, in place. Returns moved[level, o, d]
    (emigrants by level, origin and destination) and by_origin[k, experienced, o] (k: CANDIDATES,
    EMIGRANTS; experienced: studied or interned abroad during the degree)."""
    moved = np.zeros((n_blocks, LEVELS, n, n), np.int64)
    by_origin = np.zeros((n_blocks, 2, 2, n), np.int64)
    size = (uid.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, uid.shape[0])):
            o = origin[i]
            if not candidate(o, univ_country[univ[i]], level[i], outcome[i]):
                continue
            experienced = np.int64(mobility[i] != 0)
            by_origin[b, CANDIDATES, experienced, o] += 1
            d = works_abroad(seed, year, uid[i], o, np.float64(competence[i]), experienced, table, gdp_pc, visa,
                             closed, rule)
            if d >= 0:
                outcome[i] = EMIGRATED
                moved[b, level[i], o, d] += 1
                by_origin[b, EMIGRANTS, experienced, o] += 1
    return moved.sum(axis=0), by_origin.sum(axis=0)


class EmigrationTables(NamedTuple):
    table: np.ndarray        # destination alias table, one row per origin
    closed: np.ndarray       # (C,) borders closed


class Emigration(Mechanism):
    """Home graduates take jobs abroad, more with intercultural competence and a stay abroad during
    their degree; emigrants join the destination's graduate workforce."""
    section = "emigration"
    reads = ("uid", "origin", "univ", "level", "outcome", "competence", "mobility",
             "diaspora.alumni", "diaspora.enrolled_abroad")
    writes = ("outcome",
              "arrivals")
    outcomes = (
        Metric("graduate_emigrants", "people/year",
               "graduates of the country's universities (nationals) who take a job abroad"),
        Metric("graduate_emigration_rate", "share",
               "of the nationals graduating at home and not going on, the share who take a job abroad"),
        Flow("work_abroad", "home graduates taking a job abroad: origin -> country of the job"),
    )

    def tables(self, m) -> EmigrationTables:
        return EmigrationTables(table=destination_tables(m.world, m.diaspora, m.policy),
                                closed=m.policy["border_closed"] > 0.5)

    def step_arrays(self, m) -> None:
        a, w, t = m.students.a, m.world, self.tables(m)
        self.moved, self.by_origin = emigrate(
            m.seed, m.year, a["uid"], a["origin"], a["univ"], a["level"], a["outcome"], a["competence"],
            a["mobility"], w.univ_country, t.table, w.gdp_pc, m.policy["visa_openness"], t.closed,
            m.rules.emigration, w.n_countries, blocks())
        m.arrivals = self.moved.sum(axis=1) * w.scale

    def step_agents(self, m) -> None:
        w, t, rule, n = m.world, self.tables(m), m.rules.emigration, m.world.n_countries
        self.moved, self.by_origin = np.zeros((LEVELS, n, n), np.int64), np.zeros((2, 2, n), np.int64)
        for s in m.students.all:
            if not candidate(s.origin, w.univ_country[s.univ], s.level, s.outcome):
                continue
            experienced = int(s.mobility != 0)
            self.by_origin[CANDIDATES, experienced, s.origin] += 1
            d = works_abroad(m.seed, m.year, s.uid, s.origin, s.competence, experienced, t.table, w.gdp_pc,
                             m.policy["visa_openness"], t.closed, rule)
            if d >= 0:
                s.outcome = EMIGRATED
                self.moved[s.level, s.origin, d] += 1
                self.by_origin[EMIGRANTS, experienced, s.origin] += 1
        m.arrivals = self.moved.sum(axis=1) * w.scale

    def metrics(self, m) -> dict[str, np.ndarray]:
        emigrants = self.by_origin[EMIGRANTS].sum(axis=0)
        return {"graduate_emigrants": with_world(emigrants) * m.world.scale,
                "graduate_emigration_rate": ratio(with_world(emigrants),
                                                  with_world(self.by_origin[CANDIDATES].sum(axis=0)))}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"work_abroad": off_diagonal(self.moved.sum(axis=0)) * m.world.scale}

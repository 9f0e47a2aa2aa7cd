"""Graduation abroad, then stay or return.

A graduate of a foreign university stays in the host country with probability

    logit(stay) = stay_constant + post_study_work years[d] + income_gap ln(GDP pc d / GDP pc o)
                  - return_incentive incentive[o] + visa openness[d]

following the stay-rate literature (Finn 2014 on US doctorate stay rates; OECD 2022 on the
stay rates of international students): work rights and income gaps keep graduates, ties and
incentives bring them home. Stayers are brain drain for the origin and brain gain for the host;
returnees are brain circulation.

Staying is not for good: each year a share of the graduates who stayed (the alumni of origin o in d)
go home,

    logit(later return) = later_return_constant - later_return_income_gap ln(GDP pc d / GDP pc o)
                          + return_incentive incentive[o]

so returns come years after graduating, more between countries of similar income and where the origin
pays for them (OECD International Migration Outlook: of the international students who stay, many leave
within five years; docs/ODD.md 7.8).
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import fpmath, rng
from sim.mechanisms.base import Mechanism, rule_type, share
from sim.outcomes import FIXED_POINT, Flow, Metric, blocks, fixed, off_diagonal, ratio, with_world
from sim.students import DOCTORAL, GRADUATED, INTERNED, RETURNED, STAYED


@dataclass
class Params:
    """behaviour.careers: stay or return after graduating abroad (logit of staying); employability."""
    stay_constant: float = -2.7    # the real world then keeps about a third five years on (OECD: 20-40%)
    doctoral_stay_constant: float = -1.2   # the same for doctoral graduates (Finn 2014: most US doctorates stay)
    post_study_work: float = 0.35    # per year of post-study work right
    income_gap: float = 0.8          # per log(GDP pc destination / origin)
    return_incentive: float = 2.0    # per unit of return incentive (0..1)
    visa: float = 0.8                # per unit of visa openness
    later_return_constant: float = -2.4    # logit of a stayer going home in a year, between equal incomes
    later_return_income_gap: float = 0.5   # per log(GDP pc destination / origin): richer hosts keep stayers
    diaspora_decay: float = share(0.05)     # share of the diaspora stock lost each year (besides later returns)
    employability_constant: float = -0.6   # logit of a graduate job within a year
    employability_skill: float = 1.5       # per unit of skill
    employability_competence: float = 1.0  # per unit of intercultural competence
    employability_internship: float = 0.4  # an internship abroad


Rule = CareerRule = rule_type(Params, "CareerRule")


@njit(cache=True)
def employability(skill, competence, interned, rule):
    """A graduate's employability (probability of a graduate job within a year of graduating).

    Rises with skill, intercultural competence and an internship abroad: employers value
    international experience (Erasmus Impact Study 2014; Jacobone & Moro 2015).
    """
    logit = (rule.employability_constant + rule.employability_skill * skill
             + rule.employability_competence * competence + rule.employability_internship * interned)
    return 1.0 / (1.0 + np.exp(-logit))


def stay_probabilities(world, policy, p, constant: float) -> np.ndarray:
    """(C, C) probability that a graduate of origin o who studied in d stays in d (`constant`: the level's)."""
    logit = (constant + p.post_study_work * policy["post_study_work_years"]
             + p.income_gap * fpmath.log(world.gdp_pc[None, :] / world.gdp_pc[:, None])
             - p.return_incentive * policy["return_incentive"]
             + p.visa * policy["visa_openness"])
    prob = 1.0 / (1.0 + fpmath.exp(-logit))
    np.fill_diagonal(prob, 0.0)
    return prob


def later_return_rates(world, policy, p) -> np.ndarray:
    """(C, C) yearly probability that a graduate of origin o who stayed in d goes home (0 on the diagonal)."""
    logit = (p.later_return_constant - p.later_return_income_gap * fpmath.log(world.gdp_pc[None, :] / world.gdp_pc[:, None])
             + p.return_incentive * policy["return_incentive"])              # (o, d): a corridor's lever
    rate = 1.0 / (1.0 + fpmath.exp(-logit))
    np.fill_diagonal(rate, 0.0)
    return rate


STAY_HORIZON = 5   # years: published stay rates are measured five years on (Finn & Pennington 2018; OECD IMO)


def still_abroad(later_return: np.ndarray, years: int = STAY_HORIZON) -> np.ndarray:
    """(C, C) share of a corridor's stayers still in the host `years` on, if this year's later-return rates
    held (the network's other decay, weakening ties, is not leaving the country). A product of exact
    multiplications, not `**`: the same bits under every SIMD path."""
    kept = np.ones_like(later_return)
    for _ in range(years):
        kept = kept * (1.0 - later_return)
    return kept


@njit(cache=True)
def stays(seed, year, uid, p_stay):
    """Whether one graduate stays abroad: the rule both backends use."""
    return rng.uniform(seed, rng.RETURN, year, uid, 0) < p_stay


# what careers count: graduates abroad by origin x destination; all graduates by origin
STAYERS, RETURNEES, DOCTORAL_STAYERS, DOCTORAL_RETURNEES = 0, 1, 2, 3
GRADUATES, EMPLOYABILITY, EXPERIENCED = 0, 1, 2


@njit(cache=True, parallel=True)
def decide(seed, year, uid, origin, univ, level, outcome, skill, competence, mobility, univ_country, p_stay,
           p_stay_doctoral, rule, n, n_blocks):
    """Graduates abroad (outcome GRADUATED) become RETURNED or STAYED, in place (doctoral graduates by
    their own probabilities).

    Returns counts[k, o, d] (k: STAYERS, RETURNEES, and the same of doctoral graduates) of graduates of
    origin o who studied in d, and
    by_origin[k, o] over all graduates of o: GRADUATES, their EMPLOYABILITY (fixed point) and the
    EXPERIENCED (a degree, exchange or internship abroad)."""
    counts = np.zeros((n_blocks, 4, n, n), np.int64)
    by_origin = np.zeros((n_blocks, 3, n), np.int64)
    size = (uid.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, uid.shape[0])):
            if outcome[i] != GRADUATED:
                continue
            o, d = origin[i], univ_country[univ[i]]
            if d != o:
                doctoral = level[i] == DOCTORAL
                if stays(seed, year, uid[i], p_stay_doctoral[o, d] if doctoral else p_stay[o, d]):
                    outcome[i] = STAYED
                    counts[b, STAYERS, o, d] += 1
                    counts[b, DOCTORAL_STAYERS, o, d] += doctoral
                else:
                    outcome[i] = RETURNED
                    counts[b, RETURNEES, o, d] += 1
                    counts[b, DOCTORAL_RETURNEES, o, d] += doctoral
            by_origin[b, GRADUATES, o] += 1
            by_origin[b, EMPLOYABILITY, o] += fixed(employability(np.float64(skill[i]), np.float64(competence[i]),
                                                                  (mobility[i] & INTERNED) != 0, rule))
            if d != o or mobility[i] != 0:
                by_origin[b, EXPERIENCED, o] += 1
    return counts.sum(axis=0), by_origin.sum(axis=0)


class CareerTables(NamedTuple):
    p_stay: np.ndarray           # (C, C) probability of staying after graduating abroad, origin x destination
    p_stay_doctoral: np.ndarray  # (C, C) the same after a doctorate


class Careers(Mechanism):
    """Graduates of foreign universities stay or go home; stayers join the diaspora (alumni).
    Every graduate's employability is recorded."""
    section = "careers"
    reads = ("uid", "origin", "univ", "level", "outcome", "skill", "competence", "mobility",
             "diaspora.alumni")
    writes = ("outcome",
              "diaspora.alumni", "diaspora.returned")
    outcomes = (
        Metric("returnees", "students/year", "nationals who graduated abroad and came home (brain circulation)"),
        Metric("stayers", "students/year", "foreign graduates of the country's universities who stayed (brain gain)"),
        Metric("brain_drain", "students/year", "nationals who graduated abroad and stayed there"),
        Metric("net_talent_gain", "students/year", "`stayers - brain_drain` (0 for WORLD)"),
        Metric("later_returnees", "graduates/year",
               "nationals who had stayed abroad after graduating and came home this year (by origin)"),
        Metric("alumni_abroad", "graduates",
               "foreign graduates of the country's universities living in their home country again (a stock, "
               "decaying like the network): the reach of its education abroad"),
        Metric("doctoral_stay_rate", "share",
               "foreign doctoral graduates of the country's universities who stayed / all who finished"),
        Metric("intl_experienced_graduates", "students/year",
               "graduates (by origin) with a degree, exchange or internship abroad"),
        Metric("graduate_employability", "probability",
               "mean employability of graduates (by origin): chance of a graduate job within a year"),
        Flow("return", "graduates abroad who went home: origin -> country where they studied"),
        Flow("stay", "graduates abroad who stayed in the country where they studied"),
        Flow("doctoral_stay", "doctoral graduates abroad who stayed in the country of their doctorate (part of `stay`)"),
        Flow("doctoral_return", "doctoral graduates abroad who went home (part of `return`)"),
        Flow("later_return", "graduates who had stayed abroad going home this year: origin -> country they leave"),
        Flow("stay_five_years", "of this year's `stay`, those still in the host five years on if this year's later-"
                                "return rates held (expected graduates): the stay rate as published"),
        Flow("doctoral_stay_five_years", "the same for `doctoral_stay`"),
    )

    def tables(self, m) -> CareerTables:
        p = m.rules.careers
        return CareerTables(p_stay=stay_probabilities(m.world, m.policy, p, p.stay_constant),
                            p_stay_doctoral=stay_probabilities(m.world, m.policy, p, p.doctoral_stay_constant))

    def step_arrays(self, m) -> None:
        a, w = m.students.a, m.world
        t = self.tables(m)
        self.counts, self.by_origin = decide(m.seed, m.year, a["uid"], a["origin"], a["univ"], a["level"], a["outcome"],
                                             a["skill"], a["competence"], a["mobility"], w.univ_country, t.p_stay,
                                             t.p_stay_doctoral, m.rules.careers, w.n_countries, blocks())
        self._join_diaspora(m)

    def step_agents(self, m) -> None:
        w, t, rule, n = m.world, self.tables(m), m.rules.careers, m.world.n_countries
        self.counts, self.by_origin = np.zeros((4, n, n), np.int64), np.zeros((3, n), np.int64)
        for s in m.students.all:
            if s.outcome != GRADUATED:
                continue
            d = int(w.univ_country[s.univ])
            if d != s.origin:
                p = t.p_stay_doctoral if s.level == DOCTORAL else t.p_stay
                stay = stays(m.seed, m.year, s.uid, p[s.origin, d])
                s.outcome = STAYED if stay else RETURNED
                self.counts[STAYERS if stay else RETURNEES, s.origin, d] += 1
                if s.level == DOCTORAL:
                    self.counts[DOCTORAL_STAYERS if stay else DOCTORAL_RETURNEES, s.origin, d] += 1
            self.by_origin[GRADUATES, s.origin] += 1
            self.by_origin[EMPLOYABILITY, s.origin] += fixed(employability(s.skill, s.competence,
                                                                           bool(s.mobility & INTERNED), rule))
            self.by_origin[EXPERIENCED, s.origin] += d != s.origin or s.mobility != 0
        self._join_diaspora(m)

    def _join_diaspora(self, m) -> None:
        """Some earlier stayers go home (`later_return_rates`, expected numbers: the alumni are real graduates,
        not agents); the rest of the network decays (death, onward migration, weaker ties); this year's
        stayers join it."""
        d, rule = m.diaspora, m.rules.careers
        rates = later_return_rates(m.world, m.policy, rule)
        self.still_abroad = still_abroad(rates)
        self.later_returns = d.update(rates, rule.diaspora_decay,
                                      off_diagonal(self.counts[STAYERS]) * m.world.scale,
                                      off_diagonal(self.counts[RETURNEES]) * m.world.scale)

    def metrics(self, m) -> dict[str, np.ndarray]:
        scale, stayed, g = m.world.scale, off_diagonal(self.counts[STAYERS]), self.by_origin
        stayers = with_world(stayed.sum(axis=0)) * scale          # brain gain of the host
        drain = with_world(stayed.sum(axis=1)) * scale            # brain drain of the origin
        return {"returnees": with_world(off_diagonal(self.counts[RETURNEES]).sum(axis=1)) * scale,
                "stayers": stayers,
                "brain_drain": drain,
                "net_talent_gain": stayers - drain,
                "doctoral_stay_rate": ratio(with_world(off_diagonal(self.counts[DOCTORAL_STAYERS]).sum(axis=0)),
                                            with_world(off_diagonal(self.counts[DOCTORAL_STAYERS]
                                                                    + self.counts[DOCTORAL_RETURNEES]).sum(axis=0))),
                "later_returnees": with_world(self.later_returns.sum(axis=1)),
                "alumni_abroad": with_world(m.diaspora.returned.sum(axis=0)),
                "intl_experienced_graduates": with_world(g[EXPERIENCED]) * scale,
                "graduate_employability": ratio(with_world(g[EMPLOYABILITY]) / FIXED_POINT, with_world(g[GRADUATES]))}

    def flows(self, m) -> dict[str, np.ndarray]:
        scale = m.world.scale
        c = self.counts
        return {"return": off_diagonal(c[RETURNEES]) * scale, "stay": off_diagonal(c[STAYERS]) * scale,
                "doctoral_stay": off_diagonal(c[DOCTORAL_STAYERS]) * scale,
                "doctoral_return": off_diagonal(c[DOCTORAL_RETURNEES]) * scale,
                "later_return": self.later_returns.copy(),
                "stay_five_years": off_diagonal(c[STAYERS]) * scale * self.still_abroad,
                "doctoral_stay_five_years": off_diagonal(c[DOCTORAL_STAYERS]) * scale * self.still_abroad}

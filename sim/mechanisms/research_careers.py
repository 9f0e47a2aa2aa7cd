"""Research careers, at the end of the year: researchers leave or retire; universities hire doctoral graduates.

Researchers leave research with a yearly probability logistic(leave_constant + leave_productivity ln
productivity) (the less productive leave more; Kaminski & Geisler 2012 find a median academic tenure
of about 11 years), and retire after `retirement_career` years. Universities then fill their vacant
funded posts (`universities.posts`, funded by budgets: finance.py) from the doctoral graduates who
settle in their country this year (at home, or abroad after the stay-or-return rule: careers.py): a
share `academic_share` of them seek a post; the most talented go to the best universities; each hire
is a researcher agent (researcher_scale people) who keeps the graduate's citizenship and country of
training, with a log productivity that is `productivity_talent` talent plus noise (lognormal, mean 1 at
talent 0), raised by a better-reputed doctoral university.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type, share
from sim.mechanisms.library.admission import home_ranking
from sim.outcomes import Flow, Metric, off_diagonal, pairs, with_world
from sim.population import rows_at
from sim.researchers import uids
from sim.students import DOCTORAL, GRADUATED, STAYED


@dataclass
class Params:
    """behaviour.research_careers: researchers leaving research; hiring from doctoral graduates."""
    leave_constant: float = -3.4      # logit of leaving research in a year, at productivity 1
    leave_productivity: float = -1.0  # per log productivity (the less productive leave more)
    retirement_career: int = nonnegative(38)       # years in research at which a researcher retires
    academic_share: float = share(0.5)       # share of doctoral graduates who seek a research post
    productivity_talent: float = 0.5  # correlation of a new researcher's log productivity with talent
    training_reputation: float = 0.4  # log productivity per log research reputation of the doctoral university


Rule = ResearchCareersRule = rule_type(Params, "ResearchCareersRule")


@njit(cache=True)
def leaves(seed, year, uid, productivity, career, rule):
    """Whether a researcher leaves research (or retires) at the end of this year: the rule."""
    if career + 1 >= rule.retirement_career:
        return True
    logit = rule.leave_constant + rule.leave_productivity * np.log(productivity)
    return rng.uniform(seed, rng.RESEARCH_EXIT, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True, parallel=True)
def _leaving(seed, year, uid, productivity, career, rule):
    out = np.empty(uid.shape[0], np.bool_)
    for i in prange(uid.shape[0]):
        out[i] = leaves(seed, year, uid[i], productivity[i], career[i], rule)
    return out


@njit(cache=True)
def new_productivity(seed, year, uid, talent, reputation, rule):
    """A new researcher's productivity: lognormal (mean 1 at talent 0, trained at a university of the
    world's mean reputation), its log correlated with talent and raised by a better-reputed doctorate."""
    z = rule.productivity_talent * talent + np.sqrt(1.0 - rule.productivity_talent ** 2) * rng.normal_at(
        rng.key(seed, rng.RESEARCH_HIRE, year, uid), 0)
    return np.float32(np.exp(0.6 * z - 0.18 + rule.training_reputation * np.log(reputation)))


@njit(cache=True)
def _new_productivities(seed, year, uid, talent, reputation, rule):
    out = np.empty(uid.shape[0], np.float32)
    for m in range(uid.shape[0]):
        out[m] = new_productivity(seed, year, uid[m], np.float64(talent[m]), reputation[m], rule)
    return out


class ResearchCareers(Mechanism):
    """Researchers leave research or retire; universities hire doctoral graduates into vacant posts."""
    section = "research_careers"
    reads = ("uid", "origin", "univ", "talent", "level", "outcome",
             "universities.posts", "universities.quality", "universities.reputation", "researchers")
    writes = ("researchers",)
    outcomes = (
        Metric("researcher_entries", "researchers/year", "new researchers hired by the country's universities"),
        Metric("researcher_exits", "researchers/year",
               "researchers of the country's universities who left research or retired"),
        Flow("researcher_entry", "new researchers (doctoral graduates hired into posts): country of citizenship -> "
                                 "country where they start"),
    )

    def step_arrays(self, m) -> None:
        a, w = m.students.a, m.world
        rows = rows_at(a["level"], a["outcome"], DOCTORAL, GRADUATED, STAYED)   # graduated, at home or abroad
        study = w.univ_country[a["univ"][rows]]
        settled = np.where(a["outcome"][rows] == STAYED, study, a["origin"][rows])
        self._turn_over(m, a["uid"][rows], a["talent"][rows], a["origin"][rows], study, settled, a["univ"][rows])

    def step_agents(self, m) -> None:
        w = m.world
        graduates = sorted((s for s in m.students.all if s.level == DOCTORAL and s.outcome >= GRADUATED),
                           key=lambda s: s.uid)
        study = np.array([w.univ_country[s.univ] for s in graduates], np.int64)
        origin = np.array([s.origin for s in graduates], np.int64)
        settled = np.where(np.array([s.outcome == STAYED for s in graduates], bool), study, origin)
        self._turn_over(m, np.array([s.uid for s in graduates], np.uint64),
                        np.array([s.talent for s in graduates], np.float32), origin, study, settled,
                        np.array([s.univ for s in graduates], np.int64))

    def _turn_over(self, m, uid, talent, citizenship, trained, settled, doctoral_univ) -> None:
        """Exits, then hires from the candidates (this year's doctoral graduates, by where they settled).
        During the spin-up the research workforce stands still: the doctoral pipeline is filling."""
        r, w, u, rule = m.researchers, m.world, m.universities, m.rules.research_careers
        n = w.n_countries
        if m.year < m.cfg.start_year:
            self.exits, self.entries = np.zeros(n, np.int64), np.zeros((n, n), np.int64)
            return
        leaving = _leaving(m.seed, m.year, r.uid, r.productivity, r.career, rule)
        self.exits = np.bincount(w.univ_country[r.univ[leaving]], minlength=n)
        r.keep(~leaving)
        r.career = np.minimum(r.career.astype(np.int64) + 1, 255).astype(np.uint8)
        vacant = np.maximum(u.posts - np.bincount(r.univ, minlength=w.n_universities), 0)
        per = rule.academic_share * w.scale / w.researcher_scale   # researcher agents a candidate supplies
        ranked = home_ranking(w.univ_country, u.quality)              # each country's universities, best first
        order = np.lexsort((uid, -talent, settled))        # by country, the most talented first (ties: lower uid)
        first = np.searchsorted(settled[order], np.arange(n + 1))
        hires = [np.zeros(0, np.int64)] * 4                  # universities, candidates, countries, ranks
        for c in range(n):
            lo, hi = w.first_univ[c], w.first_univ[c + 1]
            slots = np.repeat(ranked[lo:hi], vacant[ranked[lo:hi]])
            count = min(len(slots), int((first[c + 1] - first[c]) * per))
            best = order[first[c] + (np.arange(count) / per).astype(np.int64)]
            hires = [np.concatenate([h, x]) for h, x in zip(hires, (slots[:count], best, np.full(count, c),
                                                                    np.arange(count)))]
        univ, who, country, rank = hires
        ids = uids(m.year, country, rank)
        r.add({"uid": ids, "citizenship": citizenship[who], "trained": trained[who], "home": univ, "univ": univ,
               "productivity": _new_productivities(m.seed, m.year, ids, talent[who],
                                                   np.maximum(u.reputation[doctoral_univ[who]], 1e-3), rule)})
        self.entries = pairs(citizenship[who].astype(np.int64), country, n)

    def metrics(self, m) -> dict[str, np.ndarray]:
        rs = m.world.researcher_scale
        return {"researcher_entries": with_world(self.entries.sum(axis=0)) * rs,
                "researcher_exits": with_world(self.exits) * rs}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"researcher_entry": off_diagonal(self.entries) * m.world.researcher_scale}

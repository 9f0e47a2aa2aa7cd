"""Transitions between populations: where people go when they leave one.

Research careers, at the end of the year: researchers leave research with a yearly probability
logistic(leave_constant + leave_productivity ln productivity) (the less productive leave more;
Kaminski & Geisler 2012 find a median academic tenure of about 11 years), and retire after
`retirement_career` years. Universities then fill their vacant funded posts (`universities.posts`)
from the doctoral graduates who settle in their country this year (at home, or abroad after the
stay-or-return rule: careers.py): a share `academic_share` of them seek a post; the most talented
go to the best universities; each hire is a researcher agent (researcher_scale people) who keeps
the graduate's citizenship and country of training, with a log productivity that is
`productivity_talent` talent plus noise (lognormal, mean 1 at talent 0).

Graduation ends the students' year. The per-student sample (when asked for) sees every student
as the year leaves them; then graduates and dropouts leave the student population, and the
students who continue abroad (by the year's census, `model.census`) become next year's network
of current students abroad (`model.diaspora.enrolled_abroad`; stayers have joined the alumni
network in careers).

This is the home of every move from one population to another: when doctoral graduates join
the researchers, or graduates the workforce, that happens here.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.admission import home_ranking
from sim.mechanisms.base import Mechanism, rule_type
from sim.outcomes import Flow, Metric, off_diagonal, pairs, student_sample, with_world
from sim.population import rows_at
from sim.researchers import uids
from sim.students import CONTINUING, DOCTORAL, GRADUATED, STAYED


@dataclass
class Params:
    """behaviour.research_careers: researchers leaving research; hiring from doctoral graduates."""
    leave_constant: float = -3.4      # logit of leaving research in a year, at productivity 1
    leave_productivity: float = -1.0  # per log productivity (the less productive leave more)
    retirement_career: int = 38       # years in research at which a researcher retires
    academic_share: float = 0.5       # share of doctoral graduates who seek a research post
    productivity_talent: float = 0.5  # correlation of a new researcher's log productivity with talent
    training_reputation: float = 0.4  # log productivity per log research reputation of the doctoral university


Rule = CareersRule = rule_type(Params, "CareersRule")


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
    reads = ("uid", "origin", "univ", "talent", "level", "outcome")
    outcomes = (
        Metric("researcher_entries", "researchers/year", "new researchers hired by the country's universities"),
        Metric("researcher_exits", "researchers/year",
               "researchers of the country's universities who left research or retired"),
        Flow("researcher_entry", "new researchers: country of citizenship -> country where they start"),
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

    def initial_origins(self, m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where the researchers at the start come from, as hiring would have made them: in country c,
        (domestic[c], foreign[c, o], returnee[c, t]) in proportion to the doctoral graduates of c who
        stayed home, of o who studied in c and stayed, of c who studied in t and came back (the
        doctoral choice and the doctoral stay rule under the default policies)."""
        from sim.mechanisms import careers, progression
        flows = m.mechanism(progression.Progression).expected_doctoral_flows(m)      # (o, d)
        p = m.rules.careers
        stay = careers.stay_probabilities(m.world, m.policy, p, p.doctoral_stay_constant)
        return np.diag(flows).copy(), (flows * stay).T, flows * (1 - stay)

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



class Graduation(Mechanism):
    """Graduates and dropouts leave the student population; the students who continue abroad are the
    network of current students abroad."""
    reads = ("uid", "origin", "univ", "outcome")

    def step_arrays(self, m) -> None:
        s, w = m.students, m.world
        if m.sampling:
            m.recorder.add_students(m.year, student_sample(s.columns(), m.seed, m.cfg.sample_students),
                                    w.univ_country)
        flags = s.scratch("flags")
        np.equal(s.a["outcome"], CONTINUING, out=flags.view(np.bool_))
        s.keep(flags, 0)
        self._refresh_network(m)

    def step_agents(self, m) -> None:
        w = m.world
        if m.sampling:
            m.recorder.add_students(m.year, student_sample(m.students.columns(), m.seed, m.cfg.sample_students),
                                    w.univ_country)
        for s in list(m.students.all):
            if s.outcome != CONTINUING:
                s.remove()
        self._refresh_network(m)

    def _refresh_network(self, m) -> None:
        """The students who continue abroad (the year's census: enrolled - graduates - dropouts) are the
        network of current students abroad that next year's entrants see."""
        c = m.census
        m.diaspora.enrolled_abroad = off_diagonal(c.enrolled - c.graduates - c.dropouts) * m.world.scale

"""Exchange studies (credit mobility) through bilateral partnership agreements.

Students of a first degree, past their first year and before their last, studying in their own
country and not yet exchanged, may apply for a term or a year at a partner university. The
propensity rises with talent, family resources, exchange funding of their country and the
international courses of their university (Souto-Otero et al. 2013 on Erasmus participation).
An applicant applies along one of their university's agreements (drawn in proportion to its
slots); each agreement takes the most talented applicants up to its slots, which grow with the
country's agreements and funding. Stays last a short term, a term or a year (Erasmus+: most
stays last one term or one academic year).
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import alias, rng
from sim.mechanisms.base import Mechanism, rule_type, share
from sim.mechanisms.library import admission
from sim.outcomes import Flow, Metric, off_diagonal, pairs, ratio, with_world
from sim.population import nonnegative_rows
from sim.students import EXCHANGED, FIRST_DEGREE

LENGTHS = (0.25, 0.5, 1.0)  # years: short stay, one term, one year


@dataclass
class Params:
    """behaviour.exchange: exchange studies through partnership agreements."""
    apply_constant: float = -3.4     # logit of applying in an eligible year
    apply_talent: float = 0.3
    apply_resources: float = 0.5     # per family-resources band step
    apply_funding: float = 1.5       # per unit of exchange funding
    apply_courses: float = 2.0       # per unit of the university's international-course share
    short_share: float = share(0.1)         # stays shorter than a term
    term_share: float = share(0.6)          # one-term stays (the rest: a year)


Rule = ExchangeRule = rule_type(Params, "ExchangeRule")


@njit(cache=True)
def eligible(level, year_in, first_degree_years, at_home, done):
    """First-degree students past their first year and before their last, at home, not yet exchanged."""
    return level == FIRST_DEGREE and 1 <= year_in <= first_degree_years - 2 and at_home and not done


@njit(cache=True)
def wants_exchange(seed, year, uid, talent, resources, funding, courses, rule):
    """Whether an eligible student applies for an exchange this year: the rule both backends use."""
    logit = (rule.apply_constant + rule.apply_talent * talent + rule.apply_resources * (resources - 1.0)
             + rule.apply_funding * funding + rule.apply_courses * courses)
    return rng.uniform(seed, rng.EXCHANGE, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit))


@njit(cache=True)
def agreement(seed, year, uid, univ, e_table, edge_of):
    """The agreement (edge index) an applicant applies along, or -1 if the university has none open."""
    j = alias.draw(e_table, univ, rng.key(seed, rng.EXCHANGE_PARTNER, year, uid), 0)
    return edge_of[univ, j]


@njit(cache=True)
def length(seed, year, uid, rule):
    """Length of a stay in years: short, one term or one year."""
    u = rng.uniform(seed, rng.EXCHANGE_LENGTH, year, uid, 0)
    if u < rule.short_share:
        return LENGTHS[0]
    if u < rule.short_share + rule.term_share:
        return LENGTHS[1]
    return LENGTHS[2]


@njit(cache=True, parallel=True)
def applications(seed, year, uid, origin, univ, talent, resources, level, year_in, mobility, t, rule, out):
    """Fill out[i] with the agreement student i applies along this year (-1: does not apply)."""
    univ_country, funding, courses, first_degree_years = t.univ_country, t.funding, t.courses, t.first_degree_years
    table, edge_of = t.table, t.edge_of
    for i in prange(uid.shape[0]):
        out[i] = -1
        u = univ[i]
        c = univ_country[u]
        if eligible(level[i], year_in[i], first_degree_years, c == origin[i], (mobility[i] & EXCHANGED) != 0):
            if wants_exchange(seed, year, uid[i], np.float64(talent[i]), resources[i], funding[c], courses[u], rule):
                out[i] = agreement(seed, year, uid[i], u, table, edge_of)


def agreement_tables(world, policy, edge_slots: np.ndarray):
    """Open slots per agreement this year, and alias tables of each university's agreements.

    Slots = base slots x agreements factor x (1 + funding) of the sending country; regional
    agreements open only when both countries join the regional programme; a closed border closes
    every agreement across it.
    """
    c_from, c_to = world.univ_country[world.edge_from], world.univ_country[world.edge_to]
    factor = policy["exchange_agreements"][c_from] * (1.0 + policy["exchange_funding"][c_from])
    regional_open = (policy["regional_programme"][c_from] > 0.5) & (policy["regional_programme"][c_to] > 0.5)
    closed = (policy["border_closed"][c_from] > 0.5) | (policy["border_closed"][c_to] > 0.5)
    open_ = np.where(world.edge_regional, regional_open, True) & ~closed
    slots = np.where(open_, np.round(edge_slots * factor), 0).astype(np.int64)
    counts = np.bincount(world.edge_from, minlength=world.n_universities)
    width = max(1, int(counts.max()))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(world.edge_from)) - start[world.edge_from]
    edge_of = np.full((world.n_universities, width), -1, np.int32)
    weight = np.zeros((world.n_universities, width))
    edge_of[world.edge_from, rank] = np.arange(len(world.edge_from))
    weight[world.edge_from, rank] = slots
    none = weight.sum(axis=1) == 0
    weight[none, 0] = 1.0          # a university with no open agreement: its draws land on a -1 column
    edge_of[none, 0] = -1
    return slots, alias.build(weight), edge_of


@njit(cache=True, parallel=True)
def lengths(seed, year, uids, rule):
    """Stay lengths of the students with these uids."""
    out = np.empty(uids.shape[0], np.float32)
    for m in prange(uids.shape[0]):
        out[m] = length(seed, year, uids[m], rule)
    return out


class ExchangeTables(NamedTuple):
    slots: np.ndarray         # (E,) open slots per agreement this year
    table: np.ndarray         # agreement alias table, one row per university
    edge_of: np.ndarray       # (U, max agreements) agreement index of each column, -1 = none
    partner: np.ndarray       # (E,) partner university of each agreement
    funding: np.ndarray       # (C,) exchange funding in force
    courses: np.ndarray       # (U,) share of international courses
    univ_country: np.ndarray  # (U,)
    first_degree_years: int   # study.first_degree_years


class Exchange(Mechanism):
    """Eligible students apply along their university's agreements; each agreement takes the most
    talented of its applicants up to its slots (admission.admit_round); the stay's length is drawn."""
    section = "exchange"
    reads = ("uid", "origin", "univ", "talent", "resources", "level", "year_in", "mobility",
             "universities.courses")
    writes = ("partner", "stay", "mobility",
              "agreements.traffic")
    outcomes = (
        Metric("exchange_students", "students/year",
               "students of the country's universities on exchange abroad (by origin)"),
        Metric("exchange_inbound", "students/year", "exchange students the country's universities host"),
        Metric("exchange_participation_rate", "share", "`exchange_students` / students enrolled at home"),
        Metric("exchange_term_or_year_share", "share",
               "exchange stays of one term or one year / all stays (by origin)"),
        Flow("exchange", "students on exchange: origin -> country of the partner university"),
    )

    def tables(self, m) -> ExchangeTables:
        slots, table, edge_of = agreement_tables(m.world, m.policy, m.agreements.slots)
        return ExchangeTables(slots=slots, table=table, edge_of=edge_of, partner=m.agreements.partner,
                              funding=m.policy["exchange_funding"], courses=m.universities.courses,
                              univ_country=m.world.univ_country, first_degree_years=m.rules.study.first_degree_years)

    def step_arrays(self, m) -> None:
        a, t, rule = m.students.a, self.tables(m), m.rules.exchange
        apps = m.students.scratch("choice")
        applications(m.seed, m.year, a["uid"], a["origin"], a["univ"], a["talent"], a["resources"], a["level"],
                     a["year_in"], a["mobility"], t, rule, apps)
        who = nonnegative_rows(apps)
        edge = admission.admit_round(who, apps[who], a["talent"], t.slots.copy())
        went, edge = who[edge >= 0], edge[edge >= 0]
        a["partner"][went] = t.partner[edge]
        a["stay"][went] = lengths(m.seed, m.year, a["uid"][went], rule)
        a["mobility"][went] |= EXCHANGED
        self._count(m, a["origin"][went], t.partner[edge], a["stay"][went], edge, len(t.slots))

    def step_agents(self, m) -> None:
        """Each eligible student decides and picks an agreement; each agreement takes the most talented
        of its applicants (ties: lower uid), up to its slots."""
        from sim.agents import select
        t, rule = self.tables(m), m.rules.exchange
        by_agreement: dict[int, list] = {}
        for s in m.students.all:
            c = int(t.univ_country[s.univ])
            if eligible(s.level, s.year_in, t.first_degree_years, c == s.origin, bool(s.mobility & EXCHANGED)) \
                    and wants_exchange(m.seed, m.year, s.uid, s.talent, s.resources, float(t.funding[c]),
                                       float(t.courses[s.univ]), rule):
                edge = int(agreement(m.seed, m.year, s.uid, s.univ, t.table, t.edge_of))
                if edge >= 0:
                    by_agreement.setdefault(edge, []).append(s)
        went = [(s, edge) for edge, applicants in by_agreement.items()
                for s in select(applicants, int(t.slots[edge]), lambda s: s.talent)]
        for s, edge in went:
            s.partner = int(t.partner[edge])
            s.stay = float(np.float32(length(m.seed, m.year, s.uid, rule)))
            s.mobility |= EXCHANGED
        self._count(m, np.array([s.origin for s, _ in went], np.int64), np.array([s.partner for s, _ in went], np.int64),
                    np.array([s.stay for s, _ in went], np.float32), np.array([e for _, e in went], np.int64),
                    len(t.slots))

    def _count(self, m, origin, partner, stay, edge, n_edges) -> None:
        """This year's exchanges: by origin x partner country, stays by length by origin, traffic per agreement."""
        n = m.world.n_countries
        self.students = pairs(origin, m.world.univ_country[partner], n)
        length = np.searchsorted(np.array([0.4, 0.9]), stay, side="right")   # 0 short, 1 term, 2 year
        self.stays = np.bincount(length * n + origin, minlength=3 * n).reshape(3, n)
        m.agreements.traffic = np.bincount(edge, minlength=n_edges)

    def metrics(self, m) -> dict[str, np.ndarray]:
        scale, stays = m.world.scale, self.stays
        out = with_world(self.students.sum(axis=1)) * scale
        return {"exchange_students": out,
                "exchange_inbound": with_world(off_diagonal(self.students).sum(axis=0)) * scale,
                # of the students enrolled at home (the study year's census)
                "exchange_participation_rate": ratio(out, with_world(np.diag(m.census.enrolled)) * scale),
                "exchange_term_or_year_share": ratio(with_world(stays[1] + stays[2]).astype(float),
                                                     with_world(stays.sum(axis=0)))}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"exchange": off_diagonal(self.students) * m.world.scale}

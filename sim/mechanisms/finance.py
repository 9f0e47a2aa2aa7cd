"""Universities' money: international tuition, scholarships, budgets and the research posts they fund.

A university's income in a year (USD) is public funding for its seats plus the international
tuition its fee-paying international students pay: the university's international fee x the
`tuition_factor` lever of the student's corridor (origin x destination: a destination may charge some
origins only), for every international student below the doctorate and for self-funded
international doctoral students (progression.py; funded doctoral students are not charged). Public funding is
`public_per_student` x GDP per capita of its country (OECD Education at a Glance: public spending
per tertiary student is a third or so of GDP per capita) for each domestic student it had when
recording started, scaled with its seats since: new seats (the `capacity_growth` lever) come with
funding, and an international student who takes a seat a domestic student would have taken brings
tuition without costing public funding.
Scholarships do not change what a university receives; they change who pays: a destination's
`inbound_scholarship` pays that share of its international students' cost (tuition and living), an
origin's `outbound_scholarship` that share of the rest for its nationals abroad (the cost the
destination choice sees, choice.py).

Public funding follows the `public_funding` lever (a cut: < 1). A fee-paying international student (one
charged a fee: tuition factor > 0) costs `teaching_cost` x GDP per capita a year to teach beyond the
seat's funding (support, admissions, smaller classes), so the budget is public funding + tuition -
those costs. Universities are actors: when their budget a seat falls below what it was when recording
started (a cut, or lost fees), they recruit fee-paying international students, with an effort
`recruitment_response` x the shortfall (0..1) that the next intake's choice sees (choice.py, `recruitment`):
the response of US public research universities to state funding cuts (Bound, Braga, Khanna & Turner
2020) emerges from it (docs/ODD.md 7.15).

The budget funds research: research posts follow the budget, `posts = posts_per_usd x budget`,
where posts_per_usd is fixed when recording starts so that the posts of the first recorded year
are the world's research staff. So fewer international students can mean less income and fewer
posts, which hiring (research_careers.py) and doctoral places (progression.py) follow.
"""

from dataclasses import dataclass

import numpy as np

from numba import njit, prange

from sim.mechanisms.base import Mechanism, nonnegative, rule_type
from sim.mechanisms.library.common import LIVING_COST_SHARE, pays_international_fee
from sim.outcomes import Metric, blocks, by_country, ratio, with_world


@dataclass
class Params:
    """behaviour.finance: universities' public funding."""
    public_per_student: float = nonnegative(0.35)  # public funding per domestic student, as a share of GDP per capita
    teaching_cost: float = nonnegative(0.1)        # yearly cost of teaching a fee-paying international student beyond
                                                   # the seat's funding, as a share of the host's GDP per capita
    recruitment_response: float = nonnegative(1.5)  # recruitment effort per unit shortfall of the budget a seat


Rule = FinanceRule = rule_type(Params, "FinanceRule")


def scholarship_costs(students: np.ndarray, cost: np.ndarray, inbound: np.ndarray, outbound: np.ndarray) -> np.ndarray:
    """(C,) what each country pays a year for scholarships: inbound[o, d] x cost[d] for each international
    student of o in d, outbound[o, d] x (1 - inbound[o, d]) x cost[d] for each national of o studying in d.
    students: (C, C) real international students by origin x destination (domestic pairs zero); inbound,
    outbound: (C, C) the levers by corridor; cost (USD a year, tuition and living): (C,) or (C, C)."""
    paid = students * cost                                    # cost: (C,) by destination, or (C, C) by corridor
    return (inbound * paid).sum(axis=0) + (outbound * (1 - inbound) * paid).sum(axis=1)


@njit(cache=True, parallel=True)
def fee_payers(origin, univ, level, resources, univ_country, n_universities, n_countries, n_blocks):
    """(U, C) students who pay international tuition (library.common.pays_international_fee) by university and
    origin: what each pays depends on the tuition lever of its corridor."""
    counts = np.zeros((n_blocks, n_universities, n_countries), np.int64)
    size = (origin.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, origin.shape[0])):
            u = univ[i]
            if pays_international_fee(origin[i], univ_country[u], level[i], resources[i]):
                counts[b, u, origin[i]] += 1
    return counts.sum(axis=0)


def tuition_revenue(payers: np.ndarray, tuition: np.ndarray, factor: np.ndarray, univ_country: np.ndarray,
                    scale: float) -> np.ndarray:
    """(U,) international tuition a university receives (USD a year): its fee x the corridor's tuition factor for
    each fee-paying student (payers: (U, C) by origin; factor: (C, C) origin x destination), in real students."""
    return scale * tuition * (payers * factor[:, univ_country].T).sum(axis=1)


def recruitment_effort(per_seat: np.ndarray, reference: np.ndarray, response: float) -> np.ndarray:
    """(U,) effort to recruit fee-paying international students, 0..1: `response` x the shortfall of the budget a
    seat below its reference (0 without a reference: before recording starts)."""
    shortfall = np.where(reference > 0, 1.0 - per_seat / np.where(reference > 0, reference, 1.0), 0.0)
    return np.clip(response * shortfall, 0.0, 1.0)


class Finance(Mechanism):
    """Income of every university (public funding, international tuition), the scholarship bill of every
    country, and the research posts budgets fund."""
    section = "finance"
    reads = ("origin", "univ", "level", "resources",
             "universities.fee_paying", "universities.enrolled", "universities.capacity", "census")
    writes = ("universities.tuition", "universities.public_per_seat", "universities.budget",
              "universities.posts_per_usd", "universities.posts", "universities.budget_per_seat_ref",
              "universities.recruitment")
    outcomes = (
        Metric("university_income", "USD/year", "budget of the country's universities: public funding + tuition - "
               "the teaching costs of fee-paying international students"),
        Metric("tuition_revenue", "USD/year", "international tuition its universities receive"),
        Metric("tuition_share", "share", "`tuition_revenue / university_income`"),
        Metric("scholarship_cost", "USD/year",
               "what the country pays for scholarships: to international students it hosts and nationals abroad"),
        Metric("development_scholarships", "USD/year",
               "of `scholarship_cost`, what it pays for students from developing (not high-income) countries it hosts "
               "(SDG indicator 4.b.1 measures such scholarships by the aid spent on them)"),
        Metric("research_posts", "researchers", "research posts its universities' budgets fund"),
    )

    def step(self, m) -> None:
        w, u, p, rule = m.world, m.universities, m.policy, m.rules.finance
        c = w.univ_country
        payers = self._payers_of_agents(m) if m.reference else fee_payers(
            *(m.students.a[k] for k in ("origin", "univ", "level", "resources")), c, w.n_universities, w.n_countries,
            blocks())
        u.tuition = tuition_revenue(payers, w.univ_tuition_intl, p["tuition_factor"], c, w.scale)
        if m.year <= m.cfg.start_year:   # until recording starts: funding follows the domestic students
            domestic = rule.public_per_student * w.gdp_pc[c] * (u.enrolled - u.fee_paying) * w.scale
            u.public_per_seat = domestic / np.maximum(u.capacity, 1)
        charged = (payers * (p["tuition_factor"][:, c].T > 0)).sum(axis=1) * w.scale
        u.budget = np.maximum(u.public_per_seat * u.capacity * p["public_funding"][c] + u.tuition
                              - rule.teaching_cost * w.gdp_pc[c] * charged, 0.0)
        per_seat = u.budget / np.maximum(u.capacity, 1)
        if m.year == m.cfg.start_year:   # the budget of the first recorded year funds the world's research staff
            u.posts_per_usd = np.divide(m.world.researchers, u.budget, out=np.zeros(len(u)), where=u.budget > 0)
            u.budget_per_seat_ref = per_seat
        u.recruitment = recruitment_effort(per_seat, u.budget_per_seat_ref, rule.recruitment_response)
        if m.year >= m.cfg.start_year:
            u.posts = np.round(u.posts_per_usd * u.budget).astype(np.int64)
        students = (m.census.enrolled - m.census.doctoral) * ~np.eye(w.n_countries, dtype=bool) * w.scale
        seats = np.bincount(c, u.capacity, w.n_countries)
        average_fee = np.bincount(c, w.univ_tuition_intl * u.capacity, w.n_countries) / np.maximum(seats, 1)
        cost = average_fee[None, :] * p["tuition_factor"] + LIVING_COST_SHARE * w.gdp_pc[None, :]   # (o, d)
        self.scholarships = scholarship_costs(students, cost, p["inbound_scholarship"], p["outbound_scholarship"])
        # SDG 4.b: the scholarships a host pays for students from developing countries (outside high income)
        developing = np.ones(w.n_countries, bool)
        developing[w.groups.get("high_income", np.zeros(0, np.int64))] = False
        self.development_scholarships = scholarship_costs(students * developing[:, None], cost, p["inbound_scholarship"],
                                                          np.zeros_like(p["outbound_scholarship"]))

    @staticmethod
    def _payers_of_agents(m) -> np.ndarray:
        """`fee_payers` of the Mesa reference backend, one Student agent at a time."""
        w = m.world
        payers = np.zeros((w.n_universities, w.n_countries), np.int64)
        for s in m.students.all:
            if pays_international_fee(s.origin, w.univ_country[s.univ], s.level, s.resources):
                payers[s.univ, s.origin] += 1
        return payers

    def metrics(self, m) -> dict[str, np.ndarray]:
        u, w = m.universities, m.world
        income = with_world(by_country(u.budget, w.univ_country, w.n_countries))
        tuition = with_world(by_country(u.tuition, w.univ_country, w.n_countries))
        return {"university_income": income, "tuition_revenue": tuition, "tuition_share": ratio(tuition, income),
                "scholarship_cost": with_world(self.scholarships),
                "development_scholarships": with_world(self.development_scholarships),
                "research_posts": with_world(by_country(u.posts, w.univ_country, w.n_countries)) * w.researcher_scale}

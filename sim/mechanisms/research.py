"""Researchers: mobility, team assembly, papers and citations.

Each year a researcher may visit a partner university abroad (more with mobility grants; the
host's visa openness applies), move to one for good (more towards richer, open countries;
Sanliturk et al. 2023 find scholars' emigration rises with the income gap) or, having moved,
return home. Then each researcher leads Poisson(papers x productivity) papers. A team forms
by the team-assembly process of Guimera, Uzzi, Spiro & Amaral (2005, Science 308:697): each
co-author slot goes, with probability `incumbent_share`, to one of the lead's recent
collaborators (repeat collaboration); otherwise to a newcomer, from a partner university abroad
with a probability that rises with research-cooperation funding, the university's agreements,
a visit abroad and time, or else from the lead's own university. Citations are lognormal in the
team's university quality, with a premium for international co-authorship that saturates as
more countries join (Adams 2013, Nature 497:557: the fourth age of research).

Papers count for the lead author's university (first-author counting); the WORLD counts each
paper once.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.base import Mechanism, rule_type
from sim.outcomes import Flow, Metric, by_country, off_diagonal, ratio, with_world
from sim.researchers import RING

MAX_COAUTHORS = 15
MAX_PAPERS = 40
DRAWS_PER_PAPER = 64     # draw indexes reserved per paper (4 per co-author slot)
CITES_FIXED_POINT = 1024.0


@dataclass
class Params:
    """behaviour.research: researchers' output, team assembly (Guimera et al. 2005), citations, mobility."""
    papers_per_researcher: float = 1.0  # papers a researcher leads a year at productivity 1
    coauthors: float = 2.5             # mean co-authors besides the lead (Poisson)
    incumbent_share: float = 0.45      # a co-author slot goes to a repeat collaborator (when there is one)
    intl_constant: float = -3.0        # logit of a new co-author coming from a partner abroad
    intl_cooperation: float = 1.5      # per unit of research-cooperation funding
    intl_partners: float = 0.25        # per log(1 + agreements of the university)
    intl_trend: float = 0.03           # per year since the start (falling costs of collaborating)
    intl_visit: float = 2.0            # while visiting a partner abroad
    citations_log_mean: float = 1.6    # log citations of a domestic paper at quality 0.5
    citations_log_sd: float = 1.0
    citations_quality: float = 1.5     # per unit of the team's mean university quality
    intl_premium: float = 0.45         # citation premium of international co-authorship, at saturation
    premium_countries: float = 1.5     # how fast the premium saturates with more countries
    open_science_productivity: float = 0.3  # productivity gain when the university and its partners share
    cooperation_productivity: float = 0.1   # productivity gain from cooperation funding
    visit_constant: float = -4.0       # logit of a research visit abroad in a year
    visit_grants: float = 2.5          # per unit of researcher-mobility grants
    migrate_constant: float = -5.2     # logit of moving to a partner abroad
    migrate_income: float = 0.8        # per log income gap to the destination
    migrate_visa: float = 1.0          # per unit of the destination's visa openness
    return_rate: float = 0.08          # yearly probability a migrant researcher returns


Rule = ResearchRule = rule_type(Params, "ResearchRule")


@njit(cache=True)
def poisson(lam, u):
    """Inverse-transform Poisson deviate from one uniform (lam is small here)."""
    p = np.exp(-lam)
    f = p
    k = 0
    while u > f and k < 200:
        k += 1
        p *= lam / k
        f += p
    return k


@njit(cache=True, inline="always")
def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True)
def move_probability(gdp_home, gdp_host, visa_host, rule):
    """Probability that a researcher who drew a partner abroad (and passed its visa) moves there for good."""
    return logistic(rule.migrate_constant + rule.migrate_income * np.log(gdp_host / gdp_home)
                    + rule.migrate_visa * visa_host)


@njit(cache=True)
def visit_probability(grants, rule):
    """Probability of a research visit to the partner instead (researcher-mobility grants at home)."""
    return logistic(rule.visit_constant + rule.visit_grants * grants)


@njit(cache=True)
def papers_rate(productivity, open_share, cooperation, rule):
    """Expected papers a researcher leads in a year (the mean of their Poisson count)."""
    return rule.papers_per_researcher * productivity * (1.0 + rule.open_science_productivity * open_share
                                                        + rule.cooperation_productivity * cooperation)


@njit(cache=True)
def foreign_coauthor_probability(cooperation, agreements, years_since_start, visiting, rule):
    """Probability that a new co-author comes from a partner university abroad."""
    return logistic(rule.intl_constant + rule.intl_cooperation * cooperation + rule.intl_partners * np.log1p(agreements)
                    + rule.intl_trend * years_since_start + (rule.intl_visit if visiting else 0.0))


@njit(cache=True)
def citations(z, team_quality, n_countries, rule):
    """Citations of a paper: lognormal in the team's mean university quality (z: a standard normal), times
    the premium of international co-authorship."""
    return np.exp(rule.citations_log_mean + rule.citations_log_sd * z
                  + rule.citations_quality * (team_quality - 0.5)) * citation_premium(n_countries, rule)


@njit(cache=True)
def citation_premium(n_countries, rule):
    """Multiplier of citations for a paper spanning n countries: 1 at one, saturating above."""
    return 1.0 + rule.intl_premium * (1.0 - np.exp(-(n_countries - 1) / rule.premium_countries))


@njit(cache=True, parallel=True)
def mobility(seed, year, univ, home, visiting, moved, edge_offsets, edge_to, univ_country, gdp_pc, visa, closed,
             grants, rule):
    """Visits, moves and returns, in place. moved[i]: 0 none, 1 moved abroad, 2 returned home."""
    for i in prange(univ.shape[0]):
        visiting[i] = -1
        moved[i] = 0
        u = univ[i]
        k = rng.key(seed, rng.RESEARCH_VISIT, year, i)
        c = univ_country[u]
        if univ_country[home[i]] != c:                       # a migrant: return home?
            if rng.uniform_at(k, 0) < rule.return_rate:
                univ[i] = home[i]
                moved[i] = 2
            continue
        deg = edge_offsets[u + 1] - edge_offsets[u]
        if deg == 0 or closed[c]:
            continue
        v = edge_to[edge_offsets[u] + int(rng.uniform_at(k, 1) * deg)]
        d = univ_country[v]
        if closed[d] or rng.uniform_at(k, 2) >= visa[d]:
            continue
        if rng.uniform_at(k, 3) < move_probability(gdp_pc[c], gdp_pc[d], visa[d], rule):
            univ[i] = v
            moved[i] = 1
            continue
        if rng.uniform_at(k, 4) < visit_probability(grants[c], rule):
            visiting[i] = v


@njit(cache=True)
def members_by_university(univ, n_universities):
    """Researchers grouped by university (counting sort): (offsets, members)."""
    offsets = np.zeros(n_universities + 1, np.int64)
    for i in range(univ.shape[0]):
        offsets[univ[i] + 1] += 1
    for u in range(n_universities):
        offsets[u + 1] += offsets[u]
    fill = offsets[:-1].copy()
    members = np.empty(univ.shape[0], np.int64)
    for i in range(univ.shape[0]):
        members[fill[univ[i]]] = i
        fill[univ[i]] += 1
    return offsets, members


@njit(cache=True, parallel=True)
def papers(seed, year, years_since_start, univ, visiting, productivity, collab, n_collab, edge_offsets, edge_to,
           univ_country, quality, cooperation, open_share, rule):
    """Papers each researcher leads this year: (papers, international, citations, international citations).

    Citations in fixed point (x CITES_FIXED_POINT) so sums are exact. Updates each researcher's
    ring of recent collaborators in place (only the researcher's own row: no races).
    """
    n = univ.shape[0]
    n_univ = quality.shape[0]
    offsets, members = members_by_university(univ, n_univ)
    out_papers = np.zeros(n, np.int32)
    out_intl = np.zeros(n, np.int32)
    out_cites = np.zeros(n, np.int64)
    out_cites_intl = np.zeros(n, np.int64)
    for i in prange(n):
        home_u = univ[i]
        u = visiting[i] if visiting[i] >= 0 else home_u
        c = univ_country[home_u]
        lam = papers_rate(productivity[i], open_share[home_u], cooperation[c], rule)
        k = rng.key(seed, rng.RESEARCH, year, i)
        count = min(poisson(lam, rng.uniform_at(k, 0)), MAX_PAPERS)
        deg = edge_offsets[u + 1] - edge_offsets[u]
        p_intl = foreign_coauthor_probability(cooperation[c], deg, years_since_start, visiting[i] >= 0, rule)
        countries = np.empty(MAX_COAUTHORS + 1, np.int64)
        team_key = rng.key(seed, rng.RESEARCH_TEAM, year, i)
        for p in range(count):
            base = p * DRAWS_PER_PAPER
            m = min(poisson(rule.coauthors, rng.uniform_at(team_key, base)), MAX_COAUTHORS)
            countries[0] = univ_country[u]
            n_countries = 1
            q_sum = quality[u]
            for s in range(m):
                r = rng.uniform_at(team_key, base + 1 + 4 * s)
                pick = rng.uniform_at(team_key, base + 2 + 4 * s)
                j = -1
                if r < rule.incumbent_share and n_collab[i] > 0:
                    j = collab[i, int(pick * min(n_collab[i], RING))]
                    v = univ[j]
                elif rng.uniform_at(team_key, base + 3 + 4 * s) < p_intl and deg > 0:
                    v = edge_to[edge_offsets[u] + int(pick * deg)]
                else:
                    v = u
                if j < 0:
                    size = offsets[v + 1] - offsets[v]
                    if size == 0:
                        continue
                    j = members[offsets[v] + int(rng.uniform_at(team_key, base + 4 + 4 * s) * size)]
                    if j == i:
                        continue
                    collab[i, n_collab[i] % RING] = j   # a newcomer joins the lead's recent collaborators
                    n_collab[i] = min(n_collab[i] + 1, 255)
                cj = univ_country[v]
                new = True
                for x in range(n_countries):
                    if countries[x] == cj:
                        new = False
                if new:
                    countries[n_countries] = cj
                    n_countries += 1
                q_sum += quality[v]
            z = rng.normal_at(rng.key(seed, rng.RESEARCH_CITES, year, i), 2 * p)
            fixed = np.int64(np.rint(citations(z, q_sum / (m + 1), n_countries, rule) * CITES_FIXED_POINT))
            out_papers[i] += 1
            out_cites[i] += fixed
            if n_countries > 1:
                out_intl[i] += 1
                out_cites_intl[i] += fixed
    return out_papers, out_intl, out_cites, out_cites_intl


def open_share(edge_from, edge_to, univ_country, open_science, n_universities) -> np.ndarray:
    """Per university: own openness x mean openness of its partners (sharing takes both sides)."""
    both = open_science[univ_country[edge_from]] * open_science[univ_country[edge_to]]
    deg = np.bincount(edge_from, minlength=n_universities)
    return np.divide(np.bincount(edge_from, both, n_universities), deg, out=np.zeros(n_universities), where=deg > 0)


def _int_bincount(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact integer sums of int64 values by index (np.bincount would go through float64)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, index, values)
    return out


class Research(Mechanism):
    """Researchers visit, move or return along their universities' agreements; then lead papers with
    teams of incumbents, partners abroad and colleagues; citations. Each university's output of the
    year goes to `model.universities` (researchers, papers, citations), which quality reads."""
    outcomes = (
        Metric("researchers", "researchers", "researchers appointed at the country's universities"),
        Metric("papers", "papers/year", "papers led by the country's researchers (WORLD: every paper once)"),
        Metric("intl_coauthored_share", "share", "papers with co-authors from more than one country / papers"),
        Metric("citations_per_paper", "citations", "mean citations of the papers"),
        Metric("citations_per_paper_intl", "citations", "of internationally co-authored papers"),
        Metric("citations_per_paper_domestic", "citations", "of the other papers"),
        Metric("researcher_visits", "researchers/year", "the country's researchers visiting abroad"),
        Metric("researchers_moved_out", "researchers/year",
               "researchers leaving for a university abroad (by home country)"),
        Metric("researchers_moved_in", "researchers/year", "researchers arriving from abroad"),
        Metric("researchers_returned", "researchers/year", "migrant researchers returning home (by home country)"),
        Flow("researcher_visit", "researchers visiting a partner university: home country -> host country"),
        Flow("researcher_move", "researchers moving to a partner university: country left -> country joined"),
        Flow("researcher_return", "migrant researchers returning home: home country -> country left"),
    )

    def step(self, m) -> None:
        r, w, g, u, p, rule = m.researchers, m.world, m.agreements, m.universities, m.policy, m.rules.research
        c = w.univ_country
        before = c[r.univ]                                   # where each researcher worked last year
        mobility(m.seed, m.year, r.univ, r.home, r.visiting, r.moved, g.offsets, g.partner, c, w.gdp_pc,
                 p["visa_openness"], p["border_closed"] > 0.5, p["researcher_mobility"], rule)
        shared = open_share(g.source, g.partner, c, p["open_science"], w.n_universities)
        led, intl, cites, cites_intl = papers(
            m.seed, m.year, m.year - m.cfg.start_year, r.univ, r.visiting, r.productivity, r.collab, r.n_collab,
            g.offsets, g.partner, c, u.quality.mean(axis=1), p["research_cooperation"], shared, rule)
        n_u, n_c = w.n_universities, w.n_countries
        u.researchers = np.bincount(r.univ, minlength=n_u)
        u.papers = np.bincount(r.univ, led, n_u).astype(np.int64)
        u.intl_papers = np.bincount(r.univ, intl, n_u).astype(np.int64)
        u.citations = _int_bincount(r.univ, cites, n_u)
        u.intl_citations = _int_bincount(r.univ, cites_intl, n_u)
        home_c = c[r.home]
        visiting = r.visiting >= 0
        self.visits = np.zeros((n_c, n_c), np.int64)
        np.add.at(self.visits, (home_c[visiting], c[r.visiting[visiting]]), 1)
        self.moves = np.zeros((n_c, n_c), np.int64)
        went = r.moved == 1
        np.add.at(self.moves, (home_c[went], c[r.univ[went]]), 1)
        self.returns = np.zeros((n_c, n_c), np.int64)
        back = r.moved == 2
        np.add.at(self.returns, (home_c[back], before[back]), 1)

    def metrics(self, m) -> dict[str, np.ndarray]:
        u, w = m.universities, m.world
        n, uc, rs = w.n_countries, w.univ_country, w.researcher_scale
        led = with_world(by_country(u.papers, uc, n))
        intl = with_world(by_country(u.intl_papers, uc, n))
        cites = with_world(by_country(u.citations, uc, n)) / CITES_FIXED_POINT
        cites_intl = with_world(by_country(u.intl_citations, uc, n)) / CITES_FIXED_POINT
        return {"researchers": with_world(by_country(u.researchers, uc, n)) * rs,
                "papers": led * rs,
                "intl_coauthored_share": ratio(intl, led),
                "citations_per_paper": ratio(cites, led),
                "citations_per_paper_intl": ratio(cites_intl, intl),
                "citations_per_paper_domestic": ratio(cites - cites_intl, led - intl),
                "researcher_visits": with_world(self.visits.sum(axis=1) - np.diag(self.visits)) * rs,
                "researchers_moved_out": with_world(self.moves.sum(axis=1) - np.diag(self.moves)) * rs,
                "researchers_moved_in": with_world(self.moves.sum(axis=0) - np.diag(self.moves)) * rs,
                "researchers_returned": with_world(self.returns.sum(axis=1)) * rs}

    def flows(self, m) -> dict[str, np.ndarray]:
        rs = m.world.researcher_scale
        return {"researcher_visit": off_diagonal(self.visits) * rs, "researcher_move": off_diagonal(self.moves) * rs,
                "researcher_return": off_diagonal(self.returns) * rs}

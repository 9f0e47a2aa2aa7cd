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

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import rng

MAX_COAUTHORS = 15
MAX_PAPERS = 40
RING = 4                 # recent collaborators a researcher remembers
DRAWS_PER_PAPER = 64     # draw indexes reserved per paper (4 per co-author slot)
CITES_FIXED_POINT = 1024.0


class ResearchRule(NamedTuple):
    papers_per_researcher: float
    coauthors: float
    incumbent_share: float
    intl_constant: float
    intl_cooperation: float
    intl_partners: float
    intl_trend: float
    intl_visit: float
    citations_log_mean: float
    citations_log_sd: float
    citations_quality: float
    intl_premium: float
    premium_countries: float
    open_science_productivity: float
    cooperation_productivity: float
    visit_constant: float
    visit_grants: float
    migrate_constant: float
    migrate_income: float
    migrate_visa: float
    return_rate: float


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
        migrate = rule.migrate_constant + rule.migrate_income * np.log(gdp_pc[d] / gdp_pc[c]) + rule.migrate_visa * visa[d]
        if rng.uniform_at(k, 3) < 1.0 / (1.0 + np.exp(-migrate)):
            univ[i] = v
            moved[i] = 1
            continue
        visit = rule.visit_constant + rule.visit_grants * grants[c]
        if rng.uniform_at(k, 4) < 1.0 / (1.0 + np.exp(-visit)):
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
        lam = rule.papers_per_researcher * productivity[i] * (1.0 + rule.open_science_productivity * open_share[home_u]
                                                               + rule.cooperation_productivity * cooperation[c])
        k = rng.key(seed, rng.RESEARCH, year, i)
        count = min(poisson(lam, rng.uniform_at(k, 0)), MAX_PAPERS)
        deg = edge_offsets[u + 1] - edge_offsets[u]
        logit = (rule.intl_constant + rule.intl_cooperation * cooperation[c] + rule.intl_partners * np.log1p(deg)
                 + rule.intl_trend * years_since_start + (rule.intl_visit if visiting[i] >= 0 else 0.0))
        p_intl = 1.0 / (1.0 + np.exp(-logit))
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
            q_mean = q_sum / (m + 1)
            cites = np.exp(rule.citations_log_mean + rule.citations_log_sd * z
                           + rule.citations_quality * (q_mean - 0.5)) * citation_premium(n_countries, rule)
            fixed = np.int64(np.rint(cites * CITES_FIXED_POINT))
            out_papers[i] += 1
            out_cites[i] += fixed
            if n_countries > 1:
                out_intl[i] += 1
                out_cites_intl[i] += fixed
    return out_papers, out_intl, out_cites, out_cites_intl

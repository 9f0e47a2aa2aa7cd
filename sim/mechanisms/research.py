"""Researchers: mobility, team assembly, papers and citations.

Each year a researcher may visit a partner university abroad (more with mobility grants; the
host's visa openness applies), move to one for good (more towards richer, open countries and
better-reputed universities; Sanliturk et al. 2023 find scholars' emigration rises with the
income gap) or, having moved, return home. Only open agreements carry them (a regional agreement
opens when both countries join the regional programme; a closed border closes every agreement
across it).

Then each researcher leads Poisson(papers_rate) papers, where the rate grows with productivity,
the resources of the university they work at (its budget per researcher working there, relative to the
world's budget per funded post: `resource_factors`), open science, cooperation funding and the doctoral
students who co-author their supervisors' papers (per researcher of the university). Where a researcher
works thus changes what they produce: a move to a better-resourced host raises world output, a move to a
poorer one lowers it (Kahn & MacGarvie 2016; Shi, Liu & Wang 2023; docs/ODD.md 7.9), and an arrival
dilutes the host's resources a little. A team forms by the team-assembly process of Guimera,
Uzzi, Spiro & Amaral (2005, Science 308:697): each co-author slot goes, with probability
`incumbent_share`, to one of the lead's recent collaborators (repeat collaboration); otherwise to
a newcomer: for a researcher with ties abroad (a foreign-born researcher: to the country of
citizenship; a returnee: to the country of the doctorate), from a university of that country
with probability `tie_share` (Scellato, Franzoni & Stephan 2015: migrant scientists keep links
with home); else from a partner university abroad with a probability that rises with
research-cooperation funding, the university's agreements, a visit abroad, time (calendar
years since TREND_BASE_YEAR) and the smallness of the country's research system (fewer
colleagues at home; Luukkonen, Persson & Sivertsen 1992); else from the lead's own university. No new co-author comes across
a closed border. Citations are lognormal in the team's mean university quality, with a premium
for international co-authorship that saturates as more countries join (Adams 2013, Nature
497:557: the fourth age of research).

Papers count for the lead author's university (first-author counting); the WORLD counts each
paper once. A researcher's dice are keyed by their uid, never their row.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim import fpmath, rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type, share
from sim.mechanisms.library.common import poisson
from sim.outcomes import Flow, Metric, by_country, off_diagonal, ratio, with_world
from sim.researchers import RING

MAX_COAUTHORS = 15
MAX_PAPERS = 40
DRAWS_PER_PAPER = 96     # draw indexes reserved per paper (5 per co-author slot)
CITES_FIXED_POINT = 1024.0
TREND_BASE_YEAR = 2016   # the co-authorship trend counts calendar years from here (whatever the run's start)


@dataclass
class Params:
    """behaviour.research: researchers' output, team assembly (Guimera et al. 2005), citations, mobility."""
    papers_per_researcher: float = nonnegative(0.30)  # papers a researcher leads a year at productivity 1, no doctoral students
    coauthors: float = nonnegative(2.5)             # mean co-authors besides the lead (Poisson)
    incumbent_share: float = share(0.45)      # a co-author slot goes to a repeat collaborator (when there is one)
    intl_constant: float = -3.0        # logit of a new co-author coming from a partner abroad
    intl_cooperation: float = 1.5      # per unit of research-cooperation funding
    intl_partners: float = share(0.25)        # per log(1 + agreements of the university)
    intl_trend: float = 0.03           # per calendar year since 2016 (falling costs of collaborating)
    intl_visit: float = 2.0            # while visiting a partner abroad
    intl_size: float = 0.5             # per log unit the country's research staff is below the researcher-weighted
                                       # mean (few colleagues at home: small systems co-author abroad more)
    tie_share: float = share(0.12)            # a new co-author comes from the country of a researcher's ties abroad
    citations_log_mean: float = 1.6    # log citations of a domestic paper at quality 0.5
    citations_log_sd: float = nonnegative(1.0)
    citations_quality: float = 1.5     # per unit of the team's mean university quality
    intl_premium: float = nonnegative(0.45)         # citation premium of international co-authorship, at saturation
    premium_countries: float = nonnegative(1.5)     # how fast the premium saturates with more countries
    open_science_productivity: float = nonnegative(0.3)  # productivity gain when the university and its partners share
    cooperation_productivity: float = nonnegative(0.1)   # productivity gain from cooperation funding
    doctoral_productivity: float = nonnegative(1.5)      # productivity gain per doctoral student per researcher
    resources_elasticity: float = share(0.15)  # elasticity of output to the host's budget per researcher (< 1: a
                                               # host's output is concave in its staff, so moves towards more
                                               # resources per researcher raise world output)
    visit_constant: float = -4.0       # logit of a research visit abroad in a year
    visit_grants: float = 2.5          # per unit of researcher-mobility grants
    migrate_constant: float = -5.2     # logit of moving to a partner abroad
    migrate_income: float = 0.8        # per log income gap to the destination
    migrate_visa: float = 1.0          # per unit of the destination's visa openness
    migrate_reputation: float = 0.6    # per log research-reputation ratio of the destination to home
    return_rate: float = share(0.08)          # yearly probability a migrant researcher returns


Rule = ResearchRule = rule_type(Params, "ResearchRule")


@njit(cache=True, inline="always")
def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True)
def move_probability(gdp_home, gdp_host, visa_host, reputation_home, reputation_host, rule):
    """Probability that a researcher who drew a partner abroad (and passed its visa) moves there for good."""
    return logistic(rule.migrate_constant + rule.migrate_income * np.log(gdp_host / gdp_home)
                    + rule.migrate_visa * visa_host + rule.migrate_reputation * np.log(reputation_host / reputation_home))


@njit(cache=True)
def visit_probability(grants, rule):
    """Probability of a research visit to the partner instead (researcher-mobility grants at home)."""
    return logistic(rule.visit_constant + rule.visit_grants * grants)


@njit(cache=True)
def papers_rate(productivity, open_share, cooperation, doctoral_per_researcher, rule):
    """Expected papers a researcher leads in a year (the mean of their Poisson count)."""
    return rule.papers_per_researcher * productivity * (1.0 + rule.open_science_productivity * open_share
                                                        + rule.cooperation_productivity * cooperation
                                                        + rule.doctoral_productivity * doctoral_per_researcher)


RESOURCE_FLOOR = 0.01    # budget per researcher below this share of the reference counts as this (no budget)


def resource_factors(budget: np.ndarray, staff: np.ndarray, posts: np.ndarray, researcher_scale: float,
                     elasticity: float) -> np.ndarray:
    """(U,) multiplier of the output of a researcher working at each university: (R_u / R_ref)^elasticity,
    R_u the university's budget (USD a year) per researcher working there this year, R_ref the post-weighted
    geometric mean over the world of the budget per funded post. The reference does not depend on where
    researchers are this year, so moving a researcher from a university to one with more resources per
    researcher (after the move) raises the world's expected output: a host's output b^e s^(1-e) is concave
    in its staff s. Not below RESOURCE_FLOOR: a host with almost no budget counts as having the floor's share,
    so its output is linear in its staff there (tests/test_research_place.py states the claim above it)."""
    budget = np.asarray(budget, float)
    per_post = np.divide(budget, posts * researcher_scale, out=np.zeros(len(budget)), where=posts > 0)
    weight = np.where((per_post > 0), posts, 0).astype(float)
    if weight.sum() <= 0:
        return np.ones(len(budget))
    reference = float(fpmath.exp((weight * fpmath.log(np.where(per_post > 0, per_post, 1.0))).sum() / weight.sum()))
    per_researcher = np.divide(budget, staff * researcher_scale, out=per_post.copy(), where=staff > 0)
    relative = np.maximum(per_researcher / reference, RESOURCE_FLOOR)
    return fpmath.exp(elasticity * fpmath.log(relative))


@njit(cache=True)
def foreign_coauthor_probability(cooperation, agreements, trend_years, visiting, size_logit, rule):
    """Probability that a new co-author comes from a partner university abroad (size_logit: the
    country's term from `system_size_logits`)."""
    return logistic(rule.intl_constant + rule.intl_cooperation * cooperation + rule.intl_partners * np.log1p(agreements)
                    + rule.intl_trend * trend_years + (rule.intl_visit if visiting else 0.0) + size_logit)


def system_size_logits(staff_by_country: np.ndarray, intl_size: float) -> np.ndarray:
    """(C,) intl_size x (researcher-weighted mean of log staff - log staff of the country): a research
    system smaller than the typical researcher's finds more of its new co-authors abroad (the size
    effect of Luukkonen, Persson & Sivertsen 1992), centred so the world's share barely moves."""
    log_staff = fpmath.log(np.maximum(staff_by_country, 1.0))
    mean = float((staff_by_country * log_staff).sum() / max(staff_by_country.sum(), 1.0))
    return intl_size * (mean - log_staff)


@njit(cache=True)
def tie_country(citizenship, trained, works_in):
    """The country of a researcher's ties abroad: of citizenship for the foreign-born, of the doctorate
    for a returnee (a citizen trained abroad), else -1."""
    if citizenship != works_in:
        return np.int64(citizenship)
    if trained != citizenship:
        return np.int64(trained)
    return np.int64(-1)


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
def mobility(seed, year, uid, univ, home, visiting, moved, offsets, partner, agreement_open, univ_country, gdp_pc,
             reputation, visa, closed, grants, rule):
    """Visits, moves and returns, in place. moved[i]: 0 none, 1 moved abroad, 2 returned home."""
    for i in prange(univ.shape[0]):
        visiting[i] = -1
        moved[i] = 0
        u = univ[i]
        k = rng.key(seed, rng.RESEARCH_VISIT, year, uid[i])
        c = univ_country[u]
        if univ_country[home[i]] != c:                       # a migrant: return home?
            if rng.uniform_at(k, 0) < rule.return_rate:
                univ[i] = home[i]
                moved[i] = 2
            continue
        deg = offsets[u + 1] - offsets[u]
        if deg == 0 or closed[c]:
            continue
        e = offsets[u] + int(rng.uniform_at(k, 1) * deg)
        v = partner[e]
        d = univ_country[v]
        if not agreement_open[e] or rng.uniform_at(k, 2) >= visa[c, d]:
            continue
        if rng.uniform_at(k, 3) < move_probability(gdp_pc[c], gdp_pc[d], visa[c, d], reputation[u], reputation[v],
                                                   rule):
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
def papers(seed, year, uid, univ, visiting, productivity, citizenship, trained, collab, n_collab, offsets, partner,
           agreement_open, univ_country, first_univ, quality, cooperation, open_share, doctoral_per_researcher,
           host_factor, closed, size_logit, rule):
    """Papers each researcher leads this year: (papers, international, citations, international citations,
    papers with a co-author in the lead's tie country).

    Citations in fixed point (x CITES_FIXED_POINT) so sums are exact. Updates each researcher's
    ring of recent collaborators (their uids) in place (only the researcher's own row: no races).
    """
    n = univ.shape[0]
    n_univ = quality.shape[0]
    uni, members = members_by_university(univ, n_univ)
    out_papers = np.zeros(n, np.int32)
    out_intl = np.zeros(n, np.int32)
    out_cites = np.zeros(n, np.int64)
    out_cites_intl = np.zeros(n, np.int64)
    out_tie = np.zeros(n, np.int32)
    trend_years = year - TREND_BASE_YEAR
    for i in prange(n):
        home_u = univ[i]
        u = visiting[i] if visiting[i] >= 0 else home_u
        c = univ_country[home_u]
        lam = papers_rate(productivity[i] * host_factor[home_u], open_share[home_u], cooperation[c],
                          doctoral_per_researcher[home_u], rule)
        k = rng.key(seed, rng.RESEARCH, year, uid[i])
        count = min(poisson(lam, rng.uniform_at(k, 0)), MAX_PAPERS)
        deg = offsets[u + 1] - offsets[u]
        p_intl = foreign_coauthor_probability(cooperation[c], deg, trend_years, visiting[i] >= 0, size_logit[c], rule)
        tie = tie_country(citizenship[i], trained[i], c)
        countries = np.empty(MAX_COAUTHORS + 1, np.int64)
        team_key = rng.key(seed, rng.RESEARCH_TEAM, year, uid[i])
        for p in range(count):
            base = p * DRAWS_PER_PAPER
            m = min(poisson(rule.coauthors, rng.uniform_at(team_key, base)), MAX_COAUTHORS)
            countries[0] = univ_country[u]
            n_countries = 1
            q_sum = quality[u]
            added = 0
            with_tie = False
            for s in range(m):
                r = rng.uniform_at(team_key, base + 1 + 5 * s)
                pick = rng.uniform_at(team_key, base + 2 + 5 * s)
                j = -1
                if r < rule.incumbent_share and n_collab[i] > 0:       # a repeat collaborator, if still in research
                    wanted = collab[i, int(pick * min(n_collab[i], RING))]
                    found = np.searchsorted(uid, wanted)
                    if found < n and uid[found] == wanted and found != i:
                        j = found
                        v = univ[j]
                if j < 0:                                              # a newcomer
                    v = u
                    if tie >= 0 and rng.uniform_at(team_key, base + 3 + 5 * s) < rule.tie_share:
                        if not closed[c] and not closed[tie] and first_univ[tie + 1] > first_univ[tie]:
                            v = first_univ[tie] + int(pick * (first_univ[tie + 1] - first_univ[tie]))
                    elif rng.uniform_at(team_key, base + 4 + 5 * s) < p_intl and deg > 0:
                        e = offsets[u] + int(pick * deg)
                        if agreement_open[e] and not closed[c] and not closed[univ_country[partner[e]]]:
                            v = partner[e]
                    size = uni[v + 1] - uni[v]
                    if size == 0:
                        continue
                    j = members[uni[v] + int(rng.uniform_at(team_key, base + 5 + 5 * s) * size)]
                    if j == i:
                        continue
                    collab[i, n_collab[i] % RING] = uid[j]   # a newcomer joins the lead's recent collaborators
                    n_collab[i] = min(n_collab[i] + 1, 255)
                cj = univ_country[v]
                with_tie = with_tie or cj == tie
                new = True
                for x in range(n_countries):
                    if countries[x] == cj:
                        new = False
                if new:
                    countries[n_countries] = cj
                    n_countries += 1
                q_sum += quality[v]
                added += 1
            z = rng.normal_at(rng.key(seed, rng.RESEARCH_CITES, year, uid[i]), 2 * p)
            fixed = np.int64(np.rint(citations(z, q_sum / (added + 1), n_countries, rule) * CITES_FIXED_POINT))
            out_papers[i] += 1
            out_cites[i] += fixed
            out_tie[i] += with_tie
            if n_countries > 1:
                out_intl[i] += 1
                out_cites_intl[i] += fixed
    return out_papers, out_intl, out_cites, out_cites_intl, out_tie


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
    """Researchers visit, move or return along their universities' open agreements; then lead papers with
    teams of incumbents, tie-country colleagues, partners abroad and colleagues; citations. Each
    university's output of the year goes to `model.universities` (researchers, papers, citations)."""
    section = "research"
    reads = ("universities.reputation", "universities.doctoral_students", "universities.quality",
             "universities.budget", "universities.posts", "researchers")
    writes = ("researchers", "universities.researchers", "universities.papers", "universities.intl_papers",
              "universities.citations", "universities.intl_citations")
    outcomes = (
        Metric("researchers", "researchers", "researchers appointed at the country's universities"),
        Metric("researchers_per_million", "researchers per million inhabitants",
               "`researchers` per million of the population (SDG indicator 9.5.2, universities' researchers only)"),
        Metric("papers", "papers/year", "papers led by the country's researchers (WORLD: every paper once)"),
        Metric("intl_coauthored_share", "share", "papers with co-authors from more than one country / papers"),
        Metric("citations_per_paper", "citations", "mean citations of the papers"),
        Metric("citations_per_paper_intl", "citations", "of internationally co-authored papers"),
        Metric("citations_per_paper_domestic", "citations", "of the other papers"),
        Metric("tie_coauthored_papers", "papers/year",
               "papers whose lead has ties abroad (foreign-born, or trained abroad) co-authored with that country"),
        Metric("foreign_born_researcher_share", "share",
               "researchers working in the country who are citizens of another / researchers"),
        Metric("researchers_abroad", "researchers",
               "the country's citizens working as researchers in another country (its scientific diaspora)"),
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
        closed = p["border_closed"] > 0.5
        is_open = g.open_this_year(c, p)
        before = c[r.univ]                                   # where each researcher worked last year
        mobility(m.seed, m.year, r.uid, r.univ, r.home, r.visiting, r.moved, g.offsets, g.partner, is_open, c,
                 w.gdp_pc, u.reputation, p["visa_openness"], closed, p["researcher_mobility"], rule)
        n_u, n_c = w.n_universities, w.n_countries
        staff = np.bincount(r.univ, minlength=n_u)
        doctoral_per_researcher = np.divide(u.doctoral_students * w.scale, staff * w.researcher_scale,
                                            out=np.zeros(n_u), where=staff > 0)
        shared = open_share(g.source, g.partner, c, p["open_science"], n_u)
        led, intl, cites, cites_intl, tie = papers(
            m.seed, m.year, r.uid, r.univ, r.visiting, r.productivity, r.citizenship, r.trained, r.collab, r.n_collab,
            g.offsets, g.partner, is_open, c, w.first_univ, u.quality.mean(axis=1), p["research_cooperation"], shared,
            doctoral_per_researcher, resource_factors(u.budget, staff, u.posts, w.researcher_scale, rule.resources_elasticity),
            closed, system_size_logits(np.bincount(c[r.univ], minlength=n_c).astype(float),
                                                                rule.intl_size), rule)
        self.tie_papers = np.bincount(c[r.univ], tie, n_c)         # by the country the lead works in
        u.researchers = staff
        u.papers = np.bincount(r.univ, led, n_u).astype(np.int64)
        u.intl_papers = np.bincount(r.univ, intl, n_u).astype(np.int64)
        u.citations = _int_bincount(r.univ, cites, n_u)
        u.intl_citations = _int_bincount(r.univ, cites_intl, n_u)
        works_in = c[r.univ]
        self.foreign_born = np.bincount(works_in[r.citizenship != works_in], minlength=n_c)
        self.abroad = np.bincount(r.citizenship[r.citizenship != works_in], minlength=n_c)
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
        researchers = with_world(by_country(u.researchers, uc, n)) * rs
        return {"researchers": researchers,
                "researchers_per_million": ratio(researchers, with_world(w.population) / 1e6),
                "papers": led * rs,
                "intl_coauthored_share": ratio(intl, led),
                "citations_per_paper": ratio(cites, led),
                "citations_per_paper_intl": ratio(cites_intl, intl),
                "citations_per_paper_domestic": ratio(cites - cites_intl, led - intl),
                "tie_coauthored_papers": with_world(self.tie_papers) * rs,
                "foreign_born_researcher_share": ratio(with_world(self.foreign_born),
                                                       with_world(by_country(u.researchers, uc, n))),
                "researchers_abroad": with_world(self.abroad) * rs,
                "researcher_visits": with_world(self.visits.sum(axis=1) - np.diag(self.visits)) * rs,
                "researchers_moved_out": with_world(self.moves.sum(axis=1) - np.diag(self.moves)) * rs,
                "researchers_moved_in": with_world(self.moves.sum(axis=0) - np.diag(self.moves)) * rs,
                "researchers_returned": with_world(self.returns.sum(axis=1)) * rs}

    def flows(self, m) -> dict[str, np.ndarray]:
        rs = m.world.researcher_scale
        return {"researcher_visit": off_diagonal(self.visits) * rs, "researcher_move": off_diagonal(self.moves) * rs,
                "researcher_return": off_diagonal(self.returns) * rs}

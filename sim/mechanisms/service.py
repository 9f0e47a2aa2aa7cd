"""Service to society: technical-support and social-service projects with partners.

Each year a university runs Poisson(lambda) projects with international organisations,
enterprises and NGOs, where lambda grows with its research staff, its partnerships, the
country's capacity of partner organisations and service-partnership funding (the third mission
of universities; Compagnucci & Spigarelli 2020). A project has a foreign partner with a
probability that rises with funding, and reaches a lognormal number of people.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type, share
from sim.mechanisms.library.common import poisson
from sim.outcomes import Metric, by_country, with_world


@dataclass
class Params:
    """behaviour.service: service projects with international organisations, enterprises and NGOs."""
    projects_per_100_researchers: float = nonnegative(0.6)
    partners: float = share(0.04)             # per partnership agreement of the university
    funding: float = 1.5               # per unit of service-partnership funding
    intl_constant: float = -1.2        # logit of a project having a foreign partner
    intl_funding: float = 1.5
    people_per_project: float = nonnegative(2500.0) # mean people reached (lognormal)


Rule = ServiceRule = rule_type(Params, "ServiceRule")


@njit(cache=True)
def project_rate(researchers_real, agreements, funding, partner_capacity, rule):
    """Expected projects of a university in a year (the mean of its Poisson count)."""
    return (rule.projects_per_100_researchers * researchers_real / 100.0 * (1.0 + rule.partners * agreements)
            * (1.0 + rule.funding * funding) * partner_capacity)


@njit(cache=True)
def foreign_partner_probability(funding, closed, rule):
    """Probability that a project has a foreign partner (none across a closed border)."""
    return 0.0 if closed else 1.0 / (1.0 + np.exp(-(rule.intl_constant + rule.intl_funding * funding)))


@njit(cache=True, parallel=True)
def projects(seed, year, researchers_real, partners, univ_country, capacity, funding, closed, rule):
    """Per university: (projects, projects with a foreign partner, people reached)."""
    n = researchers_real.shape[0]
    count = np.zeros(n, np.int64)
    intl = np.zeros(n, np.int64)
    people = np.zeros(n, np.int64)
    sigma = 1.0
    mu = np.log(rule.people_per_project) - sigma * sigma / 2
    for u in prange(n):
        c = univ_country[u]
        lam = project_rate(researchers_real[u], partners[u], funding[c], capacity[c], rule)
        k = rng.key(seed, rng.SERVICE, year, u)
        if lam < 50:
            m = poisson(lam, rng.uniform_at(k, 0))
        else:  # normal approximation of a large Poisson count
            m = max(0, int(np.rint(lam + np.sqrt(lam) * rng.normal_at(k, 0))))
        p_intl = foreign_partner_probability(funding[c], closed[c], rule)
        for j in range(m):
            if rng.uniform_at(k, 2 + 3 * j) < p_intl:
                intl[u] += 1
            people[u] += np.int64(np.exp(mu + sigma * rng.normal_at(k, 3 + 3 * j)))
        count[u] = m
    return count, intl, people


class Service(Mechanism):
    """Universities run service projects; their count and reach are final outcomes (the third mission)."""
    section = "service"
    reads = ("universities.researchers",)
    outcomes = (
        Metric("service_projects", "projects/year",
               "technical-support and social-service projects of the country's universities"),
        Metric("service_projects_international", "projects/year",
               "of which with a foreign partner (international organisation, firm, NGO)"),
        Metric("people_reached", "people/year", "people reached by those projects"),
    )

    def step(self, m) -> None:
        w, p = m.world, m.policy
        self.projects, self.international, self.people = projects(
            m.seed, m.year, m.universities.researchers * w.researcher_scale, m.agreements.degree(), w.univ_country,
            w.service_capacity, p["service_funding"], p["border_closed"] > 0.5, m.rules.service)

    def metrics(self, m) -> dict[str, np.ndarray]:
        uc, n = m.world.univ_country, m.world.n_countries
        return {"service_projects": with_world(by_country(self.projects, uc, n)),
                "service_projects_international": with_world(by_country(self.international, uc, n)),
                "people_reached": with_world(by_country(self.people, uc, n))}

"""Service to society: technical-support and social-service projects with partners.

Each year a university runs Poisson(lambda) projects with international organisations,
enterprises and NGOs, where lambda grows with its research staff, its partnerships, the
country's capacity of partner organisations and service-partnership funding (the third mission
of universities; Compagnucci & Spigarelli 2020). A project has a foreign partner with a
probability that rises with funding, and reaches a lognormal number of people.
"""

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.research import poisson


@njit(cache=True, parallel=True)
def projects(seed, year, researchers_real, partners, univ_country, capacity, funding, closed, rate, partner_effect,
             funding_effect, intl_constant, intl_funding, people_mean):
    """Per university: (projects, projects with a foreign partner, people reached)."""
    n = researchers_real.shape[0]
    count = np.zeros(n, np.int64)
    intl = np.zeros(n, np.int64)
    people = np.zeros(n, np.int64)
    sigma = 1.0
    mu = np.log(people_mean) - sigma * sigma / 2
    for u in prange(n):
        c = univ_country[u]
        lam = (rate * researchers_real[u] / 100.0 * (1.0 + partner_effect * partners[u])
               * (1.0 + funding_effect * funding[c]) * capacity[c])
        k = rng.key(seed, rng.SERVICE, year, u)
        if lam < 50:
            m = poisson(lam, rng.uniform_at(k, 0))
        else:  # normal approximation of a large Poisson count
            m = max(0, int(np.rint(lam + np.sqrt(lam) * rng.normal_at(k, 0))))
        p_intl = 0.0 if closed[c] else 1.0 / (1.0 + np.exp(-(intl_constant + intl_funding * funding[c])))
        for j in range(m):
            if rng.uniform_at(k, 2 + 3 * j) < p_intl:
                intl[u] += 1
            people[u] += np.int64(np.exp(mu + sigma * rng.normal_at(k, 3 + 3 * j)))
        count[u] = m
    return count, intl, people

"""Graduation abroad, then stay or return.

A graduate of a foreign university stays in the host country with probability

    logit(stay) = stay_constant + post_study_work years[d] + income_gap ln(GDP pc d / GDP pc o)
                  - return_incentive incentive[o] + visa openness[d]

following the stay-rate literature (Finn 2014 on US doctorate stay rates; OECD 2022 on the
stay rates of international students): work rights and income gaps keep graduates, ties and
incentives bring them home. Stayers are brain drain for the origin and brain gain for the host;
returnees are brain circulation.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import rng

RETURNED, STAYED = 3, 4


class EmployabilityRule(NamedTuple):
    employability_constant: float
    employability_skill: float
    employability_competence: float
    employability_internship: float


@njit(cache=True)
def employability(skill, competence, interned, rule):
    """A graduate's employability (probability of a graduate job within a year of graduating).

    Rises with skill, intercultural competence and an internship abroad: employers value
    international experience (Erasmus Impact Study 2014; Jacobone & Moro 2015).
    """
    logit = (rule.employability_constant + rule.employability_skill * skill
             + rule.employability_competence * competence + rule.employability_internship * interned)
    return 1.0 / (1.0 + np.exp(-logit))


def stay_probabilities(world, policy, p) -> np.ndarray:
    """(C, C) probability that a graduate of origin o who studied in d stays in d."""
    logit = (p.stay_constant + p.post_study_work * policy["post_study_work_years"][None, :]
             + p.income_gap * np.log(world.gdp_pc[None, :] / world.gdp_pc[:, None])
             - p.return_incentive * policy["return_incentive"][:, None]
             + p.visa * policy["visa_openness"][None, :])
    prob = 1.0 / (1.0 + np.exp(-logit))
    np.fill_diagonal(prob, 0.0)
    return prob


@njit(cache=True)
def stays(seed, year, uid, p_stay):
    """Whether one graduate stays abroad: the rule both backends use."""
    return rng.uniform(seed, rng.RETURN, year, uid, 0) < p_stay


@njit(cache=True, parallel=True)
def decide(seed, year, uid, origin, univ, outcome, univ_country, p_stay, graduated):
    """Graduates abroad (outcome == graduated) become RETURNED or STAYED, in place."""
    for i in prange(uid.shape[0]):
        d = univ_country[univ[i]]
        if outcome[i] == graduated and d != origin[i]:
            outcome[i] = STAYED if stays(seed, year, uid[i], p_stay[origin[i], d]) else RETURNED

"""Small formulas more than one mechanism applies, each defined once.

Each says which mechanism's rule it belongs to; the parameters it reads come from that mechanism's
config section (passed in), its random numbers from that mechanism's stream.
"""

import numpy as np
from numba import njit

from sim import fpmath, rng
from sim.students import DOCTORAL

# ---- who an entrant is (enrolment draws them; the choice groups them) -----------------------------
TALENT_CUTS = (-0.6745, 0.0, 0.6745)  # quartiles of N(0, 1): four talent bands
RESOURCE_CUTS = (-0.6, 0.9)           # three family-resources bands: low, middle, high
RESOURCE_INCOME = 0.6                 # weight of log(GDP pc / 6,000 USD) in the resources score


@njit(cache=True, inline="always")
def talent_band(talent):
    """Talent quartile 0..3: the number of cuts at or below the talent (branch-free)."""
    return np.int64(talent >= TALENT_CUTS[0]) + np.int64(talent >= TALENT_CUTS[1]) + np.int64(talent >= TALENT_CUTS[2])


# ---- what studying abroad costs (the choice sees it; finance counts it) ---------------------------
LIVING_COST_SHARE = 0.35              # yearly living cost / destination GDP per capita
TOP_RESOURCES = 2                     # the family-resources band that can pay for a doctorate abroad


@njit(cache=True)
def self_funded(origin, country, resources):
    """An international doctoral student who pays their own way (and international tuition): progression
    admits them into places of their own, finance charges them."""
    return origin != country and resources == TOP_RESOURCES


@njit(cache=True)
def pays_international_fee(origin, country, level, resources):
    """An international student below the doctorate, or a self-funded international doctoral student
    (finance's fee rule; the study year counts them)."""
    if level == DOCTORAL:
        return self_funded(origin, country, resources)
    return origin != country


# ---- how long study lasts (progression's rule; the study year applies it) -------------------------
@njit(cache=True)
def doctoral_years(seed, uid, rule):
    """Length of a student's doctorate (drawn once: the same every year of it); rule: progression's."""
    span = rule.doctoral_years_max - rule.doctoral_years_min + 1
    return rule.doctoral_years_min + min(int(rng.uniform(seed, rng.DOCTORAL_LENGTH, 0, uid, 0) * span), span - 1)


def years_enrolled(study, progression) -> float:
    """Years a typical entrant spends enrolled: a first degree (or a master's for direct entrants), the
    master's a share of first-degree graduates go on to, the doctorate a share of master's graduates go
    on to (progression shares averaged over talent ~ N(0, 1) and fields; dropout not counted). Sizes
    cohorts from enrolment (world builders) and the students behind a country's network (the choice)."""
    talent = np.linspace(-5, 5, 1001)
    weight = fpmath.exp(-talent * talent / 2)
    weight /= weight.sum()
    p_master = fpmath.dot(weight, 1 / (1 + fpmath.exp(-(progression.master_constant
                                                        + progression.master_talent * talent))))
    p_doctoral = fpmath.dot(weight, 1 / (1 + fpmath.exp(-(progression.doctoral_constant - progression.doctoral_field / 2
                                                          + progression.doctoral_talent * talent))))
    first = 1 - study.postgraduate_share
    master = study.postgraduate_share + first * p_master
    doctoral = master * p_doctoral * (progression.doctoral_years_min + progression.doctoral_years_max) / 2
    return first * study.first_degree_years + master * study.postgraduate_years + doctoral


# ---- counts ----------------------------------------------------------------------------------------
@njit(cache=True)
def poisson(lam, u):
    """Inverse-transform Poisson deviate from one uniform (lam is small here: papers, service projects)."""
    p = np.exp(-lam)
    f = p
    k = 0
    while u > f and k < 200:
        k += 1
        p *= lam / k
        f += p
    return k

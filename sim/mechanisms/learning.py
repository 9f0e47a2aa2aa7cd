"""The study year: learning, dropout, progression and graduation.

Skill grows with the teaching quality of the university, more for talented students (value
added models of higher education: Cunha & Heckman 2007's skill formation, in its simplest
form). Intercultural competence grows a little at home and much more abroad (Deardorff 2006).
The yearly dropout probability is a logit in talent, teaching quality and being abroad.
Students who complete the last year of their level graduate.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import rng

CONTINUING, DROPPED, GRADUATED = 0, 1, 2


class StudyRule(NamedTuple):
    first_degree_years: int
    postgraduate_years: int
    dropout_constant: float
    dropout_talent: float
    dropout_teaching: float
    dropout_abroad: float
    skill_rate: float
    skill_talent: float
    competence_home: float
    competence_abroad: float

    @classmethod
    def from_params(cls, p) -> "StudyRule":
        return cls(*(getattr(p, name) for name in cls._fields))


@njit(cache=True)
def study_year(seed, year, uid, talent, skill, competence, abroad, teaching, level, year_in, rule):
    """(skill, competence, outcome) after one year of study: the rule both backends use."""
    skill = skill + rule.skill_rate * teaching * (1.0 + rule.skill_talent * talent)
    competence = competence + rule.competence_home + rule.competence_abroad * abroad
    logit = (rule.dropout_constant + rule.dropout_talent * talent + rule.dropout_teaching * teaching
             + rule.dropout_abroad * abroad)
    if rng.uniform(seed, rng.DROPOUT, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit)):
        return skill, competence, DROPPED
    duration = rule.postgraduate_years if level == 1 else rule.first_degree_years
    if year_in + 1 >= duration:
        return skill, competence, GRADUATED
    return skill, competence, CONTINUING


@njit(cache=True, parallel=True)
def study(seed, year, uid, origin, univ, talent, skill, competence, level, year_in, outcome,
          univ_country, teaching, rule):
    """One study year for every student, in place; outcome[i] gets CONTINUING, DROPPED or GRADUATED."""
    for i in prange(uid.shape[0]):
        u = univ[i]
        abroad = 1.0 if univ_country[u] != origin[i] else 0.0
        s, c, o = study_year(seed, year, uid[i], np.float64(talent[i]), np.float64(skill[i]),
                             np.float64(competence[i]), abroad, teaching[u], level[i], year_in[i], rule)
        skill[i] = s
        competence[i] = c
        outcome[i] = o
        year_in[i] += 1

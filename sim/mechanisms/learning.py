"""The study year: learning, dropout, progression and graduation.

Skill grows with the teaching quality the student meets (home, or blended with the partner's
during an exchange), more for talented students (a stylised value-added law of skill formation,
Cunha & Heckman 2007). Intercultural competence grows a little at home, more with the share of
international courses of the university (internationalisation at home, Beelen & Jones 2015),
much more with time abroad (degree or exchange; Deardorff 2006), and with an internship abroad.
The yearly dropout probability is a logit in talent, teaching quality and time abroad. Students
who complete the last year of their level graduate.
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
    competence_courses: float
    internship_skill: float
    internship_competence: float

    @classmethod
    def from_params(cls, study, internship) -> "StudyRule":
        values = {name: getattr(study, name) for name in cls._fields if hasattr(study, name)}
        values.update(internship_skill=internship.skill, internship_competence=internship.competence)
        return cls(**values)


@njit(cache=True)
def study_year(seed, year, uid, talent, skill, competence, abroad, teaching, courses, intern, level, year_in, rule):
    """(skill, competence, outcome) after one year of study: the rule both backends use.

    abroad: share of the year spent abroad (1 for a degree abroad, the stay's length for an
    exchange); teaching: the teaching quality met; courses: the university's share of
    international courses; intern: 1 if the student interned abroad this year.
    """
    skill = skill + rule.skill_rate * teaching * (1.0 + rule.skill_talent * talent) + rule.internship_skill * intern
    competence = (competence + rule.competence_home + rule.competence_abroad * abroad
                  + rule.competence_courses * courses + rule.internship_competence * intern)
    logit = (rule.dropout_constant + rule.dropout_talent * talent + rule.dropout_teaching * teaching
             + rule.dropout_abroad * abroad)
    if rng.uniform(seed, rng.DROPOUT, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit)):
        return skill, competence, DROPPED
    duration = rule.postgraduate_years if level == 1 else rule.first_degree_years
    if year_in + 1 >= duration:
        return skill, competence, GRADUATED
    return skill, competence, CONTINUING


@njit(cache=True)
def conditions(origin, univ, partner, stay, univ_country, teaching):
    """(abroad share, teaching quality met) of a student this year."""
    if univ_country[univ] != origin:
        return 1.0, teaching[univ]
    if partner >= 0:
        return stay, (1.0 - stay) * teaching[univ] + stay * teaching[partner]
    return 0.0, teaching[univ]


@njit(cache=True, parallel=True)
def study(seed, year, uid, origin, univ, talent, skill, competence, level, year_in, outcome, partner, stay, host,
          univ_country, teaching, courses, rule):
    """One study year for every student, in place; outcome[i] gets CONTINUING, DROPPED or GRADUATED.
    host[i] >= 0: the student interns abroad this year."""
    for i in prange(uid.shape[0]):
        u = univ[i]
        abroad, taught = conditions(origin[i], u, partner[i], stay[i], univ_country, teaching)
        s, c, o = study_year(seed, year, uid[i], np.float64(talent[i]), np.float64(skill[i]),
                             np.float64(competence[i]), abroad, taught, courses[u], np.uint8(host[i] >= 0), level[i],
                             year_in[i], rule)
        skill[i] = s
        competence[i] = c
        outcome[i] = o
        year_in[i] += 1

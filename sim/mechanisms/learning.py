"""The study year: learning, dropout, progression and graduation.

Skill grows with the teaching quality the student meets (home, or blended with the partner's
during an exchange), more for talented students (a stylised value-added law of skill formation,
Cunha & Heckman 2007). Intercultural competence grows a little at home, more with the share of
international courses of the university (internationalisation at home, Beelen & Jones 2015),
much more with time abroad (degree or exchange; Deardorff 2006), and with an internship abroad.
The yearly dropout probability is a logit in talent, teaching quality and time abroad. Students
who complete the last year of their level graduate.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.base import Mechanism, nonnegative, rule_type, share
from sim.mechanisms.library.common import doctoral_years, pays_international_fee
from sim.outcomes import (FIXED_POINT, Flow, Metric, blocks, fixed, international_graduate_students, off_diagonal,
                          ratio, with_world)
from sim.students import CONTINUING, DOCTORAL, DROPPED, GRADUATED, POSTGRADUATE


@dataclass
class Params:
    """behaviour.study: programmes, progression, dropout and learning."""
    first_degree_years: int = nonnegative(4)
    postgraduate_years: int = nonnegative(2)
    postgraduate_share: float = share(0.1)  # share of entrants who start at postgraduate level (others progress: progression.py)
    dropout_constant: float = -3.0   # logit of the yearly dropout probability
    dropout_talent: float = -0.5
    dropout_teaching: float = -1.0
    dropout_abroad: float = 0.3
    skill_rate: float = share(0.25)         # skill gained per year at teaching quality 1
    skill_talent: float = nonnegative(0.2)
    competence_home: float = nonnegative(0.02)    # intercultural competence per year at home
    competence_abroad: float = nonnegative(0.25)  # extra per year abroad
    competence_courses: float = nonnegative(0.1)  # extra per year at a university teaching all its programmes internationally


Rule = StudyRule = rule_type(Params, "StudyRule")


@njit(cache=True)
def study_year(seed, year, uid, talent, skill, competence, abroad, teaching, courses, intern, level, year_in, rule,
               internship, progression):
    """(skill, competence, outcome) after one year of study: the rule both backends use.

    abroad: share of the year spent abroad (1 for a degree abroad, the stay's length for an
    exchange); teaching: the teaching quality met; courses: the university's share of
    international courses; intern: 1 if the student interned abroad this year, when they gain
    internship.skill and internship.competence (the internships' rule). A doctorate lasts
    progression.doctoral_years(...) years (the progression rule).
    """
    skill = skill + rule.skill_rate * teaching * (1.0 + rule.skill_talent * talent) + internship.skill * intern
    competence = (competence + rule.competence_home + rule.competence_abroad * abroad
                  + rule.competence_courses * courses + internship.competence * intern)
    logit = (rule.dropout_constant + rule.dropout_talent * talent + rule.dropout_teaching * teaching
             + rule.dropout_abroad * abroad)
    if rng.uniform(seed, rng.DROPOUT, year, uid, 0) < 1.0 / (1.0 + np.exp(-logit)):
        return skill, competence, DROPPED
    if level == DOCTORAL:
        duration = doctoral_years(seed, uid, progression)
    else:
        duration = rule.postgraduate_years if level == POSTGRADUATE else rule.first_degree_years
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


class Census(NamedTuple):
    """Who studied where this year: (C, C) students (agents) by origin x country of study, taken by
    the study year (every enrolled student studies once) and read by the mechanisms whose outcomes
    need it (`model.census`)."""
    enrolled: np.ndarray    # enrolled during the year
    graduates: np.ndarray   # graduated at the end of it
    dropouts: np.ndarray    # dropped out during it
    doctoral: np.ndarray    # doctoral students enrolled during the year
    masters: np.ndarray     # master's students enrolled during the year


# what the study year counts: students by origin x country of study, sums by country of study, and
# doctoral students by university
ENROLLED, GRADUATES, DROPOUTS, DOCTORAL_STUDENTS, MASTER_STUDENTS = 0, 1, 2, 3, 4
SKILL, COMPETENCE, COMPETENCE_NONMOBILE, NONMOBILE = 0, 1, 2, 3
DOCTORAL_ENROLLED, DOCTORAL_CONTINUING, CONTINUING_ALL, ENROLLED_ALL, FEE_PAYING = 0, 1, 2, 3, 4


@njit(cache=True, parallel=True)
def study(seed, year, uid, origin, univ, talent, resources, skill, competence, level, year_in, outcome, partner, stay, host,
          mobility, univ_country, teaching, courses, rule, internship, progression, n, n_blocks):
    """One study year for every student, in place; outcome[i] gets CONTINUING, DROPPED or GRADUATED.
    host[i] >= 0: the student interns abroad this year.

    Returns what happened: counts[k, o, d] (k: ENROLLED, GRADUATES, DROPOUTS, DOCTORAL_STUDENTS, MASTER_STUDENTS) of
    students of origin o studying in country d; sums[k, d] (k: SKILL, COMPETENCE,
    COMPETENCE_NONMOBILE in fixed point, NONMOBILE) over the students studying in d, the last two
    over those at home who never went abroad; and by_univ[k, u] (k: DOCTORAL_ENROLLED,
    DOCTORAL_CONTINUING, CONTINUING_ALL, ENROLLED_ALL, FEE_PAYING): doctoral students of university u,
    those of them who go on next year, all its students who go on next year, all its students, and
    its international students who pay international tuition (library.common.pays_international_fee)."""
    counts = np.zeros((n_blocks, 5, n, n), np.int64)
    sums = np.zeros((n_blocks, 4, n), np.int64)
    by_univ = np.zeros((n_blocks, 5, teaching.shape[0]), np.int64)
    size = (uid.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, uid.shape[0])):
            u = univ[i]
            o, d = origin[i], univ_country[u]
            abroad, taught = conditions(o, u, partner[i], stay[i], univ_country, teaching)
            s, c, result = study_year(seed, year, uid[i], np.float64(talent[i]), np.float64(skill[i]),
                                      np.float64(competence[i]), abroad, taught, courses[u], np.uint8(host[i] >= 0),
                                      level[i], year_in[i], rule, internship, progression)
            skill[i] = s
            competence[i] = c
            outcome[i] = result
            year_in[i] += 1
            counts[b, ENROLLED, o, d] += 1
            if result == GRADUATED:
                counts[b, GRADUATES, o, d] += 1
            elif result == DROPPED:
                counts[b, DROPOUTS, o, d] += 1
            if level[i] == DOCTORAL:
                counts[b, DOCTORAL_STUDENTS, o, d] += 1
                by_univ[b, DOCTORAL_ENROLLED, u] += 1
                by_univ[b, DOCTORAL_CONTINUING, u] += result == CONTINUING
            elif level[i] == POSTGRADUATE:
                counts[b, MASTER_STUDENTS, o, d] += 1
            by_univ[b, CONTINUING_ALL, u] += result == CONTINUING
            by_univ[b, ENROLLED_ALL, u] += 1
            by_univ[b, FEE_PAYING, u] += pays_international_fee(o, d, level[i], resources[i])
            sums[b, SKILL, d] += fixed(skill[i])
            sums[b, COMPETENCE, d] += fixed(competence[i])
            if d == o and mobility[i] == 0:
                sums[b, COMPETENCE_NONMOBILE, d] += fixed(competence[i])
                sums[b, NONMOBILE, d] += 1
    return counts.sum(axis=0), sums.sum(axis=0), by_univ.sum(axis=0)


class Learning(Mechanism):
    """The study year of every enrolled student: skill and intercultural competence grow; some drop
    out; those who complete the last year of their level graduate. Takes the year's census of who
    studied where (`model.census`)."""
    section = "study"
    reads = ("uid", "origin", "univ", "talent", "resources", "skill", "competence", "level", "year_in", "partner", "stay", "host",
             "mobility",
             "universities.teaching", "universities.courses")
    writes = ("skill", "competence", "year_in", "outcome",
              "census", "universities.doctoral_students", "universities.doctoral_continuing",
              "universities.continuing", "universities.enrolled", "universities.fee_paying")
    outcomes = (
        Metric("enrolled", "students", "enrolled at the country's universities during the year"),
        Metric("graduates", "students", "graduates of its universities"),
        Metric("dropouts", "students", "students who left its universities without a degree"),
        Metric("inbound_degree", "students", "international degree students enrolled in the country (stock)"),
        Metric("outbound_degree", "students", "the country's nationals enrolled abroad (stock)"),
        Metric("international_share", "share (0..1)", "`inbound_degree / enrolled`"),
        Metric("mean_skill", "skill units",
               "mean skill of students enrolled (by study; ~0.2 gained a year at average teaching)"),
        Metric("mean_intercultural_competence", "competence units",
               "mean intercultural competence of students enrolled (by study)"),
        Metric("mean_intercultural_competence_nonmobile", "competence units",
               "the same for students at home who never went abroad"),
        Metric("enrolment_rate", "share", "gross enrolment ratio: enrolled / tertiary-age population"),
        Metric("doctoral_students", "students", "doctoral students enrolled at the country's universities"),
        Metric("doctoral_international_share", "share", "international doctoral students / doctoral students"),
        Metric("international_graduate_students", "students",
               "international master's and doctoral students enrolled in the country (stock)"),
        Flow("enrolled", "stock of degree-mobile students enrolled during the year (comparable to UIS/OECD stocks)"),
    )

    def step_arrays(self, m) -> None:
        a, w, u = m.students.a, m.world, m.universities
        counts, self.sums, by_univ = study(
            m.seed, m.year, a["uid"], a["origin"], a["univ"], a["talent"], a["resources"], a["skill"], a["competence"], a["level"],
            a["year_in"], a["outcome"], a["partner"], a["stay"], a["host"], a["mobility"], w.univ_country, u.teaching,
            u.courses, m.rules.study, m.rules.internships, m.rules.progression, w.n_countries, blocks())
        m.census = Census(*counts)
        u.doctoral_students, u.doctoral_continuing, u.continuing, u.enrolled, u.fee_paying = by_univ

    def step_agents(self, m) -> None:
        w, u, rule, internship = m.world, m.universities, m.rules.study, m.rules.internships
        n = w.n_countries
        counts, self.sums = np.zeros((5, n, n), np.int64), np.zeros((4, n), np.int64)
        by_univ = np.zeros((5, w.n_universities), np.int64)
        for s in m.students.all:
            abroad, taught = conditions(s.origin, s.univ, s.partner, s.stay, w.univ_country, u.teaching)
            skill, competence, outcome = study_year(
                m.seed, m.year, s.uid, s.talent, s.skill, s.competence, abroad, taught, float(u.courses[s.univ]),
                int(s.host >= 0), s.level, s.year_in, rule, internship, m.rules.progression)
            s.skill = float(np.float32(skill))  # stored as float32, as in the array backend
            s.competence = float(np.float32(competence))
            s.year_in += 1
            s.outcome = int(outcome)
            d = int(w.univ_country[s.univ])
            counts[ENROLLED, s.origin, d] += 1
            counts[GRADUATES, s.origin, d] += s.outcome == GRADUATED
            counts[DROPOUTS, s.origin, d] += s.outcome == DROPPED
            if s.level == DOCTORAL:
                counts[DOCTORAL_STUDENTS, s.origin, d] += 1
                by_univ[DOCTORAL_ENROLLED, s.univ] += 1
                by_univ[DOCTORAL_CONTINUING, s.univ] += s.outcome == CONTINUING
            elif s.level == POSTGRADUATE:
                counts[MASTER_STUDENTS, s.origin, d] += 1
            by_univ[CONTINUING_ALL, s.univ] += s.outcome == CONTINUING
            by_univ[ENROLLED_ALL, s.univ] += 1
            by_univ[FEE_PAYING, s.univ] += pays_international_fee(s.origin, d, s.level, s.resources)
            self.sums[SKILL, d] += fixed(s.skill)
            self.sums[COMPETENCE, d] += fixed(s.competence)
            if d == s.origin and s.mobility == 0:
                self.sums[COMPETENCE_NONMOBILE, d] += fixed(s.competence)
                self.sums[NONMOBILE, d] += 1
        m.census = Census(*counts)
        u.doctoral_students, u.doctoral_continuing, u.continuing, u.enrolled, u.fee_paying = by_univ

    def metrics(self, m) -> dict[str, np.ndarray]:
        c, s, scale = m.census, self.sums, m.world.scale
        abroad = off_diagonal(c.enrolled)
        enrolled_agents = with_world(c.enrolled.sum(axis=0))
        enrolled = enrolled_agents * scale
        inbound = with_world(abroad.sum(axis=0)) * scale
        return {"enrolled": enrolled,
                "graduates": with_world(c.graduates.sum(axis=0)) * scale,
                "dropouts": with_world(c.dropouts.sum(axis=0)) * scale,
                "inbound_degree": inbound,
                "outbound_degree": with_world(abroad.sum(axis=1)) * scale,
                "international_share": ratio(inbound, enrolled),
                "mean_skill": ratio(with_world(s[SKILL]) / FIXED_POINT, enrolled_agents),
                "mean_intercultural_competence": ratio(with_world(s[COMPETENCE]) / FIXED_POINT, enrolled_agents),
                "mean_intercultural_competence_nonmobile": ratio(with_world(s[COMPETENCE_NONMOBILE]) / FIXED_POINT,
                                                                 with_world(s[NONMOBILE])),
                "enrolment_rate": ratio(enrolled, with_world(m.world.population)),
                "doctoral_students": with_world(c.doctoral.sum(axis=0)) * scale,
                "doctoral_international_share": ratio(with_world(off_diagonal(c.doctoral).sum(axis=0)),
                                                      with_world(c.doctoral.sum(axis=0))),
                "international_graduate_students": with_world(international_graduate_students(c)) * scale}

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"enrolled": off_diagonal(m.census.enrolled) * m.world.scale}

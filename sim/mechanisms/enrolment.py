"""Enrolment: each year a new cohort enters higher education in every country.

Cohort size per country = the world's base cohort x (enrolment rate in force / initial rate):
expanding access (a higher gross enrolment ratio) enlarges cohorts. Each entrant draws talent
(standard normal), a field (the country's field shares), a family-resources band (income of
the country plus a personal deviation) and a level (first degree or postgraduate, with
probability `study.postgraduate_share`). Entrants have no seat yet: choice and admission
(`choice.py`) place them.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange, uint64

from sim import fpmath, rng
from sim.mechanisms.base import Mechanism
from sim.mechanisms.library.common import RESOURCE_CUTS, RESOURCE_INCOME


@njit(cache=True)
def uid_of(calendar_year, origin, index):
    """A student's identity, fixed by who they are (entry year, origin, rank in that cohort).

    Not by position in any array: so the same student keeps the same dice in every scenario,
    even one that enlarges or shrinks cohorts.
    """
    return (uint64(calendar_year - 1900) << uint64(44)) | (uint64(origin) << uint64(28)) | uint64(index)


@njit(cache=True)
def draw_entrant(seed, year, uid, origin, field_cum, log_income, postgraduate_share):
    """(talent, field, resources band, level) of one entrant: the rule both backends use."""
    return _draw_entrant(rng.key(seed, rng.TALENT, year, uid), rng.key(seed, rng.FIELD, year, uid),
                         rng.key(seed, rng.RESOURCES, year, uid), rng.key(seed, rng.LEVEL, year, uid), origin,
                         field_cum, log_income, postgraduate_share)


@njit(cache=True, inline="always")
def _draw_entrant(talent_key, field_key, resources_key, level_key, origin, field_cum, log_income,
                  postgraduate_share):
    """`draw_entrant` given the entrant's four keys."""
    talent = rng.normal_at(talent_key, 0)
    u = rng.uniform_at(field_key, 0)
    field = 0
    while field < field_cum.shape[1] - 1 and u >= field_cum[origin, field]:
        field += 1
    score = rng.normal_at(resources_key, 0) + RESOURCE_INCOME * log_income[origin]
    resources = 0 if score < RESOURCE_CUTS[0] else (1 if score < RESOURCE_CUTS[1] else 2)
    level = 1 if rng.uniform_at(level_key, 0) < postgraduate_share else 0
    return np.float32(talent), field, resources, level


def new_cohort(seed, year, sizes, field_cum, log_income, postgraduate_share):
    """Arrays (uid, origin, talent, field, resources, level) of a whole cohort, in uid order."""
    n = int(sizes.sum())
    out = (np.empty(n, np.uint64), np.empty(n, np.uint16), np.empty(n, np.float32), np.empty(n, np.uint8),
           np.empty(n, np.uint8), np.empty(n, np.uint8))
    fill_cohort(seed, year, sizes, field_cum, log_income, postgraduate_share, *out)
    return out


@njit(cache=True, parallel=True)
def fill_cohort(seed, year, sizes, field_cum, log_income, postgraduate_share,
                uid, origin, talent, field, resources, level):
    """Draw a whole cohort, in uid order, into the given arrays (of length sizes.sum()): the
    population writes its entrants straight into the free tail of its columns, with no copy."""
    offsets = np.zeros(sizes.shape[0] + 1, np.int64)
    for c in range(sizes.shape[0]):
        offsets[c + 1] = offsets[c] + sizes[c]
    for c in range(sizes.shape[0]):      # cheap fill; the draws below run in parallel
        origin[offsets[c]:offsets[c + 1]] = c
    pt, pf = rng.prefix(seed, rng.TALENT, year), rng.prefix(seed, rng.FIELD, year)   # shared: computed once
    pr, pl = rng.prefix(seed, rng.RESOURCES, year), rng.prefix(seed, rng.LEVEL, year)
    for i in prange(offsets[-1]):
        c = origin[i]
        u = uid_of(year, c, i - offsets[c])
        uid[i] = u
        t, f, r, lv = _draw_entrant(rng.key_from(pt, u), rng.key_from(pf, u), rng.key_from(pr, u),
                                    rng.key_from(pl, u), c, field_cum, log_income, postgraduate_share)
        talent[i] = t
        field[i] = f
        resources[i] = r
        level[i] = lv


def cohort_sizes(base_cohort: np.ndarray, enrolment_rate: np.ndarray, initial_rate: np.ndarray) -> np.ndarray:
    """Entrants per country (agents) when the gross enrolment ratio in force differs from the start."""
    return np.maximum(0, np.round(base_cohort * enrolment_rate / initial_rate)).astype(np.int64)


def enrol(students, seed: int, year: int, t) -> None:
    """Draw a cohort (`t`: EnrolmentTables) straight into the tail of the population's columns (no copy
    of anyone already there); the entrants have no seat yet."""
    new = students.add_cohort(int(t.sizes.sum()))
    fill_cohort(seed, year, t.sizes, t.field_cum, t.log_income, t.postgraduate_share,
                *(new[k] for k in ("uid", "origin", "talent", "field", "resources", "level")))
    new["univ"].fill(-1)
    for k in ("year_in", "skill", "competence", "mobility", "outcome"):
        new[k].fill(0)


class EnrolmentTables(NamedTuple):
    sizes: np.ndarray          # (C,) entrants this year, in agents
    field_cum: np.ndarray      # (C, F) cumulative field shares
    log_income: np.ndarray     # (C,) log(GDP pc / 6,000)
    postgraduate_share: float  # study.postgraduate_share


class Enrolment(Mechanism):
    """A new cohort in every country, drawn into the student population."""
    writes = ("uid", "origin", "talent", "field", "resources", "level", "univ", "year_in", "skill", "competence",
              "mobility", "outcome", "partner", "stay", "host")

    def tables(self, m) -> EnrolmentTables:
        w = m.world
        return EnrolmentTables(sizes=cohort_sizes(w.cohort, m.policy["enrolment_rate"], w.enrolment_rate),
                               field_cum=np.cumsum(w.field_share, axis=1), log_income=fpmath.log(w.gdp_pc / 6_000.0),
                               postgraduate_share=m.rules.study.postgraduate_share)

    def step_arrays(self, m) -> None:
        enrol(m.students, m.seed, m.year, self.tables(m))

    def step_agents(self, m) -> None:
        """One `Student` agent per entrant, in uid order."""
        from sim.agents import Student
        t = self.tables(m)
        m.students.start_year()
        m.students.entrants = [
            Student(m, int(uid_of(m.year, c, j)), c,
                    *draw_entrant(m.seed, m.year, uid_of(m.year, c, j), c, t.field_cum, t.log_income,
                                  t.postgraduate_share))
            for c in range(len(t.sizes)) for j in range(int(t.sizes[c]))]

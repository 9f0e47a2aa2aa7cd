"""The student population as a structure of arrays, updated by the mechanisms' Numba kernels.

One row per student agent, in the smallest dtype that holds each attribute (31 bytes a student).
Rows stay in a deterministic order: survivors keep their order, each new cohort is appended in
uid order. No Python loop over students anywhere here.
"""

import numpy as np

from sim.mechanisms import admission, careers, choice, enrolment, learning
from sim.outcomes import YearTally, tally

COLUMNS = {  # name -> dtype; documented in docs/ODD.md (state variables)
    "uid": np.uint64,         # identity: entry year, origin, rank in cohort (the key of its dice)
    "origin": np.uint16,      # country of origin (index)
    "univ": np.int32,         # university of study (index)
    "talent": np.float32,     # standard normal
    "field": np.uint8,        # field of study
    "resources": np.uint8,    # family-resources band 0..2
    "level": np.uint8,        # 0 first degree, 1 postgraduate
    "year_in": np.uint8,      # study years completed at this level
    "skill": np.float32,      # accumulated skill
    "competence": np.float32, # intercultural competence
    "outcome": np.uint8,      # this year's outcome: continuing, dropped, graduated, returned, stayed
}


class ArrayStudents:
    """The fast backend: students as arrays, rules as kernels."""

    def __init__(self, seed: int):
        self.seed = seed
        self.a = {name: np.empty(0, dtype) for name, dtype in COLUMNS.items()}

    def __len__(self) -> int:
        return self.a["uid"].shape[0]

    @property
    def nbytes_per_student(self) -> int:
        return sum(np.dtype(d).itemsize for d in COLUMNS.values())

    def seats_taken(self, n_universities: int) -> np.ndarray:
        return np.bincount(self.a["univ"], minlength=n_universities)

    def enrol(self, year: int, sizes: np.ndarray, tables) -> None:
        uid, origin, talent, field, resources, level = enrolment.new_cohort(
            self.seed, year, sizes, tables.field_cum, tables.log_income, tables.postgraduate_share)
        n = len(uid)
        new = dict(uid=uid, origin=origin, talent=talent, field=field, resources=resources, level=level,
                   univ=np.full(n, -1, np.int32), year_in=np.zeros(n, np.uint8), skill=np.zeros(n, np.float32),
                   competence=np.zeros(n, np.float32), outcome=np.zeros(n, np.uint8))
        self._n_old = len(self)
        self.a = {k: np.concatenate([self.a[k], new[k]]) for k in COLUMNS}

    def admit(self, year: int, tables, free: np.ndarray) -> np.ndarray:
        """Applications, admission rounds and clearing for this year's entrants; returns unplaced by origin."""
        a = self.a
        pending = np.arange(self._n_old, len(self), dtype=np.int64)
        for k in range(tables.applications):
            apps = choice.applications(pending, k, tables.abroad_applications, self.seed, year, a["uid"], a["origin"],
                                       a["field"], a["talent"], a["resources"], a["level"], tables.c_accept,
                                       tables.c_alias, tables.u_accept, tables.u_alias, tables.univ_of,
                                       tables.n_fields)
            seat = admission.admit_round(pending, apps, a["talent"], free)
            a["univ"][pending] = seat
            pending = pending[seat < 0]
        seat = admission.clearing(pending, a["origin"], a["talent"], free, tables.ranked_univs, tables.country_offsets)
        a["univ"][pending] = seat
        lost = pending[seat < 0]
        unplaced = np.bincount(a["origin"][lost], minlength=tables.n_countries)
        if len(lost):
            keep = np.ones(len(self), bool)
            keep[lost] = False
            self.a = {k: v[keep] for k, v in a.items()}
        return unplaced

    def study(self, year: int, tables) -> None:
        a = self.a
        learning.study(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"], a["skill"], a["competence"],
                       a["level"], a["year_in"], a["outcome"], tables.univ_country, tables.teaching, tables.rule)
        careers.decide(self.seed, year, a["uid"], a["origin"], a["univ"], a["outcome"], tables.univ_country,
                       tables.p_stay, learning.GRADUATED)

    def tally(self, tables, unplaced: np.ndarray) -> YearTally:
        a = self.a
        return tally(a["origin"], a["univ"], tables.univ_country, a["outcome"], a["year_in"], a["skill"],
                     a["competence"], unplaced)

    def remove_leavers(self) -> None:
        keep = self.a["outcome"] == learning.CONTINUING
        self.a = {k: v[keep] for k, v in self.a.items()}

"""The student population as a structure of arrays, updated by the mechanisms' Numba kernels.

One row per student agent, in the smallest dtype that holds each attribute (32 bytes a student,
plus 14 bytes of per-year scratch while a year runs). Rows are always in uid order: survivors
keep their order and each new cohort (whose uids are larger) is appended in uid order. No Python
loop over students anywhere here.
"""

import numpy as np

from sim.mechanisms import admission, careers, choice, enrolment, exchange, internships, learning
from sim.outcomes import EXCHANGED, INTERNED, YearTally, tally

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
    "mobility": np.uint8,     # bits: 1 exchanged, 2 interned abroad
    "outcome": np.uint8,      # this year's outcome: continuing, dropped, graduated, returned, stayed
}
TRANSIENT = {  # this year's events, reset every year
    "partner": np.int32,      # exchange partner university, or -1
    "stay": np.float32,       # length of the exchange stay (years)
    "host": np.int32,         # internship host country, or -1
    "intern": np.uint8,       # 1 if interning abroad this year
    "score": np.float32,      # internship applicants' ranking
}


class ArrayStudents:
    """The fast backend: students as arrays, rules as kernels."""

    def __init__(self, seed: int):
        self.seed = seed
        self.a = {name: np.empty(0, dtype) for name, dtype in {**COLUMNS, **TRANSIENT}.items()}
        self._n_old = 0

    def __len__(self) -> int:
        return self.a["uid"].shape[0]

    @staticmethod
    def bytes_per_student() -> int:
        return sum(np.dtype(d).itemsize for d in COLUMNS.values())

    def seats_taken(self, n_universities: int) -> np.ndarray:
        return np.bincount(self.a["univ"], minlength=n_universities)

    def enrol(self, year: int, sizes: np.ndarray, tables) -> None:
        uid, origin, talent, field, resources, level = enrolment.new_cohort(
            self.seed, year, sizes, tables.field_cum, tables.log_income, tables.postgraduate_share)
        new = dict(uid=uid, origin=origin, talent=talent, field=field, resources=resources, level=level)
        n = len(uid)
        self._n_old = len(self)
        self.a = {k: np.concatenate([v, new[k] if k in new else np.zeros(n, v.dtype)]) for k, v in self.a.items()}
        self.a["univ"][self._n_old:] = -1
        self._reset_transient()

    def _reset_transient(self) -> None:
        a = self.a
        a["partner"].fill(-1)
        a["host"].fill(-1)
        a["stay"].fill(0)
        a["intern"].fill(0)
        a["score"].fill(0)

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

    def exchange(self, year: int, tables) -> np.ndarray:
        """Exchange applications along agreements, and selection by talent under each agreement's slots.

        Returns the students sent along each agreement."""
        a = self.a
        apps = exchange.applications(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"], a["resources"],
                                     a["level"], a["year_in"], a["mobility"], tables.univ_country,
                                     tables.exchange_funding, tables.courses, tables.rule.first_degree_years,
                                     tables.e_accept, tables.e_alias, tables.edge_of, tables.exchange_rule, EXCHANGED)
        who = np.flatnonzero(apps >= 0)
        edge = admission.admit_round(who, apps[who], a["talent"], tables.e_slots.copy())
        went = who[edge >= 0]
        a["partner"][went] = tables.edge_to[edge[edge >= 0]]
        a["stay"][went] = exchange.lengths(self.seed, year, a["uid"][went], tables.exchange_rule)
        a["mobility"][went] |= EXCHANGED
        return np.bincount(edge[edge >= 0], minlength=len(tables.e_slots))

    def internships(self, year: int, tables) -> None:
        """Internship applications to host countries, and selection by competence under each host's places."""
        a = self.a
        apps = internships.applications(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"],
                                         a["competence"], a["level"], a["year_in"], tables.univ_country,
                                         tables.internship_funding, tables.rule.first_degree_years,
                                         tables.rule.postgraduate_years, tables.h_accept, tables.h_alias,
                                         tables.has_host, tables.internship_rule, a["score"])
        who = np.flatnonzero(apps >= 0)
        host = admission.admit_round(who, apps[who], a["score"], tables.h_places.copy())
        went = who[host >= 0]
        a["host"][went] = host[host >= 0]
        a["intern"][went] = 1
        a["mobility"][went] |= INTERNED

    def study(self, year: int, tables) -> None:
        a = self.a
        learning.study(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"], a["skill"], a["competence"],
                       a["level"], a["year_in"], a["outcome"], a["partner"], a["stay"], a["intern"],
                       tables.univ_country, tables.teaching, tables.courses, tables.rule)
        careers.decide(self.seed, year, a["uid"], a["origin"], a["univ"], a["outcome"], tables.univ_country,
                       tables.p_stay, learning.GRADUATED)

    def tally(self, tables, unplaced: np.ndarray) -> YearTally:
        return tally(self.a, tables.univ_country, tables.employability_rule, unplaced)

    def remove_leavers(self) -> None:
        keep = self.a["outcome"] == learning.CONTINUING
        self.a = {k: v[keep] for k, v in self.a.items()}

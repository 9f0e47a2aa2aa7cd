"""The student population as a structure of arrays, updated by the mechanisms' Numba kernels.

One row per student agent, in the smallest dtype that holds each attribute (32 bytes a student,
plus 10 bytes of this year's events). Rows are always in uid order: survivors keep their order
and each new cohort (whose uids are larger) is appended in uid order. No Python loop over
students anywhere here.

Memory is what limits a 1:1 world (250 million students), so the columns are allocated once
with spare room and updated in place: a cohort is drawn straight into the free tail, and
students who leave are squeezed out by an order-preserving in-place compaction. Nothing copies
the whole population, and the per-student scratch of a year (who applies where, who stays)
lives in two buffers allocated with the columns, so a year maps no fresh memory (first touch of
fresh pages is what made large worlds slower than linear). `a` holds views of the live rows.
"""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit, prange

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
    "host": np.int16,         # internship host country, or -1 (interning abroad this year iff >= 0)
}
SCRATCH = {"flags": np.uint8, "choice": np.int32}  # per-year scratch: rows kept; an application
SPARE = 0.125                 # room added when the columns must grow, as a share of the rows needed
PARALLEL_ROWS = 1 << 20       # compact columns on several threads from this many rows
BLOCKS = 64                   # work split into fixed blocks (not threads): the same whatever the thread count


@njit(cache=True, nogil=True)
def _compact(column, keep, start):
    """Move the rows with keep[i] to the front, in order, in place; rows before `start` are all kept.

    Branch-free (every row is written, the cursor only advances past kept ones) and without
    the GIL, so the columns are compacted on several threads at once."""
    w = start
    for i in range(start, keep.shape[0]):
        column[w] = column[i]
        w += keep[i]
    return w


@njit(cache=True, parallel=True)
def _count(index, n):
    """np.bincount(index, minlength=n) for index >= 0, without np.bincount's 64-bit copy of index."""
    per_block = np.zeros((BLOCKS, n), np.int64)
    size = (index.shape[0] + BLOCKS - 1) // BLOCKS
    for b in prange(BLOCKS):
        for i in range(b * size, min((b + 1) * size, index.shape[0])):
            per_block[b, index[i]] += 1
    return per_block.sum(axis=0)


@njit(cache=True, parallel=True)
def _nonnegative(x):
    """Indices i (ascending) where x[i] >= 0: np.flatnonzero(x >= 0) without a mask as long as x."""
    size = (x.shape[0] + BLOCKS - 1) // BLOCKS
    counts = np.zeros(BLOCKS + 1, np.int64)
    for b in prange(BLOCKS):
        for i in range(b * size, min((b + 1) * size, x.shape[0])):
            counts[b + 1] += x[i] >= 0
    offsets = np.cumsum(counts)
    out = np.empty(offsets[-1], np.int64)
    for b in prange(BLOCKS):
        w = offsets[b]
        for i in range(b * size, min((b + 1) * size, x.shape[0])):
            if x[i] >= 0:
                out[w] = i
                w += 1
    return out


class ArrayStudents:
    """The fast backend: students as arrays, rules as kernels."""

    def __init__(self, seed: int, capacity: int = 0):
        self.seed = seed
        self._cols = {name: np.empty(capacity, dtype) for name, dtype in {**COLUMNS, **TRANSIENT}.items()}
        self._scratch = {name: np.empty(capacity, dtype) for name, dtype in SCRATCH.items()}
        self._n_old = 0
        self._resize(0)

    def __len__(self) -> int:
        return self.n

    @staticmethod
    def bytes_per_student() -> int:
        return sum(np.dtype(d).itemsize for d in {**COLUMNS, **TRANSIENT}.values())

    @property
    def capacity(self) -> int:
        return self._cols["uid"].shape[0]

    def _resize(self, n: int) -> None:
        self.n = n
        self.a = {k: v[:n] for k, v in self._cols.items()}

    def _reserve(self, rows: int) -> None:
        """Room for `rows` students; grows one column at a time, so growing costs one column extra."""
        if rows <= self.capacity:
            return
        capacity = rows + int(rows * SPARE)
        self.a = {}
        for k, old in self._cols.items():
            new = np.empty(capacity, old.dtype)      # untouched pages take no memory until used
            new[:self.n] = old[:self.n]
            self._cols[k] = new
            del old
        self._scratch = {name: np.empty(capacity, dtype) for name, dtype in SCRATCH.items()}  # no data to keep
        self._resize(self.n)

    def _keep(self, flags: np.ndarray, start: int) -> None:
        """Keep the rows whose flag (uint8, over the live rows) is 1, in order, in place; rows before
        `start` are all kept and their flags are not read."""
        if start >= self.n or flags[start:].all():
            return                                    # nobody leaves
        start += int(np.argmin(flags[start:]))
        # a column of each width, as unsigned integers: one compiled kernel per width, not per dtype
        columns = [v.view(f"u{v.dtype.itemsize}") for v in self.a.values()]
        if self.n - start < PARALLEL_ROWS:
            kept = {_compact(column, flags, start) for column in columns}
        else:
            with ThreadPoolExecutor(max_workers=numba.get_num_threads()) as pool:
                kept = set(pool.map(lambda column: _compact(column, flags, start), columns))
        (n,) = kept
        self._resize(n)

    def state(self) -> dict:
        """The population's state for a checkpoint: the live rows of every column."""
        return {"seed": self.seed, "n_old": self._n_old, "columns": self.a}

    @classmethod
    def from_state(cls, state: dict) -> "ArrayStudents":
        columns = state["columns"]
        n = len(columns["uid"])
        students = cls(state["seed"], capacity=n + int(n * SPARE))
        for k, v in students._cols.items():
            v[:n] = columns[k]
        students._n_old = state["n_old"]
        students._resize(n)
        return students

    def seats_taken(self, n_universities: int) -> np.ndarray:
        return _count(self.a["univ"], n_universities)

    def enrol(self, year: int, sizes: np.ndarray, tables) -> None:
        """Draw this year's cohort into the tail of the columns (no copy of anyone already here)."""
        self._n_old = n_old = self.n
        self._reserve(n_old + int(sizes.sum()))
        self._resize(n_old + int(sizes.sum()))
        a = self.a
        enrolment.fill_cohort(self.seed, year, sizes, tables.field_cum, tables.log_income, tables.postgraduate_share,
                              *(a[k][n_old:] for k in ("uid", "origin", "talent", "field", "resources", "level")))
        for k in ("univ", "year_in", "skill", "competence", "mobility", "outcome"):
            a[k][n_old:] = -1 if k == "univ" else 0
        a["partner"].fill(-1)
        a["host"].fill(-1)
        a["stay"].fill(0)

    def admit(self, year: int, tables, free: np.ndarray) -> np.ndarray:
        """Applications, admission rounds and clearing for this year's entrants; returns unplaced by origin."""
        a = self.a
        pending = np.arange(self._n_old, len(self), dtype=np.int64)
        columns = ("uid", "origin", "field", "talent", "resources", "level")
        choosing = (tables.c_table, tables.u_table, tables.first_univ, tables.n_fields)
        for k in range(tables.applications):
            if k == 0:  # every entrant: a contiguous block
                apps = choice.first_applications(self.seed, year, *(a[c][self._n_old:] for c in columns), *choosing)
            else:
                apps = choice.applications(pending, k, tables.abroad_applications, self.seed, year,
                                           *(a[c] for c in columns), *choosing)
            seat = admission.admit_round(pending, apps, a["talent"], free)
            a["univ"][pending] = seat
            pending = pending[seat < 0]
        seat = admission.clearing(pending, a["origin"], a["talent"], free, tables.ranked_univs, tables.first_univ)
        a["univ"][pending] = seat
        lost = pending[seat < 0]
        unplaced = np.bincount(a["origin"][lost], minlength=tables.n_countries)
        if len(lost):
            flags = self._scratch["flags"][:self.n]
            flags[self._n_old:] = 1
            flags[lost] = 0
            self._keep(flags, self._n_old)
        return unplaced

    def exchange(self, year: int, tables) -> np.ndarray:
        """Exchange applications along agreements, and selection by talent under each agreement's slots.

        Returns the students sent along each agreement."""
        a = self.a
        apps = self._scratch["choice"][:self.n]
        exchange.applications(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"], a["resources"],
                              a["level"], a["year_in"], a["mobility"], tables.univ_country,
                              tables.exchange_funding, tables.courses, tables.rule.first_degree_years,
                              tables.e_table, tables.edge_of, tables.exchange_rule, EXCHANGED, apps)
        who = _nonnegative(apps)
        edge = admission.admit_round(who, apps[who], a["talent"], tables.e_slots.copy())
        went = who[edge >= 0]
        a["partner"][went] = tables.edge_to[edge[edge >= 0]]
        a["stay"][went] = exchange.lengths(self.seed, year, a["uid"][went], tables.exchange_rule)
        a["mobility"][went] |= EXCHANGED
        return np.bincount(edge[edge >= 0], minlength=len(tables.e_slots))

    def internships(self, year: int, tables) -> None:
        """Internship applications to host countries, and selection by competence under each host's places."""
        a = self.a
        apps = self._scratch["choice"][:self.n]
        internships.applications(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"],
                                  a["competence"], a["level"], a["year_in"], tables.univ_country,
                                  tables.internship_funding, tables.rule.first_degree_years,
                                  tables.rule.postgraduate_years, tables.h_table,
                                  tables.has_host, tables.internship_rule, apps)
        who = _nonnegative(apps)
        score = internships.priorities(who, a["competence"], a["origin"], tables.internship_funding)
        host = admission.admit_round(np.arange(len(who)), apps[who], score, tables.h_places.copy())
        went = who[host >= 0]
        a["host"][went] = host[host >= 0]
        a["mobility"][went] |= INTERNED

    def study(self, year: int, tables) -> None:
        a = self.a
        learning.study(self.seed, year, a["uid"], a["origin"], a["univ"], a["talent"], a["skill"], a["competence"],
                       a["level"], a["year_in"], a["outcome"], a["partner"], a["stay"], a["host"],
                       tables.univ_country, tables.teaching, tables.courses, tables.rule)
        careers.decide(self.seed, year, a["uid"], a["origin"], a["univ"], a["outcome"], tables.univ_country,
                       tables.p_stay, learning.GRADUATED)

    def columns(self) -> dict[str, np.ndarray]:
        return self.a

    def tally(self, tables, unplaced: np.ndarray) -> YearTally:
        return tally(self.a, tables.univ_country, tables.employability_rule, unplaced)

    def remove_leavers(self) -> None:
        flags = self._scratch["flags"][:self.n]
        np.equal(self.a["outcome"], learning.CONTINUING, out=flags.view(np.bool_))
        self._keep(flags, 0)

"""The student population of the fast backend: one array per column, updated in place.

One row per student agent, in the smallest dtype that holds each attribute (the columns of
`sim/students.py`: 32 bytes a student, plus 10 bytes of this year's events). Rows are always in
uid order: survivors keep their order and each new cohort (whose uids are larger) is appended in
uid order. This module only stores students; the mechanisms (`sim/mechanisms/`) change them with
their kernels. No Python loop over students anywhere.

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

from sim.students import ALL, RESET, bytes_per_student

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
def nonnegative_rows(x):
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


@njit(cache=True, parallel=True)
def rows_at(level, outcome, of_level, lowest, highest):
    """Indices (ascending) of the rows at level `of_level` whose outcome code is in lowest..highest (this
    year's graduates of a level, say), without a mask as long as the population."""
    size = (level.shape[0] + BLOCKS - 1) // BLOCKS
    counts = np.zeros(BLOCKS + 1, np.int64)
    for b in prange(BLOCKS):
        for i in range(b * size, min((b + 1) * size, level.shape[0])):
            counts[b + 1] += (level[i] == of_level) & (outcome[i] >= lowest) & (outcome[i] <= highest)
    offsets = np.cumsum(counts)
    out = np.empty(offsets[-1], np.int64)
    for b in prange(BLOCKS):
        w = offsets[b]
        for i in range(b * size, min((b + 1) * size, level.shape[0])):
            if level[i] == of_level and lowest <= outcome[i] <= highest:
                out[w] = i
                w += 1
    return out


class ArrayStudents:
    """The fast backend: students as arrays (`a`: column name -> view of the live rows)."""

    reference = False

    def __init__(self, seed: int, capacity: int = 0):
        self.seed = seed
        self._cols = {name: np.empty(capacity, dtype) for name, dtype in ALL.items()}
        self._scratch = {name: np.empty(capacity, dtype) for name, dtype in SCRATCH.items()}
        self.first_entrant = 0   # row of this year's first entrant (the rows before are continuing students)
        self._resize(0)

    def __len__(self) -> int:
        return self.n

    bytes_per_student = staticmethod(bytes_per_student)

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

    # ---- what the mechanisms call -------------------------------------------------------------------
    def add_cohort(self, n: int) -> dict[str, np.ndarray]:
        """Room for `n` entrants in the tail of the columns; returns the views of their rows. Starts the
        year: this year's events of every student are reset."""
        self.first_entrant = n_old = self.n
        self._reserve(n_old + n)
        self._resize(n_old + n)
        for k, value in RESET.items():
            self.a[k].fill(value)
        return {k: v[n_old:] for k, v in self.a.items()}

    def scratch(self, name: str) -> np.ndarray:
        """A per-year scratch buffer (SCRATCH) over the live rows: its contents are the caller's."""
        return self._scratch[name][:self.n]

    def keep(self, flags: np.ndarray, start: int = 0) -> None:
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

    def seats_taken(self, n_universities: int, rows: int | None = None) -> np.ndarray:
        """Students per university, over all students or the first `rows` (every one of them seated)."""
        univ = self.a["univ"] if rows is None else self.a["univ"][:rows]
        return _count(univ, n_universities)

    def columns(self) -> dict[str, np.ndarray]:
        return self.a

    # ---- checkpoints --------------------------------------------------------------------------------
    def state(self) -> dict:
        """The population's state for a checkpoint: the live rows of every column."""
        return {"seed": self.seed, "first_entrant": self.first_entrant, "columns": self.a}

    @classmethod
    def from_state(cls, state: dict) -> "ArrayStudents":
        columns = state["columns"]
        n = len(columns["uid"])
        students = cls(state["seed"], capacity=n + int(n * SPARE))
        for k, v in students._cols.items():
            v[:n] = columns[k]
        students.first_entrant = state["first_entrant"]
        students._resize(n)
        return students

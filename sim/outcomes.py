"""Outcomes: how mechanisms declare what they record, and the arithmetic they share.

A mechanism counts what happened during its step (integers only: float sums in fixed point, so
totals are the same whatever the order of the students, the backend or the thread count) and,
at the end of the year, turns its counts into outcomes (`Mechanism.observe`):

- a `Metric`: one value per country (by study or by origin, as its doc says) and WORLD, the
  last entry;
- a `Flow`: an origin x destination matrix of real people, its diagonal (domestic) zero.

Counts are in agents; outcomes in real units (x world.scale, or x world.researcher_scale).
"""

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from sim import rng

FIXED_POINT = float(2 ** 20)  # resolution of skill, competence and employability sums


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    doc: str


@dataclass(frozen=True)
class Flow:
    name: str   # the `kind` in flows.parquet
    doc: str


def blocks() -> int:
    """Blocks of students counted in parallel: each block sums into its own row, rows are added at
    the end. Integer sums, so the totals do not depend on the number of blocks (threads)."""
    return min(numba.get_num_threads(), 16)


# ---- shared arithmetic of outcomes -----------------------------------------------------------------
def with_world(x, total=None) -> np.ndarray:
    """Per-country values with the WORLD value appended (their sum, unless given)."""
    return np.append(x, x.sum() if total is None else total)


def ratio(a, b) -> np.ndarray:
    """a / b where b > 0, else 0."""
    return np.divide(a, b, out=np.zeros_like(np.asarray(a, float)), where=np.asarray(b) > 0)


def by_country(values, univ_country: np.ndarray, n: int) -> np.ndarray:
    """Sums of per-university values by country."""
    return np.bincount(univ_country, np.asarray(values, float), n)


def weighted_mean(values, weights, univ_country: np.ndarray, n: int) -> np.ndarray:
    """Per-country and WORLD means of per-university values, weighted."""
    return ratio(with_world(by_country(values * weights, univ_country, n)),
                 with_world(by_country(weights, univ_country, n)))


def off_diagonal(counts: np.ndarray) -> np.ndarray:
    """A (C, C) count matrix with its diagonal (domestic pairs) zeroed."""
    return counts * ~np.eye(counts.shape[0], dtype=bool)


def international_graduate_students(census) -> np.ndarray:
    """(C,) international master's and doctoral students enrolled by country of study (agents) in the study
    year's census (learning.Census): the foreign graduate students of Chellaraj, Maskus & Mattoo (2008)."""
    return off_diagonal(census.masters + census.doctoral).sum(axis=0)


@njit(cache=True)
def fixed(x):
    """A float as an integer in fixed point (sums of these are exact)."""
    return np.int64(np.rint(np.float64(x) * FIXED_POINT))


# ---- counting kernels --------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def pair_counts(origin, univ, univ_country, n, n_blocks):
    """(n, n) number of students by origin x country of study (rows with univ < 0 are not counted)."""
    per_block = np.zeros((n_blocks, n, n), np.int64)
    size = (origin.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, origin.shape[0])):
            if univ[i] >= 0:
                per_block[b, origin[i], univ_country[univ[i]]] += 1
    return per_block.sum(axis=0)


def pairs(rows_from: np.ndarray, rows_to: np.ndarray, n: int) -> np.ndarray:
    """(n, n) count of (from, to) pairs, for a few rows (the students selected by a step)."""
    return np.bincount(rows_from.astype(np.int64) * n + rows_to, minlength=n * n).reshape(n, n)


# ---- the per-student sample --------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _in_sample(seed, uid, share):
    keep = np.empty(uid.shape[0], np.bool_)
    pre = rng.prefix(seed, rng.SAMPLE, 0)
    for i in prange(uid.shape[0]):
        keep[i] = rng.uniform_at(rng.key_from(pre, uid[i]), 0) < share
    return keep


def student_sample(columns: dict, seed: int, share: float) -> dict[str, np.ndarray]:
    """The rows of the students in the per-student sample: each student is in it with probability
    `share`, by a counter-based draw on their uid, so the sample follows the same students every
    year (a panel) and in every scenario run at the same seed."""
    keep = _in_sample(seed, columns["uid"], share)
    return {k: v[keep] for k, v in columns.items()}

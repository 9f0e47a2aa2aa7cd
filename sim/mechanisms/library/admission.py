"""Admission under capacity: universities admit applicants by talent up to their free seats.

Rounds follow the students' ranked applications: in round k every applicant still without a
seat applies to their k-th choice, and each university admits the most talented of its
applicants (ties: the lower uid) until its seats run out. Applicants rejected everywhere go to
clearing: the remaining seats of their home country, offered in order of talent, best
university first. A student for whom no seat is left at home is not enrolled this year
(counted as `unplaced`). No university ever exceeds its capacity.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _by_university(apps, n_universities):
    """Applicants grouped by university (a stable counting sort): (offsets, order)."""
    offsets = np.zeros(n_universities + 1, np.int64)
    for m in range(apps.shape[0]):
        if apps[m] >= 0:
            offsets[apps[m] + 1] += 1
    for u in range(n_universities):
        offsets[u + 1] += offsets[u]
    fill = offsets[:-1].copy()
    order = np.empty(offsets[-1], np.int64)
    for m in range(apps.shape[0]):
        u = apps[m]
        if u >= 0:
            order[fill[u]] = m
            fill[u] += 1
    return offsets, order


@njit(cache=True, parallel=True)
def admit_round(candidates, apps, score, free):
    """Admit candidates (population indices, in uid order) to apps[m] by score, highest first (ties:
    lower uid); returns the seat of each or -1. Updates `free` (seats left per place) in place.

    Places are universities for degree admission, agreements for exchanges, host countries for
    internships: the same selection under capacity.
    """
    admitted = np.full(candidates.shape[0], -1, np.int32)
    offsets, order = _by_university(apps, free.shape[0])
    for u in prange(free.shape[0]):
        lo, hi = offsets[u], offsets[u + 1]
        n = hi - lo
        if n == 0:
            continue
        seats = min(n, free[u])
        if seats < n:
            minus_talent = np.empty(n, np.float32)
            for j in range(n):
                minus_talent[j] = -score[candidates[order[lo + j]]]
            ranked = np.argsort(minus_talent, kind="mergesort")  # stable: ties keep uid order
            for j in range(seats):
                admitted[order[lo + ranked[j]]] = u
        else:
            for j in range(n):
                admitted[order[lo + j]] = u
        free[u] -= seats
    return admitted


@njit(cache=True)
def clearing(candidates, origin, talent, free, ranked_univs, first_univ):
    """Seat still-unplaced candidates at home: by talent, best university (with seats) first.

    ranked_univs lists each country's universities best first; country c's are positions
    first_univ[c] .. first_univ[c + 1] - 1 (a country's universities are one index range).
    Returns the seat of each candidate or -1.
    """
    seat = np.full(candidates.shape[0], -1, np.int32)
    minus_talent = np.empty(candidates.shape[0], np.float32)
    for m in range(candidates.shape[0]):
        minus_talent[m] = -talent[candidates[m]]
    pointer = first_univ[:-1].copy()
    for m in np.argsort(minus_talent, kind="mergesort"):
        c = origin[candidates[m]]
        while pointer[c] < first_univ[c + 1] and free[ranked_univs[pointer[c]]] == 0:
            pointer[c] += 1
        if pointer[c] < first_univ[c + 1]:
            u = ranked_univs[pointer[c]]
            seat[m] = u
            free[u] -= 1
    return seat


def home_ranking(univ_country: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Universities of each country best first (mean quality over fields, ties by index), countries in order."""
    mean_q = quality.mean(axis=1)
    return np.lexsort((np.arange(len(univ_country)), -mean_q, univ_country)).astype(np.int64)

"""Alias tables (Walker 1977, Vose 1991): O(1) draws from a discrete distribution per row.

Each row of a (groups x K) probability table becomes a pair (accept, alias): draw a column j
uniformly, keep it with probability accept[g, j], else take alias[g, j]. Tables are built once
a year per group; every student of the group then draws in constant time. Both backends call
`draw`, so they sample identically.
"""

import numpy as np
from numba import njit, prange

from sim.rng import uniform_at


@njit(cache=True)
def _build_row(p, accept, alias, g):
    k = p.shape[1]
    total = 0.0
    best = 0
    for j in range(k):
        total += p[g, j]
        if p[g, j] > p[g, best]:
            best = j
    small = np.empty(k, np.int64)
    large = np.empty(k, np.int64)
    scaled = np.empty(k, np.float64)
    ns = 0
    nl = 0
    for j in range(k):
        scaled[j] = p[g, j] * k / total
        if scaled[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        big = large[nl]
        accept[g, s] = scaled[s]
        alias[g, s] = big
        scaled[big] = (scaled[big] + scaled[s]) - 1.0
        if scaled[big] < 1.0:
            small[ns] = big
            ns += 1
        else:
            large[nl] = big
            nl += 1
    # Leftovers hold ~1 up to rounding; a clearly small leftover must never be drawn itself.
    for i in range(nl):
        accept[g, large[i]] = 1.0
        alias[g, large[i]] = large[i]
    for i in range(ns):
        s = small[i]
        if scaled[s] > 0.5:
            accept[g, s] = 1.0
            alias[g, s] = s
        else:
            accept[g, s] = 0.0
            alias[g, s] = best


@njit(cache=True, parallel=True)
def build(p):
    """Alias tables for each row of p (rows need not be normalised; each must have a positive entry)."""
    accept = np.zeros(p.shape, np.float64)
    alias = np.zeros(p.shape, np.int32)
    for g in prange(p.shape[0]):
        _build_row(p, accept, alias, g)
    return accept, alias


@njit(cache=True, inline="always")
def draw(accept, alias, row, k, draw_index):
    """A column of `row`, using draws (draw_index, draw_index + 1) of counter key k."""
    n = accept.shape[1]
    j = int(uniform_at(k, draw_index) * n)
    if j >= n:
        j = n - 1
    if uniform_at(k, draw_index + 1) < accept[row, j]:
        return j
    return alias[row, j]


def probabilities(accept: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The distribution an alias table samples (for tests): mass of each column per row."""
    g, k = accept.shape
    mass = accept / k
    out = mass.copy()
    np.add.at(out, (np.repeat(np.arange(g), k), alias.ravel()), ((1 - accept) / k).ravel())
    return out

"""Alias tables (Walker 1977, Vose 1991): O(1) draws from a discrete distribution per row.

Each row of a (groups x K) probability table becomes pairs (accept, alias): draw a column j
uniformly, keep it with probability accept[g, j], else take alias[g, j]. Tables are built once
a year per group; every student of the group then draws in constant time. Both backends call
`draw`, so they sample identically.

A table is one uint64 per cell: the acceptance threshold in the high 32 bits (accept x 2^32)
and the alias in the low 32, so a draw reads one cell. A draw uses one 64-bit counter-based
random number: its high half picks the column (multiply-shift), its low half is compared with
the threshold. Probabilities are exact to 2^-32.
"""

import numpy as np
from numba import njit, prange, uint64

from sim.rng import bits_at

_LOW = uint64(0xFFFFFFFF)
_HALF = uint64(32)


@njit(cache=True)
def _build_row(p, g, accept, alias, small, large, scaled):
    """Vose's method on row g of p, into accept and alias (workspaces of the row's length)."""
    k = p.shape[1]
    total = 0.0
    best = 0
    for j in range(k):
        total += p[g, j]
        if p[g, j] > p[g, best]:
            best = j
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
        accept[s] = scaled[s]
        alias[s] = big
        scaled[big] = (scaled[big] + scaled[s]) - 1.0
        if scaled[big] < 1.0:
            small[ns] = big
            ns += 1
        else:
            large[nl] = big
            nl += 1
    # Leftovers hold ~1 up to rounding; a clearly small leftover must never be drawn itself.
    for i in range(nl):
        accept[large[i]] = 1.0
        alias[large[i]] = large[i]
    for i in range(ns):
        s = small[i]
        if scaled[s] > 0.5:
            accept[s] = 1.0
            alias[s] = s
        else:
            accept[s] = 0.0
            alias[s] = best


@njit(cache=True, parallel=True)
def build(p):
    """The alias table of each row of p (rows need not be normalised; each must have a positive entry).

    Rows are built in blocks, each with its own workspaces (allocating them per row cost more than
    the algorithm)."""
    rows, k = p.shape
    table = np.empty(p.shape, np.uint64)
    n_blocks = min(rows, 64)
    size = (rows + n_blocks - 1) // max(n_blocks, 1)
    for b in prange(n_blocks):
        accept = np.zeros(k, np.float64)
        alias = np.zeros(k, np.int64)
        small = np.empty(k, np.int64)
        large = np.empty(k, np.int64)
        scaled = np.empty(k, np.float64)
        for g in range(b * size, min((b + 1) * size, rows)):
            _build_row(p, g, accept, alias, small, large, scaled)
            for j in range(k):
                threshold = min(uint64(accept[j] * 4294967296.0), _LOW)  # accept 1: alias is the column itself
                table[g, j] = (threshold << _HALF) | uint64(alias[j])
    return table


@njit(cache=True, inline="always")
def draw(table, row, k, draw_index):
    """A column of `row`, using the draw_index-th random number of counter key k."""
    x = bits_at(k, draw_index)
    j = np.int64(((x >> _HALF) * uint64(table.shape[1])) >> _HALF)
    cell = table[row, j]
    if (x & _LOW) < (cell >> _HALF):
        return j
    return np.int64(cell & _LOW)


def split(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accept, alias) of a table: acceptance probabilities and alias columns (tests, benchmarks)."""
    return (table >> np.uint64(32)).astype(np.float64) / 2.0**32, (table & np.uint64(0xFFFFFFFF)).astype(np.int64)


def probabilities(table: np.ndarray) -> np.ndarray:
    """The distribution an alias table samples (for tests): mass of each column per row."""
    accept, alias = split(table)
    g, k = accept.shape
    mass = accept / k
    out = mass.copy()
    np.add.at(out, (np.repeat(np.arange(g), k), alias.ravel()), ((1 - accept) / k).ravel())
    return out

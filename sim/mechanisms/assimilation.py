"""Assimilation: a run from the data starts from the observed students, not from its own equilibrium.

With `world.start_from=observed` (world=oecd), the last year of the spin-up, the year before the start
year, ends with the observed corridor stocks in place (world.stock_before_start: OECD/UIS students by
origin and destination): after degree choice has seated that year's entrants, the students of each
observed corridor are made as many as observed (stock / world.scale agents, rounded up or down by a
die per corridor so that small corridors are kept on average; exactly the stock at world.scale=1 when
it is whole). A corridor with too many students sends the surplus home (a university of their origin);
one with too few is filled with students of its origin studying at home, who move to a university of
the destination. Students keep everything else (level, year of study, talent, skill), so the census of
that year and the networks built from it are the observed ones. Who moves is decided by a die keyed by
the student's uid (stream ASSIMILATE); a university is drawn by the world's seats. Destinations that do
not report their students' origins keep the model's students.

The start year's choice then sees the corridor constants (sim/initial_state.py) that make the
baseline's entrants keep the observed shares: a forecast is persistence plus what the mechanisms
change. Runs that calibrate the model (hemsim-calibrate, hemsim-levels, the backtests) start from the
spin-up: they fit the model's own equilibrium to the data.
"""

import warnings

import numpy as np

from sim import rng
from sim.errors import ConfigError
from sim.mechanisms.base import Mechanism


def corridor_targets(stock: np.ndarray, scale: float, seed: int, year: int) -> np.ndarray:
    """(C, C) agents each observed corridor should hold (-1: unobserved, or home): stock / scale rounded
    down or up with probability its fraction (a die per corridor), so that sums are right on average."""
    n = stock.shape[0]
    seen = ~np.isnan(stock) & ~np.eye(n, dtype=bool)
    agents = np.where(seen, np.nan_to_num(stock), 0.0) / scale
    base = np.floor(agents)
    dice = rng.uniforms(seed, rng.ASSIMILATE, year, np.arange(n * n, dtype=np.uint64), 1).reshape(n, n)
    return np.where(seen, base + (dice < agents - base), -1).astype(np.int64)


def _ranks(groups: np.ndarray, order_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by (group, key) and each row's rank within its group (0 first)."""
    order = np.lexsort((order_key, groups))
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return order, rank


def _university_in(country: np.ndarray, u: np.ndarray, capacity: np.ndarray, first_univ: np.ndarray) -> np.ndarray:
    """A university of each country, drawn by capacity with the uniforms u."""
    cum = np.cumsum(capacity.astype(np.float64))
    before = np.where(first_univ[country] > 0, cum[np.maximum(first_univ[country] - 1, 0)], 0.0)
    total = cum[first_univ[country + 1] - 1] - before
    univ = np.searchsorted(cum, before + u * total, side="right")
    return np.clip(univ, first_univ[country], first_univ[country + 1] - 1).astype(np.int32)


def assimilate(origin, univ, uid, univ_country, capacity, first_univ, targets, seed,
               year) -> tuple[np.ndarray, np.ndarray]:
    """The universities (a new array) that make each observed corridor hold `targets` students (see the
    module's docstring); returns also the shortfall by corridor (targets no home student was left to fill)."""
    n = targets.shape[0]
    country = univ_country[univ].astype(np.int64)
    o = origin.astype(np.int64)
    corridor = o * n + country
    held = np.bincount(corridor, minlength=n * n).reshape(n, n)
    observed = targets >= 0
    surplus = np.where(observed, np.maximum(held - targets, 0), 0)
    deficit = np.where(observed, np.maximum(targets - held, 0), 0)
    die = rng.uniforms(seed, rng.ASSIMILATE, year, uid.astype(np.uint64), 0)
    place = rng.uniforms(seed, rng.ASSIMILATE, year, uid.astype(np.uint64), 2)
    new = univ.copy()
    # surplus: the students of a corridor with the lowest dice go home
    abroad = np.flatnonzero((country != o) & surplus.ravel()[corridor].astype(bool))
    order, rank = _ranks(corridor[abroad], die[abroad])
    going_home = abroad[order][rank < surplus.ravel()[corridor[abroad][order]]]
    new[going_home] = _university_in(o[going_home], place[going_home], capacity, first_univ)
    # deficit: students at home, lowest dice first, fill their origin's corridors in destination order
    need = deficit.sum(axis=1)
    home = np.flatnonzero((country == o) & (need[o] > 0))
    order, rank = _ranks(o[home], die[home])
    home = home[order]
    pool = np.bincount(o[home], minlength=n)
    short = need > pool
    if short.any():   # too few students at home: each corridor gets its share of those there are
        deficit = np.where(short[:, None], np.floor(deficit * (pool / np.maximum(need, 1))[:, None]), deficit)
        deficit = deficit.astype(np.int64)
    cum = np.cumsum(deficit, axis=1)
    moving = rank < cum[o[home], -1]
    mover = home[moving]
    dest = np.empty(len(mover), np.int64)
    r, oo = rank[moving], o[mover]
    for c in np.unique(oo):          # a loop over origins, not students: where each rank falls
        m = oo == c
        dest[m] = np.searchsorted(cum[c], r[m], side="right")
    new[mover] = _university_in(dest, place[mover], capacity, first_univ)
    shortfall = np.where(observed, targets - np.bincount(o * n + univ_country[new], minlength=n * n).reshape(n, n), 0)
    return new, shortfall


class Assimilation(Mechanism):
    """In the last spin-up year of a run from the data, the observed corridor stocks replace the model's."""
    reads = ("uid", "origin", "univ")
    writes = ("univ",)

    def active(self, m) -> bool:
        return m.cfg.world.start_from == "observed" and m.year == m.cfg.start_year - 1

    def step_arrays(self, m) -> None:
        if not self.active(m):
            return
        w, a = m.world, m.students.a
        if w.stock_before_start is None:
            raise ConfigError(f"world.start_from=observed: the {m.cfg.world.kind} world has no observed stocks "
                              f"(world=oecd has; or start_from=spin_up)")
        targets = corridor_targets(w.stock_before_start, w.scale, m.seed, m.year)
        # the world's seats, not universities.capacity: a shared field read in one spin-up year only would be
        # declared in vain in every other (tests/test_architecture.py)
        univ, shortfall = assimilate(a["origin"], a["univ"], a["uid"], w.univ_country, w.univ_capacity,
                                     w.first_univ, targets, m.seed, m.year)
        a["univ"][:] = univ
        if shortfall.any():
            warnings.warn(f"world.start_from=observed: {int(shortfall.sum())} observed students abroad "
                          f"({int(shortfall.sum() * w.scale)} real) could not be placed: too few students of "
                          f"their origin at home in the model", stacklevel=2)

    def step_agents(self, m) -> None:
        if self.active(m):
            raise ConfigError("world.start_from=observed: needs backend=numba")

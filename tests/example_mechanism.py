"""The worked example of docs/adding-a-mechanism.md: a mechanism in one module, tested by
tests/test_adding_a_mechanism.py (which also adds it to a copy of hemsim as sim/mechanisms/graduate_stock.py
with one line in SCHEDULE). An illustration: hemsim's own workforce is sim/mechanisms/workforce.py.

Graduate stock: each year's graduates join the workforce of their country of origin (by where
they studied: at home or abroad), and a share of the stock retires.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.mechanisms.base import Mechanism, rule_type, share
from sim.outcomes import Metric, blocks, with_world
from sim.students import GRADUATED, RETURNED, STAYED


# 1. parameters: the config section behaviour.stock (defaults with sources in the ODD, bounds beside them),
#    and the rule kernels read
@dataclass
class Params:
    retirement: float = share(0.025)  # share of the stock leaving the workforce a year (a 40-year career)


Rule = StockRule = rule_type(Params, "StockRule")


# 2. the year's tables: from world + policy + state
class StockTables(NamedTuple):
    univ_country: np.ndarray         # (U,)
    n_countries: int


# 3. kernels: pure functions on arrays, and the scalar rule they apply to one student
@njit(cache=True)
def joins_workforce(outcome):
    """Whether a student joins the workforce this year: every graduate, whether they went home or stayed."""
    return outcome == GRADUATED or outcome == RETURNED or outcome == STAYED


@njit(cache=True, parallel=True)
def graduates_by_origin(origin, univ, outcome, univ_country, n, n_blocks):
    """(2, n) graduates by origin: [0] studied at home, [1] abroad."""
    counts = np.zeros((n_blocks, 2, n), np.int64)
    size = (origin.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, origin.shape[0])):
            if joins_workforce(outcome[i]):
                counts[b, np.int64(univ_country[univ[i]] != origin[i]), origin[i]] += 1
    return counts.sum(axis=0)


# 4. the mechanism: its config section, what it reads and writes (student columns and shared fields:
#    sim/students.py, sim/state.py), what it records, its step in both backends
class GraduateStock(Mechanism):
    """Graduates join their origin's workforce; a share of the workforce retires each year."""
    section = "stock"
    reads = ("origin", "univ", "outcome")
    outcomes = (Metric("example_graduate_stock", "people", "tertiary graduates in the workforce (by origin)"),
                Metric("example_graduate_stock_abroad_share", "share", "of them, the share who studied abroad"))

    def __init__(self):
        self.stock = None            # (2, C) real people: studied at home, abroad (its own: no other mechanism reads it)

    def tables(self, m) -> StockTables:
        return StockTables(univ_country=m.world.univ_country, n_countries=m.world.n_countries)

    def step_arrays(self, m) -> None:
        a, t = m.students.a, self.tables(m)
        self._add(m, graduates_by_origin(a["origin"], a["univ"], a["outcome"], t.univ_country, t.n_countries,
                                         blocks()))

    def step_agents(self, m) -> None:
        t = self.tables(m)
        counts = np.zeros((2, t.n_countries), np.int64)
        for s in m.students.all:
            if joins_workforce(s.outcome):
                counts[int(t.univ_country[s.univ] != s.origin), s.origin] += 1
        self._add(m, counts)

    def _add(self, m, graduates: np.ndarray) -> None:
        if self.stock is None:
            self.stock = np.zeros(graduates.shape)
        self.stock = (1 - m.rules.stock.retirement) * self.stock + graduates * m.world.scale

    def state(self) -> dict:          # what it carries from year to year, for checkpoints and the spin-up cache
        return {"stock": self.stock}

    def restore(self, state: dict) -> None:
        self.stock = state["stock"]

    def metrics(self, m) -> dict[str, np.ndarray]:
        total = with_world(self.stock.sum(axis=0))
        return {"example_graduate_stock": total,
                "example_graduate_stock_abroad_share": np.divide(with_world(self.stock[1]), total,
                                                                 out=np.zeros_like(total), where=total > 0)}

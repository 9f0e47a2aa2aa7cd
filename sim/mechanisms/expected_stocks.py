"""Expected corridor stocks: the stock of international students by corridor without the agents' dice.

At world.scale=100 a corridor of 1,000 students is 10 agents, and an origin's few hundred agents abroad
spread over its destinations by sampling: the sampled stock by corridor (`enrolled`) moves by several
per cent a year from the dice alone, more than the observed shares move (a forecast scored by corridor
would measure the dice). This mechanism propagates the same stock with the agents' draws averaged out
where they are noisiest, by corridor, and keeps them where they are not, by destination:

    E_t[o, d] = E_{t-1}[o, d] (1 - leaving_{t-1}[d]) + inflow_t[d] x composition_t[o | d]

- leaving_{t-1}[d]: the share of d's international students (all origins pooled; its domestic students
  for o = d) who graduated or dropped out last year, from the agents (the study year's census);
- inflow_t[d]: the international students new in d this year, from the agents (enrolled this year minus
  those who continued from last year, all origins pooled);
- composition_t[o | d]: how the year's expected degree entrants of d divide among origins, from the choice
  tables (the destinations nest and going abroad of this year, under this year's policies: what a lever
  does to one corridor shows here without sampling noise).

E starts, the first year it is kept, from the agents' census, or, in a run from the data, from the
observed stocks it assimilated (sim/mechanisms/assimilation.py). It is an outcome only (flow
`enrolled_expected`): no other mechanism reads it. With the agents' dice averaged out by corridor, a
forecast reads it where corridors are small (hemsim-validate does: docs/ODD.md 7.1).
"""

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.library.destinations import abroad_probabilities, composed, entry_asc, expected_entrants
from sim.outcomes import Flow, off_diagonal


def leaving_share(census) -> np.ndarray:
    """(C, C) share of each destination's students who graduated or dropped out in the census's year: its
    international students pooled over origins off the diagonal, its domestic ones on it (0 where none)."""
    n = census.enrolled.shape[0]
    off = ~np.eye(n, dtype=bool)
    left = (census.graduates + census.dropouts).astype(float)
    enrolled = census.enrolled.astype(float)
    intl = np.where(off, left, 0).sum(axis=0) / np.maximum(np.where(off, enrolled, 0).sum(axis=0), 1.0)
    home = np.diag(left) / np.maximum(np.diag(enrolled), 1.0)
    return np.where(off, intl[None, :], home[None, :])


def propagate(stock: np.ndarray, leaving: np.ndarray, inflow: np.ndarray, entrants: np.ndarray) -> np.ndarray:
    """E_t from E_{t-1} (`stock`, (C, C)), last year's leaving shares (C, C), this year's inflow by destination
    and corridor kind ((C, C): international off the diagonal, domestic on it, each column's totals) and the
    expected entrants (C, C) whose column shares divide the inflow among origins."""
    n = stock.shape[0]
    off = ~np.eye(n, dtype=bool)
    intl = np.where(off, entrants, 0.0)
    composition = intl / np.maximum(intl.sum(axis=0, keepdims=True), 1e-300)
    new = np.where(off, composition * inflow.sum(axis=0, where=off)[None, :], np.diag(np.diag(inflow)))
    return np.maximum(stock * (1.0 - leaving) + new, 0.0)


class ExpectedStocks(Mechanism):
    """The corridor stock with the agents' dice averaged out by corridor (an outcome only)."""
    reads = ("census", "destinations")

    def __init__(self):
        self.stock = None        # (C, C) E of last year, real students
        self.continuing = None   # (C, C) agents who continued from last year (census: enrolled - left)
        self.leaving = None      # (C, C) last year's leaving shares

    def step(self, m) -> None:
        w, c = m.world, m.census
        enrolled = c.enrolled.astype(float)
        if m.cfg.world.start_from == "observed" and m.year == m.cfg.start_year - 1:   # just assimilated
            seen = ~np.isnan(w.stock_before_start)
            self.stock = np.where(seen, np.nan_to_num(w.stock_before_start), enrolled * w.scale)
        elif self.stock is None:
            self.stock = enrolled * w.scale
        else:
            inflow = np.maximum(enrolled - self.continuing, 0.0) * w.scale
            d, _ = m.destinations
            rule = m.rules.choice
            prob = composed(d, abroad_probabilities(d, entry_asc(rule), rule.nest, rule.visa_talent))
            entrants = expected_entrants(prob, w, m.rules.study.postgraduate_share)
            self.stock = propagate(self.stock, self.leaving, inflow, entrants)
        self.continuing = enrolled - c.graduates - c.dropouts
        self.leaving = leaving_share(c)

    outcomes = (Flow("enrolled_expected", "`enrolled` with the agents' dice averaged out by corridor "
                                          "(sim/mechanisms/expected_stocks.py): for forecasts of small corridors"),)

    def flows(self, m) -> dict[str, np.ndarray]:
        return {"enrolled_expected": off_diagonal(self.stock)}

    def state(self) -> dict:
        return {} if self.stock is None else {"stock": self.stock, "continuing": self.continuing,
                                              "leaving": self.leaving}

    def restore(self, state: dict) -> None:
        self.stock, self.continuing, self.leaving = (state.get(k) for k in ("stock", "continuing", "leaving"))

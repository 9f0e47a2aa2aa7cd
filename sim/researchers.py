"""The researcher population: arrays at universities, stepped by the research kernels.

Researchers neither enter nor leave the population (their number is the world's), so a
researcher's index is their identity and the key of their dice.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.mechanisms import research


@dataclass
class ResearchTally:
    """One year of research, per university (U,) and per country pair (C, C), in agents."""
    researchers: np.ndarray      # (U,) researchers appointed at the university
    papers: np.ndarray           # (U,) papers led
    intl_papers: np.ndarray      # (U,) of which internationally co-authored
    citations: np.ndarray        # (U,) fixed-point citations of those papers
    intl_citations: np.ndarray   # (U,) fixed-point citations of the international papers
    visits: np.ndarray           # (C, C) researchers of o visiting d
    moves: np.ndarray            # (C, C) researchers moving from o to d
    returns: np.ndarray          # (C, C) migrant researchers returning from d to o
    visitors_in: np.ndarray      # (U,) visiting researchers hosted
    arrivals_in: np.ndarray      # (U,) researchers who moved in


class Researchers:
    def __init__(self, world, seed: int):
        n = int(world.researchers.sum())
        self.seed = seed
        self.univ = np.repeat(np.arange(world.n_universities, dtype=np.int32), world.researchers)
        self.home = self.univ.copy()
        # productivity: lognormal (Lotka's law of skewed output), a fixed, deterministic quantile grid per world
        ranks = (np.arange(n) * 0.6180339887498949) % 1.0
        self.productivity = np.exp(0.6 * ndtri(np.clip(ranks, 1e-6, 1 - 1e-6)) - 0.18).astype(np.float32)
        self.collab = np.zeros((n, research.RING), np.int64)
        self.n_collab = np.zeros(n, np.uint8)
        self.visiting = np.full(n, -1, np.int32)
        self.moved = np.zeros(n, np.uint8)
        order = np.argsort(world.edge_from, kind="stable")
        self.edge_to = world.edge_to[order]
        self.edge_offsets = np.concatenate([[0], np.cumsum(np.bincount(world.edge_from,
                                                                       minlength=world.n_universities))])

    def __len__(self) -> int:
        return self.univ.shape[0]

    def year(self, year: int, years_since_start: int, world, policy, quality: np.ndarray, open_share: np.ndarray,
             rule) -> ResearchTally:
        c = world.univ_country
        before = c[self.univ]                                # where each researcher worked last year
        research.mobility(self.seed, year, self.univ, self.home, self.visiting, self.moved, self.edge_offsets,
                          self.edge_to, c, world.gdp_pc, policy["visa_openness"], policy["border_closed"] > 0.5,
                          policy["researcher_mobility"], rule)
        papers, intl, cites, cites_intl = research.papers(
            self.seed, year, years_since_start, self.univ, self.visiting, self.productivity, self.collab,
            self.n_collab, self.edge_offsets, self.edge_to, c, quality, policy["research_cooperation"], open_share,
            rule)
        u, n_c = world.n_universities, world.n_countries
        home_c = c[self.home]
        visiting = self.visiting >= 0
        visits = np.zeros((n_c, n_c), np.int64)
        np.add.at(visits, (home_c[visiting], c[self.visiting[visiting]]), 1)
        moves = np.zeros((n_c, n_c), np.int64)
        went = self.moved == 1
        np.add.at(moves, (home_c[went], c[self.univ[went]]), 1)
        returns = np.zeros((n_c, n_c), np.int64)
        back = self.moved == 2
        np.add.at(returns, (home_c[back], before[back]), 1)
        return ResearchTally(
            researchers=np.bincount(self.univ, minlength=u), papers=np.bincount(self.univ, papers, u).astype(np.int64),
            intl_papers=np.bincount(self.univ, intl, u).astype(np.int64),
            citations=_int_bincount(self.univ, cites, u), intl_citations=_int_bincount(self.univ, cites_intl, u),
            visits=visits, moves=moves, returns=returns,
            visitors_in=np.bincount(self.visiting[visiting], minlength=u),
            arrivals_in=np.bincount(self.univ[went], minlength=u))


def _int_bincount(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact integer sums of int64 values by index (np.bincount would go through float64)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, index, values)
    return out

"""Yearly outcomes: what happened to whom, counted by origin and country of study.

The tally is integer arithmetic only (float sums are kept in fixed point), so totals are the same
whatever the order of the students: across backends, thread counts and array layouts.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.mechanisms.careers import RETURNED, STAYED
from sim.mechanisms.learning import DROPPED, GRADUATED

FIXED_POINT = float(2 ** 20)  # resolution of skill and competence sums


@dataclass
class YearTally:
    """Counts (in agents) by origin o and country of study d, (C, C) unless noted."""
    enrolled: np.ndarray       # enrolled during the year
    entrants: np.ndarray       # entered this year
    dropouts: np.ndarray
    graduates: np.ndarray      # all graduates (home and abroad)
    stayed: np.ndarray         # graduated abroad and stayed in d
    returned: np.ndarray       # graduated abroad and went home
    skill: np.ndarray          # (C,) fixed-point sum of skill by country of study
    competence: np.ndarray     # (C,) fixed-point sum of intercultural competence by country of study
    unplaced: np.ndarray       # (C,) entrants of origin o who found no seat

    @property
    def n_countries(self) -> int:
        return self.enrolled.shape[0]


@njit(cache=True)
def _tally(origin, univ, univ_country, outcome, year_in, skill, competence, n):
    counts = np.zeros((6, n, n), np.int64)
    sums = np.zeros((2, n), np.int64)
    for i in range(origin.shape[0]):
        o = origin[i]
        d = univ_country[univ[i]]
        counts[0, o, d] += 1
        if year_in[i] == 1:
            counts[1, o, d] += 1
        out = outcome[i]
        if out == DROPPED:
            counts[2, o, d] += 1
        elif out == GRADUATED or out == STAYED or out == RETURNED:
            counts[3, o, d] += 1
            if out == STAYED:
                counts[4, o, d] += 1
            elif out == RETURNED:
                counts[5, o, d] += 1
        sums[0, d] += np.int64(np.rint(np.float64(skill[i]) * FIXED_POINT))
        sums[1, d] += np.int64(np.rint(np.float64(competence[i]) * FIXED_POINT))
    return counts, sums


def tally(origin, univ, univ_country, outcome, year_in, skill, competence, unplaced) -> YearTally:
    counts, sums = _tally(origin, univ, univ_country, outcome, year_in, skill, competence, len(unplaced))
    return YearTally(*counts, skill=sums[0], competence=sums[1], unplaced=unplaced)


FLOW_KINDS = {"degree": "new degree-mobile entrants (origin -> destination of study)",
              "enrolled": "stock of degree-mobile students enrolled during the year",
              "return": "graduates abroad who returned to their origin",
              "stay": "graduates abroad who stayed in their destination of study"}


def flow_arrays(t: YearTally) -> dict[str, np.ndarray]:
    """(C, C) agent counts of each flow kind, diagonal (domestic) zeroed."""
    off = ~np.eye(t.n_countries, dtype=bool)
    return {"degree": t.entrants * off, "enrolled": t.enrolled * off,
            "return": t.returned * off, "stay": t.stayed * off}


def country_metrics(t: YearTally, scale: float) -> dict[str, np.ndarray]:
    """Per-country metrics, index C = WORLD. Counts in real students (agents x scale)."""
    off = ~np.eye(t.n_countries, dtype=bool)

    def with_world(x, total=None):
        return np.append(x, x.sum() if total is None else total)

    enrolled = with_world(t.enrolled.sum(axis=0)) * scale
    inbound = with_world((t.enrolled * off).sum(axis=0)) * scale
    outbound = with_world((t.enrolled * off).sum(axis=1)) * scale
    stayers = with_world((t.stayed * off).sum(axis=0)) * scale        # brain gain of the host
    drain = with_world((t.stayed * off).sum(axis=1)) * scale          # brain drain of the origin
    returnees = with_world((t.returned * off).sum(axis=1)) * scale    # by origin
    heads = np.maximum(with_world(t.enrolled.sum(axis=0)), 1)
    return {
        "enrolled": enrolled,
        "entrants": with_world(t.entrants.sum(axis=0)) * scale,
        "graduates": with_world(t.graduates.sum(axis=0)) * scale,
        "dropouts": with_world(t.dropouts.sum(axis=0)) * scale,
        "unplaced": with_world(t.unplaced) * scale,
        "inbound_degree": inbound,
        "outbound_degree": outbound,
        "new_inbound_degree": with_world((t.entrants * off).sum(axis=0)) * scale,
        "new_outbound_degree": with_world((t.entrants * off).sum(axis=1)) * scale,
        "international_share": np.divide(inbound, np.maximum(enrolled, 1e-300)),
        "returnees": returnees,
        "stayers": stayers,
        "brain_drain": drain,
        "net_talent_gain": stayers - drain,
        "mean_skill": with_world(t.skill) / FIXED_POINT / heads,
        "mean_intercultural_competence": with_world(t.competence) / FIXED_POINT / heads,
    }

"""Yearly outcomes: what happened to whom, counted by origin and country of study.

The tally is integer arithmetic only (float sums are kept in fixed point), so totals are the same
whatever the order of the students: across backends, thread counts and array layouts.
"""

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from sim import rng
from sim.mechanisms.careers import RETURNED, STAYED, employability
from sim.mechanisms.learning import DROPPED, GRADUATED

FIXED_POINT = float(2 ** 20)  # resolution of skill, competence and employability sums
EXCHANGED, INTERNED = 1, 2    # bits of a student's mobility record
COUNTS = ("enrolled", "entrants", "dropouts", "graduates", "stayed", "returned", "exchange", "internship")
SUMS = ("skill", "competence", "competence_nonmobile", "nonmobile", "employability", "experienced_graduates",
        "stay_short", "stay_term", "stay_year")


@dataclass
class YearTally:
    """Student counts (agents) of one year.

    counts[k] is (C, C) by origin o x country d, for k in COUNTS: enrolled in d during the year;
    entered d this year; dropped out or graduated in d; graduated abroad in d and stayed or went home;
    on exchange in d (d = the partner's country); interning in d (d = the host country).
    sums[k] is (C,) for k in SUMS: fixed-point sums of skill and competence by country of study, and of
    competence of non-mobile students (at home, never exchanged or interned) with their number; by
    origin: fixed-point employability of graduates, graduates with international experience, and
    exchange stays by length.
    """
    counts: dict[str, np.ndarray]
    sums: dict[str, np.ndarray]
    unplaced: np.ndarray       # (C,) entrants of origin o who found no seat

    @property
    def n_countries(self) -> int:
        return self.unplaced.shape[0]


@njit(cache=True, parallel=True)
def _tally(origin, univ, univ_country, outcome, year_in, skill, competence, mobility, partner, stay, host,
           careers, n, blocks):
    """Counts and sums by block of students, in parallel; integer sums, so their total is exact
    whatever the number of blocks (threads)."""
    block_counts = np.zeros((blocks, len(COUNTS), n, n), np.int64)
    block_sums = np.zeros((blocks, len(SUMS), n), np.int64)
    size = (origin.shape[0] + blocks - 1) // blocks
    for b in prange(blocks):
        _tally_block(b * size, min((b + 1) * size, origin.shape[0]), origin, univ, univ_country, outcome, year_in,
                     skill, competence, mobility, partner, stay, host, careers, block_counts[b], block_sums[b])
    return block_counts.sum(axis=0), block_sums.sum(axis=0)


@njit(cache=True)
def _tally_block(lo, hi, origin, univ, univ_country, outcome, year_in, skill, competence, mobility, partner, stay,
                 host, careers, counts, sums):
    for i in range(lo, hi):
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
            e = employability(np.float64(skill[i]), np.float64(competence[i]), (mobility[i] & INTERNED) != 0, careers)
            sums[4, o] += np.int64(np.rint(e * FIXED_POINT))
            if d != o or mobility[i] != 0:
                sums[5, o] += 1
        if partner[i] >= 0:
            counts[6, o, univ_country[partner[i]]] += 1
            k = 6 if stay[i] < 0.4 else (7 if stay[i] < 0.9 else 8)
            sums[k, o] += 1
        if host[i] >= 0:
            counts[7, o, host[i]] += 1
        sums[0, d] += np.int64(np.rint(np.float64(skill[i]) * FIXED_POINT))
        sums[1, d] += np.int64(np.rint(np.float64(competence[i]) * FIXED_POINT))
        if d == o and mobility[i] == 0:
            sums[2, d] += np.int64(np.rint(np.float64(competence[i]) * FIXED_POINT))
            sums[3, d] += 1


def tally(a: dict, univ_country, careers, unplaced) -> YearTally:
    """Tally the population's columns (a dict of arrays, see sim.population.COLUMNS and TRANSIENT)."""
    counts, sums = _tally(a["origin"], a["univ"], univ_country, a["outcome"], a["year_in"], a["skill"],
                          a["competence"], a["mobility"], a["partner"], a["stay"], a["host"], careers, len(unplaced),
                          min(numba.get_num_threads(), 16))
    return YearTally(dict(zip(COUNTS, counts)), dict(zip(SUMS, sums)), unplaced)


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


FLOW_KINDS = {"degree": "new degree-mobile entrants (origin -> destination of study)",
              "enrolled": "stock of degree-mobile students enrolled during the year",
              "return": "graduates abroad who returned to their origin",
              "stay": "graduates abroad who stayed in their destination of study",
              "exchange": "students on exchange (origin -> country of the partner university)",
              "internship": "final-year students interning abroad (origin -> host country)"}


def flow_arrays(t: YearTally) -> dict[str, np.ndarray]:
    """(C, C) agent counts of each flow kind, diagonal (domestic) zeroed."""
    off = ~np.eye(t.n_countries, dtype=bool)
    c = t.counts
    return {"degree": c["entrants"] * off, "enrolled": c["enrolled"] * off, "return": c["returned"] * off,
            "stay": c["stayed"] * off, "exchange": c["exchange"] * off, "internship": c["internship"] * off}


def _with_world(x, total=None):
    return np.append(x, x.sum() if total is None else total)


def _ratio(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def student_metrics(t: YearTally, scale: float) -> dict[str, np.ndarray]:
    """Per-country student metrics, index C = WORLD. Counts in real students (agents x scale)."""
    off = ~np.eye(t.n_countries, dtype=bool)
    c, s = t.counts, t.sums
    w = _with_world
    enrolled_agents = w(c["enrolled"].sum(axis=0))
    enrolled = enrolled_agents * scale
    inbound = w((c["enrolled"] * off).sum(axis=0)) * scale
    stayers = w((c["stayed"] * off).sum(axis=0)) * scale          # brain gain of the host
    drain = w((c["stayed"] * off).sum(axis=1)) * scale            # brain drain of the origin
    at_home = w(np.diag(c["enrolled"])) * scale
    exchange_out = w(c["exchange"].sum(axis=1)) * scale
    stays = w(s["stay_short"] + s["stay_term"] + s["stay_year"])
    graduates_by_origin = w(c["graduates"].sum(axis=1))
    return {
        "enrolled": enrolled,
        "entrants": w(c["entrants"].sum(axis=0)) * scale,
        "graduates": w(c["graduates"].sum(axis=0)) * scale,
        "dropouts": w(c["dropouts"].sum(axis=0)) * scale,
        "unplaced": w(t.unplaced) * scale,
        "inbound_degree": inbound,
        "outbound_degree": w((c["enrolled"] * off).sum(axis=1)) * scale,
        "new_inbound_degree": w((c["entrants"] * off).sum(axis=0)) * scale,
        "new_outbound_degree": w((c["entrants"] * off).sum(axis=1)) * scale,
        "international_share": _ratio(inbound, enrolled),
        "returnees": w((c["returned"] * off).sum(axis=1)) * scale,    # by origin
        "stayers": stayers,
        "brain_drain": drain,
        "net_talent_gain": stayers - drain,
        "mean_skill": _ratio(w(s["skill"]) / FIXED_POINT, enrolled_agents),
        "mean_intercultural_competence": _ratio(w(s["competence"]) / FIXED_POINT, enrolled_agents),
        "mean_intercultural_competence_nonmobile": _ratio(w(s["competence_nonmobile"]) / FIXED_POINT,
                                                          w(s["nonmobile"])),
        "exchange_students": exchange_out,
        "exchange_inbound": w((c["exchange"] * off).sum(axis=0)) * scale,
        "exchange_participation_rate": _ratio(exchange_out, at_home),
        "exchange_term_or_year_share": _ratio(w(s["stay_term"] + s["stay_year"]).astype(float), stays),
        "internships": w(c["internship"].sum(axis=1)) * scale,
        "internships_hosted": w(c["internship"].sum(axis=0)) * scale,
        "intl_experienced_graduates": w(s["experienced_graduates"]) * scale,
        "graduate_employability": _ratio(w(s["employability"]) / FIXED_POINT, graduates_by_origin),
    }

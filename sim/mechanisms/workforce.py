"""Human capital: the stock of tertiary graduates in each country's workforce.

Each year's graduates join the workforce of the country where they settle: at home (graduates of
a home university, and graduates abroad who return), in the country where they studied (those
who stay: brain gain for it, drain for their origin), or where a home graduate took a job abroad
(emigration.py). Graduates who go on to a further degree join when they finish it. A share `retirement` of the stock leaves each year (a working life of about
40 years). The stock is counted by level and by whether the degree was earned abroad, and starts
the first recorded year at the steady state of that year's graduates (stock = graduates /
retirement). A degree counts as earned abroad when it was earned outside the country whose
workforce it joins (a returnee's; an emigrant's). Innovation (innovation.py) draws on it.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.mechanisms.base import Mechanism, rule_type, share
from sim.outcomes import Metric, blocks, ratio, with_world
from sim.students import GRADUATED, RETURNED, STAYED


@dataclass
class Params:
    """behaviour.workforce: the stock of graduates in the workforce."""
    retirement: float = share(0.025)        # share of the stock leaving the workforce a year


Rule = WorkforceRule = rule_type(Params, "WorkforceRule")

LEVELS = 3                           # first degree, master's, doctorate


@njit(cache=True)
def settles_in(origin, studied_in, outcome):
    """Where a graduate joins the workforce: where they studied if they stay, else at home (-1: not a
    graduate, or an emigrant: emigration.py counts them)."""
    if outcome == STAYED:
        return np.int64(studied_in)
    if outcome == GRADUATED or outcome == RETURNED:
        return np.int64(origin)
    return np.int64(-1)


@njit(cache=True, parallel=True)
def joining(origin, univ, level, outcome, univ_country, n, n_blocks):
    """(2, LEVELS, n) graduates joining each country's workforce: [0] with a degree of that country,
    [1] with a degree earned abroad (emigrants are counted by emigration.py)."""
    counts = np.zeros((n_blocks, 2, LEVELS, n), np.int64)
    size = (origin.shape[0] + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        for i in range(b * size, min((b + 1) * size, origin.shape[0])):
            d = univ_country[univ[i]]
            c = settles_in(origin[i], d, outcome[i])
            if c >= 0:
                counts[b, np.int64(d != c), level[i], c] += 1
    return counts.sum(axis=0)


class Workforce(Mechanism):
    """Graduates join the workforce where they settle; the stock retires slowly."""
    section = "workforce"
    reads = ("origin", "univ", "level", "outcome",
             "arrivals", "workforce")
    writes = ("workforce",)
    outcomes = (
        Metric("graduate_stock", "people", "tertiary graduates in the country's workforce (where they settled)"),
        Metric("graduate_stock_abroad_share", "share",
               "of them, the share with a degree earned outside the country (returnees, immigrant graduates)"),
        Metric("graduate_stock_doctoral", "people", "of them, doctorate holders"),
    )

    def step_arrays(self, m) -> None:
        a, w = m.students.a, m.world
        self._join(m, joining(a["origin"], a["univ"], a["level"], a["outcome"], w.univ_country, w.n_countries,
                              blocks()))

    def step_agents(self, m) -> None:
        w = m.world
        counts = np.zeros((2, LEVELS, w.n_countries), np.int64)
        for s in m.students.all:
            d = int(w.univ_country[s.univ])
            c = settles_in(s.origin, d, s.outcome)
            if c >= 0:
                counts[int(d != c), s.level, c] += 1
        self._join(m, counts)

    def _join(self, m, counts: np.ndarray) -> None:
        """The stock (`workforce`, (2, LEVELS, C) real people: earned at home / abroad, by level) takes this
        year's graduates and the emigrants arriving from abroad (`arrivals`: emigration.py)."""
        joined, rate = counts * m.world.scale, m.rules.workforce.retirement
        joined[1, :2] += m.arrivals              # graduates of another country's universities, working here
        if m.workforce is None or m.year <= m.cfg.start_year - 1:
            m.workforce = joined / rate          # the steady state of this year's graduates, until recording starts
        else:
            m.workforce = (1 - rate) * m.workforce + joined

    def metrics(self, m) -> dict[str, np.ndarray]:
        stock = m.workforce
        total = with_world(stock.sum(axis=(0, 1)))
        return {"graduate_stock": total,
                "graduate_stock_abroad_share": ratio(with_world(stock[1].sum(axis=0)), total),
                "graduate_stock_doctoral": with_world(stock[:, 2].sum(axis=0))}

"""The diaspora networks between countries, the state behind the network term of the choice.

alumni[o, d]: graduates of origin o who studied in d and stayed there, decaying by
`careers.diaspora_decay` a year (updated by careers); returned[o, d]: graduates of origin o who studied in d
and live at home again (at graduation or later), decaying the same way: d's alumni abroad, a channel of its
influence (an outcome only: nothing reads it back); enrolled_abroad[o, d]: students of o
continuing their studies in d (refreshed when the year's leavers have left). Both in real
students, so behaviour does not depend on how many students an agent stands for.
"""

from dataclasses import dataclass

import numpy as np

INITIAL_STAY_SHARE = 0.3  # share of mobile graduates assumed to have stayed, for the initial diaspora
NETWORK_UNIT = 100_000.0  # the choice sees the network per this many students of the origin


@dataclass
class Diaspora:
    alumni: np.ndarray           # (C, C) graduates who stayed (real students)
    enrolled_abroad: np.ndarray  # (C, C) current students abroad (real students)
    returned: np.ndarray         # (C, C) graduates abroad who went home, by origin x where they studied (real)

    @classmethod
    def empty(cls, n_countries: int) -> "Diaspora":
        return cls(*(np.zeros((n_countries, n_countries)) for _ in range(3)))

    @classmethod
    def before_the_start(cls, entrants: np.ndarray, years_enrolled: float, decay: float,
                         observed_stock: np.ndarray | None, later_return: np.ndarray | None = None) -> "Diaspora":
        """The stock that `entrants` (real students a year by origin x destination, under the default
        policies and no network) would have built: entrants x the years they stay enrolled, plus the
        share who stayed after graduating, in the steady state of the yearly update (careers.py): alumni
        A = (1 - decay) (A - r A) + S, returned R = (1 - decay) (R + r A) + G, with `later_return` r
        ((C, C) yearly rates; none: 0). A start off that steady state would drift towards it in every run.
        A real world starts from the observed stocks where a destination reports them."""
        flows = entrants.copy()
        np.fill_diagonal(flows, 0.0)
        if observed_stock is not None:
            seen = ~np.isnan(observed_stock)
            flows = np.where(seen, np.nan_to_num(observed_stock) / years_enrolled, flows)
        r = np.zeros_like(flows) if later_return is None else later_return
        keep = 1.0 - max(decay, 1e-3)
        alumni = flows * INITIAL_STAY_SHARE / (1.0 - keep * (1.0 - r))
        returned = (flows * (1 - INITIAL_STAY_SHARE) + keep * r * alumni) / (1.0 - keep)
        return cls(alumni=alumni, enrolled_abroad=flows * years_enrolled, returned=returned)

    def update(self, later_return: np.ndarray, decay: float, stayers: np.ndarray, returnees: np.ndarray) -> np.ndarray:
        """One year (careers.py): `later_return` x alumni go home, the rest of the network decays, this year's
        `stayers` and `returnees` (real graduates, (C, C)) join it. Returns the later returns."""
        later = later_return * self.alumni
        self.alumni = (1 - decay) * (self.alumni - later) + stayers
        self.returned = (1 - decay) * (self.returned + later) + returnees
        return later

    def per_100k(self, students_at_home: np.ndarray) -> np.ndarray:
        """(C, C) the network as the choice sees it: per 100,000 students of the origin."""
        return NETWORK_UNIT * (self.alumni + self.enrolled_abroad) / students_at_home

    def state(self) -> dict[str, np.ndarray]:
        return {"alumni": self.alumni, "enrolled_abroad": self.enrolled_abroad, "returned": self.returned}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "Diaspora":
        return cls(**state)

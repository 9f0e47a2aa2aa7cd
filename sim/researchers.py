"""The researcher population: a structure of arrays, open at both ends.

Researchers are hired from the doctoral graduates who settle in a country and leave research or
retire (sim/mechanisms/research_careers.py); the research mechanism moves them and counts their
papers. Identity is a stable id (`uid`: the year and country of hiring and a rank), never an array
index: it keys a researcher's dice and names their collaborators. Rows are kept in uid order
(hires are appended in uid order; leavers are removed in order), so a uid is found by binary search.
"""

import numpy as np

from sim import fpmath

RING = 4  # recent collaborators a researcher remembers (research.py's team assembly)
COLUMNS = {  # name -> dtype
    "uid": np.uint64,           # identity: year and country of hiring, rank among that year's hires there
    "citizenship": np.uint16,   # country of citizenship (of origin)
    "trained": np.uint16,       # country of the doctorate
    "home": np.int32,           # university of appointment (a migrant returns there)
    "univ": np.int32,           # university where they work this year
    "productivity": np.float32, # papers led a year at the base rate (lognormal: Lotka's skewed output)
    "career": np.uint8,         # years in research
    "n_collab": np.uint8,       # collaborators met so far (capped at 255)
    "visiting": np.int32,       # university visited this year, or -1
    "moved": np.uint8,          # this year: 0 stayed, 1 moved abroad, 2 returned home
}
CAREER_SPAN = 35                # the initial researchers' careers spread over this many years


def uids(year: int, country: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Researchers' identities: (year - 1900) << 44 | country << 28 | rank (as students' uids, never 0)."""
    return (np.uint64(year - 1900) << np.uint64(44)) | (country.astype(np.uint64) << np.uint64(28)) \
        | rank.astype(np.uint64)


def lognormal_productivity(quantiles: np.ndarray) -> np.ndarray:
    """Productivity at the given quantiles: lognormal, sd 0.6 of its log, mean 1."""
    from scipy.special import ndtri     # here, not at import: a run restored from the spin-up cache needs none
    return fpmath.exp(0.6 * ndtri(np.clip(quantiles, 1e-6, 1 - 1e-6)) - 0.18).astype(np.float32)


class Researchers:
    def __init__(self, world, seed: int, first_year: int):
        """The world's research staff at its universities, hired before `first_year`: citizens of the
        country, trained there, careers and productivity on fixed, deterministic quantile grids."""
        n = int(world.researchers.sum())
        self.seed = seed
        univ = np.repeat(np.arange(world.n_universities, dtype=np.int32), world.researchers)
        country = world.univ_country[univ]
        rank = np.arange(n) - np.searchsorted(country, country)          # rank within the country
        grid = np.arange(n)
        self.uid = uids(first_year - 1, country, rank)
        self.citizenship = country.astype(np.uint16)
        self.trained = country.astype(np.uint16)
        self.home = univ.copy()
        self.univ = univ
        self.productivity = lognormal_productivity((grid * 0.6180339887498949) % 1.0)
        self.career = ((grid * 0.7548776662466927) % 1.0 * CAREER_SPAN).astype(np.uint8)
        self.n_collab = np.zeros(n, np.uint8)
        self.visiting = np.full(n, -1, np.int32)
        self.moved = np.zeros(n, np.uint8)
        self.collab = np.zeros((n, RING), np.uint64)    # uids of recent collaborators (0: none yet)

    def __len__(self) -> int:
        return self.uid.shape[0]

    def seed_origins(self, univ_country: np.ndarray, domestic: np.ndarray, foreign: np.ndarray,
                     returnee: np.ndarray) -> None:
        """Citizenship and country of training of the initial researchers of each country c, in the
        proportions domestic[c] : foreign[c, o] (citizens of o trained in c) : returnee[c, t] (citizens of c
        trained in t), on a fixed quantile grid (interleaved, so every university gets its mix)."""
        n = len(domestic)
        works_in = univ_country[self.univ].astype(np.int64)
        rank = np.arange(len(self)) - np.searchsorted(works_in, works_in)
        quantile = (rank * 0.6180339887498949 + 0.5) % 1.0
        eye = np.eye(n, dtype=bool)
        weights = np.concatenate([domestic[:, None], np.where(eye, 0.0, foreign), np.where(eye, 0.0, returnee)], axis=1)
        cum = np.cumsum(weights, axis=1)
        cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
        category = np.empty(len(self), np.int64)
        bounds = np.searchsorted(works_in, np.arange(n + 1))
        for c in range(n):
            lo, hi = bounds[c], bounds[c + 1]
            category[lo:hi] = np.searchsorted(cum[c], quantile[lo:hi], side="right")
        category = np.minimum(category, 2 * n)
        citizenship = np.where((category >= 1) & (category <= n), category - 1, works_in)
        trained = np.where(category > n, category - 1 - n, works_in)
        self.citizenship = citizenship.astype(np.uint16)
        self.trained = trained.astype(np.uint16)

    def keep(self, kept: np.ndarray) -> None:
        """Keep the rows where `kept` (bool) is true, in order."""
        for k in (*COLUMNS, "collab"):
            setattr(self, k, getattr(self, k)[kept])

    def add(self, new: dict[str, np.ndarray]) -> None:
        """Append researchers (`new`: column -> values, in uid order, their uids above every present one);
        columns not given start at zero (visiting: none)."""
        n = len(new["uid"])
        if n == 0:
            return
        if len(self) and new["uid"][0] <= self.uid[-1]:
            raise ValueError("new researchers must come in uid order, after the present ones")
        for k, dtype in COLUMNS.items():
            value = new.get(k, np.full(n, -1 if k == "visiting" else 0))
            setattr(self, k, np.concatenate([getattr(self, k), np.asarray(value, dtype)]))
        self.collab = np.concatenate([self.collab, np.zeros((n, RING), np.uint64)])

    def state(self) -> dict:
        return {"seed": self.seed, "collab": self.collab} | {k: getattr(self, k) for k in COLUMNS}

    @classmethod
    def from_state(cls, state: dict) -> "Researchers":
        researchers = cls.__new__(cls)
        researchers.seed = state["seed"]
        for k in (*COLUMNS, "collab"):
            setattr(researchers, k, state[k])
        return researchers

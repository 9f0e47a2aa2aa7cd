"""The researcher population: a structure of arrays, stepped by the research mechanism.

Researchers neither enter nor leave the population (their number is the world's), so a
researcher's index is their identity and the key of their dice.
"""

import numpy as np
from scipy.special import ndtri

RING = 4  # recent collaborators a researcher remembers (research.py's team assembly)
COLUMNS = ("univ", "home", "productivity", "collab", "n_collab", "visiting", "moved")


class Researchers:
    def __init__(self, world, seed: int):
        n = int(world.researchers.sum())
        self.seed = seed
        self.univ = np.repeat(np.arange(world.n_universities, dtype=np.int32), world.researchers)  # appointment
        self.home = self.univ.copy()                     # home university
        # productivity: lognormal (Lotka's law of skewed output), a fixed, deterministic quantile grid per world
        ranks = (np.arange(n) * 0.6180339887498949) % 1.0
        self.productivity = np.exp(0.6 * ndtri(np.clip(ranks, 1e-6, 1 - 1e-6)) - 0.18).astype(np.float32)
        self.collab = np.zeros((n, RING), np.int64)      # recent collaborators (researcher indices)
        self.n_collab = np.zeros(n, np.uint8)            # collaborators met so far (capped at 255)
        self.visiting = np.full(n, -1, np.int32)         # university visited this year, or -1
        self.moved = np.zeros(n, np.uint8)               # this year: 0 stayed, 1 moved abroad, 2 returned home

    def __len__(self) -> int:
        return self.univ.shape[0]

    def state(self) -> dict:
        return {"seed": self.seed} | {k: getattr(self, k) for k in COLUMNS}

    @classmethod
    def from_state(cls, state: dict) -> "Researchers":
        researchers = cls.__new__(cls)
        researchers.seed = state["seed"]
        for k in COLUMNS:
            setattr(researchers, k, state[k])
        return researchers

"""Parameter draws: run k of a study takes the k-th parameter set of a distribution, not the config's values.

A policy's effect is uncertain for two reasons: the world's own randomness (seeds) and what we do not know
about behaviour (parameters). A study that runs draws x seeds (`uncertainty.draw=0,1,2 seed=0,1,2`) shows
both, and `hemsim-compare` splits each effect's interval into its parameter and stochastic parts
(sim/analysis/stats.py). Within a draw, every scenario and seed shares the parameter set, and within a
seed every scenario shares the dice (common random numbers), so the effect at (draw, seed) is the
policy's effect on that world.

Two sources (`uncertainty.source`):
- `design`: independent uniforms over the ranges of the `parameters` of conf/uncertainty/<design>.yaml,
  the declared uncertainties of the literature (docs/ODD.md, Uncertainties): a prior, for the synthetic
  world, whose defaults are not fitted to anything;
- `posterior`: a weighted particle of the ABC-SMC posterior of `hemsim-calibrate --posterior`
  (sim/inference/posterior.py: posterior.parquet, checksum-checked), for the real world.

Draw k is a pure function of k (counter-based: stream PARAMETER_DRAW, agent k; the draw within a key is a
hash of the parameter's name, so adding a parameter to a design leaves the others' draws unchanged): the
same parameter set in every run, scenario, seed and machine. The drawn values replace the config's, and the
run's manifest records them (its resolved config).
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim import rng
from sim.errors import ConfigError

PARAMETER_DRAW = rng.stream(90, "PARAMETER_DRAW")
SOURCES = ("design", "posterior")


def _draw_index(key: str) -> int:
    """The draw of a parameter within a key: a hash of its name (independent of the design's order)."""
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def uniform(k: int, index: int) -> float:
    """The index-th uniform of parameter draw k (the same for every seed: draws are not seeds)."""
    return float(rng.uniform(0, PARAMETER_DRAW, 0, k, index))


def from_design(k: int, ranges: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Draw k: each parameter uniform on its [low, high]."""
    return {key: low + uniform(k, _draw_index(key)) * (high - low) for key, (low, high) in ranges.items()}


def from_particles(k: int, values: np.ndarray, weights: np.ndarray, names: list[str]) -> dict[str, float]:
    """Draw k: particle i with probability weights[i] (inverse CDF of one counter-based uniform)."""
    cumulative = np.cumsum(weights)          # a sequential sum: the same bits on every CPU
    i = int(np.searchsorted(cumulative, uniform(k, 0) * cumulative[-1], side="right"))
    return dict(zip(names, (float(v) for v in values[min(i, len(weights) - 1)])))


@lru_cache(maxsize=4)
def _design_ranges(design: str) -> tuple[tuple[str, tuple[float, float]], ...]:
    from sim.design import load_design
    return tuple(load_design(design).parameters.items())


@lru_cache(maxsize=4)
def _particles(path: str, mtime_ns: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sim.posterior_file import read_posterior, wide
    frame = read_posterior(Path(path))
    points, weights = wide(frame[frame.generation == frame.generation.max()])
    return points.to_numpy(float), weights, list(points.columns)


def drawn(uncertainty) -> dict[str, float]:
    """{config key: value} of the config's draw (empty without one)."""
    if uncertainty.draw < 0:
        return {}
    if uncertainty.source == "design":
        try:
            ranges = dict(_design_ranges(uncertainty.design))
        except ConfigError as e:
            raise ConfigError(f"uncertainty.{e}") from None
        return from_design(uncertainty.draw, ranges)
    path = Path(uncertainty.posterior)
    if not path.is_file():
        raise ConfigError(f"uncertainty.posterior={uncertainty.posterior}: no such file (run `hemsim-calibrate "
                          f"--posterior` first, or give its posterior.parquet)")
    return from_particles(uncertainty.draw, *_particles(str(path.resolve()), path.stat().st_mtime_ns))


def resolve(cfg):
    """The config with its draw applied (in place), validated: what every composed config goes through
    (sim/params.py, EMA points); a Config built by hand takes its draw here too."""
    from sim.config import validate
    apply(cfg)
    return validate(cfg)


def apply(cfg) -> None:
    """Set the config's behaviour to its draw's values (in place; the same values however often applied)."""
    u = cfg.uncertainty
    if isinstance(u.draw, bool) or not isinstance(u.draw, int) or not -1 <= u.draw < 2 ** 31:
        raise ConfigError(f"uncertainty.draw={u.draw}: -1 (none) or a draw number from 0 to 2^31 - 1")
    if u.source not in SOURCES:
        raise ConfigError(f"uncertainty.source={u.source}: unknown source (allowed: {', '.join(SOURCES)})")
    from sim.design import _get, set_key
    where = u.posterior if u.source == "posterior" else f"conf/uncertainty/{u.design}.yaml"
    for key, value in drawn(u).items():
        if not key.startswith("behaviour.") or not isinstance(_get(cfg, key, where), float):
            raise ConfigError(f"{where}: {key} is not a real-valued behaviour parameter (keys look like "
                              f"behaviour.choice.cost)")
        set_key(cfg, key, value)

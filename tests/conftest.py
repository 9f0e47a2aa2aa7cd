"""Shared fixtures: small configured worlds and cached runs (each config is simulated once)."""

import copy
import os
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import settings

from sim.config import Config, Lever, validate

# The first call of a kernel compiles it (or loads Numba's cache): no per-example deadline.
settings.register_profile("hemsim", deadline=None)
settings.load_profile("hemsim")

ROOT = Path(__file__).resolve().parents[1]
HEMSIM = str(Path(sys.executable).parent / "hemsim")


def small_config(students: int = 20_000, years: int = 6, seed: int = 1, scenario: str = "baseline",
                 backend: str = "numba", **world) -> Config:
    """A small default world running the named scenario (levers read from conf/scenario/NAME.yaml)."""
    cfg = Config()
    cfg.world.students = students
    for k, v in world.items():
        setattr(cfg.world, k, v)
    cfg.years, cfg.seed, cfg.backend, cfg.progress = years, seed, backend, False
    cfg.scenario = copy.deepcopy(scenario_config(scenario))  # tests may change their copy's levers
    return validate(cfg)


@lru_cache(maxsize=None)
def scenario_config(name: str):
    from omegaconf import OmegaConf

    from sim.config import ScenarioConfig
    schema = OmegaConf.structured(ScenarioConfig)
    return OmegaConf.to_object(OmegaConf.merge(schema, OmegaConf.load(ROOT / "conf" / "scenario" / f"{name}.yaml")))


@lru_cache(maxsize=None)
def _run(key: tuple):
    from sim.model import HemsimModel
    scenario, kwargs = key[0], dict(key[1:])
    return HemsimModel(small_config(scenario=scenario, **kwargs)).run()


def run(scenario: str = "baseline", **kwargs):
    """Results of a small run, cached across tests: same arguments, same (deterministic) results."""
    return _run((scenario, *sorted(kwargs.items())))


def final(results, metric: str, countries=None, window: int = 3) -> float:
    """A metric's yearly mean over the last `window` recorded years: WORLD, or summed over `countries`."""
    m = results.metrics.to_pandas()
    m = m[(m.metric == metric) & (m.year > m.year.max() - window)]
    m = m[m.country.isin(countries)] if countries else m[m.country == "WORLD"]
    return m.value.sum() / window


def levers(*items: dict) -> list[Lever]:
    return [Lever(**copy.deepcopy(i)) for i in items]


@pytest.fixture
def hemsim_env():
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return env


@pytest.fixture(scope="session", autouse=True)
def spin_up_cache(tmp_path_factory):
    """The suite's own spin-up cache (sim/spin_up.py), not the user's: every model and command the tests
    start (subprocesses inherit the environment) shares it, and it goes with pytest's temporary files."""
    old = os.environ.get("HEMSIM_CACHE_DIR")
    os.environ["HEMSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("hemsim-cache"))
    yield
    if old is None:
        os.environ.pop("HEMSIM_CACHE_DIR", None)
    else:
        os.environ["HEMSIM_CACHE_DIR"] = old

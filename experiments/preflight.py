"""Check a command line's configs before Hydra runs anything.

Hydra reports a bad override with a traceback-like message and exit status 1, after it may
have created run directories. hemsim's contract is stricter: a config that cannot be right
stops before any simulation with one line that names the key and the allowed values, exit
status 2, nothing written. So every config a command would run (each point of a sweep, or
each value of each swept key when the sweep is large) is composed and validated here first.
"""

import dataclasses
import itertools
import sys

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import Config
from sim.errors import ConfigError, UserError
from sim import params as sim_params
from sim.params import explain, first_line, missing_option, to_config

from hydra_plugins.hemsim_launcher import launchers  # noqa: E402

CONF_DIR = sim_params.CONF_DIR
# the schemas every hemsim config is checked against: registered once, for every entry point
ConfigStore.instance().store(name="base_config", node=Config)
launchers.register()
PASS_THROUGH_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                      "--version", "--resolve", "--package", "-p"}
MAX_POINTS = 64  # larger sweeps are checked value by value rather than point by point


def fail(message: str) -> None:
    print(f"hemsim: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check(argv: list[str]) -> None:
    """Exit 2 with one line if any config the command line asks for is invalid."""
    if any(a in PASS_THROUGH_FLAGS or a.startswith("--config") for a in argv):
        return
    overrides = [a for a in argv if not a.startswith("-") and not a.startswith("hydra")]
    hydra_overrides = [a for a in argv if a.startswith("hydra")]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        params = _sweep_params(overrides, hydra_overrides)
        if "-m" in argv or "--multirun" in argv:
            given = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
            overrides = overrides + [f"{k}={v}" for k, v in params.items() if k not in given]
        _check_points(overrides)


def _sweep_params(overrides: list[str], hydra_overrides: list[str]) -> dict:
    """Compose once with the hydra options (launcher, sweep file) to check them; the sweep file's params."""
    fixed = [o for o in overrides if "," not in o and "(" not in o]
    try:
        cfg = compose(config_name="config", overrides=fixed + hydra_overrides, return_hydra_config=True)
    except MissingConfigException as e:
        fail(missing_option(e, overrides + hydra_overrides))
    except (HydraException, OmegaConfBaseException) as e:
        fail(explain(e, overrides + hydra_overrides, _fields_of))
    params = OmegaConf.select(cfg, "hydra.sweeper.params", default=None)
    sweep = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("sweep=")), None)
    if sweep and not params:
        fail(f"sweep={sweep}: the sweep file declares no parameters (hydra.sweeper.params is empty)")
    return dict(params or {})


def _check_points(overrides: list[str]) -> None:
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as e:
        fail(f"cannot parse the command line: {first_line(e)}")
    axes = [list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.input_line.split("=", 1)[1]]
            for o in parsed]
    keys = [o.input_line.split("=", 1)[0] for o in parsed]
    for a, values in zip(keys, axes):
        if not values:
            fail(f"{a}: the sweep has no values")
    for point in _points(axes):
        _check_one([f"{k}={v}" for k, v in zip(keys, point)])


def _points(axes: list[list[str]]):
    total = 1
    for values in axes:
        total *= len(values)
    if total <= MAX_POINTS:
        return list(itertools.product(*axes))
    firsts = [values[0] for values in axes]
    return [tuple(firsts[:i] + [v] + firsts[i + 1:]) for i, values in enumerate(axes) for v in values]


def _check_one(overrides: list[str]) -> None:
    try:
        cfg = compose(config_name="config", overrides=overrides)
        config = to_config(cfg)
        from sim.model import build_world  # the world's country codes and groups check scenario levers
        from sim.policies import build_tables
        build_tables(config.scenario.levers, build_world(config), config.start_year, config.years)
    except UserError as e:
        fail(str(e))
    except MissingConfigException as e:
        fail(missing_option(e, overrides))
    except (HydraException, OmegaConfBaseException) as e:
        fail(explain(e, overrides, _fields_of))


def _fields_of(class_name: str) -> list[str]:
    """Fields of a launcher's config class, by name (for hydra.launcher.* keys)."""
    from hydra_plugins.hemsim_launcher.launchers import LocalLauncherConf, SlurmLauncherConf
    for cls in (LocalLauncherConf, SlurmLauncherConf):
        if cls.__name__ == class_name:
            return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    return []


__all__ = ["check", "fail", "to_config", "ConfigError"]

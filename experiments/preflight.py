"""Check a command line's configs before Hydra runs anything.

Hydra reports a bad override with a traceback-like message and exit status 1, after it may
have created run directories. hemsim's contract is stricter: a config that cannot be right
stops before any simulation with one line that names the key and the allowed values, exit
status 2, nothing written. So every config a command would run (each point of a sweep, or
each value of each swept key when the sweep is large) is composed and validated here first.
"""

import dataclasses
import difflib
import itertools
import re
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from omegaconf import OmegaConf, open_dict
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


CONFIG_FLAGS = {"--config-dir": "dir", "-cd": "dir", "--config-name": "name", "-cn": "name",
                "--config-path": "path", "-cp": "path"}


def _config_flags(argv: list[str]) -> tuple[list[str], dict]:
    """argv without Hydra's --config-* flags, and their values (both `--flag value` and `--flag=value`)."""
    rest, flags, i = [], {}, 0
    while i < len(argv):
        a = argv[i]
        name, eq, value = a.partition("=")
        if name in CONFIG_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    fail(f"{a}: needs a value")
                i, value = i + 1, argv[i + 1]
            flags[CONFIG_FLAGS[name]] = value
        else:
            rest.append(a)
        i += 1
    return rest, flags


def check(argv: list[str]) -> None:
    """Exit 2 with one line if any config the command line asks for is invalid. With --config-dir or
    --config-name the same checks run on the config Hydra will compose (that folder searched first)."""
    if any(a in PASS_THROUGH_FLAGS for a in argv):
        return
    argv, flags = _config_flags(argv)
    if "path" in flags:
        fail(f"--config-path={flags['path']}: use --config-dir (a folder searched before hemsim's conf/)")
    overrides = [a for a in argv if not a.startswith("-") and not a.startswith("hydra")]
    hydra_overrides = [a for a in argv if a.startswith("hydra")]
    if "dir" in flags:
        if not Path(flags["dir"]).is_dir():
            fail(f"--config-dir={flags['dir']}: no such folder")
        hydra_overrides.append(f"hydra.searchpath=[file://{Path(flags['dir']).resolve()}]")
    for o in overrides:
        _check_form(o)
    global CONFIG_NAME
    CONFIG_NAME = flags.get("name", "config")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        global HYDRA_OVERRIDES
        HYDRA_OVERRIDES = [o for o in hydra_overrides if o.startswith("hydra.searchpath")]
        params = _sweep_params(overrides, hydra_overrides)
        if "-m" in argv or "--multirun" in argv:
            given = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
            overrides = overrides + [f"{k}={v}" for k, v in params.items() if k not in given]
        _check_points(overrides)


CONFIG_NAME = "config"       # the primary config (--config-name)
HYDRA_OVERRIDES: list[str] = []   # hydra.searchpath (and --config-dir): where scenario files are found
GROUPS = ("world", "behaviour", "scenario", "sweep")
SCENARIO_KEYS = {"name", "description", "levers"}


def _check_no_code(cfg) -> None:
    """A config file is data: no `_target_` outside Hydra's own launcher and sweeper, no callbacks, and a
    scenario holds only name, description and levers (a `# @package _global_` scenario could set anything)."""
    callbacks = OmegaConf.select(cfg, "hydra.callbacks", default=None)
    if callbacks:
        fail(f"hydra.callbacks.{next(iter(callbacks))}: config files may not add callbacks (they run code)")
    body = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]))

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "_target_":
                    fail(f"{where}._target_={v}: config files may not name code to run")
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")
    walk(body, "")
    for source in OmegaConf.select(cfg, "hydra.runtime.config_sources", default=[]) or []:
        if source.get("provider") in ("main", "hydra.searchpath in command-line"):
            root = Path(str(source.get("path", "")).removeprefix("file://"))
            name = OmegaConf.select(cfg, "hydra.runtime.choices.scenario", default=None)
            if name and (root / "scenario" / f"{name}.yaml").is_file():
                _check_scenario_file(root / "scenario" / f"{name}.yaml")


def _check_scenario_file(path: Path) -> None:
    import yaml
    text = path.read_text()
    if "@package" in text:
        fail(f"{path}: a scenario file may not set '# @package' (it would write outside scenario:)")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data:
        fail(f"{path}: an empty scenario; give at least a name and levers (or use scenario=baseline)")
    extra = set(data) - SCENARIO_KEYS
    if extra:
        fail(f"{path}: unknown key {sorted(extra)[0]} in a scenario (allowed: {', '.join(sorted(SCENARIO_KEYS))})")


APPENDABLE = ("sweep",)   # config groups a command line may add with '+' (+sweep=default_study)


def _check_form(override: str) -> None:
    """What the schema cannot see: keys added with '+', keys deleted with '~', values that read the environment."""
    key, _, value = override.partition("=")
    name = key.lstrip("+~")
    if key.startswith("~"):
        fail(f"{override}: removing a key is not allowed (every key of hemsim's config is needed; give a value)")
    if key.startswith("+") and name not in APPENDABLE:
        close = difflib.get_close_matches(name, schema_keys(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        fail(f"{override}: '+' adds a key, and {name} is not one of hemsim's config keys{hint}; "
             f"set existing keys without '+'")
    if name in GROUPS and not re.fullmatch(r"[\w-]+(,[\w-]+)*|(glob|choice)\([\w\-*,\s]*\)", value):
        fail(f"{override}: {name} names a file of conf/{name}/ (letters, digits, _ -), not a path")
    if "${" in value:
        fail(f"{override}: interpolations (${{...}}) are not allowed on the command line; give the value itself")


def schema_keys() -> list[str]:
    """Every dotted key of the config schema (sim.config.Config)."""
    import typing

    def walk(cls, prefix):
        for name, t in typing.get_type_hints(cls).items():
            if dataclasses.is_dataclass(t):
                yield from walk(t, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"
    return list(walk(Config, ""))


def _sweep_params(overrides: list[str], hydra_overrides: list[str]) -> dict:
    """Compose once with the hydra options (launcher, sweep file) to check them; the sweep file's params."""
    fixed = [o for o in overrides if "," not in o and "(" not in o]
    _COMPOSED.clear()
    try:
        cfg = compose(config_name=CONFIG_NAME, overrides=fixed + hydra_overrides, return_hydra_config=True)
        _COMPOSED[tuple(fixed + hydra_overrides)] = cfg
    except MissingConfigException as e:
        fail(missing_option(e, overrides + hydra_overrides))
    except (HydraException, OmegaConfBaseException) as e:
        fail(explain(e, overrides + hydra_overrides, _fields_of))
    _check_launcher(OmegaConf.select(cfg, "hydra.launcher", default=None))
    params = OmegaConf.select(cfg, "hydra.sweeper.params", default=None)
    sweep = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("sweep=")), None)
    if sweep and not params:
        fail(f"sweep={sweep}: the sweep file declares no parameters (hydra.sweeper.params is empty)")
    return dict(params or {})


def _check_launcher(launcher) -> None:
    """The launcher's numbers: positive worker counts, finite positive intervals."""
    if launcher is None:
        return
    for key in ("n_jobs", "array_parallelism", "timeout_min", "cpus_per_task", "mem_gb", "nodes", "tasks_per_node"):
        value = OmegaConf.select(launcher, key, default=None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            fail(f"hydra.launcher.{key}={value}: must be a whole number >= 1")
    for key in ("poll_seconds", "lost_after_seconds"):
        value = OmegaConf.select(launcher, key, default=None)
        if value is not None and not (isinstance(value, (int, float)) and 0 < value < float("inf")):
            fail(f"hydra.launcher.{key}={value}: must be a finite number > 0")


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


# The config _sweep_params composed, by its overrides: a point with exactly those overrides (a command without a
# sweep or hydra options: the usual in-process check) takes it instead of composing the same config again; once.
_COMPOSED: dict = {}


def _check_one(overrides: list[str]) -> None:
    try:
        cfg = _COMPOSED.pop(tuple([*overrides, *HYDRA_OVERRIDES]), None) or \
            compose(config_name=CONFIG_NAME, overrides=[*overrides, *HYDRA_OVERRIDES], return_hydra_config=True)
        _check_no_code(cfg)
        with open_dict(cfg):             # composed once: the checks above read the hydra node, the run not
            del cfg["hydra"]
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

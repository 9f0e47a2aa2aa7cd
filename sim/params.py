"""Keyword parameters -> a validated Config, the same way as the command line.

`HemsimModel(scenario="open_visas", seed=1, years=3, **{"world.students": 20000})` and
`hemsim scenario=open_visas seed=1 years=3 world.students=20000` compose the same config: the
keyword parameters become Hydra overrides of `conf/config.yaml` (a config group such as
`scenario=` or `world=` names a file in `conf/<group>/`, a dotted key sets one value), composed
with Hydra's compose API and checked by `sim.config.validate`. Anything wrong raises
`ConfigError` (a `ValueError`) with one line naming the key and what is allowed.

Hydra is imported only here, when a model is built from keywords; a model built from a
`Config` object needs none of it.
"""

import dataclasses
import re
from pathlib import Path

from sim.config import Config
from sim.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ("world", "behaviour", "scenario")  # config groups: a value names a file in conf/<group>/


def override(key: str, value) -> str:
    """A Hydra override for one keyword parameter."""
    if key.startswith("hydra") or not re.fullmatch(r"[A-Za-z_][\w.]*", key):
        raise ConfigError(f"{key}: not a config key (keys look like seed, years, scenario or world.students)")
    return f"{key}={_value(key, value)}"


def _value(key: str, value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(key, v) for v in value) + "]"
    if isinstance(value, str):
        if key in GROUPS and re.fullmatch(r"[\w-]+", value):
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise ConfigError(f"{key}={value!r}: a {type(value).__name__} is not a config value "
                      f"(allowed: numbers, strings, booleans, lists of them)")


def config_from(params: dict) -> Config:
    """The validated Config that these keyword parameters compose to (see the module docstring)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException, MissingConfigException
    from hydra.initialize import get_gh_backup, restore_gh_from_backup
    from omegaconf.errors import OmegaConfBaseException

    overrides = [override(k, v) for k, v in params.items()]
    ConfigStore.instance().store(name="base_config", node=Config)
    backup = get_gh_backup()   # a model may be built inside a Hydra app (a sweep's task): leave its state alone
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            # the basic launcher: the model needs no sweep launcher (nor its plugins)
            cfg = compose(config_name="config", overrides=[*overrides, "hydra/launcher=basic"])
        return to_config(cfg)
    except MissingConfigException as e:
        raise ConfigError(missing_option(e, overrides)) from None
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(explain(e, overrides)) from None
    finally:
        restore_gh_from_backup(backup)


def to_config(cfg) -> Config:
    """A composed DictConfig (without its hydra node) as a validated `Config` object."""
    from omegaconf import OmegaConf
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg.keys() if k != "hydra"]) if "hydra" in cfg else cfg
    from sim.parameter_draws import resolve
    return resolve(OmegaConf.to_object(cfg))


# ---- one-line explanations of Hydra's and OmegaConf's errors ---------------------------------------
def missing_option(e, overrides: list[str]) -> str:
    """An unknown file of a config group: name the group's files."""
    missing = e.missing_cfg_file or ""
    for o in overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if missing.rsplit("/", 1)[0] == key or missing.split("/")[0] == key:
            options = sorted(p.stem for p in (CONF_DIR / key).glob("*.yaml"))
            return f"unknown {key} '{value}' (allowed: {', '.join(options)})"
    return first_line(e)


def explain(e: Exception, overrides: list[str], fields_of=lambda class_name: []) -> str:
    """An unknown key (with the keys allowed there), a value of the wrong type, or Hydra's first line.
    `fields_of(class_name)` lists the keys of a hydra.* node (the command line's launchers)."""
    from omegaconf.errors import ConfigKeyError, ValidationError

    cause = e.__cause__ or e.__context__ or e
    key = getattr(cause, "full_key", None)
    unknown = re.search(r"Key '([^']+)' not in", str(cause))
    if unknown and not key:  # find the override that named it
        key = next((k for k in (o.split("=", 1)[0].lstrip("+~") for o in overrides)
                    if k.split(".")[-1] == unknown.group(1)), unknown.group(1))
    if (isinstance(cause, ConfigKeyError) or unknown) and key:
        parent, _, leaf = key.rpartition(".")
        owner = re.search(r"not in '(\w+)'", str(cause))
        import sim.config as schema
        node = getattr(schema, owner.group(1), None) if owner else None
        if node is not None and dataclasses.is_dataclass(node) \
                and [f.name for f in dataclasses.fields(node)] != fields_at(parent):   # in a list item: a lever
            allowed = [f.name for f in dataclasses.fields(node)]
            return f"unknown key '{key}' (allowed in a {owner.group(1).removesuffix('Config').lower()}: " \
                   f"{', '.join(allowed)})"
        allowed = fields_of(owner.group(1)) if owner and parent.startswith("hydra") else fields_at(parent)
        return f"unknown key '{key}'" + (f" (allowed under {parent or 'the top level'}: {', '.join(allowed)})"
                                         if allowed else "")
    if isinstance(cause, ValidationError) and key:
        value = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+") == key), "?")
        return f"{key}={value}: {first_line(cause)}"
    return first_line(cause)


def fields_at(path: str) -> list[str]:
    """The keys allowed under a dotted path of the schema."""
    node = Config
    for part in [p for p in path.split(".") if p]:
        fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
        if part not in fields:
            return []
        node = fields[part].type
    return [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else []


def first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__

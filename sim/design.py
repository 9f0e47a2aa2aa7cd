"""A design of uncertainties: the behaviour parameters and policy levers that vary, with their ranges, and the
outcomes measured (conf/uncertainty/<name>.yaml). EMA points, sensitivity analyses, the emulator and the
parameter draws of a study (sim/parameter_draws.py) read it; it sits below all of them."""

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.config import Config
from sim.errors import ConfigError
from sim.policies import LEVERS

DESIGN_DIR = Path(__file__).resolve().parents[1] / "conf" / "uncertainty"


@dataclass(frozen=True)
class Design:
    """What varies and what is measured: config key -> (low, high); lever -> (low, high); outcomes;
    `unanchored`: the parameters with no published magnitude (declared uncertainties: a range and why), whose
    share of an effect's variance the sensitivity analysis and the comparison report flag."""
    name: str
    parameters: dict
    levers: dict
    outcomes: tuple
    lever_start: int = 1
    final_years: int = 3
    unanchored: tuple = ()


def load_design(name: str = "default") -> Design:
    """conf/uncertainty/<name>.yaml (or a path to a design file), checked: every key, lever and outcome
    known, every range finite and increasing and within the lever's own range (ConfigError naming the
    file and key otherwise)."""
    from sim.results import METRIC_ORDER
    path = Path(name) if str(name).endswith((".yaml", ".yml")) else DESIGN_DIR / f"{name}.yaml"
    if not path.is_file():
        found = ", ".join(sorted(p.stem for p in DESIGN_DIR.glob("*.yaml")))
        raise ConfigError(f"design={name}: no {path} (designs: {found}, or a path to a .yaml file)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not a readable YAML design ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a design is a mapping with parameters, levers and outcomes")
    unknown = set(raw) - {"parameters", "levers", "outcomes", "lever_start", "final_years", "unanchored"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]} (allowed: parameters, levers, outcomes, "
                          f"lever_start, final_years, unanchored)")
    parameters = {k: _range(path, f"parameters.{k}", v) for k, v in (raw.get("parameters") or {}).items()}
    levers = {k: _range(path, f"levers.{k}", v) for k, v in (raw.get("levers") or {}).items()}
    for lever, (low, high) in levers.items():
        if lever not in LEVERS:
            raise ConfigError(f"{path}: levers.{lever}: not a lever (levers: {', '.join(LEVERS)})")
        spec = LEVERS[lever]
        if spec.unit == "flag":
            raise ConfigError(f"{path}: levers.{lever}: a flag (0 or 1), not a range to sample; set it in a scenario")
        if low < spec.low or high > spec.high:
            raise ConfigError(f"{path}: levers.{lever}=[{low}, {high}]: outside the lever's range "
                              f"[{spec.low}, {spec.high}]")
    outcomes = tuple(raw.get("outcomes") or ())
    for o in outcomes:
        if o not in METRIC_ORDER:
            raise ConfigError(f"{path}: outcomes: {o} is not a metric (metrics: {', '.join(METRIC_ORDER[:6])}, ...)")
    if not outcomes:
        raise ConfigError(f"{path}: outcomes: name at least one metric")
    unanchored = raw.get("unanchored") or []
    if not isinstance(unanchored, list):
        raise ConfigError(f"{path}: unanchored: a list of parameter keys")
    for key in unanchored:
        if key not in parameters:
            raise ConfigError(f"{path}: unanchored: {key} is not one of the design's parameters")
    design = Design(name, parameters, levers, outcomes, int(raw.get("lever_start", 1)), int(raw.get("final_years", 3)),
                    tuple(unanchored))
    base = Config()
    for key in parameters:                                    # every parameter is a number in the config
        if not isinstance(_get(base, key, path), (int, float)):
            raise ConfigError(f"{path}: parameters.{key}: not a numeric config value")
    return design


def _range(path, key: str, value) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {key}={value!r}: must be [low, high], two numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"{path}: {key}=[{low}, {high}]: must be finite with low < high")
    return low, high


def _get(cfg, key: str, where):
    obj = cfg
    for part in key.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{where}: {key}: not a config key")
        obj = getattr(obj, part)
    return obj


def set_key(cfg, key: str, value) -> None:
    """Set a dotted numeric key of a config (behaviour.choice.cost) in place, as the kind of number it holds:
    the one setter of design points, parameter draws and posterior particles. An unknown key is a one-line
    ConfigError listing the keys allowed where it points."""
    *path, leaf = key.split(".")
    node = cfg
    for part in path:
        node = getattr(node, part, None)
    if node is None or not dataclasses.is_dataclass(node) or leaf not in {f.name for f in dataclasses.fields(node)}:
        allowed = [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else []
        raise ConfigError(f"unknown key '{key}'" + (f" (allowed under {'.'.join(path)}: {', '.join(allowed)})"
                                                    if allowed else ""))
    setattr(node, leaf, type(getattr(node, leaf))(value))

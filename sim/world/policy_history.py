"""The real world's policy history as dated levers (sim/world/policy_history.yaml).

International tuition (with who is exempt), post-study work years and the coded visa regime of the
destinations listed, year by year, each spell with its source; and free-movement areas, within which no
visa binds and graduates may stay to work. The history compiles into levers of the
scenario kind (sim/policies.py), applied before a scenario's: the real world's baseline follows the
calendar, and a scenario (or a backtest's counterfactual) changes it from there.

Tuition is a lever on the tuition universities charge (`tuition_factor`, a corridor's lever): a spell
of `usd` sets the factor of each destination so that its universities' capacity-weighted mean
international tuition is `usd` for the origins that pay it and `home_usd` (default 0) for the exempt ones.
"""

from pathlib import Path

import numpy as np

from sim.config import Lever, number_in
from sim.errors import ConfigError

HISTORY_FILE = Path(__file__).with_name("policy_history.yaml")
SERIES = {"tuition": "tuition_factor", "post_study_work": "post_study_work_years", "visa": "visa_openness"}


def load(path: Path = HISTORY_FILE) -> dict:
    """The history file, checked: every spell has a year, a value and a source (one-line errors otherwise)."""
    import yaml
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("destinations"), dict):
        raise ConfigError(f"{path}: needs a mapping `destinations` (code -> series)")
    regimes = doc.get("visa_regimes") or {}
    for name, value in regimes.items():
        number_in(value, f"{path}: visa_regimes.{name}", 0.0, 1.0)
    for i, area in enumerate(doc.get("free_movement") or []):
        where = f"{path}: free_movement[{i}]"
        if not isinstance(area, dict) or not str(area.get("group") or "").strip():
            raise ConfigError(f"{where}.group: needs a group of sim/world/country_groups.yaml")
        if not str(area.get("source") or "").strip():
            raise ConfigError(f"{where}: no source (every rule of the history cites one)")
        if area.get("visa") not in regimes:
            raise ConfigError(f"{where}.visa={area.get('visa')}: unknown regime (allowed: {', '.join(regimes)})")
        number_in(area.get("post_study_work"), f"{where}.post_study_work", 0.0, 10.0)
    for code, series in doc["destinations"].items():
        for name, spells in series.items():
            where = f"{path}: destinations.{code}.{name}"
            if name not in SERIES:
                raise ConfigError(f"{where}: unknown series (allowed: {', '.join(SERIES)})")
            if not isinstance(spells, list) or not spells:
                raise ConfigError(f"{where}: needs a list of spells {{from, ..., source}}")
            years = [_year(s, f"{where}[{i}]") for i, s in enumerate(spells)]
            if years != sorted(set(years)):
                raise ConfigError(f"{where}: spells must start in increasing years (got {years})")
            for i, spell in enumerate(spells):
                w = f"{where}[{i}]"
                if not str(spell.get("source") or "").strip():
                    raise ConfigError(f"{w}: no source (every spell of the history cites one)")
                if name == "tuition":
                    number_in(spell.get("usd"), f"{w}.usd", 0.0, 1e6)
                    number_in(spell.get("home_usd", 0.0), f"{w}.home_usd", 0.0, 1e6)
                elif name == "post_study_work":
                    number_in(spell.get("years"), f"{w}.years", 0.0, 10.0)
                elif spell.get("regime") not in regimes:
                    raise ConfigError(f"{w}.regime={spell.get('regime')}: unknown (allowed: {', '.join(regimes)})")
    return doc


def levers(world, doc: dict | None = None) -> list[Lever]:
    """The history as levers for `world` (destinations absent from it are skipped: they are listed in
    its `excluded` by the world builder)."""
    doc = load() if doc is None else doc
    index = {c: i for i, c in enumerate(world.codes)}
    seats = np.bincount(world.univ_country, world.univ_capacity, world.n_countries).astype(float)
    mean_tuition = np.bincount(world.univ_country, world.univ_tuition_intl * world.univ_capacity,
                               world.n_countries) / np.maximum(seats, 1.0)
    out = []
    for code, series in doc["destinations"].items():
        if code not in index:
            continue
        for name, spells in series.items():
            for spell, following in zip(spells, spells[1:] + [None]):
                start = None if spell is spells[0] else int(spell["from"])
                end = None if following is None else int(following["from"]) - 1
                at = dict(lever=SERIES[name], countries=code, start=start, end=end)
                if name == "tuition":
                    per_dollar = 1.0 / max(mean_tuition[index[code]], 1.0)
                    exempt = spell.get("exempt", "none")
                    if exempt == "none":
                        out.append(Lever(value=spell["usd"] * per_dollar, origins="all", **at))
                    else:
                        others = [f"non_{exempt}"] if isinstance(exempt, str) else _complement(exempt, world.codes)
                        out.append(Lever(value=spell["usd"] * per_dollar, origins=others, **at))
                        out.append(Lever(value=spell.get("home_usd", 0.0) * per_dollar, origins=exempt, **at))
                elif name == "post_study_work":
                    out.append(Lever(value=float(spell["years"]), **at))
                else:
                    out.append(Lever(value=float(doc["visa_regimes"][spell["regime"]]), **at))
    for area in doc.get("free_movement") or []:        # last: the destinations' rules bind the rest of the world
        if area["group"] not in world.groups:
            continue
        members = dict(countries=area["group"], origins=area["group"])
        out.append(Lever(lever="visa_openness", value=float(doc["visa_regimes"][area["visa"]]), **members))
        out.append(Lever(lever="post_study_work_years", value=float(area["post_study_work"]), **members))
    return out


def free_movement(world, doc: dict | None = None) -> np.ndarray:
    """(C, C) bool: origin and destination both members of one of the history's free-movement areas (the
    choice's `free_movement` term replaces post-study work there: sim/mechanisms/library/destinations.py)."""
    doc = load() if doc is None else doc
    inside = np.zeros((world.n_countries, world.n_countries), bool)
    for area in doc.get("free_movement") or []:
        members = world.groups.get(area["group"], np.array([], np.int64))
        inside[np.ix_(members, members)] = True
    np.fill_diagonal(inside, False)
    return inside


def _complement(codes, every) -> list[str]:
    return [c for c in every if c not in set(codes)]


def _year(spell, where: str) -> int:
    if not isinstance(spell, dict) or not isinstance(spell.get("from"), int) or not 1950 <= spell["from"] <= 2100:
        raise ConfigError(f"{where}.from: needs a calendar year (1950-2100)")
    return spell["from"]

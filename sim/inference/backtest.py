"""Backtests: the real world run through a past policy change, with and without it, against what happened.

A case (conf/backtest/*.yaml) names a destination, the year a policy changed there (the change is in the
real world's policy history, sim/world/policy_history.yaml), the levers that undo it (the counterfactual
run) and its outcomes. Each outcome is measured twice:
- observed: from the data by a stated counterfactual (`counterfactual.pre_trend` and
  `counterfactual.synthetic_control` on the UIS inbound totals, or on a series the case gives), or a
  published magnitude the case cites with its own before-after or difference-in-differences comparison;
- simulated: the real world from the case's start year (a backcast world before 2013), with the history
  and with the change undone, at the same seeds (common random numbers: the difference is the policy's),
  over several seeds and both backcasts; the effect is the ratio of the sums minus one, its band the
  range of the single runs.
Effects are relative changes (-0.79: 79% fewer). UIS reference years are academic years ending in the
year (UIS 2013 = 2012/13), a model year the one whose academic year starts in it: `UIS_LAG`.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import fpmath
from sim.config import Config, Lever, ScenarioConfig, number_in
from sim.errors import ConfigError
from sim.inference import counterfactual
from sim.policies import LEVERS, country_indices

UIS_LAG = 1                        # UIS year = model year + 1
MEASURES = ("entrants", "enrolled")  # new degree students of the year | international degree students enrolled
FLOW_OF = {"entrants": "degree", "enrolled": "enrolled"}
OBSERVED_KINDS = ("cited", "uis", "series")
ESTIMATORS = ("pre_trend", "synthetic_control")
BACKCASTS = ("uis_year", "uis_smoothed")


@dataclass(frozen=True)
class Outcome:
    name: str
    measure: str
    origins: object            # a selector (sim/policies.py): all, a group, non_<group>, a code, a list
    year: int                  # model calendar year
    observed: dict
    weight: float = 1.0
    relative_to: object = None  # a selector: the effect relative to theirs (difference in differences)


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    destination: str
    event_year: int
    start_year: int
    without: tuple              # Levers undoing the change
    without_description: str
    outcomes: tuple
    notes: str
    path: Path

    @property
    def last_year(self) -> int:
        return max(o.year for o in self.outcomes)


# ---- case files ------------------------------------------------------------------------------------------
def load_cases(folder: Path) -> list[Case]:
    """Every case file of `folder` (*.yaml, in name order), checked; a bad one is refused in one line."""
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise ConfigError(f"{folder}: no backtest case files (*.yaml)")
    cases = [load_case(f) for f in files]
    seen = {}
    for c in cases:
        if c.name in seen:
            raise ConfigError(f"{c.path}: name {c.name} is also the name of {seen[c.name]}")
        seen[c.name] = c.path
    return cases


def load_case(path: Path) -> Case:
    import yaml
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not a readable YAML case file ({' '.join(str(e).split())[:120]})") from e
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a case file is a mapping (name, destination, event_year, ...)")
    for key in ("name", "title", "destination", "event_year", "start_year", "without", "outcomes"):
        if key not in doc:
            raise ConfigError(f"{path}: missing key `{key}`")
    event, start = _int(doc["event_year"], f"{path}: event_year"), _int(doc["start_year"], f"{path}: start_year")
    if not start < event:
        raise ConfigError(f"{path}: start_year={start} must be before event_year={event} (the run starts before it)")
    without = doc["without"] if isinstance(doc["without"], dict) else {}
    levers = without.get("levers")
    if not isinstance(levers, list) or not levers:
        raise ConfigError(f"{path}: without.levers needs the list of levers that undo the change")
    outs = doc["outcomes"]
    if not isinstance(outs, list) or not outs:
        raise ConfigError(f"{path}: outcomes needs a list of outcomes")
    outcomes = tuple(_outcome(o, f"{path}: outcomes[{i}]", start) for i, o in enumerate(outs))
    return Case(name=str(doc["name"]), title=str(doc["title"]), destination=str(doc["destination"]),
                event_year=event, start_year=start,
                without=tuple(_lever(x, f"{path}: without.levers[{i}]") for i, x in enumerate(levers)),
                without_description=str(without.get("description", "")), outcomes=outcomes,
                notes=str(doc.get("notes", "")), path=Path(path))


def _outcome(o, where: str, start: int) -> Outcome:
    if not isinstance(o, dict):
        raise ConfigError(f"{where}: an outcome is a mapping (name, measure, origins, year, observed)")
    for key in ("name", "measure", "year", "observed"):
        if key not in o:
            raise ConfigError(f"{where}: missing key `{key}`")
    if o["measure"] not in MEASURES:
        raise ConfigError(f"{where}.measure={o['measure']}: unknown (allowed: {', '.join(MEASURES)})")
    year = _int(o["year"], f"{where}.year")
    if year < start:
        raise ConfigError(f"{where}.year={year}: before the case's start_year={start}")
    obs = o["observed"]
    if not isinstance(obs, dict) or obs.get("kind") not in OBSERVED_KINDS:
        raise ConfigError(f"{where}.observed.kind={obs.get('kind') if isinstance(obs, dict) else obs}: "
                          f"unknown (allowed: {', '.join(OBSERVED_KINDS)})")
    if obs["kind"] in ("cited", "series") and not str(obs.get("source") or "").strip():
        raise ConfigError(f"{where}.observed.source: missing (an observed magnitude from outside the data "
                          "directory cites its source)")
    if obs["kind"] == "cited":
        number_in(obs.get("effect"), f"{where}.observed.effect", -1.0, 100.0)
        if not str(obs.get("counterfactual") or "").strip():
            raise ConfigError(f"{where}.observed.counterfactual: missing (say what the cited change compares with)")
    else:
        _int(obs.get("year"), f"{where}.observed.year")
        _int(obs.get("pre_until"), f"{where}.observed.pre_until")
        if obs.get("estimator", "pre_trend") not in ESTIMATORS:
            raise ConfigError(f"{where}.observed.estimator={obs.get('estimator')}: unknown (allowed: "
                              f"{', '.join(ESTIMATORS)})")
        if obs["kind"] == "series":
            series = obs.get("series")
            if not isinstance(series, dict) or len(series) < 3:
                raise ConfigError(f"{where}.observed.series: needs {{year: value}} for at least 3 years")
            for y, v in series.items():
                _int(y, f"{where}.observed.series key")
                number_in(v, f"{where}.observed.series.{y}", 0.0, 1e12)
    weight = number_in(o.get("weight", 1.0), f"{where}.weight", 0.0, 100.0)
    return Outcome(name=str(o["name"]), measure=o["measure"], origins=o.get("origins", "all"), year=year,
                   observed=dict(obs), weight=weight, relative_to=o.get("relative_to"))


def _lever(x, where: str) -> Lever:
    if not isinstance(x, dict) or x.get("lever") not in LEVERS:
        raise ConfigError(f"{where}.lever={x.get('lever') if isinstance(x, dict) else x}: unknown lever (allowed: "
                          f"{', '.join(LEVERS)})")
    unknown = set(x) - {f.name for f in dataclasses.fields(Lever)}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    number_in(x.get("value"), f"{where}.value", -1e6, 1e6)
    return Lever(**x)


def check_selectors(case: Case, world) -> None:
    """Every selector of the case resolves in `world` (a one-line error naming the key otherwise)."""
    where = f"{case.path}"
    country_indices(case.destination, world.codes, world.groups, f"{where}: destination")
    for i, o in enumerate(case.outcomes):
        country_indices(o.origins, world.codes, world.groups, f"{where}: outcomes[{i}].origins")
        if o.relative_to is not None:
            country_indices(o.relative_to, world.codes, world.groups, f"{where}: outcomes[{i}].relative_to")
    for i, lever in enumerate(case.without):
        for key in ("countries", "origins", "destinations"):
            if getattr(lever, key) is not None:
                country_indices(getattr(lever, key), world.codes, world.groups, f"{where}: without.levers[{i}].{key}")


def _int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}={value}: needs a whole number (a calendar year)")
    return value


# ---- observed effects --------------------------------------------------------------------------------------
def observed_effects(case: Case, outcome: Outcome, uis: pd.DataFrame) -> dict[str, counterfactual.Counterfactual | float]:
    """{estimator: Counterfactual} of an outcome measured on a series, {"cited": effect} of a cited one; the
    primary estimator first."""
    obs = outcome.observed
    if obs["kind"] == "cited":
        return {"cited": float(obs["effect"])}
    wide = uis.pivot_table(index="year", columns="country", values="inbound")
    if obs["kind"] == "uis":
        if case.destination not in wide:
            raise ConfigError(f"{case.path}: no UIS inbound totals for {case.destination}")
        series = wide[case.destination]
    else:
        series = pd.Series({int(y): float(v) for y, v in obs["series"].items()}).sort_index()
    event, year, window = int(obs["pre_until"]) + 1, int(obs["year"]), int(obs.get("window", 6))
    primary = obs.get("estimator", "pre_trend")
    out = {"pre_trend": counterfactual.pre_trend(series, event, year, window)}
    donors = [d for d in obs.get("donors", []) if d in wide and d != case.destination]
    if donors:
        out["synthetic_control"] = counterfactual.synthetic_control(series, wide[donors], event, year, window)
    if primary not in out:
        raise ConfigError(f"{case.path}: outcome {outcome.name}: estimator {primary} needs donors")
    return {primary: out[primary]} | {k: v for k, v in out.items() if k != primary}


def effect_of(estimate) -> float:
    return float(estimate) if isinstance(estimate, float) else estimate.effect


# ---- simulated effects -------------------------------------------------------------------------------------
def case_config(base: Config, case: Case, seed: int, backcast: str, undone: bool) -> Config:
    """The run of a case: the base config from the case's start year to its last outcome year, with the
    change undone or not."""
    scenario = ScenarioConfig(name=f"{case.name}_{'without' if undone else 'with'}",
                              description=case.without_description if undone else "the policy history",
                              levers=list(case.without) if undone else [])
    return dataclasses.replace(base, seed=seed, start_year=case.start_year,
                               years=case.last_year - case.start_year + 1, progress=False,
                               world=dataclasses.replace(base.world, backcast=backcast, start_from="spin_up"),
                               scenario=scenario)


_worlds: dict = {}


def world_for(cfg: Config, resolve: bool = True):
    """The world of a run, built once per start year, backcast and behaviour (the with and without runs share
    it); `resolve`: its destination and origin constants re-solved for the behaviour on expected flows
    (levels.resolve_expected), so that a trial's responses do not move the start year's stocks. The fit of
    the re-solve is the world's `level_fit`."""
    from sim.inference.levels import resolve_expected
    from sim.model import build_world
    w = cfg.world
    key = (w.data_dir, w.scale, w.seed, w.universities, w.researchers, w.backcast, cfg.start_year, resolve,
           repr(cfg.behaviour), tuple(sorted(w.destination_constants.items())),
           tuple(sorted(w.origin_constants.items())))
    if key not in _worlds:
        if len(_worlds) >= 8:
            _worlds.pop(next(iter(_worlds)))
        world = build_world(cfg)
        world.level_fit = resolve_expected(_at_the_start(dataclasses.replace(cfg, years=1), world)) if resolve else {}
        _worlds[key] = world
    return _worlds[key]


def _at_the_start(cfg: Config, world):
    """A model at the start of its first year without the spin-up (the state the spin-up starts from: the
    networks and researchers of initial_state), for expected flows."""
    from sim.model import HemsimModel

    class AtTheStart(HemsimModel):
        spin_up_years = 0
    return AtTheStart(cfg, world)


def measure(flows: pd.DataFrame, world, case: Case, outcome: Outcome, origins) -> pd.Series:
    """The outcome's measure in every year of a run (students of the selected origins in the destination)."""
    codes = [world.codes[i] for i in country_indices(origins, world.codes, world.groups, "origins")]
    f = flows[(flows.kind == FLOW_OF[outcome.measure]) & (flows.destination == case.destination)
              & flows.origin.isin(codes) & (flows.origin != case.destination)]
    years = np.sort(flows.year.unique())
    return f.groupby("year").students.sum().reindex(years, fill_value=0.0)


def simulate(case: Case, base: Config, seeds, backcasts=BACKCASTS) -> pd.DataFrame:
    """Each outcome's measure with and without the change, per backcast, seed and year:
    frame[case, outcome, backcast, seed, year, with, without(, with_reference, without_reference)]."""
    from sim.model import HemsimModel
    frames = []
    for backcast in backcasts:
        for seed in seeds:
            # the change comes after the start, so both runs start from the same spun-up state (simulated once)
            world = world_for(case_config(base, case, seed, backcast, False))
            check_selectors(case, world)
            with_run = HemsimModel(case_config(base, case, seed, backcast, False), world)
            without_run = HemsimModel(case_config(base, case, seed, backcast, True), world,
                                      state=copy.deepcopy(with_run.state()))
            runs = {False: with_run.run().flows.to_pandas(), True: without_run.run().flows.to_pandas()}
            for o in case.outcomes:
                columns = {"with": measure(runs[False], world, case, o, o.origins),
                           "without": measure(runs[True], world, case, o, o.origins)}
                if o.relative_to is not None:
                    columns |= {"with_reference": measure(runs[False], world, case, o, o.relative_to),
                                "without_reference": measure(runs[True], world, case, o, o.relative_to)}
                frame = pd.DataFrame(columns).rename_axis("year").reset_index()
                frames.append(frame.assign(case=case.name, outcome=o.name, backcast=backcast, seed=seed,
                                           outcome_year=o.year))
    return pd.concat(frames, ignore_index=True)


def simulated_effects(runs: pd.DataFrame, by: tuple = ()) -> pd.DataFrame:
    """frame[case, outcome, *by, effect, low, high] at each outcome's year: the pooled effect (ratio of the
    sums over seeds and backcasts, over the reference's for a difference in differences) and the range of
    the single runs' effects."""
    def ratio(w, wo):
        return np.where(wo > 0, w / np.where(wo > 0, wo, 1.0), np.nan)

    out = []
    at = runs[runs.year == runs.outcome_year]
    for key, g in at.groupby(["case", "outcome", *by], sort=False):
        single = ratio(g["with"].to_numpy(float), g["without"].to_numpy(float))
        pooled = ratio(g["with"].sum(), g["without"].sum())
        if "with_reference" in g and g["with_reference"].notna().all():
            single = single / ratio(g.with_reference.to_numpy(float), g.without_reference.to_numpy(float))
            pooled = pooled / ratio(g.with_reference.sum(), g.without_reference.sum())
        out.append(dict(zip(["case", "outcome", *by], key)) | {
            "effect": float(pooled) - 1.0, "low": float(np.nanmin(single)) - 1.0,
            "high": float(np.nanmax(single)) - 1.0})
    return pd.DataFrame(out)


# ---- fit ---------------------------------------------------------------------------------------------------
FLOOR = -0.99       # effects below are scored as this: a corridor that empties (-100%) is very wrong, not infinitely
# Effects are compared on asinh(effect / EFFECT_SCALE): for two effects of one sign well beyond 2% the
# difference is the log of their ratio (-20% against -10% is as far as -5% against -10%, ln 2), the scale
# the cases are judged on (within 1.5x, 2x held out); through zero it stays finite, and an effect of the
# wrong sign costs more than one off by any factor of its own sign up to |effect| / EFFECT_SCALE. The log of
# 1 + effect would weigh a small effect's misses little: -21% against -12% is 0.011 there, 0.30 here.
EFFECT_SCALE = 0.02


def score(effect):
    """asinh(effect / EFFECT_SCALE), effects below FLOOR as FLOOR (dispatch-free: sim/fpmath.py)."""
    x = np.maximum(np.asarray(effect, float), FLOOR) / EFFECT_SCALE
    return np.sign(x) * fpmath.log(np.abs(x) + np.sqrt(x * x + 1.0))


def unscore(value):
    """The effect whose score is `value` (the inverse of score above FLOOR)."""
    v = np.asarray(value, float)
    return EFFECT_SCALE * (fpmath.exp(v) - fpmath.exp(-v)) / 2.0


def loss(simulated: float, observed: float) -> float:
    """Squared difference of the effects' scores (the squared log of their ratio, for effects of one sign);
    NaN (a measure with nothing to compare: no students without the change) is infinitely wrong."""
    if not np.isfinite(simulated):
        return float("inf")
    return float((score(simulated) - score(observed)) ** 2)


def objective(rows: list[dict], leave_out: str | None = None) -> float:
    """Weighted sum of the rows' losses (rows: case, outcome, weight, simulated, observed), without the rows
    of the case `leave_out`."""
    return float(sum(r["weight"] * loss(r["simulated"], r["observed"]) for r in rows if r["case"] != leave_out))

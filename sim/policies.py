"""Policies as data: levers -> per-year, per-country parameter tables the kernels read.

A scenario is a list of levers (who, what, how much, from which year to which). They are applied
in order on top of the world's defaults, so one mechanism serves every policy and a new policy
is mostly a new YAML file in `conf/scenario/`.
"""

from dataclasses import dataclass

import numpy as np

from sim.errors import ConfigError


@dataclass(frozen=True)
class LeverSpec:
    default: float | str   # a constant, or the name of the world's country array holding it
    low: float             # allowed range of a value set with mode=set
    high: float
    unit: str
    doc: str


LEVERS: dict[str, LeverSpec] = {
    "visa_openness": LeverSpec("visa_openness", 0.0, 1.0, "share",
                               "openness of the country's student visas (0 closed, 1 open); destination side"),
    "post_study_work_years": LeverSpec("post_study_work_years", 0.0, 10.0, "years",
                                       "years an international graduate may stay to work; destination side"),
    "tuition_factor": LeverSpec(1.0, 0.0, 10.0, "factor",
                                "multiplier on the tuition universities charge international students"),
    "inbound_scholarship": LeverSpec(0.0, 0.0, 1.0, "share",
                                     "share of an international student's cost the destination pays"),
    "outbound_scholarship": LeverSpec(0.0, 0.0, 1.0, "share",
                                      "share of the cost of studying abroad the origin pays its nationals"),
    "return_incentive": LeverSpec(0.0, 0.0, 1.0, "strength",
                                  "strength of the origin's incentives for graduates abroad to return"),
    "enrolment_rate": LeverSpec("enrolment_rate", 0.0, 1.0, "share",
                                "gross tertiary enrolment ratio: cohorts grow in proportion to it"),
    "capacity_growth": LeverSpec(0.0, 0.0, 0.5, "share a year",
                                 "yearly growth of university seats (enrolment expansion)"),
    "exchange_funding": LeverSpec(0.0, 0.0, 1.0, "share",
                                  "funding of exchange studies: more applicants and more funded slots"),
    "exchange_agreements": LeverSpec(1.0, 0.0, 10.0, "factor",
                                     "multiplier on the exchange slots of the country's partnership agreements"),
    "regional_programme": LeverSpec(0.0, 0.0, 1.0, "flag",
                                    "1: the country joins a regional exchange programme (opens regional agreements)"),
    "internship_funding": LeverSpec(0.0, 0.0, 1.0, "share",
                                    "placement funding for overseas internships of the country's students"),
    "intl_course_target": LeverSpec(0.0, 0.0, 1.0, "share",
                                    "floor on the share of programmes taught as international courses"),
    "research_cooperation": LeverSpec(0.0, 0.0, 1.0, "strength",
                                      "funding and agreements for international research cooperation"),
    "open_science": LeverSpec(0.0, 0.0, 1.0, "share",
                              "sharing of research infrastructure and results with partners"),
    "researcher_mobility": LeverSpec(0.0, 0.0, 1.0, "strength",
                                     "grants for researchers' visits abroad"),
    "service_funding": LeverSpec(0.0, 0.0, 1.0, "strength",
                                 "funding of service partnerships with international organisations, firms, NGOs"),
    "border_closed": LeverSpec(0.0, 0.0, 1.0, "flag",
                               "1: no new international students enter or leave the country (a shock)"),
}


def country_indices(selector, codes: list[str], groups: dict[str, np.ndarray], where: str) -> np.ndarray:
    """Resolve 'all', a group name, a country code or a list of them to country indices."""
    items = selector if isinstance(selector, (list, tuple)) else [selector]
    index = {c: i for i, c in enumerate(codes)}
    chosen: list[int] = []
    for item in items:
        item = str(item)
        if item == "all":
            chosen.extend(range(len(codes)))
        elif item in groups:
            chosen.extend(int(i) for i in groups[item])
        elif item in index:
            chosen.append(index[item])
        else:
            sample = ", ".join(codes[:3])
            raise ConfigError(f"{where}.countries={item}: unknown country or group "
                              f"(allowed: all, {', '.join(sorted(groups))}, or a code such as {sample})")
    return np.unique(np.asarray(chosen, dtype=np.int64))


def build_tables(levers, world, start_year: int, years: int) -> dict[str, np.ndarray]:
    """Tables of shape (years, countries): the value of each lever in force each year."""
    n = len(world.codes)
    tables = {}
    for name, spec in LEVERS.items():
        base = getattr(world, spec.default) if isinstance(spec.default, str) else np.full(n, spec.default)
        tables[name] = np.tile(np.asarray(base, dtype=np.float64), (years, 1))
    calendar = start_year + np.arange(years)
    for i, lever in enumerate(levers):
        where = f"scenario.levers[{i}]"
        rows = np.ones(years, dtype=bool)
        if lever.start is not None:
            rows &= calendar >= lever.start
        if lever.end is not None:
            rows &= calendar <= lever.end
        cols = country_indices(lever.countries, world.codes, world.groups, where)
        block = tables[lever.lever][np.ix_(rows, cols)]
        if lever.mode == "set":
            block[:] = lever.value
        elif lever.mode == "add":
            block += lever.value
        else:
            block *= lever.value
        spec = LEVERS[lever.lever]
        tables[lever.lever][np.ix_(rows, cols)] = np.clip(block, spec.low, spec.high)
    return tables


def in_force(tables: dict[str, np.ndarray], year_index: int) -> dict[str, np.ndarray]:
    """The per-country values of every lever in one simulated year."""
    return {name: table[year_index] for name, table in tables.items()}

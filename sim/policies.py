"""Policies as data: levers -> per-year parameter tables the kernels read.

A scenario is a list of levers (who, what, how much, from which year to which). They are applied
in order on top of the world's defaults, so one mechanism serves every policy and a new policy
is mostly a new YAML file in `conf/scenario/`.

Most levers are a country's (a table of countries). Those that act on people crossing a border are
a corridor's (a table origin x destination), so a lever may target some corridors only:
- destination-side levers (visa openness, post-study work, international tuition, inbound
  scholarships) apply to students and graduates arriving in `countries`, from `origins` (default all):
  `{lever: tuition_factor, countries: SWE, origins: non_eea, ...}` is a fee for students from outside
  the EU/EEA in Sweden;
- origin-side levers (outbound scholarships, return incentives) apply to nationals of `countries`
  going to `destinations` (default all).
Selectors are `all`, a country code, a group of the world (`world.groups`: income groups, regions;
the real world's EU/EEA, OECD, Commonwealth: sim/world/country_groups.yaml), `non_<group>` for the
rest of the world, or a list of them.
"""

from dataclasses import dataclass

import numpy as np

from sim.errors import ConfigError


DESTINATION, ORIGIN, COUNTRY = "destination", "origin", "country"   # whose lever it is (see the docstring)


@dataclass(frozen=True)
class LeverSpec:
    default: float | str   # a constant, or the name of the world's country array holding it
    low: float             # allowed range of a value set with mode=set
    high: float
    unit: str
    doc: str
    side: str = COUNTRY    # DESTINATION or ORIGIN: a corridor's lever (origin x destination table)


LEVERS: dict[str, LeverSpec] = {
    "visa_openness": LeverSpec("visa_openness", 0.0, 1.0, "share",
                               "openness of the country's student visas (0 closed, 1 open); destination side",
                               DESTINATION),
    "post_study_work_years": LeverSpec("post_study_work_years", 0.0, 10.0, "years",
                                       "years an international graduate may stay to work; destination side",
                                       DESTINATION),
    "tuition_factor": LeverSpec(1.0, 0.0, 10.0, "factor",
                                "multiplier on the tuition universities charge international students (0: none is "
                                "charged, as for students exempt by a free-movement area)", DESTINATION),
    "inbound_scholarship": LeverSpec(0.0, 0.0, 1.0, "share",
                                     "share of an international student's cost the destination pays", DESTINATION),
    "outbound_scholarship": LeverSpec(0.0, 0.0, 1.0, "share",
                                      "share of the cost of studying abroad the origin pays its nationals", ORIGIN),
    "return_incentive": LeverSpec(0.0, 0.0, 1.0, "strength",
                                  "strength of the origin's incentives for graduates abroad to return", ORIGIN),
    "enrolment_rate": LeverSpec("enrolment_rate", 0.0, 1.0, "share",
                                "gross tertiary enrolment ratio: cohorts grow in proportion to it"),
    "public_funding": LeverSpec(1.0, 0.0, 3.0, "factor",
                                "multiplier on the public funding of the country's universities (< 1: a cut)"),
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


CORRIDOR_LEVERS = frozenset(name for name, spec in LEVERS.items() if spec.side != COUNTRY)


def country_indices(selector, codes: list[str], groups: dict[str, np.ndarray], where: str) -> np.ndarray:
    """Resolve 'all', a group name, 'non_<group>', a country code or a list of them to country indices;
    anything else is refused in one line naming `where` (the key) and what is allowed."""
    items = selector if isinstance(selector, (list, tuple)) else [selector]
    index = {c: i for i, c in enumerate(codes)}
    chosen: list[int] = []
    for item in items:
        item = str(item)
        if item == "all":
            chosen.extend(range(len(codes)))
        elif item in groups:
            chosen.extend(int(i) for i in groups[item])
        elif item.startswith("non_") and item[4:] in groups:
            chosen.extend(sorted(set(range(len(codes))) - {int(i) for i in groups[item[4:]]}))
        elif item in index:
            chosen.append(index[item])
        else:
            sample = ", ".join(codes[:3])
            raise ConfigError(f"{where}={item}: unknown country or group (allowed: all, a group of this world: "
                              f"{', '.join(sorted(groups))}, non_<group>, or a country code such as {sample})")
    return np.unique(np.asarray(chosen, dtype=np.int64))


def base_tables(world, years: int) -> dict[str, np.ndarray]:
    """Each lever's default in every year: (years, C) for a country's lever, (years, C, C) origin x
    destination for a corridor's (a destination's default for every origin, an origin's for every
    destination)."""
    n = len(world.codes)
    tables = {}
    for name, spec in LEVERS.items():
        base = np.asarray(getattr(world, spec.default) if isinstance(spec.default, str) else np.full(n, spec.default),
                          dtype=np.float64)
        if spec.side == DESTINATION:
            base = np.broadcast_to(base[None, :], (n, n))
        elif spec.side == ORIGIN:
            base = np.broadcast_to(base[:, None], (n, n))
        tables[name] = np.tile(base, (years,) + (1,) * base.ndim)
    return tables


def build_tables(levers, world, start_year: int, years: int) -> dict[str, np.ndarray]:
    """Tables of the value of each lever in force each year: (years, C) or, for a corridor's lever,
    (years, C, C) origin x destination. Levers are applied in order on top of the defaults and of the world's
    policy history (a real world's dated policies, sim/world/policy_history.py)."""
    tables = base_tables(world, years)
    calendar = start_year + np.arange(years)
    history = list(world.history)
    for i, lever in enumerate(history + list(levers)):
        where = f"scenario.levers[{i - len(history)}]" if i >= len(history) else f"policy history, lever {i}"
        spec = LEVERS[lever.lever]
        rows = np.ones(years, dtype=bool)
        if lever.start is not None:
            rows &= calendar >= lever.start
        if lever.end is not None:
            rows &= calendar <= lever.end
        cols = country_indices(lever.countries, world.codes, world.groups, f"{where}.countries")
        origins, destinations = getattr(lever, "origins", None), getattr(lever, "destinations", None)
        for key, given, side in (("origins", origins, DESTINATION), ("destinations", destinations, ORIGIN)):
            if given is not None and spec.side != side:
                raise ConfigError(f"{where}.{key}={given}: {lever.lever} is {_side(spec)}; `{key}` selects the "
                                  f"other end of a corridor only for {side}-side levers "
                                  f"({', '.join(sorted(n for n, s in LEVERS.items() if s.side == side))})")
        if spec.side == DESTINATION:
            other = country_indices("all" if origins is None else origins, world.codes, world.groups,
                                    f"{where}.origins")
            index = np.ix_(rows, other, cols)
        elif spec.side == ORIGIN:
            other = country_indices("all" if destinations is None else destinations, world.codes, world.groups,
                                    f"{where}.destinations")
            index = np.ix_(rows, cols, other)
        else:
            index = np.ix_(rows, cols)
        block = tables[lever.lever][index]
        if lever.mode == "set":
            block[:] = lever.value
        elif lever.mode == "add":
            block += lever.value
        else:
            block *= lever.value
        tables[lever.lever][index] = np.clip(block, spec.low, spec.high)
    return tables


def _side(spec: LeverSpec) -> str:
    return {DESTINATION: "a destination's lever", ORIGIN: "an origin's lever", COUNTRY: "a country's lever"}[spec.side]


def in_force(tables: dict[str, np.ndarray], year_index: int) -> dict[str, np.ndarray]:
    """The values of every lever in one simulated year: (C,) per country, (C, C) origin x destination per
    corridor."""
    return {name: table[year_index] for name, table in tables.items()}

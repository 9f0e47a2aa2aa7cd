"""The World: countries, universities and the ties between countries, as arrays.

A world builder (synthetic, or later the real one from public data) returns a `World`; the
model turns its rows into Mesa agents and keeps the arrays for the kernels. Student counts are
in agents (one agent stands for `scale` real students).
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class World:
    # countries (length C)
    codes: list[str]
    names: list[str]
    population: np.ndarray         # tertiary-age population (people)
    gdp_pc: np.ndarray             # GDP per capita (USD; the real world: constant 2015 dollars, real.incomes)
    language: np.ndarray           # language group id (int)
    region: np.ndarray             # region id (int)
    enrolment_rate: np.ndarray     # gross tertiary enrolment ratio, 0..1
    visa_openness: np.ndarray      # default of the lever, 0..1
    post_study_work_years: np.ndarray  # default of the lever, years
    field_share: np.ndarray        # (C, F) share of entrants by field
    # pairs (C x C)
    distance_km: np.ndarray
    common_language: np.ndarray    # 0/1
    colonial_tie: np.ndarray       # 0/1
    # universities (length U), grouped by country in country order
    univ_country: np.ndarray       # int32 index of the country (non-decreasing)
    univ_quality: np.ndarray       # (U, F) quality by field, 0..1
    univ_teaching: np.ndarray      # teaching quality, 0..1
    univ_capacity: np.ndarray      # seats, in agents (int64)
    univ_tuition_intl: np.ndarray  # tuition for international students (USD per year)
    univ_intl_courses: np.ndarray  # share of programmes taught as international courses
    univ_research_staff: np.ndarray  # researchers (people)
    # partnerships between universities (edges u -> v, both directions listed)
    edge_from: np.ndarray          # (E,) int32 university
    edge_to: np.ndarray            # (E,) int32 partner university (abroad)
    edge_slots: np.ndarray         # (E,) exchange slots a year from u to v, in agents
    edge_regional: np.ndarray      # (E,) bool: an agreement of a regional programme (active only when both join)
    # labour markets and civil society
    internship_demand: np.ndarray  # (C,) internship places enterprises offer foreign students a year, in agents
    service_capacity: np.ndarray   # (C,) partner organisations for service projects (relative, 1 = median)
    # researchers
    researchers: np.ndarray        # (U,) researcher agents per university
    researcher_scale: float        # real researchers per researcher agent
    # sizes and groups
    cohort: np.ndarray             # (C,) new entrants per year, in agents
    scale: float = 1.0
    groups: dict[str, np.ndarray] = field(default_factory=dict)  # name -> country indices
    # what the choice's covariates leave out (0 in the synthetic world; fitted for the real one: world.levels)
    destination_constant: np.ndarray | None = None  # (C,) utility of studying in d, for every origin
    origin_constant: np.ndarray | None = None       # (C,) utility of going abroad at all, for students of o
    free_movement: np.ndarray | None = None  # (C, C) bool: o and d in one free-movement area (policy history; none
    #                                          in the synthetic world): no visa, a citizen's right to stay and work
    # real worlds only
    observed_stock: np.ndarray | None = None  # (C, C) degree-mobile students (real) at the start, NaN = unobserved
    stock_before_start: np.ndarray | None = None  # (C, C) the same, of the year before the start year (the
    #                                               state a run from the data starts from: world.start_from)
    stock_two_before_start: np.ndarray | None = None  # (C, C) the year before that, where observed (NaN: not)
    excluded: object = None                   # DataFrame of countries and rows left out, with reasons
    data_files: list = field(default_factory=list)   # the input files the world was built from (real world)
    history: list = field(default_factory=list)      # dated levers of its policy history, applied before a scenario's
    level_fit: dict = field(default_factory=dict)    # a re-solve of its constants (sim/inference/levels.py), if any

    def __post_init__(self):
        n = len(self.codes)
        self.destination_constant = np.zeros(n) if self.destination_constant is None else self.destination_constant
        self.origin_constant = np.zeros(n) if self.origin_constant is None else self.origin_constant
        self.free_movement = np.zeros((n, n), bool) if self.free_movement is None else self.free_movement
        # a country's universities are one index range (first_univ): the choice kernels rely on it
        if np.any(np.diff(self.univ_country) < 0):
            raise ValueError("World: universities must be grouped by country, in country order")

    @property
    def first_univ(self) -> np.ndarray:
        """(C + 1,) index of each country's first university; country c has first_univ[c] .. first_univ[c + 1] - 1."""
        counts = np.bincount(self.univ_country, minlength=self.n_countries)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @property
    def n_countries(self) -> int:
        return len(self.codes)

    @property
    def n_universities(self) -> int:
        return len(self.univ_country)

    @property
    def n_fields(self) -> int:
        return self.field_share.shape[1]

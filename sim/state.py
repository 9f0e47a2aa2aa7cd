"""The year's shared state: everything more than one mechanism touches, declared field by field.

The students' columns (sim/students.py) are one part of it; this module names the rest. Each mechanism
declares, beside the student columns, the fields its step reads and writes (`reads`, `writes`:
sim/mechanisms/base.py), and sim/contract.py holds a model to those declarations: a step that writes a
field it does not declare, or reads one it does not declare, is reported, and the schedule is checked
so that no mechanism reads a field of this year before the mechanism that sets it. What one mechanism
hands the next goes through these fields, never through another mechanism's instance.

A field is
- kept: carried from year to year (a read before this year's write sees last year's value); saved in
  checkpoints; or
- this year's: set by one mechanism each year before any other reads it (`reset`: its value when no
  mechanism of the schedule sets it, e.g. no graduate arrives for a job when emigration is not run).

Names are paths on the model: `universities.capacity` is `model.universities.capacity`, `census` is
`model.census`. Outcomes (`metrics`, `flows`) are computed after the whole schedule and may read any field.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.universities import Universities


@dataclass(frozen=True)
class Field:
    kept: bool                          # carried from year to year (else: this year's)
    doc: str
    reset: Callable | None = None       # this year's value before any mechanism sets it (model -> value)


_UNIVERSITIES = {f"universities.{f.name}": Field(f.name in Universities.SAVED, f"universities' `{f.name}` "
                                                                                  "(sim/universities.py)")
                 for f in dataclasses.fields(Universities)}

FIELDS: dict[str, Field] = _UNIVERSITIES | {
    "agreements.traffic": Field(False, "(E,) exchange students sent along each agreement this year (exchange)"),
    "diaspora.alumni": Field(True, "(C, C) graduates who stayed where they studied, decaying (careers)"),
    "diaspora.enrolled_abroad": Field(True, "(C, C) students continuing their studies abroad (graduation)"),
    "diaspora.returned": Field(True, "(C, C) graduates abroad who went home, by origin x where they studied, "
                                     "decaying (careers; an outcome only)"),
    "corridor_constant": Field(True, "(C, C) utility of each corridor the covariates leave out: zero, or set at the "
                                     "start of a run from the data to keep the observed shares (sim/initial_state.py)"),
    "researchers": Field(True, "the researcher population (sim/researchers.py): moved by research, renewed by "
                               "research careers"),
    "census": Field(False, "who studied where this year (learning.Census), taken by the study year"),
    "destinations": Field(False, "this year's destinations nest and its alias table (degree choice; a master's "
                                 "applicant sees the same)"),
    "workforce": Field(True, "(2, 3, C) graduates in each country's workforce, real people: degree earned at home "
                             "/ abroad, by level (workforce)"),
    "arrivals": Field(False, "(2, C) graduates arriving from abroad for a job this year, real people, by level "
                             "(first degree, master's; emigration)",
                      reset=lambda m: np.zeros((2, m.world.n_countries))),
}


def get(model, name: str):
    """The value of a field on a model (`universities.capacity` -> model.universities.capacity)."""
    value = model
    for part in name.split("."):
        value = getattr(value, part)
    return value


def reset_year(model) -> None:
    """Give this year's fields that have one their value before any mechanism runs."""
    for name, field in FIELDS.items():
        if field.reset is not None:
            *path, last = name.split(".")
            owner = model
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, last, field.reset(model))

"""What a mechanism is: one step of the yearly cycle, declared in one place.

In the manner of Starsim's modules (`define_pars` / `define_states` / `define_results` /
`step`), a mechanism module holds, side by side:

- its **parameters**: a `Params` dataclass, the config section `behaviour.<section>` (defaults,
  documented with their sources in docs/ODD.md section 7; a field's bounds with it: `share(0.3)`
  is in [0, 1], `nonnegative(2.5)` is >= 0, any other number is a coefficient of either sign), and
  `Rule`, the NamedTuple of the same fields that its kernels read (`rule_type`; Numba takes
  NamedTuples);
- its **class**, a `Mechanism`, which names its config section (`section`), declares the student
  columns (`sim/students.py`) and shared fields (`sim/state.py`) its step reads and writes, the
  outcomes it records (`sim/outcomes.py`: Metric, Flow), and builds its **tables** for the year
  (its own NamedTuple, from world + policy + state);
- its **kernels**: pure @njit functions on arrays, and the scalar rules they apply to one agent,
  which the Mesa reference backend calls too, so both backends give identical results.

The model's step runs the schedule, an ordered list of mechanisms (`sim/schedule.py`). A mechanism
reads and writes the model's state (the student columns and the shared fields it declares), counts
what happened during its step, and at the end of the year turns its counts into outcomes
(`metrics`, `flows`). It imports no other mechanism module and never looks another up
(sim/mechanisms/library/ holds what they share).
"""

import collections
import dataclasses
import sys
from typing import ClassVar

import numpy as np

from sim.outcomes import Flow, Metric


SHARE, NONNEGATIVE = "share", "nonnegative"      # the bounds a parameter may carry (sim/config.py checks them)


def share(default: float):
    """A Params field that is a share, a probability or a yearly rate: in [0, 1]."""
    return dataclasses.field(default=default, metadata={"bound": SHARE})


def nonnegative(default):
    """A Params field that is a size, a count, a rate per person, a spread, a gain or a penalty: >= 0."""
    return dataclasses.field(default=default, metadata={"bound": NONNEGATIVE})


def bound(field: dataclasses.Field) -> str | None:
    """SHARE, NONNEGATIVE, or None for a coefficient of either sign."""
    return field.metadata.get("bound")


def rule_type(params: type, name: str) -> type:
    """The rule of a config section: a NamedTuple called `name` with the section's fields, in order.

    Defined from the dataclass itself, so a rule always has exactly its section's parameters.
    Assign it to a module attribute of the same name (`Rule = ChoiceRule = rule_type(Params,
    "ChoiceRule")`): pickling, and so Numba's cache, find the class by its module and name, and
    Numba tells NamedTuple classes apart by name."""
    return collections.namedtuple(name, [f.name for f in dataclasses.fields(params)], module=params.__module__)


class Mechanism:
    """One step of the yearly cycle (see the module docstring).

    Class attributes:
        section         its config section `behaviour.<section>` (its module's `Params`), or None
        reads, writes   student columns and shared fields (sim/state.py) the step reads and writes
                        (sim/contract.py checks them)
        outcomes        the Metrics and Flows that `metrics` and `flows` return
    Student mechanisms implement `step_arrays` (kernels, the fast backend) and `step_agents`
    (the Mesa reference: one agent at a time); others implement `step`.
    """
    section: ClassVar[str | None] = None
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    outcomes: ClassVar[tuple[Metric | Flow, ...]] = ()

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def params(cls) -> type | None:
        """The dataclass of its config section: `Params` of the module of the class that names the section (a
        subclass keeps its parent's), or None."""
        if not cls.section:
            return None
        owner = next(k for k in cls.__mro__ if "section" in vars(k))
        return sys.modules[owner.__module__].Params

    def step(self, model) -> None:
        """This year's step."""
        if model.reference:
            self.step_agents(model)
        else:
            self.step_arrays(model)

    def step_arrays(self, model) -> None:
        raise NotImplementedError

    def step_agents(self, model) -> None:
        raise NotImplementedError

    def state(self) -> dict:
        """What the mechanism itself carries from year to year (most carry nothing: state lives in the
        model's structures of arrays), for checkpoints."""
        return {}

    def restore(self, state: dict) -> None:
        """Take back what `state` returned."""

    def metrics(self, model) -> dict[str, np.ndarray]:
        """This year's value of each declared Metric, in real units: (C + 1,) per country and WORLD."""
        return {}

    def flows(self, model) -> dict[str, np.ndarray]:
        """This year's value of each declared Flow: (C, C) real people, origin x destination."""
        return {}

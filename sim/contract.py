"""The mechanism contract, checked: a mechanism touches only what it declares.

Each mechanism declares the student columns (sim/students.py) and the shared fields (sim/state.py) its
step reads and writes (`reads`, `writes`). Two checks hold a model to that:

- `schedule_problems(schedule)`, from the declarations alone: every declared name exists, and no
  mechanism reads a field of this year before the mechanism that sets it this year (or reads one that
  nothing sets earlier and that has no value of its own);
- `audit(model, years)`, by running the model: each step runs against a watched view of the model
  that records the fields it reads and sets, and the columns and fields are compared before and after
  it. A write to an undeclared column or field, or a read of an undeclared field, is a problem.

Both return problems as one line each (empty: the contract holds). tests/test_architecture.py runs
them on hemsim's own schedule; a new mechanism's test can run them on a model that includes it
(docs/adding-a-mechanism.md).
"""

import numpy as np

from sim.policies import in_force
from sim.state import FIELDS, get
from sim.students import ALL

CONTAINERS = {"universities", "agreements", "diaspora"}   # the model's attributes whose own attributes are fields


def declared(mechanism) -> tuple[set[str], set[str]]:
    return set(mechanism.reads), set(mechanism.writes)


def schedule_problems(schedule) -> list[str]:
    """What the declarations of a schedule (mechanism classes, in order) get wrong, one line each."""
    problems = []
    for cls in schedule:
        for name in sorted(set(cls.reads) | set(cls.writes)):
            if name not in ALL and name not in FIELDS:
                problems.append(f"{cls.__name__} declares {name!r}: neither a student column (sim/students.py) "
                                f"nor a shared field (sim/state.py)")
    for name, field in FIELDS.items():
        if field.kept:
            continue
        writers = [i for i, cls in enumerate(schedule) if name in cls.writes]
        for i, cls in enumerate(schedule):
            if name not in cls.reads or name in cls.writes:
                continue
            later = [schedule[j].__name__ for j in writers if j > i]
            if later:
                problems.append(f"{cls.__name__} reads {name} before {', '.join(later)} sets it this year")
            elif not any(j < i for j in writers) and field.reset is None:
                problems.append(f"{cls.__name__} reads {name}, which no earlier mechanism sets this year")
    return problems


class _Log:
    def __init__(self):
        self.reads: set[str] = set()
        self.sets: set[str] = set()


class _Watched:
    """A view of the model (or of one of its containers) that records which shared fields are read and set,
    and passes everything else through. Methods run on the view, so what they read is seen too."""

    def __init__(self, target, prefix: str, log: _Log):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_log", log)

    def __getattr__(self, name):
        target, key = self._target, self._prefix + name
        if key in FIELDS:
            self._log.reads.add(key)
        if not self._prefix and name in CONTAINERS:
            return _Watched(getattr(target, name), name + ".", self._log)
        function = getattr(type(target), name, None)
        if callable(function) and not isinstance(function, (staticmethod, classmethod, type)) \
                and not isinstance(target, type) and hasattr(function, "__get__") and self._prefix:
            return function.__get__(self)          # a container's method: its reads go through the view
        return getattr(target, name)

    def __setattr__(self, name, value):
        key = self._prefix + name
        if key in FIELDS:
            self._log.sets.add(key)
        setattr(self._target, name, value)

    def __len__(self):
        return len(self._target)


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if hasattr(value, "state"):                       # a population: the arrays that make it up
        return _copy(value.state())
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype \
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a is b or a == b


def _columns_written(before: dict, after: dict) -> set[str]:
    """Student columns whose values changed for the students present before and after (rows are in uid
    order: the survivors are aligned, so removing or adding rows is not a write)."""
    kept = np.isin(before["uid"], after["uid"])
    old = np.isin(after["uid"], before["uid"])
    return {c for c in ALL if not np.array_equal(after[c][old], before[c][kept])}


def audit(model, years: int = 1, recorded: bool = True, unused: bool = False) -> list[str]:
    """Run `years` years of `model` (numba backend) mechanism by mechanism, watching each step; return what
    a step touched without declaring it, one line each (`recorded`: record the years, as a run would;
    `unused`: also the shared fields a mechanism declares but never read or wrote in those years)."""
    problems = []
    seen: dict[str, set[str]] = {}

    def run(mechanism):
        reads, writes = declared(mechanism)
        log = _Log()
        fields_before = {name: _copy(get(model, name)) for name in FIELDS}
        columns_before = {k: v.copy() for k, v in model.students.a.items()}
        mechanism.step(_Watched(model, "", log))
        touched = log.sets | {name for name in FIELDS if not _same(fields_before[name], _copy(get(model, name)))}
        touched |= _columns_written(columns_before, model.students.a)
        name = mechanism.name
        problems.extend(f"{name} writes {w} without declaring it" for w in sorted(touched - writes))
        problems.extend(f"{name} reads {r} without declaring it" for r in sorted(log.reads - reads - writes))
        seen.setdefault(name, set()).update(touched | log.reads)

    for _ in range(years):
        model.policy = in_force(model.policy_tables, model.year - model.cfg.start_year) \
            if model.year >= model.cfg.start_year else model.default_policy
        record = recorded and model.year >= model.cfg.start_year
        outcomes = model._year(recorded=record, run=run)
        if record:
            model.recorder.add(model.year - 1, *outcomes)
    if unused:
        for mechanism in model.mechanisms:
            reads, writes = declared(mechanism)
            idle = ((reads | writes) & FIELDS.keys()) - seen.get(mechanism.name, set())
            problems.extend(f"{mechanism.name} declares {f} but did not touch it" for f in sorted(idle))
    return sorted(set(problems))

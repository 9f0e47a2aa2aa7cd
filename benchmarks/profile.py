"""Where a simulated year spends its time: wall time per phase (kernels included), one model.

    .venv/bin/python -m benchmarks.profile [STUDENTS] [--cprofile]

cProfile alone attributes a Numba kernel to the Python function that calls it; wrapping the
phases (each mechanism's step, its table builder, the kernels the steps call, the population's
storage methods) with a wall clock shows which kernel or copy dominates. Used to write the lesson in benchmarks/run.py.
"""

import cProfile
import collections
import pstats
import sys
import time

from sim import model as model_module
from sim import population
from sim.mechanisms import careers, choice, enrolment, exchange, internships, learning, progression, research
from sim.mechanisms.library import admission

PHASES = {
    **{cls: ("step",) for cls in model_module.SCHEDULE},   # each mechanism's whole step, kernels included
    model_module.HemsimModel: ("_outcomes",),
    choice.DegreeChoice: ("step", "tables"),
    progression.Progression: ("step", "tables"),
    population.ArrayStudents: ("add_cohort", "keep", "seats_taken"),
    choice: ("first_applications", "applications", "destination_nest"),   # the nest, as degree choice calls it
    admission: ("admit_round", "clearing"),
    enrolment: ("fill_cohort",),
    exchange: ("applications",),
    internships: ("applications",),
    learning: ("study",),
    careers: ("decide",),
    research: ("mobility", "papers"),
}


def instrument() -> dict[str, list[float]]:
    spent: dict[str, list[float]] = collections.defaultdict(list)
    for owner, names in PHASES.items():
        for name in names:
            inner = getattr(owner, name)
            label = f"{getattr(owner, '__name__', owner).split('.')[-1]}.{name}"

            def timed(*args, _inner=inner, _label=label, **kwargs):
                t = time.perf_counter()
                try:
                    return _inner(*args, **kwargs)
                finally:
                    spent[_label].append(time.perf_counter() - t)
            setattr(owner, name, timed)
    return spent


def main(students: int = 10_000_000, use_cprofile: bool = False, years: int = 2) -> None:
    from benchmarks.child import bench_config
    spent = instrument()
    model = model_module.HemsimModel(bench_config(students, years=years + 1))
    model.step()                                   # warm
    spent.clear()
    profiler = cProfile.Profile() if use_cprofile else None
    t = time.perf_counter()
    for _ in range(years):
        if profiler:
            profiler.enable()
        model.step()
        if profiler:
            profiler.disable()
    total = (time.perf_counter() - t) / years
    print(f"{students:,} students: {total:.3f} s a year ({len(model.students):,} enrolled after the year)")
    for label, times in sorted(spent.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {label:<36}{sum(times) / years * 1e3:9.1f} ms  {100 * sum(times) / years / total:5.1f}%"
              f"  x{len(times) // years}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 10_000_000, "--cprofile" in sys.argv)

"""`make bench`: timings of the simulator on this machine, printed and written to results/bench/latest.json.

Each benchmark compiles first (Numba's on-disk cache makes later runs warm) and reports the
median of repeated measurements. Timings live here, never in tests.

Profile lesson (cProfile of one 1M-student year, 200 countries): the year is dominated by the
destination-choice group tables (softmax over origin x field x talent x resources x level x
destination, ~40% of the year) and the admission rounds (~25%); per-student kernels (enrolment,
study, tally) are each a few milliseconds per million students.
"""

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numba

from sim.config import Config
from sim.model import HemsimModel

OUT = Path("results/bench/latest.json")


def year_seconds(students: int, universities: int = 1000, countries: int = 200, repeats: int = 3) -> float:
    """Median wall time of one simulated year (all mechanisms), compiled and spun up."""
    cfg = Config()
    cfg.world.students, cfg.world.universities, cfg.world.countries = students, universities, countries
    cfg.world.researchers = students // 10
    cfg.years, cfg.progress = repeats, False
    model = HemsimModel(cfg)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "numba_threads": numba.get_num_threads(), "python": platform.python_version(),
            "numba": numba.__version__}


def main() -> None:
    year_seconds(20_000, 100, 20, repeats=1)  # compile (or load the cache) before timing
    results = {"machine": machine()}
    results["year_seconds_1m"] = {"value": year_seconds(1_000_000), "unit": "s", "target": "< 1",
                                  "what": "one year, 1,000,000 students, 100,000 researchers, 1,000 universities, 200 countries"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'benchmark':<28}{'value':>12}  target")
    for k, v in results.items():
        if isinstance(v, dict) and "value" in v:
            print(f"{k:<28}{v['value']:>12.4g}  {v['target']} {v['unit']}")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()

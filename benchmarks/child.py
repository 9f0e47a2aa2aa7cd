"""Benchmarks that run in a child process, and the parent's side: spawn, watch memory, collect.

A child prints one JSON object per line; the parent keeps the last one (a child killed midway
still leaves the years it finished). The parent measures the child's peak resident memory
(wait4's ru_maxrss) and kills it when its RSS passes a limit or the machine runs short of memory.

    python -m benchmarks.child year STUDENTS [--repeats N] [--scale S] [--researchers R]
    python -m benchmarks.child memory STUDENTS
    python -m benchmarks.child threads
"""

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

GIB = 1 << 30
PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = Path(__file__).resolve().parents[1]


def bench_config(students: int, years: int, countries: int = 200, universities: int = 1000,
                 researchers: int | None = None, scale: float | None = None):
    """The benchmark world: 200 countries, 1,000 universities, one researcher per 10 students."""
    from sim.config import Config, validate
    cfg = Config()
    w = cfg.world
    w.students, w.countries, w.universities = students, countries, universities
    w.researchers = students // 10 if researchers is None else researchers
    if scale is not None:
        w.scale = scale
    cfg.years, cfg.progress = years, False
    return validate(cfg)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


# ---- children ---------------------------------------------------------------------------------------
def year_child(students: int, repeats: int, scale: float | None, researchers: int | None) -> None:
    """Build and spin up a model, then time `repeats` simulated years; a record after every year
    (spin-up years included), so a run killed midway still reports how far it got."""
    from sim.model import HemsimModel
    from sim.population import ArrayStudents
    base = rss()
    peak_population = 0
    add_cohort = ArrayStudents.add_cohort

    def counted(self, *args):
        nonlocal peak_population
        out = add_cohort(self, *args)
        peak_population = max(peak_population, len(self))
        return out
    ArrayStudents.add_cohort = counted
    year_fn, spun, t0 = HemsimModel._year, [], time.perf_counter()

    def timed_year(self, *args, **kwargs):
        t, year = time.perf_counter(), self.year
        out = year_fn(self, *args, **kwargs)
        spun.append(time.perf_counter() - t)
        emit(stage="year", year=year, seconds=spun[-1], population=len(self.students), rss=rss())
        return out
    HemsimModel._year = timed_year
    cfg = bench_config(students, years=repeats, scale=scale, researchers=researchers)
    model = HemsimModel(cfg)
    build = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    emit(stage="done", build_seconds=build, spin_up_years=len(spun) - repeats, year_seconds=statistics.median(times),
         years=times, population=len(model.students), peak_population=peak_population,
         researchers=len(model.researchers), base_rss=base, rss=rss(),
         peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def memory_child(students: int) -> None:
    """RSS growth of the student arrays: enrol `students` entrants into an empty population."""
    import numpy as np

    from sim.config import Config
    from sim.mechanisms import enrolment
    from sim.model import HemsimModel
    from sim.population import ArrayStudents
    cfg = Config()
    cfg.progress = False
    model = HemsimModel(cfg)
    tables = enrolment.Enrolment().tables(model)
    sizes = np.floor(model.world.cohort / model.world.cohort.sum() * students).astype(np.int64)
    sizes[: students - sizes.sum()] += 1
    population = ArrayStudents(0)
    enrolment.enrol(population, 0, 2000, tables._replace(sizes=np.ones_like(sizes)))  # compile/load the kernels first
    population = ArrayStudents(0)
    before = rss()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    enrolment.enrol(population, 0, cfg.start_year, tables._replace(sizes=sizes))
    after = rss()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    emit(stage="done", students=len(population), rss_growth=after - before,
         peak_growth=peak - before if peak > peak_before else None,
         arrays=sum(v.nbytes for v in population.a.values()),
         static=ArrayStudents.bytes_per_student())


def threads_child(students: int, years: int) -> None:
    """SHA-256 of the flows and metrics tables of a short run (Arrow IPC bytes)."""
    import numba
    import pyarrow as pa

    from sim.config import Config
    from sim.model import HemsimModel
    cfg = Config()
    cfg.world.students, cfg.years, cfg.progress = students, years, False
    results = HemsimModel(cfg).run()
    digest = {}
    for name in ("flows", "metrics"):
        sink = pa.BufferOutputStream()
        table = getattr(results, name)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        digest[name] = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    emit(stage="done", threads=numba.get_num_threads(), rows={n: getattr(results, n).num_rows for n in digest},
         **digest)


# ---- parent -----------------------------------------------------------------------------------------
def mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 1 << 62


def spawn(args: list[str], env: dict | None = None, rss_limit: int = 20 * GIB, min_available: int = GIB,
          timeout: float = 3600) -> dict:
    """Run `python -m benchmarks.child ARGS`; return its last record plus wall time, exit status, peak
    RSS and, when it was stopped, why. Address space is capped a little above `rss_limit`."""
    def limit():
        cap = rss_limit + 2 * GIB
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.child", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit,
                            env={**os.environ, **(env or {})})
    records, stderr, killed = [], [], {}
    readers = [threading.Thread(target=lambda: [records.append(json.loads(l)) for l in proc.stdout if l[0] == "{"]),
               threading.Thread(target=lambda: stderr.extend(proc.stderr))]
    for r in readers:
        r.start()
    while not killed:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        with open(f"/proc/{proc.pid}/statm") as f:
            resident = int(f.read().split()[1]) * PAGE
        reason = ("rss above the limit" if resident > rss_limit else
                  "machine short of memory" if mem_available() < min_available else
                  "timeout" if time.perf_counter() - t0 > timeout else None)
        if reason:
            killed = {"killed": reason, "rss_at_kill": resident}
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)   # reaped here, not by Popen
    for r in readers:
        r.join()
    last = records[-1] if records else {}
    return {**last, **killed, "wall": time.perf_counter() - t0, "returncode": proc.returncode,
            "child_peak_rss": usage.ru_maxrss * 1024, "records": records,
            "stderr_tail": "".join(stderr)[-2000:] if proc.returncode else ""}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["year", "memory", "threads"])
    parser.add_argument("students", type=int, nargs="?", default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float)
    parser.add_argument("--researchers", type=int)
    parser.add_argument("--years", type=int, default=4)
    a = parser.parse_args()
    if a.what == "year":
        year_child(a.students, a.repeats, a.scale, a.researchers)
    elif a.what == "memory":
        memory_child(a.students)
    else:
        threads_child(a.students, a.years)


if __name__ == "__main__":
    main()

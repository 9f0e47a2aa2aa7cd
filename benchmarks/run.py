"""`make bench`: timings of the simulator on this machine, printed and written to results/bench/latest.json.

    .venv/bin/python -m benchmarks.run [--quick]      (or HEMSIM_BENCH_QUICK=1)

`--quick` skips the 100M-student year and the 1:1 world of 250M students (minutes each). Posterior
inference's seconds per particle and its projection: benchmarks/inference.py.
Simulated years run in child processes (benchmarks/child.py) so that a run that exhausts memory
cannot take the benchmark down; each reports its peak RSS. Years are medians of 3, the
millisecond choice step the best of many runs; everything compiles (or loads Numba's cache)
before it is timed. Timings live here, never in tests.

Profile lesson (benchmarks/profile.py: wall time per phase and kernel, 200 countries, 1,000
universities, 2 cores; cProfile alone hides the kernels inside their callers).
A large year is dominated by moving memory, not by arithmetic:
  - The first design copied the population three times a year (np.concatenate to enrol, masked
    copies to drop the unplaced and the leavers) into freshly mapped pages. First touch of fresh
    memory runs at 0.3-6 GB/s on this VM (rewriting mapped memory: ~16-20 GB/s), so a student
    cost twice as much at 100M as at 10M, and the peak was twice the population (the 1:1 world
    did not fit in 20 GiB). Now the columns are preallocated and updated in place (cohorts drawn
    into the tail, order-preserving in-place compaction), per-year scratch lives in buffers
    allocated with the columns, and np.bincount (which copies its int32 input to int64: 2.5 s
    of a 100M year) is a blocked Numba count.
  - Now, at 10M students (1.0 s a year): researchers 23% (1M researchers: teams, papers,
    citations), admission 17% (counting sort and per-university ranking), enrolment 15% (two
    Box-Muller normals an entrant), study 11%, leavers' compaction 8%, tally 7% (parallel by
    blocks: integer sums, exact whatever the split), exchanges and internships 10%, the group
    tables 5% (a fixed cost: ~40% of a 1M-student year).
  - The choice step: see benchmarks/choice.py (a call per student, an index array that stopped
    vectorisation, two random numbers and two reads per alias draw; now ~10x faster).
  - Numba's default OpenMP layer spins while waiting: when another process holds one of the two
    cores, a 1M-student year goes from ~0.25 s to ~0.5-2 s. `import sim` sets
    OMP_WAIT_POLICY=PASSIVE with GOMP_SPINCOUNT=10000 (threads spin briefly, then sleep: ~0.3 s
    under the same load; a sub-millisecond kernel such as the choice step loses ~0.05 ms of
    wake-up with PASSIVE alone, not with the short spin).
    Timings taken while the machine is busy (see load_1min in each entry) overstate the cost.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numba

from benchmarks import choice, inference
from benchmarks.child import GIB, ROOT, bench_config, spawn
from sim.config import Config

OUT = ROOT / "results" / "bench" / "latest.json"
WORLD_STUDENTS = 250_000_000
WARM_START = ("from sim.config import Config; from sim.model import HemsimModel; "
              "c = Config(); c.progress = False; HemsimModel(c).step(); import time; print(time.time())")


def machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "numba_threads": numba.get_num_threads(), "python": platform.python_version(),
            "numba": numba.__version__}


def entry(value, unit: str, target: str, what: str, **extra) -> dict:
    return {"value": value, "unit": unit, "target": target, "what": what, **extra}


def choice_entries() -> dict:
    c = choice.bench()
    wide = choice.bench(countries=200, universities=1000)
    world = (f"{c['students']:,} entrants of the default world ({c['countries']} countries, {c['universities']} "
             f"universities, {c['groups']:,} choice groups), tables from the model's DegreeChoice.tables(); "
             f"first application (k=0); same random numbers, choices asserted identical")
    common = dict(numba_seconds=c["numba"], ns_per_student=c["numba"] / c["students"] * 1e9)
    # value_200_countries: the same ratio in a world of 200 countries and 1,000 universities (19,200 groups)
    return {
        "choice_speedup_vs_mesa": entry(
            c["mesa"] / c["numba"], "x", ">= 500",
            f"Student.application on {c['students']:,} mesa agents (all timed, no scaling) / "
            f"choice.first_applications (Numba), best of 3 and of 201; {world}",
            mesa_seconds=c["mesa"], value_200_countries=wide["mesa"] / wide["numba"], **common),
        "choice_speedup_vs_numpy": entry(
            c["numpy"] / c["numba"], "x", ">= 20",
            f"vectorised numpy alias draw (benchmarks/choice.py) / choice.first_applications, best of 21 and of 201; "
            f"{world}", numpy_seconds=c["numpy"], value_200_countries=wide["numpy"] / wide["numba"], **common),
        "choice_vs_bandwidth_floor": entry(
            c["numba"] / c["floor"], "x", "<= 10",
            f"choice.first_applications time / time to stream its per-student inputs and output once "
            f"({c['bytes_per_student']} bytes a student: uid, origin, field, talent, resources, level, int32 choice) "
            f"at the measured bandwidth; {world}",
            floor_seconds=c["floor"], bandwidth_gb_s=c["bandwidth"] / 1e9,
            value_200_countries=wide["numba"] / wide["floor"], **common),
    }


def year_entry(students: int) -> dict:
    r = spawn(["year", str(students)])
    what = (f"one simulated year (all mechanisms), world.students={students:,}, {students // 10:,} researchers, "
            f"1,000 universities, 200 countries; median of 3 model.step() after build and spin-up")
    if r.get("stage") != "done":
        return entry(None, "s", "info", what, failed=r.get("killed") or r.get("stderr_tail"))
    return entry(r["year_seconds"], "s", "info", what, students=students, years=r["years"],
                 per_million=r["year_seconds"] / students * 1e6,
                 build_seconds=r["build_seconds"], peak_population=r["peak_population"],
                 peak_rss_gib=r["child_peak_rss"] / GIB,
                 peak_bytes_per_student=(r["child_peak_rss"] - r["base_rss"]) / r["peak_population"])


def scaling_entries(quick: bool) -> dict:
    sizes = {"1m": 1_000_000, "10m": 10_000_000} | ({} if quick else {"100m": 100_000_000})
    out = {f"year_seconds_{k}": year_entry(n) for k, n in sizes.items()}
    out["year_seconds_1m"]["target"] = "< 1"
    out["year_seconds_10m"]["target"] = "<= 5"
    per_m = {k: v.get("per_million") for k, v in out.items()}
    big, ref = ("year_seconds_100m", "year_seconds_10m") if not quick else ("year_seconds_10m", "year_seconds_1m")
    ratio = per_m[big] / per_m[ref] if per_m[big] and per_m[ref] else None
    out["scaling_linearity"] = entry(ratio, "ratio", "<= 1.25 (no worse than linear)",
                                     f"seconds per million students at {big[13:]} / at {ref[13:]}",
                                     seconds_per_million={k[13:]: v for k, v in per_m.items()})
    return out


def memory_entry(students: int = 20_000_000) -> dict:
    from sim.population import ArrayStudents
    r = spawn(["memory", str(students)])
    if r.get("stage") != "done":
        raise RuntimeError(f"memory child failed: {r.get('killed') or r['stderr_tail'][-300:]}")
    return entry(r["rss_growth"] / students, "bytes", "<= 48",
                 f"RSS growth of the population arrays (enrolment.enrol of {students:,} entrants into an "
                 f"empty population) / students", static_columns=ArrayStudents.bytes_per_student(),
                 allocated_columns=r["arrays"] / students,
                 peak_while_enrolling=r["peak_growth"] / students if r.get("peak_growth") else None)


def world_entry(largest: dict | None = None) -> dict:
    """The 1:1 world in a child; the largest scaling run's peak bytes per student project its peak."""
    from sim.model import build_world
    researchers = int(build_world(bench_config(WORLD_STUDENTS, 1, scale=1.0, researchers=1)).univ_research_staff.sum())
    r = spawn(["year", str(WORLD_STUDENTS), "--repeats", "1", "--scale", "1", "--researchers", str(researchers)],
              rss_limit=20 * GIB, timeout=3 * 3600)
    years = [x for x in r["records"] if x.get("stage") == "year"]
    peak = r["child_peak_rss"]
    ok = r.get("stage") == "done" and peak <= 16 * GIB
    return entry("ok" if ok else "failed", "", "ok: builds and runs a year within 16 GiB",
                 f"1:1 world: world.students={WORLD_STUDENTS:,}, world.scale=1, {researchers:,} researchers (the "
                 f"world's research staff, 1:1), 1,000 universities, 200 countries; the child is killed above "
                 f"20 GiB RSS or when the machine has < 1 GiB available (peak_rss_gib: the peak before the kill)",
                 peak_rss_gib=peak / GIB, killed=r.get("killed"), returncode=r["returncode"],
                 projected_peak_gib=largest["peak_bytes_per_student"] * largest["peak_population"]
                 / largest["students"] * WORLD_STUDENTS / GIB if largest and largest.get("peak_population") else None,
                 years_completed=len(years), spin_up_years=4,
                 seconds_per_year=[round(x["seconds"], 2) for x in years],
                 population_at_last_year=years[-1]["population"] if years else None,
                 build_seconds=r.get("build_seconds"), year_seconds=r.get("year_seconds"), wall=r["wall"],
                 error=r["stderr_tail"][-400:] or None)


def warm_start_entry(repeats: int = 5) -> dict:
    """From process start to the end of the first simulated year: the child prints the wall clock
    when its first year is done (interpreter teardown after that is not counted)."""
    cmd = [sys.executable, "-c", WARM_START]
    # Python's own bytecode cache as a user has it (some sandboxes set PYTHONDONTWRITEBYTECODE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)  # fills Numba's and the spin-up cache
    times, exits = [], []
    for _ in range(repeats):
        t = time.time()
        done = float(subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True,
                                    env=env).stdout.split()[-1])
        exits.append(time.time() - t)
        times.append(done - t)
    return entry(statistics.median(times), "s", "<= 2",
                 "process start to the end of the first simulated year, default config, Numba's cache and the "
                 "spin-up cache warm (sim/spin_up.py: a first run at this config and seed fills both) (python -c: "
                 f"import, HemsimModel(Config()), step()); median of {repeats}",
                 runs=times, to_process_exit=exits)


def threads_entry() -> dict:
    runs = {n: spawn(["threads"], env={"NUMBA_NUM_THREADS": str(n), "HEMSIM_SPIN_UP_CACHE": "0"}) for n in (1, 2)}
    same = all(runs[1].get(t) is not None and runs[1].get(t) == runs[2].get(t) for t in ("flows", "metrics"))
    return entry(same, "bool", "true", "flows and metrics tables (SHA-256 of Arrow IPC) of a 4-year default-config run "
                 "with NUMBA_NUM_THREADS=1 and 2", threads={n: r.get("threads") for n, r in runs.items()},
                 sha256={n: {t: r.get(t) for t in ("flows", "metrics")} for n, r in runs.items()})


def throughput_entries(quick: bool) -> dict:
    """Runs per minute of the default world (200,000 students, 12 years) and of a 1M-student world,
    through the in-process batch path on 2 worker processes (benchmarks/throughput.py)."""
    from benchmarks.throughput import runs_per_minute
    default = Config().world.students
    out = {}
    for key, students, runs in (("runs_per_minute", default, 48), ("runs_per_minute_1m", 1_000_000, 6 if quick else 12)):
        r = runs_per_minute(students, runs)
        out[key] = entry(r.pop("value"), "runs/min", ">= 60" if students == default else "",
                         f"{students:,}-student world, {Config().years} years a run, seeds and a parameter varied, "
                         "2 worker processes that build the world once (the EMA / hemsim-sensitivity path), "
                         "from launching the workers to the last run's end", **r)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:       # the same runs as a Hydra sweep: a process a run
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "hemsim"), "-m", "seed=range(0,12)", f"hydra.sweep.dir={tmp}",
                        "hydra.launcher.progress=false"], cwd=ROOT, check=True, capture_output=True)
        seconds = time.perf_counter() - started
    out["runs_per_minute_sweep"] = entry(round(12 / seconds * 60, 1), "runs/min", "",
                                         "the default world as `hemsim -m seed=range(0,12)` (local launcher, a "
                                         "process per run, each writing its tables)", runs=12, seconds=round(seconds, 2))
    return out


def show(results: dict, header: bool = True) -> None:
    if header:
        print(f"{'benchmark':<28}{'value':>12}  {'unit':<6}target")
    for k, v in results.items():
        if isinstance(v, dict) and "value" in v:
            x = v["value"]
            text = f"{x:.4g}" if isinstance(x, float) else str(x)
            print(f"{k:<28}{text:>12}  {v['unit']:<6}{v['target']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("HEMSIM_BENCH_QUICK") == "1",
                        help="skip the 100M-student year and the 250M 1:1 world")
    quick = parser.parse_args().quick
    results = {"machine": machine() | {"quick": quick, "started": time.strftime("%Y-%m-%d %H:%M:%S")}}

    def largest() -> dict | None:
        runs = [v for k, v in results.items() if k.startswith("year_seconds_") and v.get("peak_population")]
        return max(runs, key=lambda v: v["peak_population"], default=None)

    # the start-up and the short timings first, before the large runs leave the machine busy
    # reclaiming their memory
    steps = [("choice", choice_entries),
             ("warm_start_seconds", lambda: {"warm_start_seconds": warm_start_entry()}),
             ("threads_identical", lambda: {"threads_identical": threads_entry()}),
             ("throughput", lambda: throughput_entries(quick)),
             ("inference", lambda: inference.entries(quick)),
             ("bytes_per_student", lambda: {"bytes_per_student": memory_entry()}),
             ("scaling", lambda: scaling_entries(quick)),
             ("world_scale", lambda: {"world_scale": world_entry(largest()) if not quick else entry(
                 "skipped", "", "ok: builds and runs a year within 16 GiB", "skipped (--quick)")})]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    for name, step in steps:
        load = os.getloadavg()[0]
        try:
            out = step()
        except Exception as e:  # one broken benchmark must not lose the others
            out = {name: entry(None, "", "", f"failed: {type(e).__name__}: {e}")}
        for v in out.values():  # other processes running meanwhile make timings noisy
            v["load_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        results.update(out)
        OUT.write_text(json.dumps(results, indent=2, default=str) + "\n")   # partial results survive a crash
        show(out, header=False)
    print()
    show(results)
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Runs per minute through the in-process batch path (sim.ema.run_point: what hemsim-sensitivity and the
EMA model use): worker processes that build the world once and keep the compiled kernels loaded, each
running many parameter points. Measured from launching the workers to the last run's end."""

import time

from sim.config import Config


def one_run(students: int, seed: int, quality: float, threads: int = 1) -> float:
    """A default-config run (students, seed, one varied parameter, as a design point would); returns its
    simulated papers in the last year (so the work cannot be skipped)."""
    import numba
    from sim.ema import run_point
    numba.set_num_threads(threads)     # one process per core: its kernels on one thread (results do not change)
    cfg = Config()
    cfg.progress, cfg.world.students, cfg.seed = False, students, seed
    cfg.behaviour.choice.quality = quality
    metrics = run_point(cfg).metrics.to_pandas()
    return float(metrics[(metrics.metric == "papers") & (metrics.country == "WORLD")].value.iloc[-1])


def runs_per_minute(students: int, runs: int, n_jobs: int = 2) -> dict:
    from joblib import Parallel, delayed
    started = time.perf_counter()
    Parallel(n_jobs=n_jobs)(delayed(one_run)(students, seed, 2.0 + seed / runs) for seed in range(runs))
    seconds = time.perf_counter() - started
    return {"value": round(runs / seconds * 60, 1), "runs": runs, "seconds": round(seconds, 2), "n_jobs": n_jobs}

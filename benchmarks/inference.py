"""Throughput of posterior inference (`hemsim-calibrate --posterior`): seconds per particle simulation of the
real world at conf/posterior.yaml's scale, and what a full posterior then takes on this machine and on a
cluster.

    .venv/bin/python -m benchmarks.inference [--quick]     (also a step of `make bench`)

A particle is what ABC-SMC runs: the real world (conf/calibrate.yaml: world=oecd, 2013-2016 from the
spin-up) at parameters drawn from the priors, scored by the calibration's objective
(sim.inference.posterior.Discrepancy), on one Numba thread, the world built once per process (as each
local or Dask worker does). The projection:

    simulations  S = population x (1 + sum over generations g of 1 / acceptance_g)
                     (the first term: the prior sample that sets the first epsilon)
    2 cores:     minutes = (S x seconds_per_simulation / 2 + world) / 60
    N nodes of c cores (Dask on Slurm, sampler=dask): minutes ~ (world + sum_g ceil(S_g / (N c)) x
                 seconds_per_simulation) / 60, S_g = population / acceptance_g: a generation ends with its
                 slowest round of particles, so more than S_g workers do not help

The acceptance rates are those of the last posterior written (results/calibration/*/posterior.json), else
ACCEPTANCE (median epsilon: about half accepted at first, fewer as epsilon falls).
"""

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ACCEPTANCE = (0.6, 0.45, 0.35, 0.25, 0.2, 0.15, 0.12, 0.1)   # per generation, when nothing was measured


def _model(scale: float):
    """The posterior's model of the real world (as `hemsim-calibrate --posterior` builds it) and its priors."""
    from experiments.calibrate import intervals, posterior_config
    from sim.inference import calibration, posterior
    bounds = intervals([])
    config = posterior_config([], bounds, scale)
    c = config.calibration
    observed = calibration._observed(config.world.data_dir, c.first_year, c.last_year)
    gravity = calibration.target(config.world.data_dir, c.first_year, c.last_year, c.gravity_weight)
    return posterior.Discrepancy(posterior.HemsimSimulator(config, threads=1), observed, c.level_weight, gravity,
                                 0), bounds


def seconds_per_simulation(runs: int, scale: float) -> dict:
    """Build the world once, run one particle to warm up (Numba's cache), then time `runs` particles drawn
    from the priors; the median and the mean seconds of one."""
    model, bounds = _model(scale)
    rng = np.random.default_rng(0)
    draws = [{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in bounds.items()} for _ in range(runs + 1)]
    started = time.perf_counter()
    model(draws[0])
    first = time.perf_counter() - started
    times = []
    for d in draws[1:]:
        t = time.perf_counter()
        model(d)
        times.append(time.perf_counter() - t)
    return {"median": float(np.median(times)), "mean": float(np.mean(times)), "runs": runs,
            "first_with_world": first}


def measured_acceptance() -> tuple[list[float], str]:
    """The acceptance rates of the newest posterior on disk, else the assumed ACCEPTANCE."""
    found = sorted((ROOT / "results" / "calibration").glob("*/posterior.json"), key=os.path.getmtime)
    for path in reversed(found):
        try:
            rates = json.loads(path.read_text())["generations"]["acceptance_rate"]
            return [float(r) for r in rates], str(path.relative_to(ROOT))
        except (OSError, ValueError, KeyError):
            continue
    return list(ACCEPTANCE), "assumed (benchmarks/inference.py ACCEPTANCE)"


def projection(seconds: float, world: float, population: int, generations: int, rates: list[float],
               cores: int = 2, nodes: int = 0, cores_per_node: int = 32) -> dict:
    """Simulations and minutes of a posterior (the module docstring's formula); with nodes > 0, on a cluster."""
    acc = [rates[min(g, len(rates) - 1)] for g in range(generations)]   # later generations: the last rate seen
    per_gen = [population / a for a in acc]
    sims = population + sum(per_gen)
    if nodes:
        workers = nodes * cores_per_node
        rounds = math.ceil(population / workers) + sum(math.ceil(s / workers) for s in per_gen)
        return {"simulations": round(sims), "minutes": (world + rounds * seconds) / 60}
    return {"simulations": round(sims), "minutes": (sims * seconds / cores + world) / 60}


def entries(quick: bool) -> dict:
    from sim.inference.posterior import load_settings
    s = load_settings([])
    m = seconds_per_simulation(4 if quick else 12, s.scale)
    rates, source = measured_acceptance()
    local = projection(m["median"], m["first_with_world"], s.population, s.generations, rates)
    cluster = {n: projection(m["median"], m["first_with_world"], s.population, s.generations, rates, nodes=n)
               for n in (1, 4, 16)}
    fits = max((p for p in (8, 16, 24, 32, 48, 64, 96, 128)
                if projection(m["median"], m["first_with_world"], p, s.generations, rates)["minutes"] <= 60),
               default=None)
    what = (f"one ABC-SMC particle: the real world (conf/calibrate.yaml, world.scale={s.scale:g}, 2013-2016) at "
            f"prior draws, scored by the calibration objective, 1 Numba thread, world built once; median of "
            f"{m['runs']}")
    return {
        "posterior_seconds_per_simulation": {
            "value": round(m["median"], 3), "unit": "s", "target": "", "what": what, "mean": round(m["mean"], 3),
            "world_and_first_run_seconds": round(m["first_with_world"], 2)},
        "posterior_minutes_2_cores": {
            "value": round(local["minutes"], 1), "unit": "min", "target": "<= 60",
            "what": f"conf/posterior.yaml's posterior (population {s.population}, {s.generations} generations) on 2 "
                    f"processes: simulations x s/simulation / 2 + world; acceptance rates: {source}",
            "simulations": local["simulations"], "acceptance_rates": [round(r, 3) for r in rates],
            "largest_population_in_60_min": fits},
        "posterior_minutes_slurm": {
            "value": round(cluster[4]["minutes"], 1), "unit": "min", "target": "",
            "what": "the same posterior with sampler=dask on 4 Slurm nodes of 32 cores (value), and on 1 and 16 "
                    "(by_nodes): world + rounds of ceil(simulations per generation / workers) x s/simulation",
            "by_nodes": {n: round(v["minutes"], 1) for n, v in cluster.items()}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("HEMSIM_BENCH_QUICK") == "1")
    print(json.dumps(entries(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()

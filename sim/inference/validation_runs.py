"""The runs the validation scores, and its report: held out, in sample, forward.

Out of sample first: the world calibrated on the years up to a base year (world=oecd_holdout) runs
from the base year and its later stocks are scored against persistence, fixed-effects gravity and
size-only predictors that know the same years. Then, in sample, the calibrated world (world=oecd)
over the calibration years beside the same references and its gravity coefficients; then the world
forward from its start (flows in real units with ISO3 codes, to hold against later data). Each run's
tables go to `out`/<run>/, the report (validation_report.py) to `out`.
"""

import time
from pathlib import Path

from sim.inference import validation_report
from sim.io import write_run
from sim.model import HemsimModel, build_world
from sim.world import loaders


def _run(cfg, resolved: dict, folder: Path, world=None):
    started = time.perf_counter()
    results = HemsimModel(cfg, world).run()
    write_run(folder, {"flows": results.flows, "metrics": results.metrics}, resolved, cfg.seed,
              time.perf_counter() - started)
    return results


def validate(out: Path, held_out, in_sample, forward=None, base: int = 2014, last: int = 2016) -> dict:
    """Run and score. held_out, in_sample, forward: (Config, resolved config dict) of the held-out world from
    `base` to `last`, the calibrated world over the calibration years, and the calibrated world forward (or
    None); returns the summary written to validation.json."""
    held_cfg, held_resolved = held_out
    d = held_cfg.world.data_dir
    observed = loaders.rescaled_oecd_stocks(d).frame
    geography = loaders.load_cepii(d).frame
    held = _run(held_cfg, held_resolved, out / f"held_out_{base}_{last}").flows.to_pandas()
    uis = loaders.load_uis_inbound(d).frame.dropna(subset=["inbound"])
    held_scores = validation_report.out_of_sample(observed, held[held.kind == "enrolled"], geography, uis, base, out)

    fit_cfg, fit_resolved = in_sample
    world = build_world(fit_cfg)
    first = fit_cfg.start_year
    fit = _run(fit_cfg, fit_resolved, out / f"fit_{first}_{first + fit_cfg.years - 1}", world)
    flows, metrics = fit.flows.to_pandas(), fit.metrics.to_pandas()
    coauthorship = loaders.require_coverage(loaders.load_openalex_coauthorship(d).frame, d, loaders.OPENALEX_FILE)
    summary = validation_report.build(observed, flows[flows.kind == "enrolled"], geography, coauthorship, metrics,
                                      world.excluded, out, held_scores, flows)
    if forward is not None:
        cast_cfg, cast_resolved = forward
        start = cast_cfg.start_year
        _run(cast_cfg, cast_resolved, out / f"forecast_{start}_{start + cast_cfg.years - 1}")
    return summary

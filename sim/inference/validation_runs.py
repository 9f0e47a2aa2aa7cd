"""The runs the validation scores, and its report: held out, in sample, forward.

Out of sample first: the world calibrated on the years up to a base year (world=oecd_holdout) runs
from the data of the base year, over several seeds, and its later stocks are scored against
persistence, dynamic gravity, corridor trends, fixed-effects gravity and size-only predictors that
know the same years; runs from the year before give the horizon-3 score and the intervals' widths. Then, in sample, the calibrated world (world=oecd)
over the calibration years beside the same references and its gravity coefficients; then the world
forward from its start (flows in real units with ISO3 codes, to hold against later data). Each run's
tables go to `out`/<run>/, the report (validation_report.py) to `out`.
"""

import copy
import dataclasses
import time
from pathlib import Path

import pandas as pd

from sim.inference import research_response, validation_report
from sim.io import write_run
from sim.model import HemsimModel, build_world
from sim.world import loaders


def _run(cfg, resolved: dict, folder: Path, world=None):
    started = time.perf_counter()
    results = HemsimModel(cfg, world).run()
    write_run(folder, {"flows": results.flows, "metrics": results.metrics}, resolved, cfg.seed,
              time.perf_counter() - started)
    return results


def _forecast(runs, observed_years) -> dict[str, pd.DataFrame]:
    """The held-out runs' readings, each the mean over seeds: `hemsim` (enrolled_expected, the forecast as
    users read it: the agents' dice averaged out by corridor) and `hemsim_agents` (the sampled enrolled stock)."""
    flows = pd.concat([r.flows.to_pandas().assign(run=i) for i, r in enumerate(runs)], ignore_index=True)
    flows = flows[(flows.origin != flows.destination) & flows.year.isin(observed_years)]
    out = {}
    for name, kind in (("hemsim", "enrolled_expected"), ("hemsim_agents", "enrolled")):
        f = flows[flows.kind == kind]
        out[name] = f.groupby(["year", "origin", "destination"], as_index=False).students.sum() \
            .assign(students=lambda x: x.students / len(runs))
    return out


def _response(cfg, resolved: dict, out: Path) -> dict:
    """The paired experiment of research_response: the world as it is and under the enrolment shock abroad,
    at the same seed; the elasticities it implies."""
    start = cfg.start_year
    levers = research_response.shock(start)
    shocked = copy.deepcopy(cfg)
    shocked.scenario = dataclasses.replace(cfg.scenario, name="enrolment_shock_abroad", levers=levers)
    shocked_resolved = copy.deepcopy(resolved)
    shocked_resolved["scenario"] = {"name": "enrolment_shock_abroad", "description": research_response.shock.__doc__,
                                    "levers": [dataclasses.asdict(lever) for lever in levers]}
    stop = start + cfg.years - 1
    base = _run(cfg, resolved, out / f"response_baseline_{start}_{stop}")
    moved = _run(shocked, shocked_resolved, out / f"response_shocked_{start}_{stop}")
    return research_response.elasticities(base.metrics.to_pandas(), moved.metrics.to_pandas())


def validate(out: Path, held_out, in_sample, forward=None, base: int = 2014, last: int = 2016,
             earlier=(), response=None) -> dict:
    """Run and score. held_out: [(Config, resolved config dict)] of the held-out world from the data of `base`
    (start year base + 1) to `last`, one per seed; earlier: the same from the data of base - 1 (the last
    calibration year scored at horizon 1 sets the intervals; the held-out years at horizons up to 3);
    in_sample: the calibrated world over the calibration years; forward: the calibrated world forward (or None);
    response: the calibrated world of the paired experiment of research_response (or None).
    Returns the summary written to validation.json."""
    held_cfg = held_out[0][0]
    d = held_cfg.world.data_dir
    observed = loaders.rescaled_oecd_stocks(d).frame
    geography = loaders.load_cepii(d).frame
    years = set(observed.year)
    held = [_run(cfg, resolved, out / f"held_out_from_{base}_seed_{cfg.seed}") for cfg, resolved in held_out]
    early = [_run(cfg, resolved, out / f"held_out_from_{base - 1}_seed_{cfg.seed}") for cfg, resolved in earlier]
    uis = loaders.load_uis_inbound(d).frame.dropna(subset=["inbound"])
    held_scores = validation_report.out_of_sample(observed, _forecast(held, years), geography, uis, base, out,
                                                  _forecast(early, years) if early else None)

    fit_cfg, fit_resolved = in_sample
    world = build_world(fit_cfg)
    first = fit_cfg.start_year
    fit = _run(fit_cfg, fit_resolved, out / f"fit_{first}_{first + fit_cfg.years - 1}", world)
    flows, metrics = fit.flows.to_pandas(), fit.metrics.to_pandas()
    coauthorship = loaders.require_coverage(loaders.load_openalex_coauthorship(d).frame, d, loaders.OPENALEX_FILE)
    responses = _response(*response, out) if response is not None else None
    summary = validation_report.build(observed, flows[flows.kind == "enrolled"], geography, coauthorship, metrics,
                                      world.excluded, out, held_scores, flows, responses)
    if forward is not None:
        cast_cfg, cast_resolved = forward
        start = cast_cfg.start_year
        _run(cast_cfg, cast_resolved, out / f"forecast_{start}_{start + cast_cfg.years - 1}")
    return summary

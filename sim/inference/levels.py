"""Fitting the levels: the destination and origin constants that make the real world hold the observed totals.

The choice's covariates (quality, distance, language, colonial ties, networks, visas, work rights,
costs) explain where students go, not every country's size as a destination or as a sender: a
destination's language of instruction, degree recognition or recruitment, an origin's propensity
to send students abroad are not in them. Left out, they put the levels far off (at the start of
this work, 7.6 million international students simulated in 2016 against 4.9 million reported to
UIS; rich destinations 1.3-5x too large, middle-income ones 0.03-0.8x, because the network term
with its near-unit elasticity amplifies what the covariates favour). Gravity models absorb them
in destination and origin fixed effects; here they are two constants of the choice (choice.py):

    destination_constant[d]   added to the utility of studying in d, for every origin
    origin_constant[o]        added to the utility of going abroad at all, for students of o

fitted by simulation (iterative proportional fitting, as the alternative-specific constants of a
discrete-choice model are calibrated to market shares; Train 2009, section 2.8): run the world over
the calibration years, then move each destination's constant by the mean log ratio of its
observed (UIS) to simulated inbound stock and each origin's by the mean log ratio of its observed
to simulated stock in the destinations that report origins (OECD, rescaled to UIS totals), damped,
until the levels hold, and keep the best iterate (the dice keep the last ones moving). The runs are
those from 2013 (the calibration years) and from 2016 (the default run), each with its own starting
state and each weighing equally (a mean over its years).
Destinations that report no total get the median constant (a typical destination); a UIS total observed
more than STALE years from a calibration year is no target for it (Yemen's last is 2011, before its war;
listed); a UIS total
that jumps by more than BREAK in a year is a series break, and the years before it are not
targets (they are listed). The constants are configuration
(`world.destination_constants`, `world.origin_constants`, by ISO3 code; `conf/world/oecd_levels.yaml`),
written by `hemsim-levels` (`write`); sim/world/levels.py applies them to a world.
"""

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim import fpmath
from sim.errors import ConfigError, UserError
from sim.io import atomic_write, sha256
from sim.model import HemsimModel, build_world

LIMIT = 8.0            # constants stay within +-LIMIT (a destination nobody reaches does not run away)
RESPONSE = 3.0         # about how many log units a stock moves per unit of its constant (see step)
BREAK = 1.5            # a year-on-year change of a UIS total beyond this factor is a series break (SEN 2016: 0.53x)
MAJOR = 10_000         # destinations the level targets are about: at least this many international students
STALE = 2              # a UIS total observed more than this many years from a year is no target for it


@dataclass
class Targets:
    """Observed totals over the calibration years (real students), NaN where unobserved."""
    years: list[int]
    inbound: np.ndarray      # (Y, C) UIS inbound totals (nearest year with a value; NaN before a series break)
    reported: np.ndarray     # (Y, C) bool: destinations that report their students' origins (OECD)
    outbound: np.ndarray     # (Y, C) students of each origin in the reporting destinations
    breaks: list             # (code, year): a UIS series break; the years before it are not targets
    stale: list = dataclasses.field(default_factory=list)   # (code, year): its nearest total is more than
    #                                                           STALE years away (Yemen's last is 2011): no target


def targets(world, data_dir, years: list[int]) -> Targets:
    from sim.world import loaders
    from sim.world.real import nearest_year
    index = {c: i for i, c in enumerate(world.codes)}
    n = world.n_countries
    uis = loaders.load_uis_inbound(data_dir).frame
    uis = uis[uis.country.isin(index)].dropna(subset=["inbound"])
    stocks = loaders.rescaled_oecd_stocks(data_dir).frame
    inbound = np.full((len(years), n), np.nan)
    reported = np.zeros((len(years), n), bool)
    outbound = np.zeros((len(years), n))
    stale = []
    for k, y in enumerate(years):
        first = nearest_year(uis, y, ["inbound"]).set_index("country")
        far = np.abs(first.year.to_numpy() - y) > STALE
        stale += [(c, y) for c in first.index[far]]
        first = first[~far]
        inbound[k, [index[c] for c in first.index]] = first.inbound.to_numpy(float)
        s = stocks[(stocks.year == y) & stocks.destination.isin(index) & stocks.origin.isin(index)]
        reported[k, [index[d] for d in s.destination.unique()]] = True
        np.add.at(outbound[k], s.origin.map(index).to_numpy(), s.students.fillna(0).to_numpy(float))
    breaks = []
    for k in range(1, len(years)):      # a one-year jump beyond BREAK: the earlier years measured otherwise
        with np.errstate(invalid="ignore", divide="ignore"):
            jump = np.abs(fpmath.log(inbound[k] / inbound[k - 1])) > math.log(BREAK)
        for c in np.flatnonzero(jump):
            breaks.append((world.codes[c], years[k]))
            inbound[:k, c] = np.nan
    return Targets(years, inbound, reported, outbound, breaks, stale)


def simulated(flows: pd.DataFrame, world, t: Targets) -> tuple[np.ndarray, np.ndarray]:
    """(inbound (Y, C), outbound to the reporting destinations (Y, C)) of a run's `enrolled` flows."""
    index = {c: i for i, c in enumerate(world.codes)}
    f = flows[flows.kind == "enrolled"]
    n = world.n_countries
    inbound, outbound = np.zeros((len(t.years), n)), np.zeros((len(t.years), n))
    for k, y in enumerate(t.years):
        g = f[f.year == y]
        o, d = g.origin.map(index).to_numpy(), g.destination.map(index).to_numpy()
        np.add.at(inbound[k], d, g.students.to_numpy(float))
        rep = t.reported[k][d]
        np.add.at(outbound[k], o[rep], g.students.to_numpy(float)[rep])
    return inbound, outbound


def errors(inbound_sim: np.ndarray, t: Targets) -> pd.DataFrame:
    """Per calibration year, over the destinations with at least MAJOR international students: the median
    absolute error, the number off by more than 2x, the worst ratio and the total ratio."""
    rows = []
    for k, y in enumerate(t.years):
        obs = t.inbound[k]
        major = np.isfinite(obs) & (obs >= MAJOR)
        ratio = np.maximum(inbound_sim[k][major], 1.0) / obs[major]
        off = np.abs(fpmath.log(ratio))
        rows.append({"year": y, "destinations": int(major.sum()), "median_abs_error": fpmath.expm1(np.median(off)),
                     "off_by_2x": int((off > math.log(2)).sum()), "worst_ratio": float(ratio[off.argmax()]),
                     "total_ratio": float(inbound_sim[k][major].sum() / obs[major].sum())})
    return pd.DataFrame(rows)


def step(dest, orig, trend: float, inbound_sim, outbound_sim, t: Targets, damping: float,
         weights: np.ndarray | None = None) -> float:
    """One damped proportional-fitting update of the constants, in place; returns the new trend.

    A constant's step is the log ratio of observed to simulated stock (mean over the years, weighted
    by `weights`: each run counts equally, whatever its number of years) divided by RESPONSE: the
    network term (diaspora elasticity near 1 in the real world) makes a stock respond about RESPONSE
    times to its constant over the spin-up, and a full step overshoots and oscillates (measured).
    The trend moves by the yearly slope of the world total's log ratio, in the same way."""
    w = np.ones(len(t.years)) if weights is None else np.asarray(weights, float)
    with np.errstate(divide="ignore"):
        d_log = fpmath.log(np.maximum(np.nan_to_num(t.inbound), 1.0)) - fpmath.log(np.maximum(inbound_sim, 1.0))
        o_log = fpmath.log(np.maximum(t.outbound, 1.0)) - fpmath.log(np.maximum(outbound_sim, 1.0))
    seen = np.isfinite(t.inbound).any(axis=0)
    has = np.isfinite(t.inbound[:, seen])
    d_mean = (np.where(has, d_log[:, seen], 0.0) * w[:, None]).sum(axis=0) / (has * w[:, None]).sum(axis=0)
    dest[seen] += np.clip(damping * d_mean / RESPONSE, -1.0, 1.0)
    if seen.any():
        dest[~seen] = np.median(dest[seen])
    sends = (t.outbound > 0).all(axis=0)
    orig[sends] += np.clip(damping * (o_log[:, sends] * w[:, None]).sum(axis=0) / w.sum() / RESPONSE, -1.0, 1.0)
    np.clip(dest, -LIMIT, LIMIT, out=dest)
    np.clip(orig, -LIMIT, LIMIT, out=orig)
    if len(t.years) < 2:
        return trend
    every_year = np.isfinite(t.inbound).all(axis=0)    # the world's trend over destinations seen throughout
    world_log = fpmath.log(np.nansum(np.where(every_year, t.inbound, 0.0), axis=1)
                       / inbound_sim[:, every_year].sum(axis=1))
    years = np.array(t.years, float)
    if np.ptp(years) == 0:
        return trend
    return trend + damping * fpmath.linear_fit(years - years.mean(), world_log)[0] / RESPONSE


def fit(cfgs: list, iterations: int = 20, damping: float = 0.8, tolerance: float = 0.08, report=print):
    """Fit the constants and the trend of going abroad for the configured real world: every config in
    `cfgs` (the same world, different start years: the calibration years and the default run) is run
    each iteration and all their years are targets. Returns the best iterate (fewest destinations off by
    2x in the worst year, then the smallest worst-year median error): ({code: destination constant},
    {code: origin constant}, trend, errors by iteration, run start and year, `kept` marking its rows).
    Changes each config's behaviour.choice.abroad_trend."""
    worlds = [build_world(cfg) for cfg in cfgs]      # each start year has its own starting state
    world = worlds[0]
    if any(w.codes != world.codes for w in worlds):
        raise ConfigError("hemsim-levels: the worlds of the fitted start years have different countries")
    runs = [(cfg, w, targets(w, cfg.world.data_dir, list(range(cfg.start_year, cfg.start_year + cfg.years))))
            for cfg, w in zip(cfgs, worlds)]
    every = Targets(years=[y for _, _, t in runs for y in t.years],
                    inbound=np.concatenate([t.inbound for _, _, t in runs]),
                    reported=np.concatenate([t.reported for _, _, t in runs]),
                    outbound=np.concatenate([t.outbound for _, _, t in runs]),
                    breaks=sorted({b for _, _, t in runs for b in t.breaks}),
                    stale=sorted({b for _, _, t in runs for b in t.stale}))
    weights = np.concatenate([np.full(len(t.years), 1.0 / len(t.years)) for _, _, t in runs])  # runs count equally
    if every.breaks:
        report("UIS series breaks (earlier years not targets): " + ", ".join(f"{c} {y}" for c, y in every.breaks))
    if every.stale:
        report(f"UIS totals more than {STALE} years away (not targets): "
               + ", ".join(f"{c} {y}" for c, y in every.stale))
    dest, orig = world.destination_constant.copy(), world.origin_constant.copy()
    trend = cfgs[0].behaviour.choice.abroad_trend
    history, best = [], None
    for it in range(iterations + 1):
        inbound, outbound, e = [], [], []
        for cfg, w, t in runs:
            w.destination_constant[:], w.origin_constant[:] = dest, orig
            cfg.behaviour.choice.abroad_trend = float(trend)
            flows = HemsimModel(cfg, w).run().flows.to_pandas()
            i, o = simulated(flows, w, t)
            inbound.append(i)
            outbound.append(o)
            e.append(errors(i, t).assign(start=cfg.start_year))
        inbound, outbound, e = np.concatenate(inbound), np.concatenate(outbound), pd.concat(e).assign(iteration=it)
        history.append(e)
        report(f"iteration {it}: median error {e.median_abs_error.max():.1%} (worst year), "
               f"{int(e.off_by_2x.max())} off by 2x, total {e.total_ratio.min():.2f}-{e.total_ratio.max():.2f}x")
        score = (int(e.off_by_2x.max()), float(e.median_abs_error.max()))
        if best is None or score < best[0]:
            best = (score, it, dest.copy(), orig.copy(), float(trend))
        if it == iterations or (e.median_abs_error.max() < tolerance and e.off_by_2x.max() == 0
                                and (e.total_ratio - 1).abs().max() < tolerance / 2):   # within the noise
            break
        trend = step(dest, orig, trend, inbound, outbound, every, damping, weights)
    # the best iterate, not the last: near the fixed point the dice keep the constants moving by a few hundredths,
    # and a destination whose data the covariates cannot follow (the Dominican Republic: -36% observed 2013-2016,
    # rising simulated) steps in and out of the 2x band from one iteration to the next
    _, kept, dest, orig, trend = best
    for cfg in cfgs:
        cfg.behaviour.choice.abroad_trend = trend
    codes = world.codes
    history = pd.concat(history, ignore_index=True)
    history["kept"] = history.iteration == kept
    # in full: the simulation is sensitive enough that rounding the constants moves small destinations
    return ({c: float(v) for c, v in zip(codes, dest)}, {c: float(v) for c, v in zip(codes, orig)}, trend, history)


RUNS = "2013:4,2016:1"   # start:years of each fitted run: the calibration years; the default real-world run


def parse_runs(text: str) -> list[tuple[int, int]]:
    """"2013:4,2016:1" -> [(2013, 4), (2016, 1)]; a one-line error otherwise."""
    try:
        runs = [tuple(int(x) for x in part.split(":")) for part in text.split(",")]
    except ValueError:
        runs = []
    if not runs or any(len(r) != 2 or r[1] < 1 for r in runs):
        raise UserError(f"--runs={text}: must be start:years pairs separated by commas, years >= 1, e.g. {RUNS}")
    return runs


def write(out: Path, iterations: int, overrides: list[str], report_dir: Path,
          runs: list[tuple[int, int]] | None = None, report=print) -> dict:
    """Fit the constants of the real world (`overrides`: config keys, e.g. world=oecd_holdout) over `runs`,
    from zero, and write them to `out` (a Hydra config `world=oecd` includes, with the SHA-256 of the data
    they were fitted on) and the fit by iteration and year to `report_dir`/levels_fit.csv."""
    from sim.params import config_from
    from sim.world.real import DATA_FILES
    given = dict(o.split("=", 1) for o in overrides if "=" in o)
    runs = runs or parse_runs(RUNS)
    cfgs = []
    for start, years in runs:      # by default the calibration years, and the default run of world=oecd
        cfg = config_from({"world": "oecd", "progress": False} | given | {"start_year": start, "years": years})
        # start from zero: the constants describe the data, not the previous fit
        cfg.world.destination_constants, cfg.world.origin_constants, cfg.world.data_sha256 = {}, {}, {}
        cfg.behaviour.choice.abroad_trend = 0.0
        cfg.world.start_from = "spin_up"    # the constants are those of the model's own equilibrium
        cfgs.append(cfg)
    cfg = cfgs[0]
    started = time.perf_counter()
    dest, orig, trend, history = fit(cfgs, iterations=iterations, report=report)
    minutes = (time.perf_counter() - started) / 60
    last = history[history.kept]          # the iteration whose constants are written (the best: fit)
    years = sorted({y for start, n in runs for y in range(start, start + n)})
    header = (f"# @package _global_\n# Fitted by hemsim-levels ({len(history.iteration.unique()) - 1} iterations, "
              f"{minutes:.1f} minutes) to the UIS inbound totals and the\n# OECD/UIS stocks by origin, "
              f"{years[0]}-{years[-1]} (runs {', '.join(f'from {s} for {n} years' for s, n in runs)}), "
              f"world.scale={cfg.world.scale:g}, world={given.get('world', 'oecd')} with its calibrated "
              f"behaviour.\n# Kept: iteration {int(last.iteration.iloc[0])}, the best. Worst year: median error "
              f"{last.median_abs_error.max():.1%}, {int(last.off_by_2x.max())} destinations off by more than 2x, "
              f"total {last.total_ratio.min():.3f}-{last.total_ratio.max():.3f}x UIS (sim/inference/levels.py).\n")
    data = Path(cfg.world.data_dir)
    body = {"behaviour": {"choice": {"abroad_trend": trend}},
            "world": {"destination_constants": dest, "origin_constants": orig,
                      "data_sha256": {name: sha256(data / name) for name in DATA_FILES}}}
    atomic_write(out, lambda tmp: Path(tmp).write_text(header + yaml.safe_dump(body, sort_keys=True)))
    atomic_write(report_dir / "levels_fit.csv", lambda tmp: history.to_csv(tmp, index=False))
    report(f"levels fitted in {minutes:.1f} min (kept iteration {int(last.iteration.iloc[0])}): worst-year median "
           f"error {last.median_abs_error.max():.1%}, "
           f"{int(last.off_by_2x.max())} off by 2x; written to {out}")
    return {"history": history, "trend": trend}


def resolve_expected(model, iterations: int = 40, damping: float = 0.8, tolerance: float = 0.01) -> dict[str, float]:
    """Re-solve a world's constants on expected flows, in place: after the choice's responses change (a trial
    of the backtests' fit), move each observed destination's constant towards its observed inbound stock and
    each origin's towards its observed stock in those destinations, the expected stock being the choice's
    expected entrants (destinations.expected_entrants) x the years a student stays, under the model's state
    after its spin-up. Proportional fitting as in `fit`, without a simulation per iteration (the network
    stays that of the spin-up; a step moves an expected flow about one for one, so no RESPONSE damping).
    Stops when the median absolute log error of the destinations is below `tolerance` (a strong change of the
    responses moves every constant far: the steps are clipped at 1), after `iterations` at most. Returns the
    fit's last median absolute log error and its per-origin total-variation distance."""
    from sim.mechanisms.library.common import years_enrolled
    from sim.mechanisms.library.destinations import expected_entrants, probabilities
    w = model.world
    seen = ~np.isnan(w.observed_stock).all(axis=0)           # destinations that report their students' origins
    observed = np.nan_to_num(w.observed_stock)
    np.fill_diagonal(observed, 0.0)
    inbound, outbound = observed.sum(axis=0), observed[:, seen].sum(axis=1)
    dest_on, orig_on = seen & (inbound > 0), outbound > 0
    years = years_enrolled(model.rules.study, model.rules.progression)
    for _ in range(iterations + 1):
        flows = expected_entrants(probabilities(model), w, model.rules.study.postgraduate_share) * w.scale * years
        np.fill_diagonal(flows, 0.0)
        d_log = fpmath.log(inbound[dest_on]) - fpmath.log(np.maximum(flows.sum(axis=0)[dest_on], 1e-9))
        o_log = fpmath.log(outbound[orig_on]) - fpmath.log(np.maximum(flows[:, seen].sum(axis=1)[orig_on], 1e-9))
        if np.median(np.abs(d_log)) < tolerance:
            break
        w.destination_constant[dest_on] += np.clip(damping * d_log, -1.0, 1.0)
        w.origin_constant[orig_on] += np.clip(damping * o_log, -1.0, 1.0)
        np.clip(w.destination_constant, -LIMIT, LIMIT, out=w.destination_constant)
        np.clip(w.origin_constant, -LIMIT, LIMIT, out=w.origin_constant)
    sim_shares = flows[:, seen] / np.maximum(flows[:, seen].sum(axis=1, keepdims=True), 1e-12)
    obs_shares = observed[:, seen] / np.maximum(outbound[:, None], 1e-12)
    big = outbound >= 1_000
    tvd = 0.5 * np.abs(sim_shares - obs_shares)[big].sum(axis=1)
    return {"median_abs_log_error": float(np.median(np.abs(d_log))), "tvd": float(tvd.mean())}

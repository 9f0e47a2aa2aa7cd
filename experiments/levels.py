"""`hemsim-levels`: fit the real world's destination and origin constants to the observed totals.

    hemsim-levels                                   # 2013-2016 at the real world's scale (100), ~5-15 minutes
    hemsim-levels world.scale=50 --iterations 30    # finer, slower
    hemsim-levels --out conf/world/oecd_levels.yaml

Runs the real world (with its calibrated behaviour) over the calibration years again and again,
moving each destination's constant towards its UIS inbound total, each origin's towards its
observed students in the reporting destinations and the trend of going abroad towards the
world's growth (sim/world/levels.py). Writes the constants to --out (a Hydra config that
`world=oecd` includes) and the fit by iteration and year beside it in results/calibration/levels/.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

import yaml

from experiments import preflight
from sim.errors import UserError
from sim.io import atomic_write

OUT = Path("conf/world/oecd_levels.yaml")
RUNS = ((2013, 4), (2016, 1))   # (start year, years): the calibration years; the default real-world run
REPORT = Path("results/calibration/levels")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hemsim-levels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--report-dir", type=Path, default=REPORT, help="where the fit by iteration goes")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. world.scale=250")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if args.iterations < 1:
            raise UserError(f"--iterations={args.iterations}: must be >= 1")
        run(args.out, args.iterations, args.overrides, args.report_dir)
    except UserError as e:
        preflight.fail(str(e))


def run(out: Path, iterations: int, overrides: list[str], report_dir: Path = REPORT) -> dict:
    from sim.params import config_from
    from sim.world import levels
    given = dict(o.split("=", 1) for o in overrides if "=" in o)
    cfgs = []
    for start, years in RUNS:      # the calibration years, and the default run of world=oecd
        cfg = config_from({"world": "oecd", "progress": False} | given | {"start_year": start, "years": years})
        # start from zero: the constants describe the data, not the previous fit
        cfg.world.destination_constants, cfg.world.origin_constants = {}, {}
        cfg.behaviour.choice.abroad_trend = 0.0
        cfgs.append(cfg)
    cfg = cfgs[0]
    started = time.perf_counter()
    dest, orig, trend, history = levels.fit(cfgs, iterations=iterations)
    minutes = (time.perf_counter() - started) / 60
    last = history[history.iteration == history.iteration.max()]
    header = (f"# @package _global_\n# Fitted by hemsim-levels ({len(history.iteration.unique()) - 1} iterations, "
              f"{minutes:.1f} minutes) to the UIS inbound totals and the\n# OECD/UIS stocks by origin, "
              f"2013-2016 (runs from 2013 and from 2016), world.scale={cfg.world.scale:g}, with the "
              f"behaviour of conf/behaviour/oecd_calibrated.yaml.\n# Worst year: median error "
              f"{last.median_abs_error.max():.1%}, {int(last.off_by_2x.max())} destinations off by more than 2x, "
              f"total {last.total_ratio.min():.3f}-{last.total_ratio.max():.3f}x UIS (sim/world/levels.py).\n")
    body = {"behaviour": {"choice": {"abroad_trend": trend}},
            "world": {"destination_constants": dest, "origin_constants": orig}}
    atomic_write(out, lambda tmp: Path(tmp).write_text(header + yaml.safe_dump(body, sort_keys=True)))
    atomic_write(report_dir / "levels_fit.csv", lambda tmp: history.to_csv(tmp, index=False))
    print(f"levels fitted in {minutes:.1f} min: worst-year median error {last.median_abs_error.max():.1%}, "
          f"{int(last.off_by_2x.max())} off by 2x; written to {out}")
    return {"history": history, "trend": trend}


if __name__ == "__main__":
    main(sys.argv[1:])

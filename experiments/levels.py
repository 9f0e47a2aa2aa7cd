"""`hemsim-levels`: fit the real world's destination and origin constants to the observed totals.

    hemsim-levels                                   # 2013-2016 at the real world's scale (100), ~5-15 minutes
    hemsim-levels world.scale=50 --iterations 30    # finer, slower
    hemsim-levels --out conf/world/oecd_levels.yaml
    hemsim-levels world=oecd_holdout --runs 2013:2 --out conf/world/oecd_holdout_levels.yaml   # 2013-2014 only

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
RUNS = "2013:4,2016:1"   # start:years of each fitted run: the calibration years; the default real-world run
REPORT = Path("results/calibration/levels")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hemsim-levels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--runs", default=RUNS, help="the runs whose years are targets, as start:years,... "
                        f"(default {RUNS}; the held-out world: 2013:2)")
    parser.add_argument("--report-dir", type=Path, default=REPORT, help="where the fit by iteration goes")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. world.scale=250")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if args.iterations < 1:
            raise UserError(f"--iterations={args.iterations}: must be >= 1")
        run(args.out, args.iterations, args.overrides, args.report_dir, parse_runs(args.runs))
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")


def parse_runs(text: str) -> list[tuple[int, int]]:
    """"2013:4,2016:1" -> [(2013, 4), (2016, 1)]; a one-line error otherwise."""
    try:
        runs = [tuple(int(x) for x in part.split(":")) for part in text.split(",")]
    except ValueError:
        runs = []
    if not runs or any(len(r) != 2 or r[1] < 1 for r in runs):
        raise UserError(f"--runs={text}: must be start:years pairs separated by commas, years >= 1, e.g. {RUNS}")
    return runs


def run(out: Path, iterations: int, overrides: list[str], report_dir: Path = REPORT,
        runs: list[tuple[int, int]] | None = None) -> dict:
    from sim.params import config_from
    from sim.world import levels
    given = dict(o.split("=", 1) for o in overrides if "=" in o)
    runs = runs or parse_runs(RUNS)
    cfgs = []
    for start, years in runs:      # by default the calibration years, and the default run of world=oecd
        cfg = config_from({"world": "oecd", "progress": False} | given | {"start_year": start, "years": years})
        # start from zero: the constants describe the data, not the previous fit
        cfg.world.destination_constants, cfg.world.origin_constants, cfg.world.data_sha256 = {}, {}, {}
        cfg.behaviour.choice.abroad_trend = 0.0
        cfgs.append(cfg)
    cfg = cfgs[0]
    started = time.perf_counter()
    dest, orig, trend, history = levels.fit(cfgs, iterations=iterations)
    minutes = (time.perf_counter() - started) / 60
    last = history[history.iteration == history.iteration.max()]
    years = sorted({y for start, n in runs for y in range(start, start + n)})
    header = (f"# @package _global_\n# Fitted by hemsim-levels ({len(history.iteration.unique()) - 1} iterations, "
              f"{minutes:.1f} minutes) to the UIS inbound totals and the\n# OECD/UIS stocks by origin, "
              f"{years[0]}-{years[-1]} (runs {', '.join(f'from {s} for {n} years' for s, n in runs)}), "
              f"world.scale={cfg.world.scale:g}, world={given.get('world', 'oecd')} with its calibrated "
              f"behaviour.\n# Worst year: median error "
              f"{last.median_abs_error.max():.1%}, {int(last.off_by_2x.max())} destinations off by more than 2x, "
              f"total {last.total_ratio.min():.3f}-{last.total_ratio.max():.3f}x UIS (sim/world/levels.py).\n")
    from sim.io import sha256
    from sim.world.real import DATA_FILES
    data = Path(cfg.world.data_dir)
    body = {"behaviour": {"choice": {"abroad_trend": trend}},
            "world": {"destination_constants": dest, "origin_constants": orig,
                      "data_sha256": {name: sha256(data / name) for name in DATA_FILES}}}
    atomic_write(out, lambda tmp: Path(tmp).write_text(header + yaml.safe_dump(body, sort_keys=True)))
    atomic_write(report_dir / "levels_fit.csv", lambda tmp: history.to_csv(tmp, index=False))
    print(f"levels fitted in {minutes:.1f} min: worst-year median error {last.median_abs_error.max():.1%}, "
          f"{int(last.off_by_2x.max())} off by 2x; written to {out}")
    return {"history": history, "trend": trend}


if __name__ == "__main__":
    main(sys.argv[1:])

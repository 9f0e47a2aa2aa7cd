"""`hemsim-levels`: fit the real world's destination and origin constants to the observed totals.

    hemsim-levels                                   # 2013-2016 at the real world's scale (100), ~5-15 minutes
    hemsim-levels world.scale=50 --iterations 30    # finer, slower
    hemsim-levels --out conf/world/oecd_levels.yaml
    hemsim-levels world=oecd_holdout --runs 2013:2 --out conf/world/oecd_holdout_levels.yaml   # 2013-2014 only

Runs the real world (with its calibrated behaviour) over the calibration years again and again,
moving each destination's constant towards its UIS inbound total, each origin's towards its
observed students in the reporting destinations and the trend of going abroad towards the
world's growth (sim/inference/levels.py). Writes the constants to --out (a Hydra config that
`world=oecd` includes) and the fit by iteration and year beside it in results/calibration/levels/.
"""

import argparse
import logging
import sys
from pathlib import Path

from experiments import preflight
from sim.errors import UserError

OUT = Path("conf/world/oecd_levels.yaml")
REPORT = Path("results/calibration/levels")


def main(argv: list[str] | None = None) -> None:
    from sim.inference import levels
    parser = argparse.ArgumentParser(prog="hemsim-levels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--runs", default=levels.RUNS, help="the runs whose years are targets, as start:years,... "
                        f"(default {levels.RUNS}; the held-out world: 2013:2)")
    parser.add_argument("--report-dir", type=Path, default=REPORT, help="where the fit by iteration goes")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. world.scale=250")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if args.iterations < 1:
            raise UserError(f"--iterations={args.iterations}: must be >= 1")
        levels.write(args.out, args.iterations, args.overrides, args.report_dir, levels.parse_runs(args.runs))
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")


if __name__ == "__main__":
    main(sys.argv[1:])

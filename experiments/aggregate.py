"""`hemsim-aggregate SWEEP_DIR`: combine a sweep's finished runs into one partitioned Parquet dataset."""

import argparse
from pathlib import Path

from experiments.preflight import fail
from sim.errors import UserError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hemsim-aggregate", description=__doc__)
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: SWEEP_DIR/aggregate)")
    args = parser.parse_args(argv)
    from sim.analysis import sweep
    try:
        runs, incomplete = sweep.find_runs(args.sweep_dir)
        out = sweep.aggregate(args.sweep_dir, args.out)
    except UserError as e:
        fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"aggregated {len(runs)} runs ({len(incomplete)} incomplete left out) -> {out}/{{flows,metrics}}")


if __name__ == "__main__":
    main()

"""`hemsim-compare SWEEP_DIR --baseline NAME`: figures and a report comparing a sweep's scenarios."""

import argparse
from pathlib import Path

from experiments.preflight import fail
from sim.errors import UserError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hemsim-compare", description=__doc__)
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--baseline", default="baseline", help="the scenario effects are measured against")
    parser.add_argument("--out", type=Path, default=None, help="where figures and report go (default: SWEEP_DIR)")
    parser.add_argument("--sensitivity", type=Path, action="append", default=[], metavar="DIR",
                        help="a Sobol' analysis of a scenario's effects (hemsim-sensitivity method=sobol "
                             "effect=<scenario> out=DIR); repeatable. Flags effects the unanchored parameters dominate")
    args = parser.parse_args(argv)
    from sim.analysis import report
    try:
        path, table = report.compare(args.sweep_dir, args.baseline, args.out, tuple(args.sensitivity))
    except UserError as e:
        fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(table.to_markdown(index=False))
    print(f"\nreport: {path}")


if __name__ == "__main__":
    main()

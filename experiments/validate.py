"""`hemsim-validate`: regenerate the validation report of the calibrated real world.

    hemsim-validate                       # held out 2015-2016, in sample 2013-2016, forecast 2016-2025
    hemsim-validate world.scale=2000 --forecast-years 5 --out results/validation

Out of sample first: the world calibrated on 2013-2014 only (world=oecd_holdout) runs from the observed
students of 2014 (and, for the 3-year horizon and the intervals, of 2013), over --seeds seeds, and its
2015-2016 stocks are scored against persistence, dynamic gravity, corridor trends, fixed-effects
gravity and size-only predictors that know the same years, with Diebold-Mariano tests. Then, in sample, the calibrated world (world=oecd) over 2013-2016 beside
the same references and its gravity coefficients, and beside published figures it was not fitted to
(stay rates, foreign-born researchers, co-authorship; and the response of US patents and papers to foreign
graduate students, from a paired run from 2016 with and without an enrolment shock abroad); then the world
forward from its 2016 state (flows in real units with ISO3 codes, to hold against later data). Writes report.md, validation.json,
figures and the runs' tables to --out (sim/inference/validation_runs.py).
"""

import argparse
import logging
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from experiments import preflight
from sim.config import Config
from sim.errors import UserError

HOLDOUT = ("oecd_holdout", 2014)   # the world calibrated on 2013-2014, and the year whose data it runs from
SEEDS = 4                          # held-out runs: the forecast is their mean


def configure(overrides: list[str], world: str = "oecd") -> tuple[Config, dict]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(preflight.CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"world={world}", "progress=false", *overrides])
    return preflight.to_config(cfg), OmegaConf.to_container(cfg, resolve=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hemsim-validate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/validation"))
    parser.add_argument("--forecast-years", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"seeds of the held-out runs (default {SEEDS})")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. world.scale=1000")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        run(args.out, args.forecast_years, args.overrides, args.seeds)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")


def run(out: Path, forecast_years: int, overrides: list[str], seeds: int = SEEDS) -> dict:
    from sim.inference.validation_runs import validate
    world_name, base = HOLDOUT
    last = 2016
    if seeds < 1:
        raise UserError(f"--seeds={seeds}: needs at least 1")
    # from the data of the base year (its students in place: start year base + 1), and of the year before
    held = [configure([*overrides, f"start_year={base + 1}", f"years={last - base}", f"seed={s}"], world_name)
            for s in range(seeds)]
    earlier = [configure([*overrides, f"start_year={base}", f"years={last - base + 1}", f"seed={s}"], world_name)
               for s in range(seeds)]
    # in sample: the calibration's own fit, from the spin-up (the equilibrium the calibration and levels fitted)
    fit = configure([*overrides, "start_year=2013", f"years={last - 2013 + 1}", "world.start_from=spin_up"])
    forward = configure([*overrides, f"start_year={last}", f"years={forecast_years}"]) if forecast_years > 0 else None
    # the paired experiment of research and innovation responses (sim/inference/research_response.py)
    from sim.inference import research_response
    response = configure([*overrides, f"start_year={last}", f"years={research_response.YEARS}", "seed=0"])
    summary = validate(out, held, fit, forward, base, last, earlier, response)
    o = summary["out_of_sample"]
    h = o["tvd"]
    t = summary["in_sample"]["tvd"]
    print(f"out of sample {base + 1}-{last}: mean per-origin TVD hemsim {h['hemsim']:.4f} (agents' stock "
          f"{h['hemsim_agents']:.4f}), persistence {h['persistence']:.4f}, dynamic gravity {h['dynamic_gravity']:.4f}, "
          f"trend {h['trend']:.4f}; coverage of 90% intervals {o['coverage_90']:.2f}, 50% {o['coverage_50']:.2f}; "
          f"in sample 2013-2016: hemsim {t['simulated']:.3f}; report {out / 'report.md'}")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])

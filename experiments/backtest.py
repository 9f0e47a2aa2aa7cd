"""`hemsim-backtest`: the real world through past policy changes, against what happened.

    hemsim-backtest                          # the cases of conf/backtest/ with the fitted responses: report
    hemsim-backtest --seeds 5 --out results/backtest
    hemsim-backtest --fit                    # refit the responses first (an Optuna sweep on the launchers)
    hemsim-backtest --fit hydra/launcher=slurm hydra.sweeper.n_trials=160
    hemsim-backtest --fit-from results/backtest/fit   # refit the emulators on that sweep's trials, then report
    hemsim-backtest --fit-from results/backtest/fit --refine 2   # and two more refinement rounds

Each case (conf/backtest/*.yaml) runs the real world from before its event with the policy history and with
the change undone, at the same seeds, over both backcasts, and compares the simulated effect with the
observed one (sim/inference/backtest.py). The responses (the choice's cost, post-study work and its
income-gap term, visa and its talent term, the going-abroad nest) come from conf/backtest/fit/responses.yaml:
the fit to every case (which world=oecd runs at: conf/behaviour/oecd_responses.yaml, docs/ODD.md section 6) and, for
each case, a fit that never saw it (its held-out prediction). --fit redoes that file and the behaviour files: a space-
filling design of trials on the launchers (conf/backtest_fit.yaml), each running every case, then Gaussian-
process emulators of each outcome minimised with and without each case, then refinement rounds that run the
points those fits chose as trials and refit (sim/inference/backtest_fit.py).
Writes results/backtest/report.md, backtest.json and a figure per case.
"""

import argparse
import logging
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from experiments import preflight
from sim.errors import UserError

CASES = preflight.CONF_DIR / "backtest"
RECORD = CASES / "fit" / "responses.yaml"
SWEEP = Path("results/backtest/fit")
REFINE_ROUNDS = 3


def configure(overrides: list[str]):
    """The real world's Config with these overrides (Hydra's composition, as on the command line)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(preflight.CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["world=oecd", "progress=false", *overrides])
    return preflight.to_config(cfg)


def _trial_main(cfg: DictConfig) -> float:
    """One trial of the fit: every case at this point of the responses (conf/backtest_fit.yaml)."""
    from hydra.core.hydra_config import HydraConfig
    from sim.inference import backtest_fit
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        config = preflight.to_config(cfg)
        params = {k: float(v) for k, v in (o.split("=", 1) for o in HydraConfig.get().overrides.task)
                  if k.startswith("behaviour.")}
        value = backtest_fit.trial(config, CASES, Path(HydraConfig.get().runtime.output_dir), params)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"trial: objective {value:.4f}")
    return value


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hemsim-backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/backtest"))
    parser.add_argument("--seeds", type=int, default=3, help="seeds per case and backcast (default 3)")
    parser.add_argument("--fit", action="store_true", help="refit the responses first (a sweep on the launchers)")
    parser.add_argument("--fit-from", type=Path, metavar="SWEEP_DIR",
                        help="refit the responses from the trials of an earlier sweep (no new runs), then report")
    parser.add_argument("--refine", type=int, default=None, metavar="ROUNDS",
                        help=f"refinement rounds after the design: the fits' points run as trials, then refit "
                             f"(default {REFINE_ROUNDS} with --fit, 0 with --fit-from)")
    parser.add_argument("--cases", type=Path, default=CASES, help=f"folder of case files (default {CASES})")
    parser.add_argument("overrides", nargs="*", help="with --fit: sweep overrides (hydra/launcher=slurm, "
                        "hydra.sweeper.n_trials=...); else config overrides of the runs (world.scale=200)")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        if args.seeds < 1:
            raise UserError(f"--seeds={args.seeds}: must be >= 1")
        if args.refine is not None and args.refine < 0:
            raise UserError(f"--refine={args.refine}: must be >= 0 (rounds)")
        if args.refine and not (args.fit or args.fit_from):
            raise UserError(f"--refine={args.refine}: refines a fit; give it with --fit or --fit-from")
        from sim.inference import backtest, backtest_report
        backtest.load_cases(args.cases)          # a bad case file is refused before anything runs
        if args.fit and args.cases.resolve() != CASES.resolve():
            raise UserError(f"--cases={args.cases}: --fit fits to the cases of {CASES} (its trials read them)")
        if args.fit:
            fit(args.overrides, args.cases, REFINE_ROUNDS if args.refine is None else args.refine)
            args.overrides = []
        elif args.fit_from:
            refit(args.fit_from, args.overrides, args.cases, args.refine or 0)
            args.overrides = []
        summary = backtest_report.run(args.cases, RECORD, args.out, args.seeds,
                                      lambda o: configure([*args.overrides, *o]))
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(summary)


def fit(overrides: list[str], cases: Path = CASES, rounds: int = REFINE_ROUNDS) -> None:
    """The sweep on the launchers (each trial: _trial_main), then the emulators' fits, refined `rounds`
    times (refit), written to RECORD."""
    import hydra
    sweep_dir = Path(next((o.split("=", 1)[1] for o in overrides if o.startswith("hydra.sweep.dir=")), SWEEP))
    _sweep_params(overrides)                     # bad bounds or overrides are refused before the sweep runs
    saved = sys.argv
    sys.argv = [saved[0], "-m", *overrides]
    try:
        hydra.main(config_path=str(preflight.CONF_DIR), config_name="backtest_fit", version_base="1.3")(_trial_main)()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    finally:
        sys.argv = saved
    refit(sweep_dir, overrides, cases, rounds)


def refit(sweep_dir: Path, overrides: list[str], cases: Path, rounds: int) -> None:
    """The emulators fitted to the sweep's trials, `rounds` refinement rounds run on the sweep's launcher
    (local processes, or a Slurm array with hydra/launcher=slurm), the fits written to RECORD."""
    import yaml
    from sim.inference import backtest_fit
    bounds = backtest_fit.bounds_of(_sweep_params(overrides))
    value = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in overrides if "=" in o}
    base = {"world": "oecd", "progress": False} | {
        k: yaml.safe_load(v) for k, v in value.items() if not k.startswith(("hydra", "+hydra"))}
    partition = value.get("hydra.launcher.partition", "")
    doc = backtest_fit.refine(sweep_dir, bounds, cases, base, rounds,
                              launcher="slurm" if value.get("hydra/launcher") == "slurm" else "local",
                              partition="" if partition in ("", "null") else partition)
    backtest_fit.write(doc, RECORD, preflight.CONF_DIR / "behaviour")


def _sweep_params(overrides: list[str]) -> dict[str, str]:
    GlobalHydra.instance().clear()
    fixed = [o for o in overrides if not o.startswith("hydra/")]
    with initialize_config_dir(config_dir=str(preflight.CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="backtest_fit", overrides=fixed, return_hydra_config=True)
    params = OmegaConf.to_container(cfg.hydra.sweeper.params)
    GlobalHydra.instance().clear()
    return params


if __name__ == "__main__":
    main()

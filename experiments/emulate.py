"""`hemsim-emulate`: a Gaussian-process emulator of hemsim's outcomes and policy effects; instant queries.

    hemsim-emulate train samples=64 holdout=16 years=8 world.students=50000     # train and validate
    hemsim-emulate train samples=256 holdout=64 launcher=slurm partition=debug  # the runs as a Slurm array
    hemsim-emulate query visa_openness=0.8 inbound_scholarship=0.3             # outcomes and effects, intervals
    hemsim-emulate query emulator=results/emulator behaviour.choice.cost=1.0 --json

`train` runs a space-filling design over the uncertain parameters and policy levers of a design
(`design=default`: conf/uncertainty/default.yaml), each point with the levers and without them at the same
parameters and seed (the effect: with - without, common random numbers), plus an independent held-out
design; fits a GP per outcome and per effect (sim/inference/emulator.py) and reports the coverage of its
intervals on the held-out runs. Options: samples (training points, >= 2), holdout (held-out points, >= 0),
seeds (runs per point, averaged), n_jobs, launcher (local | slurm), partition, design, sample_seed,
noise_floor (the GP noise's lower bound, a share of an output's variance, in (0, 1)), out (or
hydra.run.dir; default results/emulator); anything else is a config override, as for `hemsim`. Points run
in chunks (sim/batch.py, as hemsim-sensitivity's); rerunning the same command resumes. Writes to `out`:
emulator.json, design.parquet, validation.parquet, validation.json, validation.png/.pdf, report.md.

`query` prints every outcome and effect at a point (inputs not named take their defaults: the table says
which) with 50% and 90% predictive intervals; `--json` prints them as JSON. Options: emulator (the file or
its folder; default results/emulator/emulator.json); anything else is an input of the emulator.
"""

import hashlib
import json
import logging
import sys
import time
from pathlib import Path

TRAIN = {"samples": "64", "holdout": "16", "seeds": "1", "n_jobs": "2", "launcher": "local", "partition": "",
         "design": "default", "sample_seed": "0", "noise_floor": "", "out": ""}
QUERY = {"emulator": "results/emulator/emulator.json"}
DEFAULT_OUT = "results/emulator"


def main(argv: list[str] | None = None) -> None:
    from experiments import preflight
    from experiments.options import arguments
    from sim.errors import UserError
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if (argv := arguments(argv, __doc__)) is None:
        return
    try:
        if not argv or argv[0] not in ("train", "query"):
            raise UserError(f"{argv[0] if argv else '(nothing)'}: expected a command, train or query "
                            "(hemsim-emulate --help)")
        (train if argv[0] == "train" else query)(argv[1:])
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")


# ---- train ----------------------------------------------------------------------------------------------
def parse_train(argv: list[str]) -> tuple[dict, dict]:
    """(options, config overrides) of `train`; one-line errors for anything that cannot be right."""
    from experiments.options import split
    from sim.errors import UserError
    from sim.inference.emulator import NOISE_FLOOR
    options, overrides = split(argv, TRAIN, "hemsim-emulate")
    for key in ("samples", "holdout", "seeds", "n_jobs", "sample_seed"):
        try:
            options[key] = int(options[key])
        except ValueError:
            raise UserError(f"{key}={options[key]}: must be an integer") from None
    try:
        options["noise_floor"] = float(options["noise_floor"] or NOISE_FLOOR)
    except ValueError:
        raise UserError(f"noise_floor={options['noise_floor']}: must be a number in (0, 1)") from None
    if not 0 < options["noise_floor"] < 1:
        raise UserError(f"noise_floor={options['noise_floor']}: must be in (0, 1) (a share of an output's variance)")
    if options["samples"] < 2 or options["holdout"] < 0:
        raise UserError(f"samples={options['samples']}, holdout={options['holdout']}: need samples >= 2, holdout >= 0")
    if options["seeds"] < 1 or options["n_jobs"] < 1 or options["sample_seed"] < 0:
        raise UserError("seeds and n_jobs must be >= 1, sample_seed >= 0")
    if options["launcher"] not in ("local", "slurm"):
        raise UserError(f"launcher={options['launcher']}: allowed local, slurm")
    options["out"] = Path(options["out"] or DEFAULT_OUT)
    return options, overrides


def prepare(options: dict, overrides: dict) -> dict:
    """Everything checked before anything runs: the design, the config, both designs' points (the first
    point of each configured with and without levers, so a bad combination fails here)."""
    from dataclasses import replace
    from sim.ema import configure, load_design
    from sim.inference import emulator as E
    from sim.params import config_from
    design = load_design(options["design"])
    base = config_from({"progress": False} | overrides)
    inputs = E.inputs_of(design, base)
    names = [i["name"] for i in inputs]
    x, split = E.design_points(inputs, options["samples"], options["holdout"], options["sample_seed"])
    for row in (x[0], x[-1]):
        point = dict(zip(names, map(float, row)))
        configure(base, design, point, 0)
        configure(base, replace(design, levers={}), {k: point[k] for k in design.parameters}, 0)
    identity = json.dumps({"command": "hemsim-emulate train",
                           "options": {k: options[k] for k in ("samples", "holdout", "seeds", "design", "sample_seed")},
                           "overrides": overrides, "inputs": [[i["name"], i["low"], i["high"]] for i in inputs],
                           "outcomes": list(design.outcomes), "lever_start": design.lever_start,
                           "final_years": design.final_years}, sort_keys=True, default=str)
    return {"options": options, "overrides": overrides, "design": design, "base": base, "inputs": inputs,
            "names": names, "x": x, "split": split, "out": options["out"], "identity": identity,
            "key": hashlib.sha256(identity.encode()).hexdigest()[:16]}


def train(argv: list[str]) -> None:
    options, overrides = parse_train(argv)
    plan = prepare(options, overrides)
    result = run(plan)
    v = result["validation"]
    print(f"{len(plan['x'])} points ({options['samples']} training, {options['holdout']} held out) x "
          f"{options['seeds']} seed(s) in {result['minutes']:.1f} min; held-out coverage of the 90% intervals "
          f"{v.coverage_90.mean():.2f} (mean of {len(v)} outputs), of the 50% {v.coverage_50.mean():.2f}; "
          f"report {plan['out'] / 'report.md'}" if len(v) else
          f"{len(plan['x'])} points in {result['minutes']:.1f} min (no held-out design: holdout=0); "
          f"emulator {plan['out'] / 'emulator.json'}")


def run(plan: dict) -> dict:
    """Run (or resume) the design, fit and validate the emulator, write the outputs."""
    from sim import io
    from sim.batch import run_chunks
    from sim.inference import emulator as E
    from sim.inference import emulator_report as R
    opts, out, design = plan["options"], plan["out"], plan["design"]
    started = time.perf_counter()
    rows = run_chunks(out, plan["key"], plan["identity"], E.evaluate_chunk, (plan["base"], design, plan["names"]),
                      plan["x"], opts["seeds"], opts["n_jobs"], opts["launcher"], opts["partition"])
    table = E.tidy(rows, plan["names"], plan["x"], plan["split"], design.outcomes, bool(design.levers))
    meta = {"design": design.name, "outcomes": list(design.outcomes), "lever_start": design.lever_start,
            "final_years": design.final_years, "config": plan["overrides"], "years": plan["base"].years,
            "start_year": plan["base"].start_year, "seeds": opts["seeds"], "samples": opts["samples"],
            "holdout": opts["holdout"], "sample_seed": opts["sample_seed"], "key": plan["key"],
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git_commit": io.git_commit(), "versions": io.versions()}
    record = E.fit_record(table, plan["inputs"], design.outcomes, meta, opts["noise_floor"])
    emulator = E.Emulator(record)
    validation = emulator.validation()
    minutes = (time.perf_counter() - started) / 60
    io.atomic_write(out / "design.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    io.atomic_write(out / "validation.parquet", lambda tmp: validation.to_parquet(tmp, index=False))
    io.write_json({"emulator": "emulator.json", "samples": opts["samples"], "holdout": opts["holdout"],
                   "outputs": record["validation"]}, out / "validation.json")
    figure = R.figure(emulator, table[table.split == "holdout"], out) if opts["holdout"] else None
    R.report(emulator, figure, out, minutes, opts)
    emulator.save(out / "emulator.json")                     # last: a complete folder has its emulator
    return {"validation": validation, "minutes": minutes}


# ---- query ----------------------------------------------------------------------------------------------
def query(argv: list[str]) -> None:
    """Print the emulator's outcomes and effects at a point (a table, or JSON with --json)."""
    from experiments.options import split
    from sim.inference.emulator import Emulator
    as_json = "--json" in argv
    options, values = split([a for a in argv if a != "--json"], QUERY, "hemsim-emulate query")
    emulator = Emulator.load(options["emulator"])
    table = emulator.predict(values)
    inputs, defaulted = table.attrs["inputs"], table.attrs["defaulted"]
    if as_json:
        print(json.dumps({"emulator": str(options["emulator"]), "inputs": inputs, "defaulted": defaulted,
                          "predictions": table.to_dict("records")}, indent=2))
        return
    origin = {i["name"]: i["default_from"] for i in emulator.inputs}
    shown = ", ".join(f"{k}={v:g}" + (f" (default: {origin[k]})" if k in defaulted else "") for k, v in inputs.items())
    print(f"at {shown}")
    print("outcome: the final-years WORLD mean with these levers; effect: with - without them (same parameters "
          "and seed); intervals for one run", file=sys.stderr)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.5g}"))


if __name__ == "__main__":
    main()

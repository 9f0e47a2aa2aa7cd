"""`hemsim-sensitivity`: global sensitivity analysis of hemsim's outcomes, or of a policy's effects.

    hemsim-sensitivity method=morris samples=10                     # screening, the default design's outcomes
    hemsim-sensitivity method=sobol samples=64 outcome=papers,stayers years=8 world.students=50000
    hemsim-sensitivity method=morris samples=20 effect=post_study_work outcome=papers   # a policy's effect
    hemsim-sensitivity method=morris samples=20 launcher=slurm partition=debug          # on the cluster

Samples the uncertain parameters of a design (`design=default`: conf/uncertainty/default.yaml) with
SALib, runs every point (for `seeds=K` seeds 0..K-1, averaged: common random numbers), and analyses
each outcome: the final-years WORLD mean, or with `effect=<scenario>` that scenario's outcome minus
the baseline's at the same point and seed. Points run in chunks on local processes (`n_jobs=2`) or
as a Slurm job array (`launcher=slurm`, through submitit), each process building the world and
loading the compiled kernels once; a chunk already done is not run again (rerun the same command to
resume). Writes to `out=` (or `hydra.run.dir=`; default results/sensitivity/<method>):
sensitivity.parquet (outcome, parameter, method, index, value, conf, quantity, scenario, unanchored),
sensitivity.json (what was analysed and the parquet's SHA-256, for hemsim-compare --sensitivity),
design.parquet (the points and their outcomes), a figure per outcome (sensitivity_<outcome>.png/.pdf) and
report.md, which flags (Sobol') an outcome or effect whose variance the design's unanchored parameters
dominate (summed total index > 0.5). Any other key=value is a config override, as for `hemsim`.
"""

import hashlib
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

OPTIONS = {"method": "morris", "samples": "10", "outcome": "", "design": "default", "effect": "", "seeds": "1",
           "n_jobs": "2", "out": "", "launcher": "local", "partition": "", "sample_seed": "0"}


def parse(argv: list[str]) -> tuple[dict, dict]:
    """(options, config overrides) from key=value arguments; a one-line error for anything else."""
    from experiments.options import split
    from sim.errors import UserError
    options, overrides = split(argv, OPTIONS, "hemsim-sensitivity")
    for key in ("samples", "seeds", "n_jobs", "sample_seed"):
        try:
            options[key] = int(options[key])
        except ValueError:
            raise UserError(f"{key}={options[key]}: must be an integer") from None
    if options["seeds"] < 1 or options["n_jobs"] < 1 or options["sample_seed"] < 0:
        raise UserError("seeds and n_jobs must be >= 1, sample_seed >= 0")
    if options["launcher"] not in ("local", "slurm"):
        raise UserError(f"launcher={options['launcher']}: allowed local, slurm")
    return options, overrides


def main(argv: list[str] | None = None) -> None:
    from experiments import preflight
    from sim.errors import UserError
    from experiments.options import arguments
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if (argv := arguments(argv, __doc__)) is None:
        return
    try:
        options, overrides = parse(argv)
        plan = prepare(options, overrides)
        result = run(plan)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    print(f"{len(result['indices'])} indices of {len(plan['outcomes'])} outcomes over {len(plan['names'])} "
          f"parameters from {len(plan['x'])} points x {options['seeds']} seeds in {result['minutes']:.1f} min; "
          f"report {plan['out'] / 'report.md'}")


def prepare(options: dict, overrides: dict) -> dict:
    """Everything checked before anything runs: design, outcomes, configs, the SALib sample."""
    from sim.analysis import sensitivity as S
    from sim.ema import load_design
    from sim.errors import ConfigError
    from sim.params import config_from
    from sim.results import METRIC_ORDER
    design = load_design(options["design"])
    outcomes = [o for o in options["outcome"].split(",") if o] or list(design.outcomes)
    for o in outcomes:
        if o not in METRIC_ORDER:
            raise ConfigError(f"outcome={o}: not a metric (metrics: {', '.join(METRIC_ORDER[:8])}, ...; README)")
    design = replace(design, levers={}, outcomes=tuple(outcomes))      # the scenario sets the policy
    names = list(design.parameters)
    S.check(options["method"], options["samples"], len(names))
    base = config_from({"progress": False} | overrides)
    if base.scenario.name != "baseline" and options["effect"]:
        raise ConfigError(f"effect={options['effect']} with scenario={base.scenario.name}: an effect is measured "
                          "against the baseline; leave scenario unset")
    configs = {"value": base}
    if options["effect"]:
        configs["effect"] = config_from({"progress": False} | overrides | {"scenario": options["effect"]})
    prob = S.problem(design.parameters)
    x = S.sample(options["method"], prob, options["samples"], options["sample_seed"])
    out = Path(options["out"] or f"results/sensitivity/{options['method']}")
    identity = json.dumps({"options": {k: options[k] for k in ("method", "samples", "design", "effect", "seeds",
                                                               "sample_seed", "outcome")},
                           "overrides": overrides, "names": names}, sort_keys=True, default=str)
    return {"options": options, "design": design, "names": names, "prob": prob, "x": x, "out": out,
            "configs": configs, "outcomes": outcomes, "identity": identity,
            "key": hashlib.sha256(identity.encode()).hexdigest()[:16]}


def evaluate_chunk(configs: dict, design, names: list[str], points, seeds: int) -> list[dict]:
    """Outcomes of a chunk of points: one row per point and seed, per config ("value", "effect")."""
    from sim.ema import point_outcomes
    rows = []
    for index, values in points:
        point = dict(zip(names, map(float, values)))
        for seed in range(seeds):
            row = {"point": int(index), "seed": seed}
            for kind, cfg in configs.items():
                for o, v in point_outcomes(cfg, design, point, seed).items():
                    row[f"{kind}:{o}"] = v
            rows.append(row)
    return rows


def run(plan: dict) -> dict:
    import pandas as pd
    from sim.analysis import sensitivity as S
    from sim.errors import UserError
    from sim.io import atomic_write, sha256, write_json
    opts, out, x = plan["options"], plan["out"], plan["x"]
    from sim.batch import run_chunks
    started = time.perf_counter()
    rows = run_chunks(out, plan["key"], plan["identity"], evaluate_chunk,
                      (plan["configs"], plan["design"], plan["names"]), x, opts["seeds"], opts["n_jobs"],
                      opts["launcher"], opts["partition"])
    per_point = rows.groupby("point").mean(numeric_only=True).drop(columns="seed").sort_index()
    if len(per_point) != len(x):
        raise UserError(f"out={out}: {len(per_point)} of {len(x)} points evaluated; rerun to finish")
    indices, figures = [], []
    for o in plan["outcomes"]:
        y = per_point[f"value:{o}"].to_numpy()
        if "effect" in plan["configs"]:                      # scenario - baseline at the same point and seeds
            y = per_point[f"effect:{o}"].to_numpy() - y
        indices.append(S.analyse(opts["method"], plan["prob"], x, y, o, opts["sample_seed"]))
    table = pd.concat(indices, ignore_index=True).assign(
        quantity="effect" if "effect" in plan["configs"] else "outcome", scenario=opts["effect"])
    table["unanchored"] = table.parameter.isin(plan["design"].unanchored)
    for o in plan["outcomes"]:
        figures.append(S.figure(table, o, out, f"effect of {opts['effect']} on {o}" if opts["effect"] else o))
    points = pd.DataFrame(x, columns=plan["names"]).join(per_point.reset_index(drop=True))
    atomic_write(out / "design.parquet", lambda tmp: points.to_parquet(tmp, index=False))
    atomic_write(out / "sensitivity.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    write_json({"format": "hemsim-sensitivity", "identity": json.loads(plan["identity"]),
                "files": {"sensitivity.parquet": sha256(out / "sensitivity.parquet")}}, out / "sensitivity.json",
               checksum=True)
    minutes = (time.perf_counter() - started) / 60
    _report(plan, table, figures, minutes)
    return {"indices": table, "minutes": minutes}


def _report(plan, table, figures, minutes) -> None:
    import numpy as np
    from sim.analysis import sensitivity as S
    opts = plan["options"]
    main = "mu_star" if opts["method"] == "morris" else "ST"
    lines = [f"# Sensitivity analysis: {opts['method']}", "",
             f"{len(plan['x'])} design points ({opts['samples']} {'trajectories' if opts['method'] == 'morris' else 'base samples'})"
             f" x {opts['seeds']} seed(s) over {len(plan['names'])} parameters of design `{opts['design']}`, "
             f"{'the effect of `' + opts['effect'] + '` (scenario - baseline at the same point and seed)' if opts['effect'] else 'outcomes'}"
             f"; {minutes:.1f} minutes. Index: {main} ({'mean absolute elementary effect, in the outcome units' if main == 'mu_star' else 'total-order share of variance'}), 95% interval.", ""]
    flags = S.dominance(table).set_index("outcome") if opts["method"] == "sobol" else None
    if flags is not None and len(flags):
        lines += [f"Unanchored parameters (declared uncertainties with no published magnitude, marked * below): "
                  f"their summed total index is above {S.DOMINATED} for "
                  f"{', '.join(flags.index[flags.dominated]) or 'no outcome'}: there the "
                  f"{'effect' if opts['effect'] else 'outcome'} is mostly an assumption's, not evidence's.", ""]
    for o, fig in zip(plan["outcomes"], figures):
        d = table[(table.outcome == o) & (table["index"] == main)].sort_values("value", ascending=False, kind="stable")
        d = d.assign(parameter=d.parameter + np.where(d.unanchored, " *", ""))
        lines += [f"## {o}", "", f"![{o}]({fig.name})", ""]
        if flags is not None and o in flags.index:
            f = flags.loc[o]
            lines += [f"Unanchored parameters' summed ST {f.unanchored_ST:.2f}"
                      f"{' (DOMINATED: above ' + str(S.DOMINATED) + ')' if f.dominated else ''}; largest "
                      f"{f.top_unanchored}.", ""]
        lines += [d[["parameter", "value", "conf"]].to_markdown(index=False, floatfmt=".4g"), ""]
    (plan["out"] / "report.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()

"""`hemsim-policy-study`: an example policy study, scenario discovery and policy search (conf/study/).

    hemsim-policy-study                                   # conf/study/post_study_work.yaml, default world
    hemsim-policy-study study=post_study_work scenarios=200 trials=60 years=10 out=results/policy_study
    hemsim-policy-study scenarios=16 trials=8 years=4 world.students=20000     # a quick look
    hemsim-policy-study design=path/to/design.yaml                             # other uncertainties

1. Scenario discovery (EMA Workbench): the baseline and the policy scenario run on the same Latin
   hypercube sample of the uncertain behaviour (conf/uncertainty/<design>.yaml: the study's `design`, or
   the command's `design=`, a name there or a path to a .yaml design) and the same seeds;
   PRIM (Friedman & Fisher 1999, as in EMA) finds the box of uncertainties where the policy's effect
   on the outcome is at most the threshold: when the policy fails.
2. Policy search (Optuna NSGA-II): lever mixes, set for every country, scored on two or more
   objectives with a cost metric held within a budget (a constraint): the Pareto front.
3. Sensitivity of the effect (SALib Morris): which uncertainties drive the policy's effect.
Writes to `out` (default results/policy_study/<study>): experiments.parquet (each sample, its
outcomes under both scenarios and the effect), prim_tradeoff.png, prim_box.png, search.parquet
(every trial: levers, objectives, cost, feasible, pareto), pareto.png, sensitivity/ (a Morris
screening of the effect: hemsim-sensitivity's outputs) and report.md. Other key=value arguments are
config overrides, as for `hemsim`.
"""

import logging
import time
import warnings
from dataclasses import replace
from pathlib import Path

import yaml

OPTIONS = {"study": "post_study_work", "design": "", "scenarios": None, "trials": None, "sensitivity": None,
           "out": ""}


def parse(argv: list[str]) -> tuple[dict, dict]:
    from experiments.options import split
    return split(argv, OPTIONS, "hemsim-policy-study")


def load_study(options: dict) -> dict:
    """conf/study/<study>.yaml with the command line's design, scenarios and trials, checked."""
    from sim.errors import ConfigError
    from sim.params import CONF_DIR
    from sim.policies import LEVERS
    from sim.results import METRIC_ORDER
    path = CONF_DIR / "study" / f"{options['study']}.yaml"
    if not path.is_file():
        raise ConfigError(f"study={options['study']}: no {path}")
    s = yaml.safe_load(path.read_text())
    if options["design"]:
        s["design"] = options["design"]                   # checked by load_design before anything runs
    for key in ("scenarios", "trials", "sensitivity"):
        if options[key] is not None:
            try:
                value = int(options[key])
            except ValueError:
                raise ConfigError(f"{key}={options[key]}: must be an integer") from None
            (s["search"] if key == "trials" else s)[key] = value
    if int(s.get("sensitivity", 0)) < 2:
        raise ConfigError(f"sensitivity={s.get('sensitivity')}: Morris needs at least 2 trajectories")
    if s["scenarios"] < 8:
        raise ConfigError(f"scenarios={s['scenarios']}: PRIM needs at least 8 samples")
    if s["search"]["trials"] < 2:
        raise ConfigError(f"trials={s['search']['trials']}: the search needs at least 2 trials")
    search = s["search"]
    try:
        search["budget"] = float(search["budget"])
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: search.budget={search['budget']!r}: must be a number") from None
    for lever in search["levers"]:
        if lever not in LEVERS:
            raise ConfigError(f"{path}: search.levers: {lever} is not a lever")
    for metric in [*search["objectives"], search["cost"], s["outcome"]]:
        if metric not in METRIC_ORDER:
            raise ConfigError(f"{path}: {metric} is not a metric")
    for metric, sense in search["objectives"].items():
        if sense not in ("maximize", "minimize"):
            raise ConfigError(f"{path}: search.objectives.{metric}={sense}: maximize or minimize")
    if len(search["objectives"]) < 2:
        raise ConfigError(f"{path}: search.objectives: name at least two")
    return s


def main(argv: list[str] | None = None) -> None:
    from experiments import preflight
    from sim.errors import UserError
    from experiments.options import arguments
    logging.getLogger("MESA").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="ema_workbench")
    if (argv := arguments(argv, __doc__)) is None:
        return
    try:
        options, overrides = parse(argv)
        study = load_study(options)
        from sim.ema import load_design
        from sim.params import config_from
        load_design(study["design"])
        base = config_from({"progress": False} | overrides)            # checks the overrides before any run
        config_from({"progress": False} | overrides | {"scenario": study["policy"]})
        out = Path(options["out"] or f"results/policy_study/{options['study']}")
        started = time.perf_counter()
        discovery = discover(study, overrides, out)
        search = policy_search(study, base, out)
        sensitivity = effect_sensitivity(study, overrides, out)
    except UserError as e:
        preflight.fail(str(e))
    except OSError as e:             # read-only folder, full disk, permissions: one line naming the file
        preflight.fail(f"{e.filename or 'a file'}: {e.strerror or e}")
    _report(study, discovery, search, sensitivity, out, (time.perf_counter() - started) / 60)
    print(f"policy fails (effect on {study['outcome']} <= {study['threshold']}) in {discovery['failures']} of "
          f"{discovery['samples']} samples; PRIM box: {discovery['box_text']}; Pareto front: {search['pareto']} of "
          f"{search['trials']} trials; report {out / 'report.md'}")


def discover(study: dict, overrides: dict, out: Path) -> dict:
    """Baseline and policy on the same uncertainty sample and seeds; PRIM on the policy's failures."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from ema_workbench import SequentialEvaluator, perform_experiments
    from ema_workbench.analysis import prim
    from sim.ema import ema_model
    out.mkdir(parents=True, exist_ok=True)
    seeds = tuple(study["seeds"])
    models = [ema_model(study["design"], seeds, name="baseline", levers=False, **overrides),
              ema_model(study["design"], seeds, name="policy", levers=False,
                        **(overrides | {"scenario": study["policy"]}))]
    with SequentialEvaluator(models) as evaluator:
        experiments, outcomes = perform_experiments(models, scenarios=study["scenarios"], evaluator=evaluator)
    names = [u.name for u in models[0].uncertainties]
    frame = experiments[[*names, "scenario", "model"]].copy()
    for k, v in outcomes.items():
        if v.ndim == 1:
            frame[k] = v
    wide = frame.pivot_table(index="scenario", columns="model", values=study["outcome"])
    x = frame[frame.model == "baseline"].set_index("scenario")[names].loc[wide.index].reset_index(drop=True)
    effect = (wide["policy"] - wide["baseline"]).to_numpy()
    fails = effect <= study["threshold"]
    table = x.assign(baseline=wide["baseline"].to_numpy(), policy=wide["policy"].to_numpy(), effect=effect,
                     fails=fails)
    table.to_parquet(out / "experiments.parquet", index=False)
    result = {"samples": len(table), "failures": int(fails.sum()), "box": None, "box_text": "none (the policy never "
              "fails)" if not fails.any() else "none (it always fails)" if fails.all() else ""}
    if 0 < fails.sum() < len(fails):
        p = prim.Prim(x, fails, mass_min=0.1, peel_alpha=0.1)
        box = p.find_box()
        fig = box.show_tradeoff()
        fig.savefig(out / "prim_tradeoff.png", dpi=150, bbox_inches="tight")
        plt.close(fig)
        limits = box.box_lims[box._cur_box]
        restricted = [n for n in names if (limits[n].iloc[0], limits[n].iloc[1]) != (x[n].min(), x[n].max())]
        fig = box.inspect(style="graph")[0]                    # EMA 3: a list of figures, one per box
        fig.savefig(out / "prim_box.png", dpi=150, bbox_inches="tight")
        plt.close("all")
        stats = box.peeling_trajectory.iloc[box._cur_box]
        result["box"] = {n: (float(limits[n].iloc[0]), float(limits[n].iloc[1])) for n in restricted}
        result["coverage"], result["density"] = float(stats["coverage"]), float(stats["density"])
        result["box_text"] = ", ".join(f"{n} in [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in result["box"].items()) + \
            f" (coverage {result['coverage']:.2f}, density {result['density']:.2f})"
    else:
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.hist(effect, bins=20, color="0.4")
        ax.axvline(study["threshold"], color="0.1", ls="--")
        ax.set_xlabel(f"effect of {study['policy']} on {study['outcome']}")
        ax.set_title(result["box_text"])
        fig.savefig(out / "prim_box.png", dpi=150, bbox_inches="tight")
        plt.close(fig)
    result["effect_mean"], result["effect_range"] = float(np.mean(effect)), (float(effect.min()), float(effect.max()))
    result["split"] = _split(experiments, outcomes, study["outcome"], wide.index)
    return result


def _split(experiments, outcomes, outcome: str, samples):
    """The effect's spread split into its parameter and stochastic parts (sim/analysis/stats.decompose): the
    samples are parameter draws, the seeds the dice within each (both models ran every sample at every seed)."""
    import numpy as np
    import pandas as pd
    from sim.analysis.stats import decompose
    by_seed = outcomes[f"{outcome}_by_seed"]
    if by_seed.ndim != 2 or by_seed.shape[1] < 2:
        return None
    keyed = {(s, m): row for s, m, row in zip(experiments["scenario"], experiments["model"], by_seed)}
    effect = np.concatenate([keyed[(s, "policy")] - keyed[(s, "baseline")] for s in samples])
    draw = np.repeat(np.arange(len(samples)), by_seed.shape[1])
    return decompose(pd.Series(effect), pd.Series(draw)).to_dict()


def policy_search(study: dict, base, out: Path) -> dict:
    """Optuna NSGA-II over the search levers (every country, from a year after the start) at the design's
    default behaviour; the cost metric within the budget as a constraint; the Pareto front of the feasible."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    import pandas as pd
    from sim.ema import load_design, point_outcomes
    from sim.policies import LEVERS
    s = study["search"]
    design = load_design(study["design"])
    ranges = {k: design.levers.get(k, (LEVERS[k].low, LEVERS[k].high)) for k in s["levers"]}
    search_design = replace(design, parameters={}, levers=ranges, outcomes=(*s["objectives"], s["cost"]))
    objectives = list(s["objectives"])
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        point = {k: trial.suggest_float(k, lo, hi) for k, (lo, hi) in ranges.items()}
        values = point_outcomes(base, search_design, point, int(study["seeds"][0]))
        trial.set_user_attr("cost", values[s["cost"]])
        trial.set_user_attr("values", values)
        return [values[o] for o in objectives]

    def constraint(trial):
        return [trial.user_attrs["cost"] - s["budget"]]               # <= 0: within the budget

    sampler = optuna.samplers.NSGAIISampler(seed=0, population_size=max(4, min(12, s["trials"] // 2)),
                                            constraints_func=constraint)
    opt = optuna.create_study(directions=[s["objectives"][o] for o in objectives], sampler=sampler)
    opt.optimize(objective, n_trials=s["trials"])
    rows = [{**t.params, **t.user_attrs["values"], "feasible": t.user_attrs["cost"] <= s["budget"],
             "trial": t.number} for t in opt.trials]
    table = pd.DataFrame(rows)
    table["pareto"] = pareto_front(table, s["objectives"]) & table.feasible
    pareto = set(table.trial[table.pareto])
    table.to_parquet(out / "search.parquet", index=False)
    a, b = objectives[:2]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for mask, style, label in ((~table.feasible, dict(marker="x", color="0.6"), "over budget"),
                               (table.feasible & ~table.pareto, dict(marker="o", color="0.5"), "feasible"),
                               (table.pareto, dict(marker="s", color="0.05"), "Pareto front")):
        ax.scatter(table[a][mask], table[b][mask], s=22, label=label, **style)
    ax.set_xlabel(f"{a} ({s['objectives'][a]})")
    ax.set_ylabel(f"{b} ({s['objectives'][b]})")
    ax.set_title(f"Lever mixes within {s['cost']} <= {s['budget']:.3g}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=150)
    plt.close(fig)
    return {"trials": len(table), "feasible": int(table.feasible.sum()), "pareto": len(pareto),
            "front": table[table.pareto].drop(columns=["pareto"])}


def effect_sensitivity(study: dict, overrides: dict, out: Path) -> dict:
    """Morris screening of which uncertainties drive the policy's effect (hemsim-sensitivity's path)."""
    from experiments import sensitivity as cli
    options = dict(cli.OPTIONS) | {"method": "morris", "samples": int(study["sensitivity"]), "outcome": study["outcome"],
                                   "design": study["design"], "effect": study["policy"], "seeds": len(study["seeds"]),
                                   "out": str(out / "sensitivity")}
    options.update({k: int(options[k]) for k in ("n_jobs", "sample_seed")})
    plan = cli.prepare(options, overrides)
    table = cli.run(plan)["indices"]
    mu = table[table["index"] == "mu_star"].sort_values("value", ascending=False, kind="stable")
    return {"figure": f"sensitivity/sensitivity_{study['outcome']}.png", "top": mu[["parameter", "value", "conf"]]}


def pareto_front(table, objectives: dict):
    """Non-dominated rows among the feasible ones (each objective maximised or minimised)."""
    import numpy as np
    import pandas as pd
    signs = np.array([1.0 if sense == "maximize" else -1.0 for sense in objectives.values()])
    v = table[list(objectives)].to_numpy(float) * signs
    feasible = table.feasible.to_numpy()
    front = np.zeros(len(table), bool)
    for i in np.flatnonzero(feasible):
        others = v[feasible]
        front[i] = not ((others >= v[i]).all(axis=1) & (others > v[i]).any(axis=1)).any()
    return pd.Series(front, index=table.index)


def _report(study, discovery, search, sensitivity, out: Path, minutes: float) -> None:
    lines = [f"# Policy study: {study['policy']}", "",
             f"{minutes:.1f} minutes. Uncertainties: design `{study['design']}`; seeds {study['seeds']}.", "",
             f"## When does `{study['policy']}` not raise {study['outcome']}?", "",
             f"Effect (policy - baseline at the same sample and seeds) over {discovery['samples']} samples: mean "
             f"{discovery['effect_mean']:.4g}, range {discovery['effect_range'][0]:.4g} .. "
             f"{discovery['effect_range'][1]:.4g}; at most {study['threshold']} in {discovery['failures']}.", "",
             f"PRIM box: {discovery['box_text']}.", "", "![PRIM box](prim_box.png)", ""]
    split = discovery.get("split")
    if split:
        lines[-4:-4] = [f"One run's effect ranges (90%) over {split['param_low']:.4g} .. {split['param_high']:.4g} by "
                        f"the uncertain parameters and {split['stoch_low']:.4g} .. {split['stoch_high']:.4g} by the dice "
                        f"(variance components across samples and within their seeds: sim/analysis/stats.decompose); "
                        f"the parameters hold {split['param_share']:.0%} of its variance.", ""]
    if (out / "prim_tradeoff.png").exists():
        lines += ["![PRIM coverage and density](prim_tradeoff.png)", ""]
    s = study["search"]
    lines += [f"## Lever mixes: {', '.join(s['objectives'])} within {s['cost']} <= {s['budget']:.3g}", "",
              f"{search['trials']} NSGA-II trials, {search['feasible']} within the budget, {search['pareto']} on the "
              "Pareto front:", "", search["front"].round(4).to_markdown(index=False), "", "![Pareto front](pareto.png)",
              "", f"## What drives the effect on {study['outcome']} (Morris, {study['sensitivity']} trajectories)", "",
              sensitivity["top"].to_markdown(index=False, floatfmt=".4g"), "", f"![sensitivity]({sensitivity['figure']})",
              ""]
    (out / "report.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()

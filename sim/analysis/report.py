"""The comparison report of a sweep: figures and tables in one Markdown file beside them."""

from pathlib import Path

import pandas as pd

from sim.analysis import figures, stats, sweep
from sim.analysis.countries import legend, with_names
from sim.errors import UserError

SUMMARY_OUTCOMES = ["international_share", "inbound_degree", "stayers", "returnees", "exchange_students",
                    "doctoral_students", "doctoral_international_share", "teaching_quality",
                    "mean_intercultural_competence", "graduate_employability", "tuition_revenue", "research_posts",
                    "researchers", "papers", "intl_coauthored_share", "patent_applications", "service_projects"]
THEME_TITLES = {"talent": "Talent flows", "education": "Education quality and international talents",
                "research": "Research, innovation and service to society", "money": "Universities' money"}


def compare(sweep_dir: Path, baseline: str, out_dir: Path | None = None,
            sensitivity: tuple[Path, ...] = ()) -> tuple[Path, pd.DataFrame]:
    """Aggregate a sweep, draw its figures, write report.md; returns (report path, summary table).
    `sensitivity`: folders of Sobol' analyses of scenarios' effects (hemsim-sensitivity method=sobol
    effect=<scenario>); the summary then flags each effect whose variance the unanchored parameters dominate."""
    sweep_dir = Path(sweep_dir)
    runs, incomplete = sweep.find_runs(sweep_dir)
    if not runs:
        raise UserError(f"{sweep_dir}: no finished runs to compare")
    scenarios = sorted({r.scenario for r in runs})
    if baseline not in scenarios:
        raise UserError(f"--baseline {baseline}: no finished run of that scenario in {sweep_dir} "
                        f"(found: {', '.join(scenarios)})")
    dominance = _dominance(sensitivity, scenarios, baseline)
    agg = sweep.aggregate(sweep_dir)
    metrics, flows = sweep.read(agg, "metrics"), sweep.read(agg, "flows")
    out = Path(out_dir) if out_dir else sweep_dir
    out.mkdir(parents=True, exist_ok=True)
    order = [baseline] + [s for s in scenarios if s != baseline]
    made = {}
    for theme, outcomes in figures.THEMES.items():
        made[f"{theme}_timeseries"] = figures.timeseries(metrics, order, outcomes, out, f"{theme}_timeseries")
        if len(order) > 1:
            made[f"{theme}_effects"] = figures.effects(metrics, baseline, outcomes, out, f"{theme}_effects")
    made["country_effects"] = figures.country_effects(metrics, baseline, out)
    made["flow_matrices"] = figures.flow_matrices(flows, baseline, order, out)
    made["brain_gain"] = figures.brain_gain(metrics, baseline, out)
    made = {k: v for k, v in made.items() if v is not None}
    _write_index(out, made, runs)
    table = stats.summary_table(metrics, baseline, SUMMARY_OUTCOMES)
    if dominance is not None:
        table = table.merge(dominance[["scenario", "outcome", "unanchored_ST", "dominated"]],
                            on=["scenario", "outcome"], how="left")
    corridors = _corridor_changes(flows, baseline, order)
    report = out / "report.md"
    report.write_text(_markdown(sweep_dir, runs, incomplete, order, baseline, made, table, corridors, metrics))
    return report, table


def _dominance(folders, scenarios: list[str], baseline: str) -> pd.DataFrame | None:
    """The flags of the Sobol' analyses in `folders` (sim/analysis/sensitivity.dominance), for this sweep's
    scenarios; checked before anything is written."""
    if not folders:
        return None
    from sim.analysis import sensitivity as S
    frames = []
    for folder in folders:
        flags = S.dominance(S.read_effect_indices(folder))
        missing = sorted(set(flags.scenario) - (set(scenarios) - {baseline}))
        if missing:
            raise UserError(f"--sensitivity {folder}: analyses the effect of {missing[0]}, not a scenario of this "
                            f"sweep (scenarios: {', '.join(s for s in scenarios if s != baseline)})")
        frames.append(flags)
    return pd.concat(frames, ignore_index=True).drop_duplicates(["scenario", "outcome"], keep="last")


def _write_index(out: Path, made: dict, runs) -> None:
    """figures.json: every figure's files and panel titles, and the runs they summarise."""
    import json
    index = {"runs": len(runs), "scenarios": sorted({r.scenario for r in runs}),
             "seeds": sorted({r.seed for r in runs}),
             "draws": sorted({int(r.params[stats.DRAW]) for r in runs if stats.DRAW in r.params}),
             "figures": {k: {"files": [p.name for p in f.files], "panels": f.panels} for k, f in made.items()}}
    (out / "figures.json").write_text(json.dumps(index, indent=2) + "\n")


def _corridor_changes(flows: pd.DataFrame, baseline: str, scenarios: list[str], top: int = 10) -> pd.DataFrame:
    base = stats.flow_matrix(flows, baseline, "enrolled").stack()
    rows = []
    for s in scenarios[1:]:
        diff = (stats.flow_matrix(flows, s, "enrolled").stack().reindex(base.index.union(
            stats.flow_matrix(flows, s, "enrolled").stack().index), fill_value=0.0)
            - base.reindex(base.index.union(stats.flow_matrix(flows, s, "enrolled").stack().index), fill_value=0.0))
        for (o, d), v in diff[diff != 0].abs().nlargest(top).items():     # no change: no row
            rows.append({"scenario": s, "origin": o, "destination": d, "baseline": round(base.get((o, d), 0.0)),
                         "change": round(diff[(o, d)])})
    return pd.DataFrame(rows)


def _markdown(sweep_dir, runs, incomplete, order, baseline, made, table, corridors, metrics) -> str:
    seeds = sorted({r.seed for r in runs})
    years = f"{metrics.year.min()}-{metrics.year.max()}"
    lines = [f"# hemsim comparison: {sweep_dir.name}", "",
             f"{len(runs)} finished runs: scenarios {', '.join(order)}; seeds {', '.join(map(str, seeds))}; "
             f"years {years}. Baseline: `{baseline}`. Bands are 5%-95% across runs; effects are paired "
             f"differences from the baseline at the same seed (common random numbers), mean with a 90% t interval.",
             ""]
    if stats.has_draws(metrics):
        draws = sorted(metrics[stats.DRAW].unique(), key=int)
        lines += [f"Parameter draws {', '.join(draws)} (`{stats.DRAW}`, sim/parameter_draws.py): each a parameter set "
                  "of the declared uncertainties or of the posterior, shared by every scenario and seed of the draw. "
                  "Effects are paired at the same draw and seed; their interval is a t interval over the draws' "
                  "means, and `parameters 90%` and `stochastic 90%` are the ranges of one run's effect due to the "
                  "parameters and to the dice (variance components across and within draws), `parameter share` the "
                  "parameters' share of that variance.", ""]
    if "dominated" in table:
        flagged = table[table.dominated.fillna(False).astype(bool)]
        lines += [f"`unanchored_ST`: from Sobol' analyses of the effects (hemsim-sensitivity method=sobol "
                  f"effect=<scenario>), the summed total index of the parameters with no published magnitude "
                  f"(the design's `unanchored`: declared uncertainties); `dominated` where it exceeds 0.5: "
                  f"{', '.join(f'{r.scenario} on {r.outcome}' for r in flagged.itertuples()) or 'none'}. Such an "
                  "effect is mostly an assumption's: read it as a what-if, not a finding.", ""]
    if incomplete:
        lines += [f"Missing or incomplete runs left out ({len(incomplete)}): " + "; ".join(incomplete), ""]
    lines += ["## Summary (WORLD, mean of the final three years)", "", table.to_markdown(index=False), ""]
    captions = {"flow_matrices": "Degree-mobile students by corridor",
                "country_effects": "Policy effects by country",
                "brain_gain": "Brain gain and drain: net talent gain by country"}
    for theme, title in THEME_TITLES.items():
        captions[f"{theme}_timeseries"] = f"{title}: outcomes by scenario"
        captions[f"{theme}_effects"] = f"{title}: policy effects (paired differences)"
    for key, fig in made.items():
        lines += [f"## {captions[key]}", "", f"![{captions[key]}]({fig.png.name})",
                  f"(PDF: [{fig.png.stem}.pdf]({fig.png.stem}.pdf))", ""]
    if not corridors.empty:
        lines += ["## Largest changes in corridors (degree-mobile stock, real students)", "",
                  with_names(corridors, ["origin", "destination"]).to_markdown(index=False), ""]
    names = legend(metrics.country.unique())
    if len(names):
        lines += ["## Countries", "", "The figures label countries by their ISO3 codes:", "",
                  names.to_markdown(index=False), ""]
    return "\n".join(lines)

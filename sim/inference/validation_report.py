"""The validation report of the real world. First, out of sample: the world calibrated on 2013-2014
run from the data of 2014 and scored on 2015-2016 against persistence, dynamic gravity, trend, gravity
and size-only predictors that know the same years, with Diebold-Mariano tests, horizons and intervals (corridor scatter, per-origin TVD bars, destination levels). Then, labelled as
in sample: the fit of the calibrated world over 2013-2016, gravity coefficients of simulated vs
observed flows, top destinations and origins, fit by year; then figures the calibration never saw
(foreign-born researchers, doctoral stay rates by origin, co-authorship shares); and the list of
what was left out. Reads result tables and data only."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.inference import validation as V  # noqa: E402
from sim.analysis.countries import with_names  # noqa: E402

TARGET_TVD = 0.25
OBSERVED_GRAVITY = {"log_distance": -0.9, "common_language": 1.5, "colonial_tie": 1.0}  # the reference


PREDICTORS = {   # name in validation.json: (label, colour, hatch)
    "hemsim": ("hemsim (expected corridor stocks, mean of seeds)", "0.1", ""),
    "hemsim_agents": ("hemsim, the agents' sampled stocks", "0.35", "xx"),
    "persistence": ("persistence (base year carried forward)", "0.55", ""),
    "dynamic_gravity": ("dynamic gravity (lagged stock, PPML)", "0.7", "\\\\"),
    "trend": ("corridor trends", "0.85", "--"),
    "gravity_fe_ppml": ("gravity, fixed effects, PPML", "0.8", "//"),
    "size_only": ("size only", "0.95", ".."),
}
REFERENCES = ("persistence", "dynamic_gravity", "trend", "gravity_fe_ppml", "size_only")
CORRIDOR_MINIMUM = 100      # corridors the intervals are scored on: at least this many observed students


def out_of_sample(observed: pd.DataFrame, predictions: dict[str, pd.DataFrame], geography: pd.DataFrame,
                  uis: pd.DataFrame, base_year: int, out: Path,
                  earlier: dict[str, pd.DataFrame] | None = None) -> tuple[dict, list[str]]:
    """Score the held-out years (after base_year) of the runs from the data of base_year; (summary, markdown).

    observed: OECD/UIS stocks (year, origin, destination, students); predictions: the runs' readings
    (validation_runs._forecast); earlier: the same of the runs from the year before (horizons up to 3, and the
    calibration year that sets the intervals); uis: UIS inbound totals (year, country, inbound)."""
    out.mkdir(parents=True, exist_ok=True)
    reporting = set(observed.destination)
    everywhere = predictions["hemsim"]       # destination totals are scored in every destination UIS reports
    predictions = {k: v[v.destination.isin(reporting)] for k, v in predictions.items()}
    fit = V.out_of_sample(observed, predictions, geography, base_year)
    held = sorted(observed.year[observed.year > base_year].unique())
    tvd = {k: float(v.tvd.mean()) for k, v in fit.items()}
    per_origin = pd.DataFrame({k: v.groupby("origin").tvd.mean() for k, v in fit.items()})
    per_origin["abroad"] = fit["hemsim"].groupby("origin").abroad.mean()
    per_origin = per_origin.sort_values("abroad", ascending=False, kind="stable")
    loss = pd.DataFrame({k: v.set_index(["origin", "year"]).tvd for k, v in fit.items()}).reset_index()
    tests = {ref: V.diebold_mariano(loss, "hemsim", ref) for ref in REFERENCES}
    sim = predictions["hemsim"]
    levels = _levels_out_of_sample(everywhere, uis, base_year, held)
    summary = {
        "base_year": int(base_year), "years": [int(y) for y in held], "origins": len(per_origin), "tvd": tvd,
        "tvd_by_year": {k: v.groupby("year").tvd.mean().round(4).to_dict() for k, v in fit.items()},
        "beats_persistence": tvd["hemsim"] < tvd["persistence"],
        "beats_dynamic_gravity": tvd["hemsim"] < tvd["dynamic_gravity"],
        "beats_gravity_and_size_only": tvd["hemsim"] < min(tvd["gravity_fe_ppml"], tvd["size_only"]),
        "origins_beating_persistence": int((per_origin.hemsim < per_origin.persistence).sum()),
        "diebold_mariano": tests,
        "levels": {k: v.to_dict(orient="records") for k, v in levels.items()},
        "coverage_90": None, "coverage_50": None,
    }
    lines_h, lines_c = [], []
    if earlier is not None:
        summary["horizons"], lines_h = _horizons(observed, earlier, fit, base_year)
        calibration = V.log_errors(observed[observed.year == base_year],
                                   earlier["hemsim"][earlier["hemsim"].year == base_year], CORRIDOR_MINIMUM)
        scored = V.log_errors(observed[observed.year.isin(held)], sim, CORRIDOR_MINIMUM)
        cover = V.interval_coverage(calibration, scored, {y: y - base_year for y in held})
        summary |= {"coverage_90": cover["coverage_90"], "coverage_50": cover["coverage_50"], "intervals": cover}
        lines_c = ["### Intervals", "",
                   f"Forecast intervals from the forecast's own errors in {base_year}, the last calibration year, "
                   f"forecast at horizon 1 from the data of {base_year - 1} (split conformal; widened by the square "
                   f"root of the horizon): half-widths in log points "
                   + ", ".join(f"{k} {v[0.5]:.2f} (50%) / {v[0.9]:.2f} (90%)" for k, v in cover["half_width"].items())
                   + f". Of {cover['values']} held-out values (corridor stocks of at least {CORRIDOR_MINIMUM} "
                   f"students, destination totals), **{cover['coverage_90']:.0%}** lie in their 90% interval and "
                   f"**{cover['coverage_50']:.0%}** in their 50% interval. These intervals carry the forecast's "
                   "error as measured, not parameter uncertainty as such (no posterior yet).", ""]
    _figure_out_of_sample(fit, per_origin, observed, sim, levels, base_year, out)
    names = {k: label for k, (label, _, _) in PREDICTORS.items()}
    lines = [f"## Out of sample: calibrated on {observed.year.min()}-{base_year}, scored on "
             f"{held[0]}-{held[-1]}", "",
             f"`world=oecd_holdout` (behaviour and level constants fitted on {observed.year.min()}-{base_year} "
             f"only) runs from the observed students of {base_year} (`world.start_from=observed`, start year "
             f"{base_year + 1}); every reference predictor knows the same years. Mean per-origin total-variation "
             f"distance of destination shares over {len(per_origin)} origins with more than {V.MIN_ABROAD:,} "
             "students abroad (lower is better):", "",
             "| predictor | mean TVD | " + " | ".join(str(y) for y in held) + " |",
             "|---|---|" + "---|" * len(held)] + \
            [f"| {names[k]} | {tvd[k]:.4f} | " + " | ".join(f"{summary['tvd_by_year'][k][y]:.4f}" for y in held)
             + " |" for k in PREDICTORS] + \
            ["", f"hemsim beats persistence: **{'yes' if summary['beats_persistence'] else 'no'}** (in "
             f"{summary['origins_beating_persistence']} of {len(per_origin)} origins); beats dynamic gravity: "
             f"**{'yes' if summary['beats_dynamic_gravity'] else 'no'}**.", "",
             "Diebold-Mariano tests of hemsim against each reference (loss: per-origin TVD, averaged over an "
             "origin's held-out years, tested across origins; negative: hemsim more accurate):", "",
             "| reference | mean difference | statistic | p |", "|---|---|---|---|"] + \
            [f"| {names[r]} | {t['mean_difference']:+.4f} | {t['statistic']:+.2f} | {t['p_value']:.3f} |"
             for r, t in tests.items()] + [""] + lines_h + lines_c + \
            ["![out of sample](out_of_sample.png)", "",
             "### By origin (mean TVD over the held-out years; largest senders first)", "",
             with_names(per_origin.head(25).round(3), ["origin"]).to_markdown(), "",
             "### Destination levels (UIS inbound totals; destinations with at least 10,000)", "",
             "| predictor | " + " | ".join(f"median error {y} | off by 2x {y}" for y in held) + " |",
             "|---|" + "---|---|" * len(held)] + \
            [f"| {k} | " + " | ".join(f"{r['median_abs_error']:.1%} | {r['off_by_2x']}" for r in v.to_dict("records"))
             + " |" for k, v in levels.items()] + [""]
    return summary, lines


def _horizons(observed, earlier, fit, base_year) -> tuple[dict, list[str]]:
    """Mean per-origin TVD by horizon: hemsim and persistence from the data of base_year - 1 (horizons 1-3:
    its first year is the last calibration year), and every predictor from base_year (horizons 1-2)."""
    first = base_year - 1
    later = observed[observed.year > first]
    years = sorted(later.year.unique())
    early = {"hemsim": V.tvd_by_origin(later, earlier["hemsim"]),
             "persistence": V.tvd_by_origin(later, V.carried_forward(observed[observed.year == first], first, years))}
    table = {str(first): {k: {int(y - first): round(float(g.tvd.mean()), 4) for y, g in v.groupby("year")}
                          for k, v in early.items()},
             str(base_year): {k: {int(y - base_year): round(float(g.tvd.mean()), 4) for y, g in v.groupby("year")}
                              for k, v in fit.items() if k in ("hemsim", "persistence", "dynamic_gravity", "trend")}}
    lines = ["### By horizon (mean per-origin TVD)", "", "| from the data of | predictor | horizon 1 | 2 | 3 |",
             "|---|---|---|---|---|"]
    for base, by in table.items():
        for k, v in by.items():
            lines.append(f"| {base} | {k} | " + " | ".join(f"{v[h]:.4f}" if h in v else "" for h in (1, 2, 3)) + " |")
    lines += ["", f"(From {first}, horizon 1 is {first + 1}, a year the calibration saw; the dynamic gravity and "
              "trend references need two years of stocks before their base.)", ""]
    return table, lines


def _levels_out_of_sample(sim: pd.DataFrame, uis: pd.DataFrame, base_year: int, held) -> dict[str, pd.DataFrame]:
    inbound = sim.groupby(["year", "destination"]).students.sum().rename("inbound").reset_index() \
        .rename(columns={"destination": "country"})
    observed = uis[uis.year.isin(held)]
    return {"hemsim": V.level_errors(observed, inbound),
            "persistence": V.level_errors(observed, V.carried_forward(uis, base_year, held))}


def _corridors(ax, observed, sim, note: str, title: str) -> None:
    """Log-log scatter of observed vs simulated corridor stocks in the last observed year (> 100 observed)."""
    year = observed.year.max()
    both = observed[observed.year == year].merge(sim[sim.year == year], on=["origin", "destination"], how="left",
                                                 suffixes=("_obs", "_sim")).fillna(0.0)
    both = both[both.students_obs > 100]
    ax.loglog(both.students_obs, both.students_sim.clip(lower=1), ".", color="0.2", ms=2, alpha=0.5)
    lim = [100, both.students_obs.max() * 1.5]
    ax.plot(lim, lim, color="0.5", lw=0.8)
    ax.set_xlabel(f"observed students {year}")
    ax.set_ylabel(f"simulated students {year} {note}")
    ax.set_title(title)


def _figure_out_of_sample(fit, per_origin, observed, sim, levels, base_year, out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1, 1, 2.2]})
    _corridors(axes[0], observed, sim, f"(run from {base_year})", "Corridor stocks, held out")
    years = sorted(fit["hemsim"].year.unique())
    width = 0.8 / len(PREDICTORS)
    for i, (name, (label, color, hatch)) in enumerate(PREDICTORS.items()):
        by_year = fit[name].groupby("year").tvd.mean().reindex(years)
        axes[1].bar(np.arange(len(years)) + width * i, by_year, width, color=color, hatch=hatch, edgecolor="0.2",
                    label=label)
        top = per_origin.head(25)
        axes[2].bar(np.arange(len(top)) + width * i, top[name], width, color=color, hatch=hatch, edgecolor="0.2")
    axes[1].set_xticks(np.arange(len(years)) + 0.4 - width / 2, years)
    axes[1].set_ylabel("mean per-origin TVD")
    axes[1].set_title("Held-out years (lower is better)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(PREDICTORS), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.06))
    top = per_origin.head(25)
    axes[2].set_xticks(np.arange(len(top)) + 0.4 - width / 2, top.index, rotation=90, fontsize=7)
    axes[2].set_ylabel("TVD, mean over held-out years")
    axes[2].set_title("By origin (largest senders first)")
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"out_of_sample.{ext}", dpi=150, bbox_inches="tight")
    plt.close(fig)


def build(observed: pd.DataFrame, simulated: pd.DataFrame, geography: pd.DataFrame, coauthorship: pd.DataFrame,
          sim_metrics: pd.DataFrame, excluded: pd.DataFrame, out: Path, held_out: tuple[dict, list[str]] = ({}, []),
          flows: pd.DataFrame | None = None, responses: dict | None = None) -> dict:
    """The in-sample report (and the out-of-sample section before it, from `out_of_sample`).

    simulated: the run's `enrolled` flows; flows: all its flows (doctoral stays), default `simulated`;
    responses: research_response.elasticities of the paired experiment (or None: not run)."""
    out.mkdir(parents=True, exist_ok=True)
    sim = simulated[simulated.destination.isin(set(observed.destination))]
    fit = {"simulated": V.tvd_by_origin(observed, sim), "size_only": V.tvd_by_origin(observed, V.size_only(observed))}
    obs_g = V.with_geography(observed, geography)
    b_obs, se_obs, fitted = V.ppml(obs_g)
    fit["gravity_fe_ppml"] = V.tvd_by_origin(observed, fitted)
    sim_g = V.with_geography(V.on_grid(sim, observed), geography)
    b_sim, se_sim, _ = V.ppml(sim_g)
    tvd = {k: float(v.tvd.mean()) for k, v in fit.items()}
    # persistence predicts a year from the one before: compare everything on the years it covers
    later = observed.year > observed.year.min()
    fit_later = {k: v[v.year > observed.year.min()] for k, v in fit.items()}
    fit_later["persistence"] = V.tvd_by_origin(observed[later], V.persistence(observed))
    tvd_later = {k: float(v.tvd.mean()) for k, v in fit_later.items()}
    gravity = pd.DataFrame({"observed": b_obs, "observed_se": se_obs, "simulated": b_sim, "simulated_se": se_sim})
    gravity["within_2se"] = (gravity.simulated - gravity.observed).abs() <= 2 * np.sqrt(gravity.observed_se ** 2
                                                                                       + gravity.simulated_se ** 2)
    summary = {
        "tvd": tvd, "origins": int(fit["simulated"].origin.nunique()),
        "tvd_target": TARGET_TVD,
        "tvd_ok": tvd["simulated"] <= TARGET_TVD and tvd["simulated"] < min(tvd["size_only"], tvd["gravity_fe_ppml"]),
        "gravity": gravity.reset_index(names="term").to_dict(orient="records"),
        "gravity_ok": bool(gravity.within_2se.all()),
        "tvd_by_year": {k: v.groupby("year").tvd.mean().round(4).to_dict() for k, v in fit.items()},
        "tvd_after_first_year": tvd_later,
        "beats_persistence": tvd_later["simulated"] < tvd_later["persistence"],
    }
    tops = _tops(observed, sim)
    beyond, research = beyond_stocks(sim_metrics, simulated if flows is None else flows, coauthorship)
    if responses is not None:
        more, lines = response_section(responses)
        beyond |= more
        research += lines
    summary["beyond_stocks"] = beyond
    summary = {"out_of_sample": held_out[0], "in_sample": summary}
    (out / "validation.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    _figures(fit, gravity, observed, sim, out)
    _markdown(summary["in_sample"], gravity, tops, research, excluded, held_out[1], out)
    return summary


def _tops(observed, sim, n=10) -> pd.DataFrame:
    year = observed.year.max()
    o, s = observed[observed.year == year], sim[sim.year == year]
    rows = []
    for side in ("destination", "origin"):
        ob = o.groupby(side).students.sum() / o.students.sum()
        sb = s.groupby(side).students.sum() / max(s.students.sum(), 1.0)
        for c in ob.nlargest(n).index:
            rows.append({"side": side, "country": c, "observed_share": round(ob[c], 4),
                         "simulated_share": round(float(sb.get(c, 0.0)), 4)})
    return pd.DataFrame(rows)


def beyond_stocks(metrics: pd.DataFrame, flows: pd.DataFrame, coauthorship: pd.DataFrame) -> tuple[dict, list[str]]:
    """The calibrated world against published figures it was not fitted to (sim/inference/references.py):
    foreign-born researcher shares by country, doctoral stay rates by origin in the USA, and the
    internationally co-authored share of papers by country against OpenAlex. (summary, markdown lines)"""
    from scipy.stats import spearmanr
    from sim.inference import references as R
    from sim.world.loaders import intl_coauthorship_share
    last = int(metrics.year.max())
    m = metrics[(metrics.year == last) & (metrics.country != "WORLD")].pivot(index="country", columns="metric",
                                                                              values="value")
    born = pd.DataFrame({"published_2011": pd.Series(R.FOREIGN_BORN_RESEARCHERS)})
    born["simulated"] = m.foreign_born_researcher_share.reindex(born.index)
    born_rho = float(spearmanr(born.simulated, born.published_2011, nan_policy="omit").statistic)

    # stay rates five years on, as published: a cohort's stayers less the later returns of five years at the
    # rates of their year (careers.still_abroad); the share staying at graduation beside them
    kinds = ["doctoral_stay", "doctoral_return", "doctoral_stay_five_years", "stay", "return", "stay_five_years"]
    by_kind = flows[flows.kind.isin(kinds)].pivot_table(index=["destination", "origin"], columns="kind",
                                                        values="students", aggfunc="sum", fill_value=0.0)
    by_kind = by_kind.reindex(columns=kinds, fill_value=0.0)
    g = by_kind.xs("USA", level="destination") if "USA" in by_kind.index.get_level_values(0) else by_kind.iloc[:0]
    g = g.assign(finished=g.doctoral_stay + g.doctoral_return)
    stay_all = float(g.doctoral_stay_five_years.sum() / max(g.finished.sum(), 1.0))
    stay_at_graduation = float(g.doctoral_stay.sum() / max(g.finished.sum(), 1.0))
    g = g[g.finished > 0].assign(stay_at_graduation=lambda x: x.doctoral_stay / x.finished,
                                 stay_rate=lambda x: x.doctoral_stay_five_years / x.finished).nlargest(12, "finished")
    g["published_2013"] = pd.Series({k: v for k, v in R.US_DOCTORAL_STAY.items() if k != "all"}).reindex(g.index)
    # retention of the other international graduates (first degrees and master's), all destinations
    t = by_kind.sum()
    other_finished = t["stay"] + t["return"] - t.doctoral_stay - t.doctoral_return
    retention = float((t.stay_five_years - t.doctoral_stay_five_years) / max(other_finished, 1.0))
    retention_at_graduation = float((t["stay"] - t.doctoral_stay) / max(other_finished, 1.0))

    oa = intl_coauthorship_share(coauthorship)
    year = min(last, int(oa.year.max()))
    o = oa[oa.year == year].set_index("country")
    # assumption (data README): the diagonal counts works without a foreign co-author, so the international
    # share is at most pairs / (pairs + diagonal) (equal when every international work has two countries);
    # with the same mean number of partner countries everywhere, its ranking across countries is exact
    o = o[(o.total_works + o.intl_pair_works) >= 1_000]
    co = pd.DataFrame({"openalex_upper_bound": o.intl_pair_works / (o.intl_pair_works + o.total_works),
                       "simulated": m.intl_coauthored_share.reindex(o.index),
                       "papers": m.papers.reindex(o.index)}).dropna()
    co = co[co.papers > 0]
    co_rho = float(spearmanr(co.simulated, co.openalex_upper_bound).statistic)
    size_rho = float(spearmanr(co.simulated, co.papers).statistic)
    world = float(metrics[(metrics.year == last) & (metrics.country == "WORLD")
                          & (metrics.metric == "intl_coauthored_share")].value.iloc[0])
    summary = {"year": last, "foreign_born_spearman": born_rho, "foreign_born": born.round(3).to_dict(),
               "us_doctoral_stay_all": stay_all, "us_doctoral_stay": g.stay_rate.round(3).to_dict(),
               "us_doctoral_stay_at_graduation": stay_at_graduation,
               "intl_graduate_retention_five_years": retention,
               "intl_graduate_retention_at_graduation": retention_at_graduation,
               "coauthorship_spearman": co_rho, "coauthorship_countries": len(co),
               "coauthorship_size_spearman": size_rho, "world_intl_coauthored_share": world}
    lines = ["## Beyond stocks: figures the calibration never saw", "",
             f"### Foreign-born researchers ({last}; published: GlobSci survey 2011, Franzoni, Scellato & Stephan "
             f"2012)", "", f"Rank correlation across the {born.simulated.notna().sum()} countries: {born_rho:.2f}.", "",
             with_names(born.rename_axis("country").round(3)).to_markdown(), "",
             f"### Doctoral graduates of US universities who stay, by origin ({metrics.year.min()}-{last}; "
             f"published: five-year stay rates of the 2008 cohort, Finn & Pennington 2018)", "",
             f"All origins, five years on: {stay_all:.2f} (published about {R.US_DOCTORAL_STAY['all']:.2f}); at "
             f"graduation {stay_at_graduation:.2f}. `stay_rate` is the five-year rate: a year's stayers less five "
             "years of later returns at that year's rates.", "",
             with_names(g[["finished", "stay_at_graduation", "stay_rate", "published_2013"]].rename_axis("origin")
                        .round(3), ["origin"]).to_markdown(), "",
             "### Retention of international graduates below the doctorate (all destinations)", "",
             f"Five years on: {retention:.2f} (published: roughly {R.INTL_GRADUATE_RETENTION[0]:.2f}-"
             f"{R.INTL_GRADUATE_RETENTION[1]:.2f}, OECD International Migration Outlook); at graduation "
             f"{retention_at_graduation:.2f}.", "",
             f"### Internationally co-authored share of papers ({last}; OpenAlex {year})", "",
             f"World: {world:.3f} (published: {R.WORLD_INTL_COAUTHORED} of S&E articles in 2016, NSB 2018). Across "
             f"{len(co)} countries with at least 1,000 OpenAlex works, the rank correlation of the simulated share "
             f"with the OpenAlex share is {co_rho:.2f}. The OpenAlex file's diagonal is not the total of works (data "
             "README); taking it as the works without a foreign co-author, pairs / (pairs + diagonal) bounds the "
             "share from above and ranks countries exactly if the mean number of partner countries per "
             f"international work is the same everywhere. Smaller research systems co-author abroad more in the "
             f"data; the simulated share's rank correlation with a country's papers is {size_rho:.2f}.", "",
             with_names(co.sort_values("papers", ascending=False, kind="stable").head(15).rename_axis("country").round(3))
             .to_markdown(), ""]
    return summary, lines


def response_section(r: dict) -> tuple[dict, list[str]]:
    """The paired experiment's elasticities beside the published ranges (summary keys, markdown lines)."""
    from sim import fpmath
    from sim.inference import references as R
    first, last = r["years"][0], r["years"][-1]
    ch = r["log_change"]
    rows = pd.DataFrame([
        {"response": "patent applications to foreign graduate students", "simulated": r["patent_elasticity"],
         "published": f"{R.US_PATENT_ELASTICITY[0]:.2f}-{R.US_PATENT_ELASTICITY[1]:.2f}",
         "source": "Chellaraj, Maskus & Mattoo 2008"},
        {"response": "papers to foreign doctoral students", "simulated": r["paper_elasticity"],
         "published": f"{R.US_PAPER_ELASTICITY[0]:.2f}-{R.US_PAPER_ELASTICITY[1]:.2f}",
         "source": "Stuen, Mobarak & Maskus 2012 (constructed range, docs/ODD.md 7.19)"}])
    summary = {"us_patent_elasticity": r["patent_elasticity"], "us_paper_elasticity": r["paper_elasticity"],
               "research_response": r}
    lines = [f"### Research and innovation respond to foreign graduate students ({r['country']}, {first}-{last})", "",
             "A paired experiment at the same seed: the calibrated world as it is, and with an enrolment shock abroad "
             "(every origin below high income pays its students' degrees abroad from the year after the start); "
             f"sums over {first}-{last}. Foreign graduate students (master's and doctoral) "
             f"{fpmath.expm1(ch['foreign_graduate_students']):+.1%}, foreign doctoral students "
             f"{fpmath.expm1(ch['foreign_doctoral_students']):+.1%}, patent applications "
             f"{fpmath.expm1(ch['patent_applications']):+.1%}, papers {fpmath.expm1(ch['papers']):+.1%}.", "",
             rows.round(3).to_markdown(index=False), ""]
    return summary, lines


def _figures(fit, gravity, observed, sim, out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    years = sorted(observed.year.unique())
    styles = {"simulated": ("0.1", ""), "gravity_fe_ppml": ("0.5", "//"), "size_only": ("0.8", "..")}
    for i, (name, (color, hatch)) in enumerate(styles.items()):
        by_year = fit[name].groupby("year").tvd.mean().reindex(years)
        axes[0].bar(np.arange(len(years)) + 0.27 * i, by_year, 0.27, color=color, hatch=hatch, edgecolor="0.2",
                    label=name)
    axes[0].axhline(TARGET_TVD, color="0.3", ls="--", lw=0.8)
    axes[0].set_xticks(np.arange(len(years)) + 0.27, years)
    axes[0].set_ylabel("mean per-origin TVD")
    axes[0].set_title("Fit by year (lower is better)")
    axes[0].legend(fontsize=8, frameon=False)
    _corridors(axes[1], observed, sim, "(in sample)", "Corridor stocks")
    y = np.arange(len(gravity))
    axes[2].errorbar(gravity.observed, y - 0.1, xerr=2 * gravity.observed_se, fmt="o", color="0.5", label="observed")
    axes[2].errorbar(gravity.simulated, y + 0.1, xerr=2 * gravity.simulated_se, fmt="s", color="0.1",
                     label="simulated")
    axes[2].set_yticks(y, gravity.index)
    axes[2].axvline(0, color="0.7", lw=0.8)
    axes[2].set_xlabel("PPML coefficient, +-2 SE")
    axes[2].set_title("Gravity (origin and destination fixed effects)")
    axes[2].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"validation.{ext}", dpi=150, bbox_inches="tight")
    plt.close(fig)


def _markdown(summary, gravity, tops, research, excluded, held_out: list[str], out: Path) -> None:
    t = summary["tvd"]
    lines = ["# hemsim validation: the real world against observed student stocks", "", *held_out,
             "## In sample: the calibrated world (world=oecd) over the years it was calibrated on", "",
             "Everything below scores years the calibration saw: a check of fit, not evidence of forecasting.", "",
             f"Mean per-origin total-variation distance of destination shares, {summary['origins']} origins with "
             f"more than {V.MIN_ABROAD:,} students abroad, in-sample years "
             f"{min(summary['tvd_by_year']['simulated'])}-{max(summary['tvd_by_year']['simulated'])}:", "",
             "| predictor | mean TVD |", "|---|---|",
             f"| hemsim (calibrated simulation) | {t['simulated']:.3f} |",
             f"| gravity, origin and destination fixed effects, PPML | {t['gravity_fe_ppml']:.3f} |",
             f"| size only (destination totals) | {t['size_only']:.3f} |", "",
             f"Target: at most {TARGET_TVD} and better than both references: "
             f"**{'met' if summary['tvd_ok'] else 'NOT met'}**.", "",
             "Against persistence (each year predicted by the year before's observed stocks: the bar a "
             "forecaster must clear), over the years it covers, still in sample:", "",
             "| predictor | mean TVD, after the first year |", "|---|---|"] + \
            [f"| {name} | {value:.3f} |" for name, value in summary["tvd_after_first_year"].items()] + \
            ["", f"hemsim beats persistence: **{'yes' if summary['beats_persistence'] else 'no'}**.", "",
             "![in sample](validation.png)", "",
             "### Gravity coefficients (PPML, origin, destination and year fixed effects, pair-clustered SE)", "",
             gravity.round(3).to_markdown(), "",
             f"Simulated within two (combined) standard errors of observed: "
             f"**{'yes' if summary['gravity_ok'] else 'no'}**.", "",
             "### Fit by year (mean TVD)", "", pd.DataFrame(summary["tvd_by_year"]).round(3).to_markdown(), "",
             "### Top destinations and origins (shares of international students, last year)", "",
             with_names(tops).to_markdown(index=False), "",
             *research,
             "## Countries and rows left out, with reasons", "",
             excluded.to_markdown(index=False) if len(excluded) else "None.", ""]
    (out / "report.md").write_text("\n".join(lines))

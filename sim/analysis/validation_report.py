"""The validation report of the real world: fit to observed stocks beside reference predictors,
gravity coefficients of simulated vs observed flows, top destinations and origins, research
co-authorship, fit by year, and the list of what was left out. Reads result tables and data only."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis import validation as V  # noqa: E402

TARGET_TVD = 0.25
OBSERVED_GRAVITY = {"log_distance": -0.9, "common_language": 1.5, "colonial_tie": 1.0}  # the reference


def build(observed: pd.DataFrame, simulated: pd.DataFrame, geography: pd.DataFrame, coauthorship: pd.DataFrame,
          sim_metrics: pd.DataFrame, excluded: pd.DataFrame, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    sim = simulated[simulated.destination.isin(set(observed.destination))]
    fit = {"simulated": V.tvd_by_origin(observed, sim), "size_only": V.tvd_by_origin(observed, V.size_only(observed))}
    obs_g = V.with_geography(observed, geography)
    b_obs, se_obs, fitted = V.ppml(obs_g)
    fit["gravity_fe_ppml"] = V.tvd_by_origin(observed, fitted)
    sim_g = V.with_geography(_complete(sim, observed), geography)
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
    research = _coauthorship(sim_metrics, coauthorship)
    summary["coauthorship_correlation"] = research["correlation"]
    (out / "validation.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    _figures(fit, gravity, observed, sim, out)
    _markdown(summary, gravity, tops, research, excluded, out)
    return summary


def _complete(sim: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Simulated stocks on the observed grid of (year, origin, destination), zeros where none."""
    grid = observed[["year", "origin", "destination"]]
    return grid.merge(sim, on=["year", "origin", "destination"], how="left").fillna({"students": 0.0})


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


def _coauthorship(metrics: pd.DataFrame, coauthorship: pd.DataFrame) -> dict:
    """Simulated internationally co-authored papers by country vs OpenAlex international works.

    In the shipped OpenAlex file a country's diagonal counts its internationally co-authored works
    (see tests/test_loaders.py), so shares cannot be formed; the comparison is the correlation of
    log counts across countries, and the simulated shares are listed."""
    m = metrics[(metrics.metric.isin(["papers", "intl_coauthored_share"])) & (metrics.country != "WORLD")]
    last = m.year.max()
    m = m[m.year == last].pivot(index="country", columns="metric", values="value")
    m["intl_papers"] = m.papers * m.intl_coauthored_share
    diag = coauthorship[(coauthorship.a == coauthorship.b)]
    diag = diag[diag.year == min(max(diag.year), int(last))].set_index("a").works
    both = m.join(diag.rename("openalex"), how="inner")
    both = both[(both.intl_papers > 0) & (both.openalex > 0)]
    r = float(np.corrcoef(np.log(both.intl_papers), np.log(both.openalex))[0, 1]) if len(both) > 2 else float("nan")
    return {"correlation": r, "countries": len(both), "table": both.sort_values("openalex", ascending=False).head(15)}


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
    year = observed.year.max()
    both = observed[observed.year == year].merge(sim[sim.year == year], on=["origin", "destination"], how="left",
                                                 suffixes=("_obs", "_sim")).fillna(0.0)
    both = both[both.students_obs > 100]
    axes[1].loglog(both.students_obs, both.students_sim.clip(lower=1), ".", color="0.2", ms=2, alpha=0.5)
    lim = [100, both.students_obs.max() * 1.5]
    axes[1].plot(lim, lim, color="0.5", lw=0.8)
    axes[1].set_xlabel(f"observed students {year}")
    axes[1].set_ylabel(f"simulated students {year}")
    axes[1].set_title("Corridor stocks")
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


def _markdown(summary, gravity, tops, research, excluded, out: Path) -> None:
    t = summary["tvd"]
    lines = ["# hemsim validation: the real world against observed student stocks", "",
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
             "![validation](validation.png)", "",
             "## Gravity coefficients (PPML, origin, destination and year fixed effects, pair-clustered SE)", "",
             gravity.round(3).to_markdown(), "",
             f"Simulated within two (combined) standard errors of observed: "
             f"**{'yes' if summary['gravity_ok'] else 'no'}**.", "",
             "## Fit by year (mean TVD)", "", pd.DataFrame(summary["tvd_by_year"]).round(3).to_markdown(), "",
             "## Top destinations and origins (shares of international students, last year)", "",
             tops.to_markdown(index=False), "",
             "## Research: internationally co-authored papers vs OpenAlex", "",
             f"Correlation of log counts across {research['countries']} countries: {research['correlation']:.2f}. "
             "(The OpenAlex file's diagonal counts internationally co-authored works only, so shares are not "
             "formed from it.)", "", research["table"].round(3).to_markdown(), "",
             "## Countries and rows left out, with reasons", "",
             excluded.to_markdown(index=False) if len(excluded) else "None.", ""]
    (out / "report.md").write_text("\n".join(lines))

"""Publication figures: matplotlib, readable in greyscale (line styles and markers, not only
colour), labelled axes with units, saved as PNG and PDF."""

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis import stats  # noqa: E402

STYLES = [dict(ls="-", marker="o"), dict(ls="--", marker="s"), dict(ls=":", marker="^"), dict(ls="-.", marker="D"),
          dict(ls=(0, (5, 1)), marker="v"), dict(ls=(0, (3, 1, 1, 1)), marker="P")]
GREYS = ["0.0", "0.35", "0.55", "0.2", "0.45", "0.65"]

# theme -> metric -> (label, unit, factor applied before plotting)
THEMES = {
    "talent": {
        "international_share": ("International students", "% of enrolment", 100.0),
        "inbound_degree": ("Degree-mobile students", "thousand students", 1e-3),
        "stayers": ("Graduates abroad who stay", "thousand per year", 1e-3),
        "returnees": ("Graduates abroad who return", "thousand per year", 1e-3),
        "exchange_students": ("Students on exchange", "thousand per year", 1e-3),
        "doctoral_international_share": ("International doctoral students", "% of doctoral students", 100.0),
    },
    "education": {
        "teaching_quality": ("Teaching quality", "index 0-1", 1.0),
        "mean_skill": ("Mean skill of students", "skill units", 1.0),
        "mean_intercultural_competence": ("Intercultural competence", "competence units", 1.0),
        "mean_intercultural_competence_nonmobile": ("Competence of non-mobile students", "competence units", 1.0),
        "graduate_employability": ("Graduate employability", "probability", 1.0),
        "enrolment_rate": ("Gross enrolment ratio", "% of age group", 100.0),
    },
    "research": {
        "papers": ("Papers", "thousand per year", 1e-3),
        "intl_coauthored_share": ("Internationally co-authored papers", "% of papers", 100.0),
        "researchers": ("Researchers", "thousand", 1e-3),
        "foreign_born_researcher_share": ("Foreign-born researchers", "% of researchers", 100.0),
        "patent_applications": ("Patent applications", "thousand per year", 1e-3),
        "service_projects": ("Service projects", "projects per year", 1.0),
    },
    "money": {
        "tuition_revenue": ("International tuition", "USD billion per year", 1e-9),
        "university_income": ("Universities' income", "USD billion per year", 1e-9),
        "tuition_share": ("Tuition share of income", "% of income", 100.0),
        "scholarship_cost": ("Scholarship costs", "USD million per year", 1e-6),
        "research_posts": ("Funded research posts", "thousand", 1e-3),
        "doctoral_students": ("Doctoral students", "thousand", 1e-3),
    },
}
OUTCOMES = {k: v for theme in THEMES.values() for k, v in theme.items()}


def _style(i: int) -> dict:
    return dict(color=GREYS[i % len(GREYS)], markersize=3.5, linewidth=1.4, **STYLES[i % len(STYLES)])


@dataclass
class Figure:
    """A saved figure: its files and the titles of its panels (for the report and its index)."""
    name: str
    files: list[Path]
    panels: list[str]

    @property
    def png(self) -> Path:
        return next(p for p in self.files if p.suffix == ".png")


def _save(fig, out: Path, name: str) -> Figure:
    panels = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    paths = []
    for ext in ("png", "pdf"):
        p = out / f"{name}.{ext}"
        fig.savefig(p, dpi=150, bbox_inches="tight")
        paths.append(p)
    plt.close(fig)
    return Figure(name, paths, panels)


def _grid(n: int):
    cols = 3 if n > 4 else 2
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def timeseries(metrics: pd.DataFrame, scenarios: list[str], outcomes: dict, out: Path,
               name: str = "timeseries") -> Figure | None:
    """One panel per outcome: each scenario's mean across seeds with its 90% band."""
    fig, axes = _grid(len(outcomes))
    for ax, (metric, (label, unit, factor)) in zip(axes, outcomes.items()):
        b = stats.bands(metrics, metric)
        for i, s in enumerate(scenarios):
            d = b[b.scenario == s]
            st = _style(i)
            ax.fill_between(d.year, d.low * factor, d.high * factor, color=st["color"], alpha=0.15, linewidth=0)
            ax.plot(d.year, d["mean"] * factor, label=s, **st)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylabel(unit)
    axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle("Outcomes by scenario: mean across seeds, 90% band", fontsize=11)
    fig.tight_layout()
    return _save(fig, out, name)


def effects(metrics: pd.DataFrame, baseline: str, outcomes: dict, out: Path, name: str = "effects") -> Figure | None:
    """One panel per outcome: paired difference from baseline (same seeds) with its 90% interval; over
    parameter draws, the 90% range due to parameters (darker) inside the range due to parameters and dice."""
    fig, axes = _grid(len(outcomes))
    draws = stats.has_draws(metrics)
    for ax, (metric, (label, unit, factor)) in zip(axes, outcomes.items()):
        e = stats.effects(metrics, baseline, metric)
        for i, s in enumerate(sorted(e.scenario.unique())):
            d = e[e.scenario == s]
            st = _style(i + 1)
            if draws:
                ax.fill_between(d.year, d.total_low * factor, d.total_high * factor, color=st["color"], alpha=0.12,
                                linewidth=0)
                ax.fill_between(d.year, d.param_low * factor, d.param_high * factor, color=st["color"], alpha=0.3,
                                linewidth=0)
            else:
                ax.fill_between(d.year, d.low * factor, d.high * factor, color=st["color"], alpha=0.2, linewidth=0)
            ax.plot(d.year, d.effect * factor, label=s, **st)
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.set_title(f"{label}: effect", fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylabel(f"difference, {unit}")
    axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"Policy effect: scenario - {baseline} at the same draw and seed; mean, 90% ranges due to "
                 f"parameters (dark) and to parameters and dice (light)" if draws else
                 f"Policy effect: scenario - {baseline} at the same seed, mean and 90% interval", fontsize=11)
    fig.tight_layout()
    return _save(fig, out, name)


def flow_matrices(flows: pd.DataFrame, baseline: str, scenarios: list[str], out: Path, top: int = 15) -> Figure | None:
    """Heat maps of degree-mobile students (stock) by origin x destination: baseline, then each change."""
    base = stats.flow_matrix(flows, baseline, "enrolled")
    if base.empty:
        return None
    origins = base.sum(axis=1).nlargest(top).index
    dests = base.sum(axis=0).nlargest(top).index
    others = [s for s in scenarios if s != baseline]
    fig, axes = plt.subplots(1, 1 + len(others), figsize=(5.2 * (1 + len(others)), 4.8), squeeze=False)
    panels = [(baseline, base, "Greys", None)]
    for s in others:
        diff = stats.flow_matrix(flows, s, "enrolled").reindex_like(base).fillna(0.0) - base
        panels.append((f"{s} - {baseline}", diff, "RdGy_r", "centre"))
    for ax, (title, m, cmap, centre) in zip(axes[0], panels):
        sub = m.reindex(index=origins, columns=dests).fillna(0.0) / 1e3
        lim = np.abs(sub.to_numpy()).max() or 1.0
        im = ax.imshow(sub.to_numpy(), cmap=cmap, vmin=-lim if centre else 0, vmax=lim, aspect="auto")
        ax.set_xticks(range(len(dests)), dests, rotation=90, fontsize=7)
        ax.set_yticks(range(len(origins)), origins, fontsize=7)
        ax.set_xlabel("destination")
        ax.set_ylabel("origin")
        ax.set_title(title, fontsize=10)
        fig.colorbar(im, ax=ax, label="thousand students")
    fig.suptitle("Degree-mobile students by corridor, mean of the final years (largest origins and destinations)",
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, out, "flow_matrices")


def brain_gain(metrics: pd.DataFrame, baseline: str, out: Path, top: int = 20) -> Figure | None:
    """Net talent gain per country (stayers gained - nationals lost), baseline and each scenario."""
    fw = stats.final_window(metrics)
    fw = fw[(fw.metric == "net_talent_gain") & (fw.country != stats.WORLD)]
    mean = fw.groupby(["scenario", "country"]).value.mean().unstack(0) / 1e3
    if mean.empty:
        return None
    order = mean[baseline].abs().nlargest(top).index
    mean = mean.loc[order]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / mean.shape[1]
    hatches = ["", "///", "...", "xxx", "\\\\\\", "ooo"]
    cols = [baseline] + [c for c in mean.columns if c != baseline]
    for i, s in enumerate(cols):
        ax.bar(np.arange(len(order)) + i * width, mean[s], width, label=s, color=GREYS[i % len(GREYS)],
               hatch=hatches[i % len(hatches)], edgecolor="0.2", linewidth=0.4)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(np.arange(len(order)) + 0.4 - width / 2, order, rotation=90, fontsize=7)
    ax.set_ylabel("thousand graduates per year")
    ax.set_title("Net talent gain: foreign graduates who stay - nationals who stay abroad (final years)", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return _save(fig, out, "brain_gain")


COUNTRY_EFFECTS = {"inbound_degree": ("International degree students", "thousand students", 1e-3),
                   "net_talent_gain": ("Net talent gain", "thousand graduates per year", 1e-3),
                   "papers": ("Papers", "thousand per year", 1e-3)}


def country_effects(metrics: pd.DataFrame, baseline: str, out: Path, top: int = 15) -> Figure | None:
    """Per scenario (rows) and outcome (columns): the paired effect by country, final years, 90% interval."""
    others = sorted(set(metrics.scenario) - {baseline})
    if not others:
        return None
    fig, axes = plt.subplots(len(others), len(COUNTRY_EFFECTS), figsize=(4.4 * len(COUNTRY_EFFECTS),
                                                                        3.0 * len(others)), squeeze=False)
    for metric, col in zip(COUNTRY_EFFECTS, range(len(COUNTRY_EFFECTS))):
        label, unit, factor = COUNTRY_EFFECTS[metric]
        e = stats.country_effects(metrics, baseline, metric)
        for row, s in enumerate(others):
            ax = axes[row, col]
            d = e[e.scenario == s].set_index("country")
            d = d.loc[d.effect.abs().sort_values(ascending=False, kind="stable").index[:top]]
            err = np.vstack([(d.effect - d.low).fillna(0), (d.high - d.effect).fillna(0)]) * factor
            ax.bar(range(len(d)), d.effect * factor, yerr=err, color="0.45", edgecolor="0.1", linewidth=0.4,
                   capsize=2)
            ax.axhline(0, color="0.3", linewidth=0.8)
            ax.set_xticks(range(len(d)), d.index, rotation=90, fontsize=7)
            ax.set_title(f"{s}: {label}", fontsize=9)
            ax.set_ylabel(f"effect, {unit}", fontsize=8)
    fig.suptitle(f"Policy effect by country (largest {top}): scenario - {baseline} at the same seed, final years, "
                 "90% interval", fontsize=10)
    fig.tight_layout()
    return _save(fig, out, "country_effects")

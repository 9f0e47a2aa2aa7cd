"""The backtests' report: every case run at the fitted responses and at its held-out fit, against the data.

Writes to `out`: backtest.json ({"cases": [a row per case, outcome and fit]}; effects are relative changes),
report.md (observed effects by both counterfactuals, simulated effects with bands, the held-out predictions,
the two backcasts side by side, the fee elasticities the fit implies) and a figure per case (<case>.png).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.errors import UserError
from sim.inference import backtest as B
from sim.inference import elasticity
from sim.io import write_json

FIT_WITHIN, HELD_OUT_WITHIN = 1.5, 2.0      # the bounds a fitted and a held-out effect are judged by


def within(observed: float, simulated: float, factor: float) -> bool:
    """Same sign, and the larger magnitude at most `factor` times the smaller."""
    return observed * simulated > 0 and max(abs(observed), abs(simulated)) <= factor * min(abs(observed), abs(simulated))


def read_record(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"{path}: no fitted responses; run `hemsim-backtest --fit` first")
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("fit"), dict) or not isinstance(doc.get("leave_one_out"), dict):
        raise UserError(f"{path}: not a record of the fit (needs `fit` and `leave_one_out`)")
    return doc


def overrides(params: dict) -> list[str]:
    return [f"{k}={v}" for k, v in params.items()]


def run(cases_dir: Path, record_path: Path, out: Path, seeds: int, configure) -> str:
    """Simulate every case at the fit (seeds x both backcasts) and at its held-out fit (seeds, the first
    backcast); write the report; return a one-line summary."""
    started = time.perf_counter()
    cases = B.load_cases(cases_dir)
    record = read_record(record_path)
    missing = [c.name for c in cases if c.name not in record["leave_one_out"]]
    if missing:
        raise UserError(f"{record_path}: no held-out fit for the case(s) {', '.join(missing)}; rerun "
                        "`hemsim-backtest --fit`")
    from sim.world import loaders
    base = configure(overrides(record["fit"]))
    uis = loaders.load_uis_inbound(base.world.data_dir).frame.dropna(subset=["inbound"])
    fitted_runs = pd.concat([B.simulate(c, base, range(seeds)) for c in cases], ignore_index=True)
    held_runs = pd.concat([B.simulate(c, configure(overrides(record["leave_one_out"][c.name])), range(seeds),
                                      B.BACKCASTS[:1]) for c in cases], ignore_index=True)
    fitted = B.simulated_effects(fitted_runs).set_index(["case", "outcome"])
    by_backcast = B.simulated_effects(fitted_runs, ("backcast",)).set_index(["case", "outcome", "backcast"])
    held = B.simulated_effects(held_runs).set_index(["case", "outcome"])
    elasticities = {k: round(v, 3) for k, v in elasticity.world_fee_elasticities(base).items()}

    rows, estimates = [], {}
    for c in cases:
        for o in c.outcomes:
            est = B.observed_effects(c, o, uis)
            estimates[(c.name, o.name)] = est
            observed = B.effect_of(next(iter(est.values())))
            for held_out, table in ((False, fitted), (True, held)):
                s = table.loc[(c.name, o.name)]
                rows.append({"name": f"{c.name}/{o.name}", "case": c.name, "outcome": o.name,
                             "destination": c.destination, "event_year": c.event_year, "observed_effect": observed,
                             "observed_by_estimator": {k: round(B.effect_of(v), 4) for k, v in est.items()},
                             "simulated_effect": round(float(s.effect), 4), "simulated_low": round(float(s.low), 4),
                             "simulated_high": round(float(s.high), 4), "held_out": held_out,
                             "within_bounds": within(observed, float(s.effect),
                                                     HELD_OUT_WITHIN if held_out else FIT_WITHIN)})
    out.mkdir(parents=True, exist_ok=True)
    summary = {"cases": rows, "responses": record["fit"], "fee_elasticity": elasticities,
               "published_fee_elasticity": list(elasticity.PUBLISHED), "seeds": seeds,
               "backcasts": list(B.BACKCASTS), "minutes": round((time.perf_counter() - started) / 60, 1)}
    write_json(summary, out / "backtest.json")
    for c in cases:
        _figure(c, fitted_runs[fitted_runs.case == c.name], held_runs[held_runs.case == c.name], estimates,
                {r["outcome"]: r for r in rows if r["case"] == c.name and not r["held_out"]},
                {r["outcome"]: r for r in rows if r["case"] == c.name and r["held_out"]}, out / f"{c.name}.png")
    (out / "report.md").write_text(_markdown(cases, rows, estimates, by_backcast, record, elasticities, seeds))
    fit_ok = sum(r["within_bounds"] for r in rows if not r["held_out"])
    held_ok = sum(r["within_bounds"] for r in rows if r["held_out"])
    n = len(rows) // 2
    mean_e = np.mean(list(elasticities.values())) if elasticities else math.nan
    return (f"{len(cases)} cases, {n} outcomes: fitted within {FIT_WITHIN}x {fit_ok}/{n}, held out within "
            f"{HELD_OUT_WITHIN}x {held_ok}/{n}; mean fee elasticity {mean_e:.2f} (published -0.5 to -1.0); "
            f"report {out / 'report.md'}")


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x * 100:+.0f}%"


def _markdown(cases, rows, estimates, by_backcast, record, elasticities, seeds) -> str:
    lines = ["# Backtests: past policy changes, simulated and observed", "",
             "Each case runs the real world from before its event with the policy history and with the change undone "
             f"(same seeds: the difference is the policy's), over {seeds} seeds and both backcasts of the years "
             "before the bilateral data (2013). Effects are relative changes. **Fit**: the responses fitted to every "
             f"case (judged within {FIT_WITHIN}x of the observed effect, same sign); **held out**: a fit that never "
             f"saw the case (within {HELD_OUT_WITHIN}x). The band is the range of single runs (seeds, backcasts).", "",
             "| case | outcome | observed | counterfactual of the observed | fit: simulated (band) | held out: "
             "simulated (band) |", "|---|---|---|---|---|---|"]
    for c in cases:
        for o in c.outcomes:
            f = next(r for r in rows if r["case"] == c.name and r["outcome"] == o.name and not r["held_out"])
            h = next(r for r in rows if r["case"] == c.name and r["outcome"] == o.name and r["held_out"])
            est = estimates[(c.name, o.name)]
            how = o.observed.get("counterfactual") if o.observed["kind"] == "cited" else \
                ", ".join(f"{k.replace('_', ' ')} {_pct(B.effect_of(v))}" for k, v in est.items())
            mark = {True: "", False: " **(outside)**"}
            lines.append(f"| {c.title} | {o.name} | {_pct(f['observed_effect'])} | {how} | "
                         f"{_pct(f['simulated_effect'])} ({_pct(f['simulated_low'])} .. {_pct(f['simulated_high'])})"
                         f"{mark[f['within_bounds']]} | {_pct(h['simulated_effect'])} ({_pct(h['simulated_low'])} .. "
                         f"{_pct(h['simulated_high'])}){mark[h['within_bounds']]} |")
    lines += ["", "## The two backcasts", "",
              "Worlds before 2013 are backcast (sim/world/real.py, `backcast`): `uis_year` scales the 2013 origin shares "
              "to each destination's UIS total of the year; `uis_smoothed` pools the shares of 2013-2016 and smooths "
              "the totals over three years. The fitted effect under each:", "",
              "| case | outcome | uis_year | uis_smoothed | difference |", "|---|---|---|---|---|"]
    for c in cases:
        for o in c.outcomes:
            a, b = (by_backcast.loc[(c.name, o.name, k)].effect for k in B.BACKCASTS)
            lines.append(f"| {c.name} | {o.name} | {_pct(a)} | {_pct(b)} | {(b - a) * 100:+.1f} points |")
    lines += ["", "## The responses", "",
              f"Fitted by `hemsim-backtest --fit` ({record.get('trials', '?')} trials of a random design within "
              "the bounds of conf/backtest_fit.yaml, Gaussian-process emulators minimised): conf/backtest/fit/"
              "responses.yaml.", "", "| parameter | fit | bounds | " +
              " | ".join(f"without {c.name}" for c in cases) + " |", "|---|---|---|" + "---|" * len(cases)]
    for k, v in record["fit"].items():
        lo, hi = record.get("bounds", {}).get(k, ["?", "?"])
        lines.append(f"| `{k.split('.')[-1]}` | {v} | {lo} .. {hi} | "
                     + " | ".join(str(record["leave_one_out"][c.name].get(k)) for c in cases) + " |")
    if elasticities:
        lines += ["", "## Fee elasticity", "",
                  "The fee elasticity of a destination's share of the new international degree students from the origins "
                  "it charges, as the fit implies it (the 2016 world; sim/inference/elasticity.py), against about -0.8 "
                  f"(-0.5 to -1.0) published (Beine, Delogu & Ragot 2018): mean **{np.mean(list(elasticities.values())):.2f}**; " +
                  ", ".join(f"{k} {v:.2f}" for k, v in elasticities.items()) + "."]
    lines += ["", "## Cases", ""]
    for c in cases:
        lines += [f"### {c.title}", "", f"![{c.name}]({c.name}.png)", "",
                  f"Without the change: {c.without_description}. Case file: `{c.path.name}`."]
        for o in c.outcomes:
            if o.observed.get("source"):
                lines.append(f"- {o.name}: {o.observed['source']}.")
        if c.notes:
            lines.append(f"- Note: {c.notes}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _figure(case, fitted_runs, held_runs, estimates, fit_rows, held_rows, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(case.outcomes)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), squeeze=False)
    for ax, o in zip(axes[0], case.outcomes):
        est = estimates[(case.name, o.name)]
        if o.observed["kind"] == "cited":
            f, h = fit_rows[o.name], held_rows[o.name]
            xs = [0, 1, 2]
            ax.bar(xs, [f["observed_effect"], f["simulated_effect"], h["simulated_effect"]],
                   color=["0.3", "tab:blue", "tab:orange"])
            ax.errorbar(xs[1:], [f["simulated_effect"], h["simulated_effect"]],
                        yerr=[[f["simulated_effect"] - f["simulated_low"], h["simulated_effect"] - h["simulated_low"]],
                              [f["simulated_high"] - f["simulated_effect"], h["simulated_high"] - h["simulated_effect"]]],
                        fmt="none", color="k", capsize=3)
            ax.set_xticks(xs, ["observed", "fit", "held out"])
            ax.axhline(0, color="k", lw=0.5)
            ax.set_ylabel("relative effect")
        else:
            lag = B.UIS_LAG if o.observed["kind"] == "uis" else 0
            first = next(iter(est.values()))
            series = first.path.index
            observed = pd.Series({int(y): float(v) for y, v in o.observed["series"].items()}) \
                if o.observed["kind"] == "series" else None
            for name, cf in est.items():
                ax.plot(cf.path.index, cf.path.values, ls="--" if name == "pre_trend" else ":",
                        label=f"{name.replace('_', ' ')} ({_pct(cf.effect)})")
            obs_years = [y for y in range(int(series.min()), o.observed["year"] + 1)]
            if observed is not None:
                ax.plot(observed.index, observed.values, "ko-", ms=3, label="observed")
            else:
                ax.plot([o.observed["year"]], [first.observed], "ko", ms=4, label="observed")
            # the simulated runs indexed to the observed level of the last pre-event year (levels are not the point)
            g = fitted_runs[fitted_runs.outcome == o.name].groupby("year")[["with", "without"]]
            anchor_year = int(o.observed["pre_until"])
            mean = g.mean()
            ref = mean["without"].get(anchor_year - lag)
            if ref and ref > 0:
                level = float(first.path.get(anchor_year, first.observed)) / ref
                for col, colour in (("with", "tab:blue"), ("without", "tab:green")):
                    lo, hi = g.min()[col] * level, g.max()[col] * level
                    ax.plot(mean.index + lag, mean[col] * level, color=colour, label=f"simulated {col}")
                    ax.fill_between(mean.index + lag, lo, hi, color=colour, alpha=0.2)
            ax.set_xlim(min(obs_years) - 0.5, o.observed["year"] + 0.5)
            ax.set_ylabel("international students")
            ax.legend(fontsize=7)
        ax.set_title(f"{o.name}\nobserved {_pct(fit_rows[o.name]['observed_effect'])}, fit "
                     f"{_pct(fit_rows[o.name]['simulated_effect'])}, held out {_pct(held_rows[o.name]['simulated_effect'])}",
                     fontsize=8)
    fig.suptitle(case.title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""The emulator's report: predicted against simulated held-out runs with their intervals, and report.md."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def figure(emulator, holdout, out: Path) -> Path:
    """A panel per outcome and effect: each held-out run's simulated value (x) against the emulator's mean
    (y) with its 90% (thin) and 50% (thick) predictive intervals; the diagonal is a perfect emulator."""
    pred = emulator.predict_many(holdout[emulator.names].to_dict("records"))
    val = emulator.validation().set_index(["kind", "outcome"])
    cols = 4
    rows = math.ceil(len(emulator.targets) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.9 * rows), squeeze=False)
    for ax, t in zip(axes.flat, emulator.targets):
        kind, outcome = t.split(":", 1)
        p = pred[(pred.kind == kind) & (pred.outcome == outcome)].sort_values("point", kind="stable")
        y = holdout[t].to_numpy(float)
        ax.vlines(y, p.low_90, p.high_90, color="0.6", lw=0.8)
        ax.vlines(y, p.low_50, p.high_50, color="0.25", lw=2.0)
        ax.plot(y, p["mean"], "o", ms=3, color="black")
        lo, hi = float(min(y.min(), p.low_90.min())), float(max(y.max(), p.high_90.max()))
        ax.plot([lo, hi], [lo, hi], color="tab:red", lw=0.8)
        v = val.loc[(kind, outcome)]
        r2 = "n/a" if v.r2 is None or not np.isfinite(v.r2) else f"{v.r2:.2f}"
        ax.set_title(f"{outcome} ({kind})\ncov90 {v.coverage_90:.2f}, cov50 {v.coverage_50:.2f}, R² {r2}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.ticklabel_format(axis="both", style="sci", scilimits=(-3, 4))
    for ax in list(axes.flat)[len(emulator.targets):]:
        ax.axis("off")
    fig.supxlabel("simulated (held-out run)", fontsize=9)
    fig.supylabel("emulated: mean, 50% and 90% intervals", fontsize=9)
    fig.tight_layout()
    path = out / "validation.png"
    fig.savefig(path, dpi=130)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)
    return path


def report(emulator, figure_path: Path | None, out: Path, minutes: float, options: dict) -> None:
    """report.md: what was run, the held-out validation by output, the figure, and the inputs."""
    r = emulator.record
    v = emulator.validation()
    lines = [f"# Emulator of hemsim: design `{r['design']}`", "",
             f"{r['samples']} training and {r['holdout']} held-out points (independent Latin hypercubes) x "
             f"{r['seeds']} seed(s), each run with the design's levers and without them (the effect: with - "
             f"without, same parameters and seed); config {r['config'] or 'defaults'}, {r['years']} years, "
             f"outcomes averaged over the final {r['final_years']}; {minutes:.1f} minutes. A GP per outcome and "
             f"effect (anisotropic RBF + white noise, noise >= {r['noise_floor']:g} of the variance).", ""]
    if len(v):
        lines += ["## Held-out validation", "",
                  "coverage_90 / coverage_50: share of held-out runs inside the 90% / 50% predictive intervals "
                  "(nominal 0.9 / 0.5); r2 on the held-out runs; rmse_sd: RMSE / the output's sd over the "
                  "training design.", "",
                  v.to_markdown(index=False, floatfmt=".3g"), "",
                  f"Mean coverage: 90% intervals {v.coverage_90.mean():.2f}, 50% intervals {v.coverage_50.mean():.2f}.",
                  ""]
    if figure_path is not None:
        lines += [f"![predicted against simulated held-out runs]({figure_path.name})", ""]
    lines += ["## Inputs", "", "A query's unnamed inputs take `default` (from the config, a lever's neutral value, "
              "or the range's midpoint: `default_from`).", "",
              emulator.describe().to_markdown(index=False, floatfmt=".4g"), ""]
    from sim.io import atomic_write
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text("\n".join(lines)))

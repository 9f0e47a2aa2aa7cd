"""Global sensitivity analysis with SALib: designs, indices as a tidy table, and a figure per outcome.

Methods: Morris elementary effects (screening: mu_star, the mean absolute effect, and sigma, its
spread, in the outcome's units; Morris 1991, Campolongo et al. 2007) and Sobol' variance-based indices
(S1 first order, ST total, shares of the outcome's variance; Saltelli et al. 2010), each with its
bootstrap confidence interval (95%). The design's points come from SALib's samplers; the model runs
elsewhere (experiments/sensitivity.py); this module only samples and analyses.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.errors import ConfigError  # noqa: E402

METHODS = ("morris", "sobol")
COLUMNS = ["outcome", "parameter", "method", "index", "value", "conf"]
MORRIS_LEVELS = 4
DOMINATED = 0.5     # an effect is flagged when the unanchored parameters' summed total index exceeds this
DOMINANCE_COLUMNS = ["scenario", "outcome", "unanchored_ST", "top_unanchored", "dominated"]


def problem(ranges: dict[str, tuple[float, float]]) -> dict:
    """SALib's problem from {name: (low, high)}."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(r) for r in ranges.values()]}


def check(method: str, samples: int, n_parameters: int) -> None:
    """A one-line ConfigError for a design SALib cannot analyse."""
    if method not in METHODS:
        raise ConfigError(f"method={method}: unknown (allowed: {', '.join(METHODS)})")
    if n_parameters < 2:
        raise ConfigError(f"the design has {n_parameters} parameter(s): a sensitivity analysis needs at least 2")
    if method == "morris" and samples < 2:
        raise ConfigError(f"samples={samples}: Morris needs at least 2 trajectories")
    if method == "sobol" and (samples < 8 or samples & (samples - 1)):
        raise ConfigError(f"samples={samples}: Sobol' needs a power of 2, at least 8 (Sobol' sequences)")


def sample(method: str, prob: dict, samples: int, seed: int = 0) -> np.ndarray:
    """The design: (points, parameters). Morris: samples trajectories of num_vars + 1 points; Sobol':
    samples x (num_vars + 2) points (first and total order)."""
    if method == "morris":
        from SALib.sample import morris
        return morris.sample(prob, N=samples, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol
    return sobol.sample(prob, samples, calc_second_order=False, seed=seed)


def analyse(method: str, prob: dict, x: np.ndarray, y: np.ndarray, outcome: str, seed: int = 0) -> pd.DataFrame:
    """Tidy indices of one outcome (y: one value per design point)."""
    if not np.isfinite(y).all():
        raise ConfigError(f"outcome {outcome}: not finite at {int((~np.isfinite(y)).sum())} design points")
    rows = []
    if method == "morris":
        from SALib.analyze import morris
        r = morris.analyze(prob, x, y, num_levels=MORRIS_LEVELS, seed=seed)
        for i, name in enumerate(prob["names"]):
            rows.append((outcome, name, method, "mu_star", r["mu_star"][i], r["mu_star_conf"][i]))
            rows.append((outcome, name, method, "sigma", r["sigma"][i], np.nan))
    else:
        from SALib.analyze import sobol
        r = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
        for i, name in enumerate(prob["names"]):
            rows.append((outcome, name, method, "S1", r["S1"][i], r["S1_conf"][i]))
            rows.append((outcome, name, method, "ST", r["ST"][i], r["ST_conf"][i]))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"value": float, "conf": float})


def dominance(indices: pd.DataFrame, threshold: float = DOMINATED) -> pd.DataFrame:
    """Per outcome (and `scenario`, the effect analysed; "" for outcomes) of a Sobol' analysis: the summed total
    index (ST) of the design's unanchored parameters (declared uncertainties with no published magnitude), the
    largest of them, and whether the sum exceeds `threshold`. The sum bounds the group's own total index from
    above (interactions inside the group count more than once), so the flag errs on the side of warning."""
    st = indices[(indices.method == "sobol") & (indices["index"] == "ST") & indices.unanchored]
    rows = []
    for (scenario, outcome), g in st.groupby(["scenario", "outcome"], sort=True):
        total = float(g.value.clip(lower=0.0).sum())
        rows.append((scenario, outcome, total, g.loc[g.value.idxmax(), "parameter"], total > threshold))
    return pd.DataFrame(rows, columns=DOMINANCE_COLUMNS).astype({"unanchored_ST": float, "dominated": bool})


def read_effect_indices(folder: Path) -> pd.DataFrame:
    """The Sobol' indices of a scenario's effects that `hemsim-sensitivity method=sobol effect=<scenario>` wrote
    to `folder`, checked against the SHA-256 in its sensitivity.json (UserError in one line otherwise)."""
    from sim.errors import UserError
    from sim.io import read_checked_json, sha256
    folder = Path(folder)
    record, table = folder / "sensitivity.json", folder / "sensitivity.parquet"
    if not record.is_file() or not table.is_file():
        raise UserError(f"--sensitivity {folder}: no sensitivity.json and sensitivity.parquet there "
                        "(the output of hemsim-sensitivity method=sobol effect=<scenario>)")
    meta = read_checked_json(record)
    if not meta or meta.get("format") != "hemsim-sensitivity" or meta.get("files", {}).get(
            "sensitivity.parquet") != sha256(table):
        raise UserError(f"--sensitivity {folder}: damaged or changed since hemsim-sensitivity wrote it "
                        "(its SHA-256 does not match)")
    options = meta["identity"]["options"]
    if options.get("method") != "sobol" or not options.get("effect"):
        raise UserError(f"--sensitivity {folder}: a {options.get('method')} analysis of "
                        f"{'the effect of ' + options['effect'] if options.get('effect') else 'outcomes'}; "
                        "needs method=sobol effect=<scenario>")
    return pd.read_parquet(table)


def figure(indices: pd.DataFrame, outcome: str, out: Path, label: str | None = None) -> Path:
    """Horizontal bars of an outcome's main index (mu_star or ST, with S1 beside it) and 95% intervals."""
    d = indices[indices.outcome == outcome]
    method = d.method.iloc[0]
    main = "mu_star" if method == "morris" else "ST"
    order = d[d["index"] == main].sort_values("value", kind="stable").parameter.tolist()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(order) + 1.6))
    y = np.arange(len(order))
    shown = [main] if method == "morris" else ["S1", "ST"]
    for k, idx in enumerate(shown):
        v = d[d["index"] == idx].set_index("parameter").reindex(order)
        ax.barh(y + 0.4 * k - 0.2 * (len(shown) - 1), v.value, 0.38, xerr=v.conf.fillna(0.0),
                color=("0.25", "0.65")[k], label=idx, capsize=2)
    ax.set_yticks(y, order, fontsize=8)
    ax.set_xlabel({"mu_star": f"mu*: mean |elementary effect| on {outcome}, per unit of normalised range",
                   "ST": "share of variance"}[main], fontsize=8)
    ax.set_title(f"{label or outcome}\n{method} indices, 95% intervals", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path = out / f"sensitivity_{outcome}.png"
    fig.savefig(path, dpi=150)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)
    return path

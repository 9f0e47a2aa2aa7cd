"""The dashboard's uncertainty band: a policy's effect over the parameters we do not know, from the emulator.

The live twin runs one parameter set at one seed, so its effect carries neither the parameters' uncertainty
nor the dice's. A trained emulator (`hemsim-emulate train`, sim/inference/emulator.py) predicts the effect
of the design's levers at any parameter set instantly, with its seed noise; pushing the parameter draws of
the study (sim/parameter_draws.from_design over the emulator's parameter ranges: the same draws a study
with `uncertainty.draw` runs) through it gives, per outcome, the 90% range of the effect due to the
parameters (the draws' predicted means) and due to parameters and dice together (the mixture of the draws'
predictive normals, read at fixed normal quantiles: no random numbers). It emulates the final-years WORLD
effect of levers set for every country: the dashboard's levers of that kind (set, not added to each
country's value) carry over; what does not (a scenario file, levers that change each country's own value,
levers for some countries only) is listed, not silently dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.parameter_draws import from_design

DEFAULT_EMULATOR = Path("results/emulator/emulator.json")
DRAWS = 200
# the mixture's quantiles are read from each draw's normal at these fixed points (midpoints of 40 equal slices)
_Z = stats.norm.ppf((np.arange(40) + 0.5) / 40)


def carried(emulator, settings: dict, levers: dict[str, tuple[str, float]]) -> tuple[dict[str, float], list[str]]:
    """({lever: value} the emulator takes from the dashboard's settings, [what it cannot carry, and why]).
    `levers`: each dashboard lever's (mode, neutral value); a lever left at its neutral value is not a
    setting."""
    inputs = {i["name"]: i for i in emulator.inputs if i["kind"] == "lever"}
    values, left = {}, []
    if settings.get("scenario_name", "baseline") != "baseline":
        left.append(f"scenario {settings['scenario_name']} (the band shows the levers alone)")
    everywhere = str(settings.get("countries", "all")).strip().lower() == "all"
    for name, (mode, neutral) in levers.items():
        value = settings.get(name, neutral)
        if value == neutral:
            continue
        spec = inputs.get(name)
        why = ("not an input of the emulator" if spec is None else
               "a change of each country's own value; the emulator sets one value everywhere" if mode == "add" else
               "set for some countries only" if not everywhere else
               f"outside the emulator's range {spec['low']:g}-{spec['high']:g}"
               if not spec["low"] <= value <= spec["high"] else None)
        if why:
            left.append(f"{name}={value:g} ({why})")
        else:
            values[name] = float(value)
    for name, spec in inputs.items():        # the emulator always pulled these levers in training: say where
        if name not in values and spec.get("default_from") == "midpoint":
            left.append(f"{name} at {spec['default']:g} in every country (the emulator's default: this lever "
                        f"has no neutral value it was trained without)")
    return values, left


def emulated_effects(emulator, levers: dict[str, float], draws: int = DRAWS) -> pd.DataFrame:
    """Per effect outcome: mean, the 90% range due to the parameters (param_low, param_high) and due to
    parameters and dice (total_low, total_high), over `draws` parameter draws at these lever values."""
    ranges = {i["name"]: (float(i["low"]), float(i["high"])) for i in emulator.inputs if i["kind"] == "parameter"}
    points = [from_design(k, ranges) | levers for k in range(draws)]
    table = emulator.predict_many(points)
    rows = []
    for outcome, d in table[table.kind == "effect"].groupby("outcome", sort=False):
        mean, sd = d["mean"].to_numpy(), d["sd"].to_numpy()
        mixture = (mean[:, None] + sd[:, None] * _Z[None, :]).ravel()
        rows.append({"outcome": outcome, "mean": float(mean.mean()),
                     "param_low": float(np.quantile(mean, 0.05)), "param_high": float(np.quantile(mean, 0.95)),
                     "total_low": float(np.quantile(mixture, 0.05)), "total_high": float(np.quantile(mixture, 0.95))})
    return pd.DataFrame(rows, columns=["outcome", "mean", "param_low", "param_high", "total_low", "total_high"])


def figure(effects: pd.DataFrame, draws: int = DRAWS):
    """One row per outcome: the mean, the parameters' 90% range (dark) inside parameters and dice (light),
    each outcome scaled by its largest bound (units differ: the numbers are in the table beside it)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5.6, 0.45 * len(effects) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(effects))[::-1]
    scale = effects[["total_low", "total_high", "param_low", "param_high"]].abs().max(axis=1).replace(0, 1).to_numpy()
    ax.barh(y, (effects.total_high - effects.total_low) / scale, left=effects.total_low / scale, height=0.6,
            color="tab:blue", alpha=0.25, label="parameters and dice, 90%")
    ax.barh(y, (effects.param_high - effects.param_low) / scale, left=effects.param_low / scale, height=0.6,
            color="tab:blue", alpha=0.6, label="parameters, 90%")
    ax.plot(effects["mean"] / scale, y, "k|", markersize=12, label="mean")
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_yticks(y, [o.replace("_", " ") for o in effects.outcome], fontsize=8)
    ax.set_xlabel("effect / its largest bound", fontsize=8)
    ax.set_title(f"Emulated effect of the levers over {draws} parameter draws (final years, WORLD)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return fig

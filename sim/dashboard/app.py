"""The dashboard page: Mesa's SolaraViz over a PolicyTwin (a scenario and its baseline at the same seed).

Served by `hemsim-dashboard` (experiments/dashboard.py): `solara run sim.dashboard.app`. Controls are
SolaraViz model parameters (Reset applies them); the views re-render after every step through Mesa's
update counter. Figures are matplotlib `Figure`s (no pyplot: the page renders in server threads).
"""

import functools
from pathlib import Path

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.analysis.countries import name
from sim.dashboard.twin import DASHBOARD_LEVERS, TRACKED, PolicyTwin, lever_range, lever_mode, scenario_names
from sim.policies import LEVERS
from sim.results import WORLD

SCENARIO, BASELINE = "tab:blue", "tab:gray"
FLOW_KINDS = {"enrolled": "international degree students (stock)", "degree": "new degree students abroad",
              "return": "graduates returning home", "stay": "graduates staying abroad",
              "doctoral": "new doctoral students abroad"}


def model_params() -> dict:
    """The controls: world, scenario, seed, size, whom the levers reach and when, and the main levers
    with the ranges and units of the lever table (sim/policies.py)."""
    params = {
        "world": {"type": "Select", "value": "synthetic", "values": ["synthetic", "oecd"], "label": "World"},
        "scenario_name": {"type": "Select", "value": "baseline", "values": scenario_names(), "label": "Scenario"},
        "seed": {"type": "InputText", "value": "0", "label": "Seed (whole number)"},
        "years": {"type": "SliderInt", "value": 12, "min": 2, "max": 30, "step": 1, "label": "Years"},
        "students": {"type": "SliderInt", "value": 200_000, "min": 20_000, "max": 2_000_000, "step": 20_000,
                     "label": "Students in the world (simulated)"},
        "countries": {"type": "InputText", "value": "all",
                      "label": "Levers apply to: all, a group (high_income, ...) or codes (USA,GBR)"},
        "lever_start": {"type": "SliderInt", "value": 1, "min": 0, "max": 10, "step": 1,
                        "label": "Levers start (years after the start)"},
    }
    for lever in DASHBOARD_LEVERS:
        low, high, neutral = lever_range(lever)
        unit = LEVERS[lever].unit
        label = lever.replace("_", " ") + (f" (change, {unit})" if lever_mode(lever) == "add" else f" ({unit})")
        params[lever] = {"type": "SliderFloat", "value": neutral, "min": low, "max": high,
                         "step": 0.5 if high - low > 4 else 0.05, "label": label}
    return params


def _axes(fig_width=6.4, fig_height=3.2, ncols=1):
    fig = Figure(figsize=(fig_width, fig_height), layout="constrained")
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


@solara.component
def Status(model: PolicyTwin):
    """What is running, where it is, and any refusal of the controls."""
    update_counter.get()
    if model.error is not None:
        solara.Error(f"Not applied: {model.error}. Change the control and press Reset.")
        return
    s = model.settings
    moved = [f"{lever.replace('_', ' ')} {'%+g' % v if lever_mode(lever) == 'add' else '= %g' % v}"
             for lever, v in s.items() if lever in DASHBOARD_LEVERS and v != lever_range(lever)[2]]
    levers = (f" with {', '.join(moved)} ({s['countries']}, from {model.start_year + int(s['lever_start'])})"
              if moved else "")
    year = model.year
    done = "not started (press Step or ▶)" if year is None else f"simulated to {year}"
    solara.Markdown(f"**{s['scenario_name']}**{levers} vs **baseline**, seed {s['seed']}, {s['world']} world "
                    f"({len(model.codes)} countries), {model.start_year}–{model.end_year - 1}: {done}. "
                    "Solid: scenario; dashed: baseline at the same seed. Controls apply on Reset.")


UNITS = {"international students": "international degree students", "returnees": "graduates returning, a year",
         "papers": "papers a year", "international co-authorship share": "share of papers co-authored abroad",
         "teaching quality": "teaching quality (index)", "service projects": "service projects a year"}


def _world_figure(model: PolicyTwin, labels: tuple[str, str], title: str):
    """Two WORLD outcomes year by year (the twin's Mesa DataCollector), scenario against baseline."""
    frame = model.datacollector.get_model_vars_dataframe()
    years = model.start_year + frame.index.to_numpy() if model.error is None else frame.index.to_numpy()
    fig, axes = _axes(4.8, 3.6, ncols=2)
    for ax, label in zip(axes, labels):
        ax.plot(years, frame[label], color=SCENARIO, marker="o", markersize=3, label="scenario")
        ax.plot(years, frame[f"{label} (baseline)"], color=BASELINE, marker="o", markersize=3, linestyle="--",
                label="baseline")
        ax.set_title(UNITS[label], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    solara.FigureMatplotlib(fig, format="png")


def world_view(title: str, labels: tuple[str, str]):
    """A view of two WORLD outcomes, scenario against baseline, redrawn after every step."""
    @solara.component
    def View(model: PolicyTwin):
        update_counter.get()
        _world_figure(model, labels, title)
    return View


TalentFlows = world_view("World talent flows", ("international students", "returnees"))
ResearchOutput = world_view("World research and co-authorship", ("papers", "international co-authorship share"))
QualityAndService = world_view("Education quality and service to society", ("teaching quality", "service projects"))


@solara.component
def Corridors(model: PolicyTwin):
    """The largest corridors of the last simulated year, scenario beside baseline."""
    update_counter.get()
    kind, set_kind = solara.use_state("enrolled")
    solara.Select("Flow", value=kind, values=list(FLOW_KINDS), on_value=set_kind)
    top = model.corridors("sim", kind)
    if model.year is None or top.empty:
        solara.Markdown(f"_No {FLOW_KINDS[kind]} yet: step the model._")
        return
    base = model.corridors("base", kind, top=10_000).set_index(["origin", "destination"]).students
    labels = [f"{name(o)} → {name(d)}" for o, d in zip(top.origin, top.destination)]
    baseline = [float(base.get((o, d), 0.0)) for o, d in zip(top.origin, top.destination)]
    fig, (ax,) = _axes(4.6, 3.6)
    y = range(len(top))[::-1]
    ax.barh([v + 0.2 for v in y], top.students, height=0.4, color=SCENARIO, label="scenario")
    ax.barh([v - 0.2 for v in y], baseline, height=0.4, color=BASELINE, label="baseline")
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xlabel(f"people, {model.year}", fontsize=8)
    ax.set_title(f"Largest corridors: {FLOW_KINDS[kind]}", fontsize=9)
    ax.legend(fontsize=8)
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def CountryBalance(model: PolicyTwin):
    """One country's talent balance and research, scenario against baseline."""
    update_counter.get()
    codes = model.codes
    names = dict(sorted((f"{name(c)} ({c})" if name(c) != c else c, c) for c in codes))
    choice, set_choice = solara.use_state(None)
    if not names:
        return
    label = choice if choice in names else _largest_destination(model, names)
    solara.Select("Country", value=label, values=list(names), on_value=set_choice)
    code = names[label]
    fig, axes = _axes(4.8, 3.4, ncols=2)
    panels = [("students", [("inbound_degree", "international students in"), ("outbound_degree", "nationals abroad"),
                            ("returnees", "graduates returning"), ("brain_drain", "graduates staying abroad")]),
              ("researchers a year", [("researchers_moved_in", "arriving"), ("researchers_moved_out", "leaving"),
                                      ("researchers_returned", "returning")])]
    for ax, (unit, metrics) in zip(axes, panels):
        for i, (metric, text) in enumerate(metrics):
            color = f"C{i}"
            years, values = model.series("sim", metric, code)
            ax.plot(years, values, color=color, marker="o", markersize=3, label=text)
            years, values = model.series("base", metric, code)
            ax.plot(years, values, color=color, marker="o", markersize=3, linestyle="--")
        ax.set_ylabel(unit)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=8)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(f"{label}: talent balance (dashed: baseline)", fontsize=10)
    solara.FigureMatplotlib(fig, format="png")


def _largest_destination(model: PolicyTwin, names: dict) -> str:
    """The country shown first: the one with the most international students in the last year."""
    inbound = {label: model.series("sim", "inbound_degree", code)[1] for label, code in names.items()}
    return max(names, key=lambda label: inbound[label][-1] if len(inbound[label]) else -1)


@solara.component
def WorldDifference(model: PolicyTwin):
    """The policy's effect on the world so far: scenario minus baseline, the last year, by outcome."""
    update_counter.get()
    if model.year is None:
        return
    rows = []
    for label, metric in TRACKED.items():
        _, a = model.series("sim", metric, WORLD)
        _, b = model.series("base", metric, WORLD)
        change = (a[-1] - b[-1]) / abs(b[-1]) * 100 if len(b) and b[-1] else float("nan")
        rows.append(f"| {label} | {a[-1]:,.4g} | {b[-1]:,.4g} | {change:+.1f}% |")
    solara.Markdown(f"**Effect in {model.year}** (scenario against baseline, same seed)\n\n"
                    "| outcome | scenario | baseline | change |\n|---|---:|---:|---:|\n" + "\n".join(rows))


def _emulator():
    """The trained emulator the band reads (HEMSIM_EMULATOR, else results/emulator/emulator.json), or the
    one-line reason there is none; loaded once per file version."""
    import os
    from sim.dashboard.band import DEFAULT_EMULATOR
    from sim.errors import UserError
    path = Path(os.environ.get("HEMSIM_EMULATOR", DEFAULT_EMULATOR))
    if not path.is_file():
        return None, (f"no emulator at {path}: `hemsim-emulate train` writes one (README, \"Emulator\"); the band "
                      "then shows the levers' effect over the parameters' uncertainty")
    try:
        return _load_emulator(str(path.resolve()), path.stat().st_mtime_ns), None
    except UserError as e:
        return None, str(e)


@functools.lru_cache(maxsize=2)
def _load_emulator(path: str, mtime_ns: int):
    from sim.inference.emulator import Emulator
    return Emulator.load(path)


@solara.component
def UncertaintyBand(model: PolicyTwin):
    """The dashboard levers' effect over the parameters' uncertainty: a band from the emulator (band.py)."""
    from sim.dashboard import band
    update_counter.get()
    emulator, problem = _emulator()
    if emulator is None:
        solara.Markdown(f"**Uncertainty band**: {problem}.")
        return
    trained_on = str(emulator.record.get("config", {}).get("world", "synthetic"))
    if trained_on != model.settings["world"]:
        solara.Markdown(f"**Uncertainty band**: the emulator was trained on the {trained_on} world, not the "
                        f"{model.settings['world']} one.")
        return
    levers, left = band.carried(emulator, model.settings,
                                {lever: (lever_mode(lever), lever_range(lever)[2]) for lever in DASHBOARD_LEVERS})
    effects = band.emulated_effects(emulator, levers)
    solara.FigureMatplotlib(band.figure(effects), format="png")
    rows = [f"| {r.outcome.replace('_', ' ')} | {r.mean:,.4g} | {r.param_low:,.4g} .. {r.param_high:,.4g} | "
            f"{r.total_low:,.4g} .. {r.total_high:,.4g} |" for r in effects.itertuples()]
    set_levers = ", ".join(f"{k} = {v:g}" for k, v in levers.items()) or "none moved: every lever neutral"
    solara.Markdown("**Uncertainty band** (emulated, final years): levers " + set_levers +
                    (f"; not carried: {'; '.join(left)}" if left else "") +
                    "\n\n| effect on | mean | parameters 90% | parameters and dice 90% |\n|---|---:|---:|---:|\n" +
                    "\n".join(rows))


def components() -> list:
    """(component, page) pairs, as SolaraViz takes them: everything on the first page."""
    return [(c, 0) for c in (Status, WorldDifference, UncertaintyBand, TalentFlows, ResearchOutput,
                              QualityAndService, Corridors, CountryBalance)]


page = SolaraViz(PolicyTwin(), components=components(), model_params=model_params(),
                 name="hemsim: international higher education, a policy against its baseline")

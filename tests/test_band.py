"""The dashboard's uncertainty band (sim/dashboard/band.py): the emulated effect of the dashboard's levers
over parameter draws, split into the parameters' range and the parameters' and dice's together."""

import numpy as np
import pandas as pd
import pytest

from sim.dashboard import band
from sim.inference import emulator as E

INPUTS = [{"name": "behaviour.choice.cost", "kind": "parameter", "low": 0.5, "high": 2.5, "default": 1.0,
           "default_from": "config"},
          {"name": "behaviour.choice.quality", "kind": "parameter", "low": 1.0, "high": 4.0, "default": 3.0,
           "default_from": "config"},
          {"name": "inbound_scholarship", "kind": "lever", "low": 0.0, "high": 0.5, "default": 0.0,
           "default_from": "neutral"},
          {"name": "visa_openness", "kind": "lever", "low": 0.3, "high": 1.0, "default": 0.65,
           "default_from": "midpoint"}]
NOISE = 0.2


@pytest.fixture(scope="module")
def emulator():
    """Two effects of the scholarship lever s: `steered` = 4 s x cost (the parameter decides its size),
    `fixed` = 2 s (no parameter matters), each with seed noise NOISE."""
    x, split = E.design_points(INPUTS, 80, 10, 0)
    rng = np.random.default_rng(5)
    table = pd.DataFrame(x, columns=[i["name"] for i in INPUTS]).assign(point=np.arange(len(x)), split=split)
    for name, effect in (("steered", 4 * x[:, 2] * x[:, 0]), ("fixed", 2 * x[:, 2])):
        table[f"outcome:{name}"] = 10 + effect + rng.normal(0, NOISE, len(x))
        table[f"effect:{name}"] = effect + rng.normal(0, NOISE, len(x))
    return E.Emulator(E.fit_record(table, INPUTS, ["steered", "fixed"], {"outcomes": ["steered", "fixed"]}))


LEVERS = {"inbound_scholarship": ("set", 0.0), "visa_openness": ("add", 0.0), "tuition_factor": ("set", 1.0)}


def test_only_what_the_emulator_can_represent_is_carried_and_the_rest_is_said(emulator):
    values, left = band.carried(emulator, {"scenario_name": "baseline", "countries": "all",
                                           "inbound_scholarship": 0.3, "visa_openness": 0.0, "tuition_factor": 1.0},
                                LEVERS)
    assert values == {"inbound_scholarship": 0.3}
    assert left == ["visa_openness at 0.65 in every country (the emulator's default: this lever has no neutral "
                    "value it was trained without)"]
    values, left = band.carried(emulator, {"scenario_name": "open_visas", "countries": "USA",
                                           "inbound_scholarship": 0.3, "visa_openness": 0.2, "tuition_factor": 2.0},
                                LEVERS)
    assert values == {}
    said = " ".join(left)
    assert "open_visas" in said and "some countries only" in said and "visa_openness=0.2" in said \
        and "tuition_factor=2 (not an input" in said
    values, left = band.carried(emulator, {"countries": "all", "inbound_scholarship": 0.9}, LEVERS)
    assert values == {} and "outside the emulator's range" in left[0]


def test_the_band_separates_a_parameter_driven_effect_from_one_the_parameters_do_not_touch(emulator):
    e = band.emulated_effects(emulator, {"inbound_scholarship": 0.5}, draws=200).set_index("outcome")
    # steered = 2 x cost with cost uniform on [0.5, 2.5]: mean 3, the draws' 5%-95% about 1.2 .. 4.8
    assert e.loc["steered", "mean"] == pytest.approx(3.0, abs=0.3)
    assert e.loc["steered", "param_low"] == pytest.approx(1.2, abs=0.4)
    assert e.loc["steered", "param_high"] == pytest.approx(4.8, abs=0.4)
    fixed = e.loc["fixed"]
    assert fixed["mean"] == pytest.approx(1.0, abs=0.2)
    assert fixed.param_high - fixed.param_low < 0.5 * (fixed.total_high - fixed.total_low)
    for _, r in e.iterrows():           # the dice widen the range (up to the quantiles' discreteness)
        assert r.param_low <= r["mean"] <= r.param_high
        assert r.total_high - r.total_low >= 0.98 * (r.param_high - r.param_low)


def test_levers_at_their_neutral_values_give_a_band_around_zero(emulator):
    e = band.emulated_effects(emulator, {}, draws=100)
    assert (e.total_low < 0).all() and (e.total_high > 0).all() and (e["mean"].abs() < 0.3).all()
    assert band.figure(e).axes                      # the figure draws from the same table

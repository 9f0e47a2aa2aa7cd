"""Which effects the unanchored parameters dominate (sim/analysis/sensitivity.dominance), and the design key
that names them (sim/design.py)."""

import pandas as pd
import pytest

from sim.analysis import sensitivity as S
from sim.design import load_design
from sim.errors import ConfigError


def indices(rows):
    frame = pd.DataFrame(rows, columns=["scenario", "outcome", "parameter", "method", "index", "value", "unanchored"])
    return frame.assign(conf=0.0)


def test_the_unanchored_parameters_summed_total_index_decides_the_flag():
    t = indices([
        ("visas", "papers", "a", "sobol", "ST", 0.3, True), ("visas", "papers", "b", "sobol", "ST", 0.25, True),
        ("visas", "papers", "c", "sobol", "ST", 0.6, False), ("visas", "papers", "a", "sobol", "S1", 0.9, True),
        ("visas", "stayers", "a", "sobol", "ST", 0.45, True), ("visas", "stayers", "b", "sobol", "ST", -0.02, True),
        ("visas", "stayers", "c", "sobol", "ST", 0.7, False),
        ("visas", "patents", "a", "morris", "mu_star", 9.0, True)])
    d = S.dominance(t).set_index("outcome")
    assert list(d.index) == ["papers", "stayers"]                     # Morris has no variance shares
    assert d.loc["papers", "unanchored_ST"] == pytest.approx(0.55) and d.loc["papers", "dominated"]
    assert d.loc["papers", "top_unanchored"] == "a"
    # a negative estimate (noise around zero) counts as zero, and 0.45 alone is not a majority
    assert d.loc["stayers", "unanchored_ST"] == pytest.approx(0.45) and not d.loc["stayers", "dominated"]
    assert not S.dominance(t, threshold=0.6).dominated.any()


def test_a_design_names_only_its_own_parameters_as_unanchored(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("parameters:\n  behaviour.choice.cost: [0.5, 1.5]\nunanchored: [behaviour.choice.visa]\n"
                    "outcomes: [papers]\n")
    with pytest.raises(ConfigError, match="unanchored: behaviour.choice.visa is not one of the design's parameters"):
        load_design(str(path))
    path.write_text("parameters:\n  behaviour.choice.cost: [0.5, 1.5]\nunanchored: [behaviour.choice.cost]\n"
                    "outcomes: [papers]\n")
    assert load_design(str(path)).unanchored == ("behaviour.choice.cost",)


"""Outcomes for sustainable development, from the official SDG indicators the model can observe:
4.b.1 (scholarships for students from developing countries) and 9.5.2 (researchers per million)."""

import numpy as np

from conftest import final, levers, small_config
from sim.model import HemsimModel
from sim.policies import country_indices


def _run(origins: str):
    """Rich destinations pay half the cost of their international students from `origins` from the
    second year."""
    cfg = small_config(students=20_000, years=4, seed=5)
    cfg.scenario.levers = levers({"lever": "inbound_scholarship", "countries": "high_income", "origins": origins,
                                  "value": 0.5, "start": cfg.start_year + 1})
    return HemsimModel(cfg).run()


def test_scholarships_count_for_sdg_4b_only_when_they_go_to_students_from_developing_countries():
    rich_only, developing = _run("high_income"), _run("non_high_income")
    # scholarships for students from rich countries cost money but are not development scholarships
    assert final(rich_only, "scholarship_cost") > 0 and final(rich_only, "development_scholarships") == 0
    # scholarships for students from developing countries are, all of them
    assert final(developing, "development_scholarships") > 0
    assert np.isclose(final(developing, "development_scholarships"), final(developing, "scholarship_cost"), rtol=1e-12)


def test_research_funding_raises_researchers_per_million_where_it_is_spent():
    """SDG 9.5.2 responds to research funding through posts and hiring: doubled public funding in the
    countries below high income raises their researchers per million against the baseline at the same
    seed (the staff follow the posts with a lag)."""
    def run(factor: float):
        cfg = small_config(students=20_000, years=7, seed=3)
        cfg.scenario.levers = levers({"lever": "public_funding", "countries": "non_high_income", "value": factor,
                                      "start": cfg.start_year + 1})
        model = HemsimModel(cfg)
        return model, model.run()

    model, baseline = run(1.0)
    _, funded = run(2.0)
    w = model.world
    poorer = [w.codes[i] for i in country_indices("non_high_income", w.codes, w.groups, "countries")]
    assert poorer
    assert final(funded, "researchers_per_million", poorer) > 1.02 * final(baseline, "researchers_per_million", poorer)
    assert final(funded, "researchers_per_million") > final(baseline, "researchers_per_million")

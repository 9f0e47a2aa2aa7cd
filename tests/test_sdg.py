"""Outcomes for sustainable development, from the official SDG indicators the model can observe:
4.b.1 (scholarships for students from developing countries) and 9.5.2 (researchers per million)."""

import numpy as np

from conftest import final, levers, small_config
from sim.model import HemsimModel


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


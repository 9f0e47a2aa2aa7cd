"""Universities as actors (sim/mechanisms/finance.py): international students cost to teach, and a cut in
public funding makes universities recruit fee-paying international students, whose rise emerges from the
recruitment effort, the choice and admission under capacity (Bound, Braga, Khanna & Turner 2020: a 10% cut in
state funding raised international enrolment at US public research universities by about 12%)."""

import numpy as np
import pytest

from sim.config import Config, Lever
from sim.mechanisms import finance
from sim.model import HemsimModel
from worlds import three_countries


def test_recruitment_effort_by_hand():
    effort = finance.recruitment_effort(np.array([90.0, 100.0, 120.0, 50.0, 10.0]),
                                        np.array([100.0, 100.0, 100.0, 0.0, 100.0]), 1.5)
    # 10% short: 0.15; none short or richer: 0; no reference (before recording): 0; 90% short: capped at 1
    np.testing.assert_allclose(effort, [0.15, 0.0, 0.0, 0.0, 1.0])


def world():
    """The three countries at a larger size: A (rich, charging 20,000 and 10,000 USD) hosts fee-paying students
    from B and C."""
    return three_countries(cohort=np.array([1500, 2500, 2500], np.int64),
                           univ_capacity=np.array([3500, 3500, 5000, 5000], np.int64),
                           researchers=np.array([40, 20, 20, 20], np.int64), scale=10.0)


def run(cut: float | None = None, response: float = 1.5, teaching_cost: float = 0.1):
    cfg = Config()
    cfg.years, cfg.progress, cfg.seed = 8, False, 3
    cfg.behaviour.finance.recruitment_response = response
    cfg.behaviour.finance.teaching_cost = teaching_cost
    cfg.behaviour.choice.recruitment = 1.0
    if cut is not None:
        cfg.scenario.levers = [Lever(lever="public_funding", countries="A", mode="set", value=cut,
                                     start=cfg.start_year + 1)]
    return HemsimModel(cfg, world()).run()


def late(results, metric: str, country: str = "A") -> float:
    return float(results.metric(metric, country)[-4:].mean())


@pytest.fixture(scope="module")
def base():
    return run()


def test_a_funding_cut_raises_international_recruitment_by_about_the_published_elasticity(base):
    cut = run(0.9)
    assert late(cut, "university_income") < late(base, "university_income")
    rise = late(cut, "inbound_degree") / late(base, "inbound_degree") - 1
    assert 0.05 < rise < 0.25                    # Bound et al. 2020: about +12% for a 10% cut
    # without the universities' response the cut moves international enrolment far less
    passive = late(run(0.9, response=0.0), "inbound_degree") / late(run(response=0.0), "inbound_degree") - 1
    assert abs(passive) < rise / 2


def test_fee_paying_international_students_cost_to_teach(base):
    dearer = run(teaching_cost=0.3)
    assert late(dearer, "university_income") < late(base, "university_income")
    assert late(dearer, "tuition_revenue") == pytest.approx(late(base, "tuition_revenue"), rel=0.05)


def test_research_staff_follows_a_budget_cut_with_a_lag(base):
    """Posts follow the budget at once, the research staff with a lag: no one is dismissed when posts are cut
    (researchers leave at the careers' exit hazard), so A's researchers fall year by year towards its posts."""
    cut = run(0.6)
    year = 1                                      # the first year of the cut
    posts = cut.metric("research_posts", "A") / base.metric("research_posts", "A")
    staff = cut.metric("researchers", "A") / base.metric("researchers", "A")
    assert posts[year] < 0.85 and posts[-1] < 0.85                 # the budget's cut, in posts, at once
    assert staff[year] > posts[year] + 0.1                         # staff still above the posts a year on
    assert staff[-1] < staff[year] - 0.05 and staff[-1] >= posts[-1] - 0.05   # falling towards them

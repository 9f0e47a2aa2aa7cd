"""Each internationalisation lever against baseline at the same seed (common random numbers):
its outcome moves the expected way, and outcomes with no channel from the lever do not move."""

import pandas as pd
import pytest

from conftest import final, run, small_config

YEARS = 8
START = 2018


def flows(results, kind, year=None):
    f = results.flows.to_pandas()
    f = f[f.kind == kind]
    return f if year is None else f[f.year == year].reset_index(drop=True)


def metrics_in(results, year, names):
    m = results.metrics.to_pandas()
    return m[(m.year == year) & m.metric.isin(names)].reset_index(drop=True)


def pair(scenario):
    return run("baseline", years=YEARS), run(scenario, years=YEARS)


def codes(group):
    from sim.model import build_world
    w = build_world(small_config())
    return [w.codes[i] for i in w.groups[group]]


STUDENT_FLOWS = ("degree", "enrolled", "return", "stay")
RESEARCH = ["papers", "intl_coauthored_share", "citations_per_paper", "researcher_visits"]


def test_exchange_expansion_raises_exchanges_but_not_this_years_degree_choices():
    base, s = pair("exchange_expansion")
    assert flows(s, "exchange").students.sum() > 1.3 * flows(base, "exchange").students.sum()
    assert final(s, "exchange_participation_rate") > final(base, "exchange_participation_rate")
    # degree choices of the first year are made before that year's exchanges: no channel yet
    assert flows(s, "degree", START).equals(flows(base, "degree", START))


def test_exchanges_spread_teaching_quality():
    base, s = pair("exchange_expansion")
    assert final(s, "teaching_quality") > final(base, "teaching_quality")


def test_regional_programme_raises_exchanges_in_the_region_only():
    base, s = pair("regional_exchange_programme")
    region = codes("region_1")

    def inside(r):
        f = flows(r, "exchange")
        return f[f.origin.isin(region) & f.destination.isin(region)].students.sum()

    def outside(r):
        f = flows(r, "exchange", START)
        return f[~f.origin.isin(region)].reset_index(drop=True)

    assert inside(s) > inside(base)
    pd.testing.assert_frame_equal(outside(s), outside(base))


def test_internship_programme_raises_internships_and_employability():
    base, s = pair("internship_programme")
    assert final(s, "internships") > 1.3 * final(base, "internships")
    assert final(s, "graduate_employability") > final(base, "graduate_employability")
    assert final(s, "intl_experienced_graduates") > final(base, "intl_experienced_graduates")


def test_international_courses_internationalise_students_at_home():
    base, s = pair("international_courses")
    assert final(s, "mean_intercultural_competence_nonmobile") > final(base, "mean_intercultural_competence_nonmobile")
    assert final(s, "mean_intercultural_competence") > final(base, "mean_intercultural_competence")
    assert final(s, "international_share") > final(base, "international_share")  # more attractive abroad


def test_research_cooperation_raises_international_coauthorship():
    base, s = pair("research_cooperation")
    assert final(s, "intl_coauthored_share") > final(base, "intl_coauthored_share") + 0.05
    assert final(s, "papers") > final(base, "papers")
    # research does not act on students within the year
    for kind in STUDENT_FLOWS:
        assert flows(s, kind, START).equals(flows(base, kind, START))


def test_open_science_raises_output():
    base, s = pair("open_science")
    assert final(s, "papers") > 1.05 * final(base, "papers")


def test_researcher_mobility_raises_visits_and_coauthorship():
    base, s = pair("researcher_mobility")
    assert final(s, "researcher_visits") > 2 * final(base, "researcher_visits")
    assert final(s, "intl_coauthored_share") > final(base, "intl_coauthored_share")


def test_service_partnerships_raise_projects_and_touch_nothing_else():
    base, s = pair("service_partnerships")
    assert final(s, "service_projects") > 1.3 * final(base, "service_projects")
    assert final(s, "people_reached") > final(base, "people_reached")
    assert final(s, "service_projects_international") > final(base, "service_projects_international")
    # no channel from service projects back to students or research, in any year
    assert s.flows.equals(base.flows)
    others = [m for m in set(base.metrics.column("metric").to_pylist()) if not m.startswith(("service", "people"))]
    for year in range(2016, 2016 + YEARS):
        pd.testing.assert_frame_equal(metrics_in(s, year, others), metrics_in(base, year, others))


def test_expansion_raises_enrolment_and_strains_quality():
    base, s = pair("he_expansion")
    targeted = codes("low_income") + codes("lower_middle_income") + codes("upper_middle_income")
    assert final(s, "enrolment_rate") > final(base, "enrolment_rate") * 1.1
    assert final(s, "enrolled", targeted) > final(base, "enrolled", targeted)
    assert final(s, "teaching_quality", targeted) < final(base, "teaching_quality", targeted)


def test_comprehensive_internationalisation_moves_every_function():
    base, s = pair("comprehensive_internationalisation")
    for metric in ("exchange_students", "internships", "intl_coauthored_share", "service_projects",
                   "mean_intercultural_competence", "papers"):
        assert final(s, metric) > final(base, metric), metric


@pytest.mark.parametrize("scenario", ["exchange_expansion", "regional_exchange_programme", "internship_programme",
                                      "international_courses", "research_cooperation", "open_science",
                                      "researcher_mobility", "service_partnerships", "he_expansion",
                                      "comprehensive_internationalisation"])
def test_identical_to_baseline_before_the_levers_start(scenario):
    base, s = pair(scenario)
    for a, b in [(base.flows, s.flows), (base.metrics, s.metrics)]:
        a, b = a.to_pandas(), b.to_pandas()
        pd.testing.assert_frame_equal(a[a.year < START].reset_index(drop=True),
                                      b[b.year < START].reset_index(drop=True))

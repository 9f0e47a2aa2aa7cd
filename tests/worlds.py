"""Hand-built tiny worlds (in the manner of Flee's tests): every number is written here, so a test
can work out by hand what a rule must give."""

import numpy as np

from sim.world.world import World

KM = np.array([[1.0, 2000.0, 8000.0],
               [2000.0, 1.0, 5000.0],
               [8000.0, 5000.0, 1.0]])


def three_countries(**overrides) -> World:
    """Countries A (rich), B (middle), C (poor); one field; universities 0, 1 in A, 2 in B, 3 in C.
    A and B share a language; agreements 0 <-> 2 (regional) and 1 <-> 3, both directions listed."""
    w = dict(
        codes=["A", "B", "C"], names=["Aland", "Bland", "Cland"],
        population=np.array([1e6, 2e6, 3e6]), gdp_pc=np.array([48_000.0, 12_000.0, 3_000.0]),
        language=np.array([0, 0, 1]), region=np.array([0, 0, 1]),
        enrolment_rate=np.array([0.8, 0.5, 0.2]), visa_openness=np.array([0.9, 0.6, 0.3]),
        post_study_work_years=np.array([2.0, 1.0, 0.0]), field_share=np.array([[1.0], [1.0], [1.0]]),
        distance_km=KM.copy(), common_language=np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]]),
        colonial_tie=np.zeros((3, 3), int),
        univ_country=np.array([0, 0, 1, 2], np.int32), univ_quality=np.array([[0.9], [0.5], [0.6], [0.3]]),
        univ_teaching=np.array([0.8, 0.6, 0.5, 0.4]), univ_capacity=np.array([40, 40, 60, 60], np.int64),
        univ_tuition_intl=np.array([20_000.0, 10_000.0, 5_000.0, 1_000.0]),
        univ_intl_courses=np.array([0.3, 0.1, 0.2, 0.0]), univ_research_staff=np.array([10.0, 5.0, 5.0, 2.0]),
        edge_from=np.array([0, 1, 2, 3], np.int32), edge_to=np.array([2, 3, 0, 1], np.int32),
        edge_slots=np.array([4, 2, 4, 2], np.int64), edge_regional=np.array([True, False, True, False]),
        internship_demand=np.array([6, 3, 1], np.int64), service_capacity=np.array([1.5, 1.0, 0.5]),
        researchers=np.array([4, 2, 2, 2], np.int64), researcher_scale=10.0,
        cohort=np.array([20, 30, 30], np.int64), scale=100.0,
        groups={"high_income": np.array([0]), "region_1": np.array([0, 1])})
    w.update(overrides)
    return World(**w)

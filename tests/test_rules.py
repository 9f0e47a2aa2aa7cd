"""Every scalar rule on hand-built worlds, one rule at a time (in the manner of Flee's test_moving.py):
each expected number is worked out by hand from the rule in docs/ODD.md section 7, not by the code.

Every coefficient a rule reads is set here, in the test (mostly to values other than the defaults): a
coefficient the test leaves out is NaN (`rule`), so a rule that reads it fails the test instead of
quietly using a default, and changing a default never edits a rule test."""

import math

import numpy as np
import pytest

from sim import alias, rng
from sim.mechanisms import (careers, choice, enrolment, exchange, finance, innovation, internships, learning,
                            progression, quality, research, research_careers, service, workforce)
from sim.mechanisms.library import admission, common, destinations
from sim.policies import DESTINATION, LEVERS, ORIGIN, build_tables, in_force
from sim.students import CONTINUING, DROPPED, GRADUATED, STAYED
from worlds import three_countries


def rule(module, **values):
    """A mechanism's rule with exactly the coefficients given; every other one is NaN."""
    unknown = set(values) - set(module.Rule._fields)
    assert not unknown, f"{module.__name__} has no {unknown}"
    return module.Rule(**{name: values.get(name, math.nan) for name in module.Rule._fields})


# the destination choice with nothing but quality, distance, language and visas (choice's other terms off)
LOGIT = dict(abroad_constant=-1.0, talent_abroad=0.0, resources_abroad=0.0, postgraduate_abroad=0.0, quality=2.0,
             log_distance=-0.5, common_language=1.0, colonial_tie=0.0, diaspora=0.0, visa=1.0, post_study_work=0.0,
             post_study_income_gap=0.0, post_study_gap_threshold=0.0, visa_talent=0.0, cost=0.0, international_courses=0.0, nest=1.0,
             abroad_trend=0.0)


def logistic(x):
    return 1 / (1 + math.exp(-x))


@pytest.fixture
def world():
    return three_countries()


@pytest.fixture
def policy(world):
    return in_force(build_tables([], world, 2016, 1), 0)  # the world's defaults


def with_levers(policy, **values):
    """The policy with these levers set to per-country values: a corridor's lever for every origin of a
    destination (a destination's lever) or every destination of an origin (an origin's)."""
    out = dict(policy)
    for name, v in values.items():
        v = np.asarray(v, float)
        side = LEVERS[name].side
        out[name] = np.tile(v, (len(v), 1)) if side == DESTINATION else np.tile(v[:, None], (1, len(v))) \
            if side == ORIGIN else v
    return out


# ---- enrolment -------------------------------------------------------------------------------------
def test_cohorts_grow_with_the_enrolment_rate():
    sizes = enrolment.cohort_sizes(np.array([20, 30, 30]), np.array([0.8, 0.75, 0.2]), np.array([0.8, 0.5, 0.2]))
    assert sizes.tolist() == [20, 45, 30]                 # 30 x 0.75 / 0.5


def test_talent_band_is_the_quartile_and_uid_is_year_origin_rank():
    assert [common.talent_band(t) for t in (-1.0, -0.6745, 0.3, 2.0)] == [0, 1, 2, 3]
    assert enrolment.uid_of(2016, 2, 7) == (116 << 44) | (2 << 28) | 7


# ---- degree-mobility choice ---------------------------------------------------------------------------
def test_choice_is_a_logit_over_home_and_destinations(world, policy):
    """Origin B, nothing but quality, distance, language and visas: V_home = 2 Q_B and
    V_d = -1 + 2 Q_d - 0.5 ln km + 1 common language + 1 visa_d."""
    p = rule(choice, **LOGIT)
    q = np.array([[0.8], [0.5], [0.3]])
    prob = destinations.destination_probabilities(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    v_home = 2 * 0.5
    v_a = -1 + 2 * 0.8 - 0.5 * math.log(2000) + 1 + 0.9
    v_c = -1 + 2 * 0.3 - 0.5 * math.log(5000) + 0 + 0.3
    total = math.exp(v_home) + math.exp(v_a) + math.exp(v_c)
    row = ((1 * 1 + 0) * destinations.TALENT_BANDS * destinations.RESOURCE_BANDS + 0) * destinations.LEVELS  # B, f 0, t 0, r 0, l 0
    np.testing.assert_allclose(prob[row], [math.exp(v_a) / total, math.exp(v_home) / total, math.exp(v_c) / total],
                               rtol=1e-12)
    assert prob.shape == (3 * 1 * 4 * 3 * 2, 3)


def test_destination_and_origin_constants_and_the_trend_enter_the_utilities(world, policy):
    """The real world's constants (sim/world/levels.py): V_A + ln 2 for every origin (destination
    constant of A), V_home - 0.5 for students of B (origin constant), and the trend of going abroad
    x calendar years since 2016 lowering home's utility the same way."""
    p = rule(choice, **LOGIT | dict(abroad_trend=0.1))
    q = np.array([[0.8], [0.5], [0.3]])
    world.destination_constant[:] = [math.log(2), 0.0, 0.0]
    world.origin_constant[:] = [0.0, 0.3, 0.0]
    d = destinations.destinations(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p, years_since=2)
    v_home = 2 * 0.5 - 0.3 - 0.1 * 2
    v_a = -1 + 2 * 0.8 - 0.5 * math.log(2000) + 1 + 0.9 + math.log(2)
    v_c = -1 + 2 * 0.3 - 0.5 * math.log(5000) + 0 + 0.3
    assert d.home[1, 0] == pytest.approx(v_home)
    np.testing.assert_allclose(d.share[1, 0, 0, [0, 2]], np.exp([v_a, v_c]) / np.exp([v_a, v_c]).sum(), rtol=1e-12)
    abroad = destinations.abroad_probabilities(d, destinations.entry_asc(p), p.nest)[1, 0, 0, 0, 0]
    assert abroad == pytest.approx((math.exp(v_a) + math.exp(v_c)) / (math.exp(v_a) + math.exp(v_c) + math.exp(v_home)))


def test_nest_scales_the_inclusive_value_of_going_abroad(world, policy):
    """nest = 0.5: P(abroad) = logistic(asc + 0.5 ln sum_d exp(V_d - asc) - V_home), split by exp(V_d)."""
    p = rule(choice, **LOGIT | dict(nest=0.5))
    q = np.array([[0.8], [0.5], [0.3]])
    prob = destinations.destination_probabilities(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    w_a = math.exp(2 * 0.8 - 0.5 * math.log(2000) + 1 + 0.9)          # exp(V_d - asc)
    w_c = math.exp(2 * 0.3 - 0.5 * math.log(5000) + 0 + 0.3)
    abroad = logistic(-1 + 0.5 * math.log(w_a + w_c) - 2 * 0.5)
    row = 1 * 4 * 3 * 2
    np.testing.assert_allclose(prob[row], [abroad * w_a / (w_a + w_c), 1 - abroad, abroad * w_c / (w_a + w_c)],
                               rtol=1e-12)


def test_post_study_work_is_worth_more_the_richer_the_destination_than_the_origin(world, policy):
    """post_study_work 0.2, post_study_income_gap 0.5 beyond a threshold of ln 2, 2 years in A, 1 in B, 0 in C:
    for origin C, A gains (0.2 + 0.5 (ln(48,000 / 3,000) - ln 2)) x 2 and B (0.2 + 0.5 (ln 4 - ln 2)) x 1; for
    origin A, B gains 0.2 x 1 (B is poorer)."""
    p = rule(choice, **LOGIT | dict(post_study_work=0.2, post_study_income_gap=0.5,
                                    post_study_gap_threshold=math.log(2)))
    q = np.array([[0.8], [0.5], [0.3]])
    d = destinations.destinations(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    v_a = -1 + 2 * 0.8 - 0.5 * math.log(8000) + 0 + 0.9 + (0.2 + 0.5 * math.log(8)) * 2
    v_b = -1 + 2 * 0.5 - 0.5 * math.log(5000) + 0 + 0.6 + (0.2 + 0.5 * math.log(2)) * 1
    np.testing.assert_allclose(d.share[2, 0, 0, :2], np.exp([v_a, v_b]) / np.exp([v_a, v_b]).sum(), rtol=1e-12)
    w_b = -1 + 2 * 0.5 - 0.5 * math.log(2000) + 1 + 0.6 + 0.2 * 1
    w_c = -1 + 2 * 0.3 - 0.5 * math.log(8000) + 0 + 0.3
    np.testing.assert_allclose(d.share[0, 0, 0, 1:], np.exp([w_b, w_c]) / np.exp([w_b, w_c]).sum(), rtol=1e-12)


def test_within_a_free_movement_area_the_right_to_stay_replaces_post_study_work(policy):
    """A and B form a free-movement area: for B's students A is worth free_movement 0.7 in place of the
    post-study term (0.4 per year x 2 years); C's students still weigh A's 2 years; and cutting A's post-study
    work to 0 moves C's students, not B's."""
    world = three_countries(free_movement=np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], bool))
    p = rule(choice, **LOGIT | dict(post_study_work=0.4, free_movement=0.7))
    q = np.array([[0.8], [0.5], [0.3]])
    d = destinations.destinations(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    v_a = -1 + 2 * 0.8 - 0.5 * math.log(2000) + 1 + 0.9 + 0.7            # B -> A: the area's term
    v_c = -1 + 2 * 0.3 - 0.5 * math.log(5000) + 0 + 0.3 + 0.4 * 0.0      # B -> C: C grants no post-study years
    np.testing.assert_allclose(d.share[1, 0, 0, [0, 2]], np.exp([v_a, v_c]) / np.exp([v_a, v_c]).sum(), rtol=1e-12)
    u_a = -1 + 2 * 0.8 - 0.5 * math.log(8000) + 0 + 0.9 + 0.4 * 2.0      # C -> A: A's 2 years
    u_b = -1 + 2 * 0.5 - 0.5 * math.log(5000) + 0 + 0.6 + 0.4 * 1.0
    np.testing.assert_allclose(d.share[2, 0, 0, :2], np.exp([u_a, u_b]) / np.exp([u_a, u_b]).sum(), rtol=1e-12)
    closed = with_levers(policy, post_study_work_years=np.array([0.0, 1.0, 0.0]))
    after = destinations.destinations(world, closed, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    np.testing.assert_array_equal(after.share[1], d.share[1])
    assert after.share[2, 0, 0, 0] < d.share[2, 0, 0, 0]


def test_visa_restrictions_deter_the_most_able_from_going_abroad(world, policy):
    """visa_talent 0.8: going abroad gains 0.8 (t - 1.5)(openness - 1), openness the visa openness of the
    destinations weighted by their probabilities (for origin B: 0.9 share_A + 0.3 share_C)."""
    p = rule(choice, **LOGIT | dict(visa_talent=0.8))
    q = np.array([[0.8], [0.5], [0.3]])
    d = destinations.destinations(world, policy, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3), p)
    w_a = math.exp(2 * 0.8 - 0.5 * math.log(2000) + 1 + 0.9)
    w_c = math.exp(2 * 0.3 - 0.5 * math.log(5000) + 0 + 0.3)
    openness = (0.9 * w_a + 0.3 * w_c) / (w_a + w_c)
    abroad = destinations.abroad_probabilities(d, destinations.entry_asc(p), p.nest, p.visa_talent)[1, 0, :, 0, 0]
    expected = [logistic(-1 + math.log(w_a + w_c) - 2 * 0.5 + 0.8 * (t - 1.5) * (openness - 1)) for t in range(4)]
    np.testing.assert_allclose(abroad, expected, rtol=1e-12)
    assert abroad[3] < abroad[0]


def test_a_closed_visa_or_border_makes_a_destination_impossible(world, policy):
    q = np.array([[0.8], [0.5], [0.3]])
    shut = with_levers(policy, visa_openness=np.array([0.0, 0.6, 0.3]))
    prob = destinations.destination_probabilities(world, shut, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3),
                                                  rule(choice, **LOGIT))
    assert np.all(prob[:, 0].reshape(3, -1)[1:] == 0)      # nobody from B or C goes to A
    closed = with_levers(policy, border_closed=np.array([0.0, 1.0, 0.0]))
    prob = destinations.destination_probabilities(world, closed, np.zeros((3, 3)), q, np.zeros(3), np.zeros(3),
                                                  rule(choice, **LOGIT)).reshape(3, -1, 3)
    assert np.all(prob[1, :, 1] == 1)                       # B's students stay home...
    assert np.all(prob[[0, 2], :, 1] == 0)                  # ...and nobody comes in


def test_cost_is_net_of_scholarships_relative_to_family_income(world, policy):
    """Only cost: V_d = -cost ln(1 + net / income); net = (tuition x factor + 0.35 GDP pc_d) (1 - in)(1 - out)."""
    p = rule(choice, **LOGIT | dict(abroad_constant=0.0, quality=0.0, log_distance=0.0, common_language=0.0, visa=0.0,
                                    cost=1.0))
    pol = with_levers(policy, inbound_scholarship=np.array([0.5, 0.0, 0.0]))
    tuition = np.array([20_000.0, 10_000.0, 1_000.0])
    prob = destinations.destination_probabilities(world, pol, np.zeros((3, 3)), np.zeros((3, 1)), tuition,
                                                  np.zeros(3), p)
    income = 12_000 * 1.2                                   # B, middle resources band (row r = 1)
    v_a = -math.log(1 + (20_000 + 0.35 * 48_000) * 0.5 / income)
    v_c = -math.log(1 + (1_000 + 0.35 * 3_000) / income)
    total = 1 + math.exp(v_a) + math.exp(v_c)
    row = (1 * 4 + 0) * 3 * 2 + 1 * 2                       # B, field 0, band 0, r 1, l 0
    np.testing.assert_allclose(prob[row], [math.exp(v_a) / total, 1 / total, math.exp(v_c) / total], rtol=1e-12)


def test_an_application_goes_abroad_where_the_tables_put_all_the_mass(world):
    """Everybody goes abroad, every destination weight on A and on its second university: the first two
    applications (n_abroad = 2) are to university 1, the third at home, to B's only university, 2.
    Nobody going abroad: every application is at home."""
    n_groups = 3 * 1 * 4 * 3 * 2
    where = alias.build(np.tile([1.0, 0.0, 0.0], (3 * 1 * 3, 1)))
    u_table = alias.build(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    first = world.first_univ
    for k in range(3):
        assert choice.application(0, 2016, 123, 1, 0, 0.1, 1, 0, k, 2, np.ones(n_groups), where, u_table, first,
                                  1) == (1 if k < 2 else 2)
        assert choice.application(0, 2016, 123, 1, 0, 0.1, 1, 0, k, 2, np.zeros(n_groups), where, u_table, first,
                                  1) == 2


# ---- admission -------------------------------------------------------------------------------------
def test_admission_takes_the_most_talented_up_to_the_seats_ties_to_the_lower_uid():
    talent = np.array([0.5, 1.2, 1.2, -0.3, 0.9], np.float32)
    free = np.array([1, 1, 5])
    seat = admission.admit_round(np.arange(5), np.array([0, 0, 0, 1, 1], np.int32), talent, free)
    assert seat.tolist() == [-1, 0, -1, -1, 1]   # place 0: the tie at 1.2 goes to student 1; place 1: student 4
    assert free.tolist() == [0, 0, 5]


def test_clearing_seats_the_unplaced_at_home_best_university_first():
    origin = np.array([0, 0, 0, 1], np.uint16)
    talent = np.array([0.1, 0.9, 0.5, 2.0], np.float32)
    free = np.array([1, 1, 0])
    ranked = np.array([1, 0, 2])                  # country 0 ranks university 1 above 0; country 1 has 2 (full)
    seat = admission.clearing(np.arange(4), origin, talent, free, ranked, np.array([0, 2, 3]))
    assert seat.tolist() == [-1, 1, 0, -1]       # 0.9 -> the best (1), 0.5 -> 0, 0.1 and the full country: none


def test_home_ranking_orders_each_countrys_universities_by_mean_quality(world):
    q = np.array([[0.5], [0.9], [0.6], [0.3]])
    assert admission.home_ranking(world.univ_country, q).tolist() == [1, 0, 2, 3]


# ---- learning --------------------------------------------------------------------------------------
STUDY = dict(first_degree_years=4, postgraduate_years=2, dropout_constant=-50.0, dropout_talent=0.0, dropout_teaching=0.0,
             dropout_abroad=0.0, skill_rate=0.3, skill_talent=0.5, competence_home=0.05, competence_abroad=0.2,
             competence_courses=0.4)
INTERNING = dict(skill=0.1, competence=0.3)        # what an internship abroad adds (internships' coefficients)


def test_a_study_year_adds_skill_and_competence_by_the_formula():
    skill, competence, outcome = learning.study_year(0, 2016, 1, 1.0, 0.3, 0.1, 0.5, 0.6, 0.4, 1, 0, 2,
                                                     rule(learning, **STUDY), rule(internships, **INTERNING),
                                                     rule(progression))
    assert skill == pytest.approx(0.3 + 0.3 * 0.6 * (1 + 0.5 * 1.0) + 0.1)               # 0.67
    assert competence == pytest.approx(0.1 + 0.05 + 0.2 * 0.5 + 0.4 * 0.4 + 0.3)          # 0.71
    assert outcome == CONTINUING                                                          # year 3 of 4


def test_the_dropout_logit_by_hand():
    """With the study year's draw u (fixed by seed, year and uid), a student drops out iff u < logistic(logit):
    the cut moves with each term of the logit as written."""
    r = rule(learning, **STUDY | dict(dropout_constant=-1.0, dropout_talent=-0.5, dropout_teaching=-1.0,
                                      dropout_abroad=0.6))
    for talent, teaching, abroad in [(0.0, 0.5, 0.0), (1.0, 0.8, 1.0), (-2.0, 0.2, 0.5)]:
        u = rng.uniform(0, rng.DROPOUT, 2016, 1, 0)
        p = logistic(-1.0 - 0.5 * talent - 1.0 * teaching + 0.6 * abroad)
        outcome = learning.study_year(0, 2016, 1, talent, 0.0, 0.0, abroad, teaching, 0.0, 0, 0, 0, r,
                                      rule(internships, **INTERNING), rule(progression))[2]
        assert (outcome == DROPPED) == (u < p)


def test_the_last_year_graduates_and_a_certain_dropout_drops():
    never, always = rule(learning, **STUDY), rule(learning, **STUDY | dict(dropout_constant=50.0))
    args = (0, 2016, 1, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0)
    three = rule(progression, doctoral_years_min=3, doctoral_years_max=3)
    intern = rule(internships, **INTERNING)
    assert learning.study_year(*args, 0, 3, never, intern, three)[2] == GRADUATED    # 4th year of a first degree
    assert learning.study_year(*args, 1, 1, never, intern, three)[2] == GRADUATED    # 2nd of a master's
    assert learning.study_year(*args, 2, 1, never, intern, three)[2] == CONTINUING   # 2nd of 3 doctoral years
    assert learning.study_year(*args, 2, 2, never, intern, three)[2] == GRADUATED
    assert learning.study_year(*args, 0, 0, always, intern, three)[2] == DROPPED


def test_conditions_blend_the_partners_teaching_during_an_exchange(world):
    teaching = np.array([0.8, 0.6, 0.5, 0.4])
    assert learning.conditions(1, 0, -1, 0.0, world.univ_country, teaching) == (1.0, 0.8)  # a degree abroad
    assert learning.conditions(1, 2, -1, 0.0, world.univ_country, teaching) == (0.0, 0.5)  # at home
    abroad, taught = learning.conditions(1, 2, 0, 0.5, world.univ_country, teaching)       # a term in A
    assert abroad == 0.5 and taught == pytest.approx(0.5 * 0.5 + 0.5 * 0.8)


# ---- careers ---------------------------------------------------------------------------------------
STAY = dict(post_study_work=0.5, income_gap=0.6, return_incentive=1.5, visa=1.2)


def test_stay_probability_by_hand(world, policy):
    pol = with_levers(policy, return_incentive=np.array([0.0, 0.5, 0.0]))
    p = careers.stay_probabilities(world, pol, rule(careers, **STAY), -1.6)
    # a graduate of B in A: -1.6 + 0.5 x 2 years + 0.6 ln(48,000 / 12,000) - 1.5 x 0.5 + 1.2 x 0.9
    assert p[1, 0] == pytest.approx(logistic(-1.6 + 0.5 * 2 + 0.6 * math.log(4) - 1.5 * 0.5 + 1.2 * 0.9))
    # a graduate of A in C: no work rights, a poorer country, a closed-ish visa
    assert p[0, 2] == pytest.approx(logistic(-1.6 + 0.6 * math.log(3_000 / 48_000) + 1.2 * 0.3))
    assert np.all(np.diag(p) == 0)


def test_stay_rates_fall_with_smaller_income_gaps_and_shorter_post_study_work(world, policy):
    p = careers.stay_probabilities(world, policy, rule(careers, **STAY), -1.6)
    assert p[2, 0] > p[1, 0]                   # in A: from C (16 times poorer) more than from B (4 times)
    shorter = careers.stay_probabilities(world, with_levers(policy, post_study_work_years=np.array([0.5, 1.0, 0.0])),
                                         rule(careers, **STAY), -1.6)
    assert shorter[1, 0] < p[1, 0] and shorter[2, 0] < p[2, 0]


def test_later_return_rates_by_hand(world, policy):
    r = rule(careers, later_return_constant=-2.0, later_return_income_gap=0.7, return_incentive=1.5)
    pol = with_levers(policy, return_incentive=np.array([0.0, 0.0, 0.4]))
    rate = careers.later_return_rates(world, pol, r)
    # a stayer from B in A: -2.0 - 0.7 ln(48,000 / 12,000); from C in A, whose origin pays for returns
    assert rate[1, 0] == pytest.approx(logistic(-2.0 - 0.7 * math.log(4)))
    assert rate[2, 0] == pytest.approx(logistic(-2.0 - 0.7 * math.log(16) + 1.5 * 0.4))
    assert rate[1, 0] > careers.later_return_rates(world, policy, r)[2, 0]   # smaller gap: more go home
    assert np.all(np.diag(rate) == 0)


def test_the_stay_rate_five_years_on_takes_five_years_of_later_returns(world, policy):
    rate = careers.later_return_rates(world, policy, rule(careers, later_return_constant=-2.0,
                                                          later_return_income_gap=0.7, return_incentive=0.0))
    kept = careers.still_abroad(rate)
    # a stayer from B in A goes home with probability q a year: still there after five years (1 - q)^5
    q = logistic(-2.0 - 0.7 * math.log(4))
    assert kept[1, 0] == pytest.approx((1 - q) ** 5)
    assert kept[2, 0] > kept[1, 0]                                    # the wider income gap keeps more
    assert careers.still_abroad(rate, years=1)[1, 0] == pytest.approx(1 - q)


def test_stays_and_employability_by_hand():
    assert careers.stays(0, 2016, 5, 1.0) and not careers.stays(0, 2016, 5, 0.0)
    r = rule(careers, employability_constant=-1.0, employability_skill=2.0, employability_competence=0.5,
             employability_internship=0.7)
    assert careers.employability(0.4, 0.3, True, r) == pytest.approx(logistic(-1.0 + 2.0 * 0.4 + 0.5 * 0.3 + 0.7))
    assert careers.employability(0.4, 0.3, False, r) == pytest.approx(logistic(-1.0 + 2.0 * 0.4 + 0.5 * 0.3))


# ---- exchange --------------------------------------------------------------------------------------
def test_exchange_eligibility():
    # first degree, past the first year and before the last, at home, not yet exchanged
    assert exchange.eligible(0, 1, 4, True, False) and exchange.eligible(0, 2, 4, True, False)
    assert not exchange.eligible(0, 0, 4, True, False) and not exchange.eligible(0, 3, 4, True, False)
    assert not exchange.eligible(1, 1, 4, True, False)      # postgraduate
    assert not exchange.eligible(0, 1, 4, False, False)     # a degree abroad
    assert not exchange.eligible(0, 1, 4, True, True)       # been already


def test_exchange_stay_lengths_follow_the_shares():
    assert exchange.length(0, 2016, 9, rule(exchange, short_share=1.0, term_share=0.0)) == 0.25
    assert exchange.length(0, 2016, 9, rule(exchange, short_share=0.0, term_share=1.0)) == 0.5
    assert exchange.length(0, 2016, 9, rule(exchange, short_share=0.0, term_share=0.0)) == 1.0
    applying = dict(apply_talent=0.3, apply_resources=0.5, apply_funding=1.0, apply_courses=2.0)
    assert exchange.wants_exchange(0, 2016, 9, 0.0, 1, 0.0, 0.0, rule(exchange, apply_constant=50.0, **applying))
    assert not exchange.wants_exchange(0, 2016, 9, 0.0, 1, 0.0, 0.0, rule(exchange, apply_constant=-50.0, **applying))


def test_agreement_slots_by_funding_regional_programme_and_borders(world, policy):
    pol = with_levers(policy, exchange_funding=np.array([0.0, 0.5, 0.0]), exchange_agreements=np.array([1.0, 2.0, 1.0]))
    slots, _, edge_of = exchange.agreement_tables(world, pol, world.edge_slots)
    # agreements 0->2 and 2->0 are regional (closed until A and B join); 1->3: 2 x 1 x 1; 3->1: 2 x 1 x 1
    assert slots.tolist() == [0, 2, 0, 2]
    assert edge_of[0, 0] == -1 and edge_of[1, 0] == 1          # university 0 has no open agreement
    joined = with_levers(pol, regional_programme=np.array([1.0, 1.0, 0.0]))
    assert exchange.agreement_tables(world, joined, world.edge_slots)[0].tolist() == [4, 2, 4 * 2 * 1.5, 2]
    shut = dict(joined, border_closed=np.array([0.0, 0.0, 1.0]))
    assert exchange.agreement_tables(world, shut, world.edge_slots)[0].tolist() == [4, 0, 12, 0]


# ---- internships -----------------------------------------------------------------------------------
def test_internship_eligibility_and_priority():
    assert internships.eligible(0, 3, 4, 2, True) and internships.eligible(1, 1, 4, 2, True)
    assert not internships.eligible(0, 2, 4, 2, True) and not internships.eligible(0, 3, 4, 2, False)
    assert internships.priority(0.5, 0.25) == np.float32(0.75)


def test_internship_places_and_hosts(world, policy):
    pol = with_levers(policy, internship_funding=np.array([0.5, 0.0, 0.0]))
    hosts = rule(internships, host_language=1.5, host_distance=-0.6, places_funding=2.0)
    table, places, funded, has_host = internships.host_tables(world, pol, hosts)
    assert places.tolist() == [6, 3, 1]                   # enterprises' own places, open to all
    mass = alias.probabilities(table)
    w_ab, w_ac = 3 * math.exp(1.5 - 0.6 * math.log(2000)), 1 * math.exp(-0.6 * math.log(8000))  # A's hosts
    np.testing.assert_allclose(mass[0], [0, w_ab / (w_ab + w_ac), w_ac / (w_ab + w_ac)], atol=2e-9)
    # A's funding (0.5) buys places_funding x 0.5 x demand at each host, spread as A's students apply there
    assert funded[0].tolist() == [0, round(2.0 * 0.5 * 3 * w_ab / (w_ab + w_ac)),
                                  round(2.0 * 0.5 * 1 * w_ac / (w_ab + w_ac))]
    assert funded[1:].sum() == 0                          # B and C fund nothing
    closed = with_levers(pol, border_closed=np.array([0.0, 0.0, 1.0]))
    _, places, funded, has_host = internships.host_tables(world, closed, hosts)
    assert places[2] == 0 and funded[:, 2].sum() == 0 and not has_host[2] and has_host[0]


# ---- research --------------------------------------------------------------------------------------
def test_research_rates_by_hand():
    r = rule(research, papers_per_researcher=0.6, open_science_productivity=0.4, cooperation_productivity=0.2,
             doctoral_productivity=1.0, intl_constant=-2.5, intl_cooperation=1.0, intl_partners=0.5, intl_trend=0.05,
             intl_visit=1.5, migrate_constant=-4.0, migrate_income=0.5, migrate_visa=2.0, migrate_reputation=0.3,
             visit_constant=-3.0, visit_grants=1.5)
    assert research.papers_rate(1.5, 0.5, 0.2, 0.4, r) == pytest.approx(0.6 * 1.5 * (1 + 0.4 * 0.5 + 0.2 * 0.2
                                                                                       + 1.0 * 0.4))
    assert research.foreign_coauthor_probability(0.2, 3, 4, True, 0.3, r) == pytest.approx(
        logistic(-2.5 + 1.0 * 0.2 + 0.5 * math.log(4) + 0.05 * 4 + 1.5 + 0.3))
    assert research.foreign_coauthor_probability(0.2, 3, 4, False, 0.3, r) == pytest.approx(
        logistic(-2.5 + 1.0 * 0.2 + 0.5 * math.log(4) + 0.05 * 4 + 0.3))
    # the size effect: centred on the researcher-weighted mean of log staff, larger for smaller systems
    staff = np.array([1000.0, 100.0, 10.0, 0.0])
    size = research.system_size_logits(staff, 0.7)
    mean = (1000 * math.log(1000) + 100 * math.log(100) + 10 * math.log(10)) / 1110
    assert size == pytest.approx(0.7 * (mean - np.log([1000, 100, 10, 1]))) and size[0] < 0 < size[1] < size[2]
    assert research.move_probability(12_000.0, 48_000.0, 0.9, 1.0, 2.0, r) == pytest.approx(
        logistic(-4.0 + 0.5 * math.log(4) + 2.0 * 0.9 + 0.3 * math.log(2)))
    # ties abroad: the foreign-born to their country of citizenship, returnees to where they trained
    assert [research.tie_country(1, 1, 0), research.tie_country(0, 2, 0), research.tie_country(0, 0, 0)] == [1, 2, -1]
    assert research.visit_probability(0.4, r) == pytest.approx(logistic(-3.0 + 1.5 * 0.4))


def test_citations_and_their_international_premium_by_hand():
    r = rule(research, intl_premium=0.6, premium_countries=2.0, citations_log_mean=1.2, citations_log_sd=0.8,
             citations_quality=2.0)
    assert research.citation_premium(1, r) == 1.0
    assert research.citation_premium(3, r) == pytest.approx(1 + 0.6 * (1 - math.exp(-2 / 2.0)))
    assert research.citations(0.5, 0.7, 2, r) == pytest.approx(
        math.exp(1.2 + 0.8 * 0.5 + 2.0 * 0.2) * (1 + 0.6 * (1 - math.exp(-1 / 2.0))))


def test_poisson_is_the_inverse_cdf():
    # lambda 2: P(0) = e^-2 = 0.135, P(<= 1) = 3 e^-2 = 0.406, P(<= 2) = 5 e^-2 = 0.677
    assert [common.poisson(2.0, u) for u in (0.1, 0.3, 0.5, 0.7)] == [0, 1, 2, 3]


def test_open_share_needs_both_sides(world):
    shares = research.open_share(world.edge_from, world.edge_to, world.univ_country, np.array([1.0, 0.5, 0.0]), 4)
    assert shares.tolist() == [0.5, 0.0, 0.5, 0.0]   # A-B: 1 x 0.5; A-C: 1 x 0


# ---- service ---------------------------------------------------------------------------------------
def test_service_rates_by_hand():
    r = rule(service, projects_per_100_researchers=0.8, partners=0.1, funding=2.0, intl_constant=-1.0, intl_funding=0.5)
    assert service.project_rate(500.0, 3, 0.4, 1.5, r) == pytest.approx(0.8 * 5 * (1 + 0.1 * 3) * (1 + 2.0 * 0.4) * 1.5)
    assert service.foreign_partner_probability(0.4, False, r) == pytest.approx(logistic(-1.0 + 0.5 * 0.4))
    assert service.foreign_partner_probability(0.4, True, r) == 0.0


# ---- education quality -------------------------------------------------------------------------------
def test_teaching_quality_update_by_hand(world):
    """University 2 (B) sent 2 students to university 0 (A, better) along agreement 2 -> 0."""
    q = rule(quality, teaching_diffusion=0.2, faculty_diffusion=0.05, reversion=0.1, research_spillover=0.04,
             crowding_threshold=0.9, crowding_penalty=0.6, expansion_penalty=0.5)
    teaching = np.array([0.8, 0.6, 0.5, 0.4])
    base = np.array([0.8, 0.5, 0.5, 0.4])
    capacity = np.array([40, 40, 100, 60])
    enrolled = np.array([38, 30, 100, 30])        # below the crowding threshold but at university 2
    t = quality.teaching_update(teaching, base, world.edge_from, world.edge_to, np.array([0, 0, 2, 0]), capacity,
                                enrolled, np.array([0.0, 0.1, 0.0, 0.0]), np.array([1.0, 1.0, 1.5, 1.0]),
                                np.array([0.8, 0.6, 0.9, 0.4]), np.array([0.0, 0.0, 10.0, 0.0]), q)
    # university 2: traffic 2 = full intensity (2% of 100 seats); gap 0.3; guests 10 per 100 staff from 0.9;
    # reputation 1.5; full: occupancy 1.0 > 0.9
    u2 = 0.5 + 0.2 * 1 * 0.3 + 0.05 * 10 * 0.4 + 0.04 * 0.5 - 0.6 * 0.1
    # university 1: reverts 10% of its 0.1 gain above base; grew 10% (expansion penalty 0.5); occupancy 0.75
    u1 = 0.6 + 0.1 * (0.5 - 0.6) - 0.5 * 0.1
    # university 0: occupancy 0.95 > 0.9 crowds it; university 3: 0.5, nothing
    u0 = 0.8 - 0.6 * (0.95 - 0.9)
    np.testing.assert_allclose(t, [u0, u1, u2, 0.4])


def test_reputation_choice_quality_and_courses_by_hand(world):
    rep = quality.reputation_update(np.ones(4), np.array([30, 10, 0, 20]), np.array([3, 1, 0, 4]), 0.3)
    # citations per head 10, 10, -, 5: mean 25 / 3; relative 1.2, 1.2, 1 (no staff), 0.6
    np.testing.assert_allclose(rep, [0.7 + 0.3 * 1.2, 0.7 + 0.3 * 1.2, 1.0, 0.7 + 0.3 * 0.6])
    seen = quality.choice_quality(np.array([[0.5]]), np.array([math.e]), np.array([0.7]), np.array([0.6]), 0.08)
    assert seen[0, 0] == pytest.approx(0.5 + 0.08 * 1 + 0.1)
    assert quality.courses(np.array([0.3, 0.1, 0.2, 0.0]), world.univ_country,
                           np.array([0.25, 0.0, 0.5])).tolist() == [0.3, 0.25, 0.2, 0.5]


# ---- progression, research careers, workforce, money, innovation ---------------------------------------
def test_progression_by_hand():
    going = dict(master_talent=0.7, doctoral_talent=1.0, doctoral_field=0.8, doctoral_years_min=3, doctoral_years_max=5)
    sure = rule(progression, master_constant=50.0, doctoral_constant=50.0, **going)
    never = rule(progression, master_constant=-50.0, doctoral_constant=-50.0, **going)
    assert progression.goes_on(0, 2016, 7, 0.0, 0, 4, 0, sure) and not progression.goes_on(0, 2016, 7, 0.0, 0, 4, 0, never)
    assert progression.goes_on(0, 2016, 7, 0.0, 0, 4, 1, sure) and not progression.goes_on(0, 2016, 7, 0.0, 0, 4, 1, never)
    lengths = {common.doctoral_years(0, uid, sure) for uid in range(1, 200)}
    assert lengths == {3, 4, 5}
    # years enrolled: no progression -> first degree 0.9 x 4 + direct master's 0.1 x 2; certain progression -> + 0.9 x 2
    # more master's years, and every master's graduate's doctorate of (3 + 5) / 2 years
    study = rule(learning, postgraduate_share=0.1, first_degree_years=4, postgraduate_years=2)
    assert common.years_enrolled(study, never) == pytest.approx(0.9 * 4 + 0.1 * 2, abs=1e-9)
    assert common.years_enrolled(study, sure) == pytest.approx(0.9 * 4 + 1.0 * 2 + 1.0 * 4, abs=1e-9)


def test_the_progression_logit_by_hand():
    """A graduate goes on iff the progression draw u < logistic(logit): a master's in talent, a doctorate in
    talent and field (fewer from the later, less research-intensive fields)."""
    r = rule(progression, master_constant=-1.0, master_talent=0.8, doctoral_constant=-2.0, doctoral_talent=1.2,
             doctoral_field=0.9)
    for uid in range(1, 40):
        u = rng.uniform(0, rng.PROGRESSION, 2016, uid, 0)
        assert progression.goes_on(0, 2016, uid, 0.5, 0, 4, 0, r) == (u < logistic(-1.0 + 0.8 * 0.5))
        assert progression.goes_on(0, 2016, uid, 0.5, 3, 4, 1, r) == (u < logistic(-2.0 + 1.2 * 0.5 - 0.9 * 3 / 3))


def test_research_careers_by_hand():
    r = rule(research_careers, leave_constant=-3.0, leave_productivity=-1.0, retirement_career=30,
             productivity_talent=0.5, training_reputation=0.4)
    assert research_careers.leaves(0, 2016, 3, 1.0, 29, r)                  # the 30th year: retires
    assert not research_careers.leaves(0, 2016, 3, 1.0, 5, r._replace(leave_constant=-50.0))
    assert research_careers.leaves(0, 2016, 3, 1.0, 5, r._replace(leave_constant=50.0))
    # productivity: exp(0.6 z - 0.18), z = rho talent + sqrt(1 - rho^2) noise; at rho = 1, z is the talent
    assert research_careers.new_productivity(0, 2016, 3, 2.0, 1.0, r._replace(productivity_talent=1.0)) == \
        pytest.approx(math.exp(0.6 * 2 - 0.18), rel=1e-6)
    assert research_careers.new_productivity(0, 2016, 3, 2.0, 2.0, r._replace(productivity_talent=1.0)) == \
        pytest.approx(math.exp(0.6 * 2 - 0.18 + 0.4 * math.log(2)), rel=1e-6)   # a doctorate at twice the reputation


def test_graduates_settle_where_careers_put_them():
    from sim.students import RETURNED
    assert workforce.settles_in(1, 0, STAYED) == 0 and workforce.settles_in(1, 0, RETURNED) == 1
    assert workforce.settles_in(1, 1, GRADUATED) == 1 and workforce.settles_in(1, 1, CONTINUING) == -1


def test_scholarship_costs_by_hand():
    students = np.array([[0.0, 100.0], [10.0, 0.0]])       # 100 of A study in B, 10 of B in A
    cost = np.array([30_000.0, 10_000.0])
    inbound = np.array([[0.5, 0.0], [0.5, 0.0]])              # A's inbound scholarship, for every origin
    outbound = np.array([[0.2, 0.2], [0.0, 0.0]])             # A's outbound scholarship, to every destination
    paid = finance.scholarship_costs(students, cost, inbound, outbound)
    # A hosts 10 and pays half their cost; A pays 20% of the (unsubsidised) cost of its 100 in B
    assert paid.tolist() == pytest.approx([0.5 * 30_000 * 10 + 0.2 * 10_000 * 100, 0.0])
    # by corridor: A's scholarships for students from B only, B's for study in A only (none of B's go there)
    targeted = finance.scholarship_costs(students, cost, np.array([[0.0, 0.0], [0.5, 0.0]]),
                                         np.array([[0.0, 0.0], [0.3, 0.0]]))
    assert targeted.tolist() == pytest.approx([0.5 * 30_000 * 10, 0.3 * 0.5 * 30_000 * 10])


def test_tuition_revenue_by_corridor():
    """University 0 in A (fee 20,000) has 3 fee payers from B and 2 from C; A charges C's students double and
    exempts B's; university 1 in B (fee 5,000) has 4 from A, charged the plain fee. x scale 10."""
    payers = np.array([[0, 3, 2], [4, 0, 0]])
    factor = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [2.0, 1.0, 1.0]])    # origin x destination
    revenue = finance.tuition_revenue(payers, np.array([20_000.0, 5_000.0]), factor, np.array([0, 1]), 10.0)
    assert revenue.tolist() == pytest.approx([10 * 20_000 * (3 * 0.0 + 2 * 2.0), 10 * 5_000 * 4 * 1.0])


def test_patents_by_hand():
    r = rule(innovation, patents_per_researcher=0.3, research_elasticity=0.9, skills_elasticity=0.4,
             graduate_students=0.5)
    p = innovation.patents(np.array([2000.0]), np.array([0.2]), np.array([0.5]), r, 1000.0, 0.1)
    assert p[0] == pytest.approx(0.3 * 1000 * 2 ** 0.9 * 2 ** 0.4 * (1 + 0.5 * 0.5))

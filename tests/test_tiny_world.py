"""The whole yearly cycle on a hand-built world of three countries, where every count can be worked
out by hand (in the manner of Flee's tests): enrolment, admission under capacity, progression,
graduation, and what is recorded."""

import numpy as np

from sim.config import Config
from sim.model import HemsimModel
from worlds import three_countries


def test_seats_cohorts_and_graduates_follow_the_programme_length():
    """Nobody goes abroad, drops out or goes on to a further degree; four-year programmes; B has 100
    seats for cohorts of 30.

    From the first spin-up year B admits 30, 30, 30, then only 10 (90 continue, 20 turned away);
    each cohort graduates after four years, freeing its seats, so the pattern repeats every four
    years: year k of the run (k = 1 the first spin-up year) admits 10 when k = 0 mod 4, else 30, and
    graduates the cohort admitted three years earlier. The spin-up lasts 4 + 2 + 5 = 11 years, so
    2016 is year 12:
        entrants   2016..2023: 10 30 30 30 10 30 30 30  (unplaced: 20 when 10 are admitted)
        graduates  2016..2023: 30 30 30 10 30 30 30 10  (admitted in years 9, 10, 11, 12, ...)
    A's two universities hold 80 = four cohorts of 20 exactly; C's 150 seats never fill.
    """
    cfg = Config()
    cfg.years, cfg.progress = 8, False
    cfg.behaviour.choice.abroad_constant = -50.0      # nobody goes abroad
    cfg.behaviour.study.dropout_constant = -50.0      # nobody drops out
    cfg.behaviour.study.postgraduate_share = 0.0      # every programme lasts first_degree_years = 4
    cfg.behaviour.progression.master_constant = -50.0  # nobody goes on to a further degree
    cfg.behaviour.progression.doctoral_constant = -50.0
    world = three_countries(univ_capacity=np.array([40, 40, 100, 150], np.int64))
    model = HemsimModel(cfg, world)
    assert model.spin_up_years == 11
    r = model.run()

    def series(metric, country):
        return (r.metric(metric, country) / world.scale).tolist()

    assert series("entrants", "B") == [10, 30, 30, 30, 10, 30, 30, 30]
    assert series("unplaced", "B") == [20, 0, 0, 0, 20, 0, 0, 0]
    assert series("graduates", "B") == [30, 30, 30, 10, 30, 30, 30, 10]
    assert series("enrolled", "B") == [100] * 8
    assert series("enrolled", "A") == [80] * 8 and series("unplaced", "A") == [0] * 8
    assert series("enrolled", "C") == [120] * 8 and series("graduates", "C") == [30] * 8
    assert series("international_share", "WORLD") == [0] * 8 and r.flow_total("degree") == 0
    np.testing.assert_allclose(r.metric("enrolment_rate", "B"), 100 * world.scale / 2e6)  # of 2 million people

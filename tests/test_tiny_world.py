"""The whole yearly cycle on a hand-built world of three countries, where every count can be worked
out by hand (in the manner of Flee's tests): enrolment, admission under capacity, progression,
graduation, and what is recorded."""

import numpy as np

from sim.config import Config
from sim.model import HemsimModel
from worlds import three_countries


def test_seats_cohorts_and_graduates_follow_the_programme_length():
    """Nobody goes abroad or drops out; four-year programmes; B has 100 seats for cohorts of 30.

    From the first spin-up year (2012) B admits 30, 30, 30, then only 10 (90 continue, 20 turned
    away); each cohort graduates after four years, freeing its seats. From 2016 (the fifth year)
    70 continue and 30 are admitted, three years running, then 90 continue and 10 are admitted:
        entrants   2016..2023: 30 30 30 10 30 30 30 10  (unplaced: 20 when 10 are admitted)
        graduates  2016..2023: 30 30 10 30 30 30 10 30  (the cohorts of 2013, 2014, 2015, 2016, ...)
    A's two universities hold 80 = four cohorts of 20 exactly; C's 150 seats never fill.
    """
    cfg = Config()
    cfg.years, cfg.progress = 8, False
    cfg.behaviour.choice.abroad_constant = -50.0      # nobody goes abroad
    cfg.behaviour.study.dropout_constant = -50.0      # nobody drops out
    cfg.behaviour.study.postgraduate_share = 0.0      # every programme lasts first_degree_years = 4
    world = three_countries(univ_capacity=np.array([40, 40, 100, 150], np.int64))
    r = HemsimModel(cfg, world).run()

    def series(metric, country):
        return (r.metric(metric, country) / world.scale).tolist()

    assert series("entrants", "B") == [30, 30, 30, 10, 30, 30, 30, 10]
    assert series("unplaced", "B") == [0, 0, 0, 20, 0, 0, 0, 20]
    assert series("graduates", "B") == [30, 30, 10, 30, 30, 30, 10, 30]
    assert series("enrolled", "B") == [100] * 8
    assert series("enrolled", "A") == [80] * 8 and series("unplaced", "A") == [0] * 8
    assert series("enrolled", "C") == [120] * 8 and series("graduates", "C") == [30] * 8
    assert series("international_share", "WORLD") == [0] * 8 and r.flow_total("degree") == 0
    np.testing.assert_allclose(r.metric("enrolment_rate", "B"), 100 * world.scale / 2e6)  # of 2 million people

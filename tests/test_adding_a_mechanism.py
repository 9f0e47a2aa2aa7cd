"""docs/adding-a-mechanism.md works: a mechanism written in one module (tests/example_mechanism.py)
joins the schedule of a model subclass, runs in both backends, and its outcomes are recorded,
without changing anything the other mechanisms do."""

import numpy as np

from conftest import run, small_config
from example_mechanism import GraduateStock, joins_workforce
from sim.model import SCHEDULE, HemsimModel
from sim.students import CONTINUING, DROPPED, GRADUATED, RETURNED, STAYED
from sim.mechanisms.graduation import Graduation


class WithGraduateStock(HemsimModel):
    schedule = tuple(cls for cls in SCHEDULE if cls is not Graduation) + (GraduateStock, Graduation)


def test_the_rule_by_hand():
    assert [joins_workforce(o) for o in (CONTINUING, DROPPED, GRADUATED, RETURNED, STAYED)] == [
        False, False, True, True, True]


def test_a_new_mechanism_runs_records_and_changes_nothing_else():
    cfg = small_config(years=4)
    model = WithGraduateStock(cfg)
    with_stock = model.run()
    plain = run("baseline", years=4)
    assert with_stock.flows.equals(plain.flows)
    m = with_stock.metrics.to_pandas()
    assert m[~m.metric.str.startswith("example_")].reset_index(drop=True).equals(plain.metrics.to_pandas())
    stock = with_stock.metric("example_graduate_stock")
    graduates = with_stock.metric("graduates")
    # grows by each year's graduates (from the first spin-up year), less retirement
    assert np.all(np.diff(stock) > 0) and stock[-1] < graduates.max() * (model.spin_up_years + 4)
    share = with_stock.metric("example_graduate_stock_abroad_share")
    assert np.all((share > 0) & (share < 0.2))


def test_the_new_mechanism_agrees_in_both_backends():
    kw = dict(students=3_000, years=3, seed=5)
    numba = WithGraduateStock(small_config(**kw)).run()
    mesa = WithGraduateStock(small_config(backend="mesa", **kw)).run()
    assert numba.metrics.equals(mesa.metrics)

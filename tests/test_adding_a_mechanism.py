"""docs/adding-a-mechanism.md works: a mechanism written in one module (tests/example_mechanism.py)
joins hemsim by that module and one line of SCHEDULE (shown on a copy of the package, nothing else
edited: its config section, rule, bounds, outcomes, README rows and contract follow), joins the
schedule of a model subclass to be tried out, runs in both backends, and its outcomes are recorded,
without changing anything the other mechanisms do."""

import filecmp
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from conftest import ROOT, run, small_config
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


ADDED = """
import json
from sim import contract
from sim.config import SHARES
from sim.errors import ConfigError
from sim.model import HemsimModel
from sim.results import outcome_tables
from sim.schedule import SCHEDULE

params = {"world.students": 5000, "years": 3, "progress": False}
fast, slow = (HemsimModel(**params, **{"behaviour.stock.retirement": r}).run() for r in (0.5, 0.01))
try:
    HemsimModel(**params, **{"behaviour.stock.retirement": 2.0})
    refused = ""
except ConfigError as e:
    refused = str(e)
tables = outcome_tables(SCHEDULE)
print(json.dumps({
    "schedule": [c.__name__ for c in SCHEDULE][-3:],
    "metrics": sorted(set(fast.metrics.to_pandas().metric) - set(slow.metrics.to_pandas().metric)) or "same",
    "stock": [fast.metric("example_graduate_stock")[-1], slow.metric("example_graduate_stock")[-1]],
    "share": "stock.retirement" in SHARES, "refused": refused,
    "readme": "| `example_graduate_stock` | people |" in tables["metrics"],
    "contract": contract.schedule_problems(SCHEDULE) + contract.audit(HemsimModel(**params), years=2, unused=True)}))
"""


def test_a_mechanism_joins_hemsim_by_its_module_and_one_line_of_the_schedule(tmp_path):
    """A copy of sim/ where only the new module and one line of SCHEDULE (with its import) differ: the
    mechanism runs in the schedule, its section `behaviour.stock` is a keyword parameter with its bound
    checked, its outcomes are recorded and in the generated README tables, and its contract holds."""
    copy = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", copy)      # Numba's caches come along (same sources, same times): no recompiling
    (tmp_path / "conf").symlink_to(ROOT / "conf")                      # the configs, unchanged
    shutil.copy(ROOT / "tests" / "example_mechanism.py", copy / "mechanisms" / "graduate_stock.py")
    schedule = (copy / "schedule.py").read_text()
    edited = schedule.replace("    graduation.Graduation,", "    graduate_stock.GraduateStock,  # an example\n"
                              "    graduation.Graduation,").replace(
        "from sim.mechanisms import assimilation,", "from sim.mechanisms import graduate_stock\nfrom sim.mechanisms import assimilation,")
    assert edited.count("graduate_stock") == 2
    (copy / "schedule.py").write_text(edited)
    differ = filecmp.dircmp(ROOT / "sim", copy, ignore=["__pycache__"])
    changed = {*differ.diff_files, *(f"mechanisms/{f}" for f in differ.subdirs["mechanisms"].right_only
                                     if f.endswith(".py"))} | {f"mechanisms/{f}" for f in
                                                               differ.subdirs["mechanisms"].diff_files}
    assert changed == {"schedule.py", "mechanisms/graduate_stock.py"}
    out = subprocess.run([sys.executable, "-c", ADDED], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(tmp_path), "HEMSIM_SPIN_UP_CACHE": "0"})
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["schedule"] == ["ResearchCareers", "GraduateStock", "Graduation"]
    assert r["metrics"] == "same" and r["stock"][0] < r["stock"][1]       # faster retirement, a smaller stock
    assert r["share"] and "behaviour.stock.retirement=2.0" in r["refused"] and "[0, 1]" in r["refused"]
    assert r["readme"] and r["contract"] == []

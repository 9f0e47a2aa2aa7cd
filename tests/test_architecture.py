"""The structure the code promises: what each mechanism declares is what it does, and the docs agree.

- a mechanism writes only the student columns it declares (checked year by year on a run);
- its declared columns exist, its rule is its config section;
- every outcome it declares is in the README with the same unit, in the order of the output tables;
- the results of a small run are pinned (SHA-256 of their content, tests/pinned.py): a restructuring
  must not change them. Update PINNED only on purpose, saying why in the commit;
- the model's code calls none of numpy's CPU-dispatched float routines (sim/fpmath.py).
"""

import ast
import dataclasses
import re
import sys

import numpy as np
import pytest

from conftest import ROOT, small_config
from pinned import PINNED, digests, pinned_config
from sim.config import BehaviourConfig, Rules
from sim.model import SCHEDULE, HemsimModel
from sim.outcomes import Flow, Metric
from sim.policies import in_force
from sim.results import FLOW_ORDER, METRIC_ORDER
from sim.students import ALL

MECHANISMS = [cls() for cls in SCHEDULE]


def test_every_mechanism_writes_only_the_columns_it_declares():
    model = HemsimModel(small_config(students=20_000, years=3, scenario="comprehensive_internationalisation"))
    checked = set()
    for _ in range(3):
        model.policy = in_force(model.policy_tables, model.year - model.cfg.start_year)
        for mechanism in model.mechanisms:
            before = {k: v.copy() for k, v in model.students.a.items()}
            mechanism.step(model)
            after = model.students.a
            kept = np.isin(before["uid"], after["uid"])      # rows are in uid order: align the survivors
            old = np.isin(after["uid"], before["uid"])
            for column in set(ALL) - set(mechanism.writes):
                np.testing.assert_array_equal(after[column][old], before[column][kept],
                                              err_msg=f"{mechanism.name} wrote {column} without declaring it")
            checked.add(mechanism.name)
        model.year += 1
    assert checked == {cls.__name__ for cls in SCHEDULE}


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.name)
def test_declared_columns_and_outcomes_exist(mechanism):
    assert set(mechanism.reads) <= set(ALL) and set(mechanism.writes) <= set(ALL)
    for outcome in mechanism.outcomes:
        assert isinstance(outcome, (Metric, Flow)) and outcome.doc


def test_each_rule_is_its_config_section():
    behaviour = BehaviourConfig()
    rules = Rules.from_config(behaviour)
    for name in Rules._fields:
        section = getattr(behaviour, name)
        assert type(getattr(rules, name)) is sys.modules[type(section).__module__].Rule
        assert getattr(rules, name)._asdict() == dataclasses.asdict(section)


def _readme_table(header: str) -> list[list[str]]:
    """Rows of the README table whose header line starts with `header` (cells stripped)."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_metric_is_documented_in_the_readme_with_its_unit_in_output_order():
    declared = {o.name: o for m in MECHANISMS for o in m.outcomes if isinstance(o, Metric)}
    documented = [(re.sub("`", "", name), unit) for name, unit, _ in _readme_table("| metric | unit |")]
    assert [name for name, _ in documented] == list(METRIC_ORDER) == [n for n in METRIC_ORDER if n in declared]
    assert set(declared) == set(METRIC_ORDER)
    for name, unit in documented:
        assert declared[name].unit == unit, name


def test_every_flow_kind_is_documented_in_the_readme_in_output_order():
    declared = {o.name for m in MECHANISMS for o in m.outcomes if isinstance(o, Flow)}
    documented = [re.sub("`", "", row[0]) for row in _readme_table("| kind | meaning")]
    assert documented == list(FLOW_ORDER) and set(FLOW_ORDER) == declared


# ---- pinned results --------------------------------------------------------------------------------
def test_results_are_pinned():
    """A change detector (tests/pinned.py): the digests of the pinned run are those recorded."""
    assert digests(HemsimModel(pinned_config()).run()) == PINNED


# ---- no CPU-dispatched maths in the model's code ---------------------------------------------------
# numpy routines whose result depends on the SIMD path numpy picks for the CPU, or on OpenBLAS's kernel
# (measured: README "Reproducibility"); sim/fpmath.py has dispatch-free versions of those the model needs
DISPATCHED = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "power", "float_power", "sin", "cos", "tan",
              "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
              "cbrt", "hypot", "logaddexp", "logaddexp2", "dot", "vdot", "inner", "matmul", "tensordot", "einsum",
              "polyfit", "polyval", "cov", "corrcoef", "linalg", "argpartition"}
NUMBA_DECORATORS = {"njit", "jit", "vectorize", "guvectorize", "cfunc"}
# statistical fits that go through statsmodels and LAPACK by design (README: their estimates may differ in
# the last bits between CPUs); everything the model computes is outside them
ALLOWED = {("sim/analysis/validation.py", "ppml")}


def _numba_kernel(node) -> bool:
    for d in node.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in NUMBA_DECORATORS:
            return True
    return False


def _dispatched_calls(path, root=ROOT):
    """(line, what) of each call to a CPU-dependent routine outside Numba kernels; inside kernels, BLAS
    calls (dot, @) and fastmath. An argsort or a sort of a frame must name a stable kind (ties in another
    order on another CPU: numpy's quicksort is AVX-512 code there)."""
    found = []

    def visit(node, function, kernel):
        for child in ast.iter_child_nodes(node):
            f, k = function, kernel
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                f, k = child.name, _numba_kernel(child)
                for d in child.decorator_list:
                    if isinstance(d, ast.Call) and any(kw.arg == "fastmath" for kw in d.keywords):
                        found.append((child.lineno, "fastmath"))
            if (str(path), f) not in ALLOWED:
                if isinstance(child, ast.BinOp) and isinstance(child.op, ast.MatMult):
                    found.append((child.lineno, "@"))
                if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) \
                        and child.value.id in ("np", "numpy") and child.attr in DISPATCHED \
                        and (not k or child.attr in ("dot", "vdot", "inner", "matmul", "linalg")):
                    found.append((child.lineno, f"np.{child.attr}"))
                if not k and isinstance(child, ast.BinOp) and isinstance(child.op, ast.Pow) \
                        and not (isinstance(child.right, ast.Constant) and child.right.value == 2) \
                        and not (isinstance(child.left, ast.Constant) and isinstance(child.right, ast.Constant)):
                    found.append((child.lineno, "**"))
                if not k and isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                        and child.func.attr in ("argsort", "sort_values") \
                        and not any(kw.arg == "kind" and getattr(kw.value, "value", "") in ("stable", "mergesort")
                                    for kw in child.keywords):
                    found.append((child.lineno, child.func.attr + " without kind='stable'"))
            visit(child, f, k)
    visit(ast.parse((root / path).read_text()), None, False)
    return found


def test_the_model_calls_no_cpu_dispatched_maths():
    """Results do not depend on the CPU (tests/test_dispatch.py runs the model under other dispatch paths;
    this catches a new call before a machine with other SIMD features does)."""
    files = sorted(p.relative_to(ROOT) for d in ("sim", "experiments") for p in (ROOT / d).rglob("*.py"))
    found = {f"{path}:{line}: {what}" for path in files for line, what in _dispatched_calls(path)}
    assert not found, "CPU-dependent maths (use sim.fpmath): " + "; ".join(sorted(found))


@pytest.mark.parametrize("code,what", [
    ("import numpy as np\ndef f(x):\n    return np.exp(x)\n", "np.exp"),
    ("def f(a, b):\n    return a @ b\n", "@"),
    ("def f(x, e):\n    return x ** e\n", "**"),
    ("import numpy as np\ndef f(x):\n    return np.argsort(x)\n", "argsort without kind='stable'"),
    ("from numba import njit\nimport numpy as np\n@njit(cache=True)\ndef f(a, b):\n    return np.dot(a, b)\n", "np.dot"),
    ("from numba import njit\n@njit(fastmath=True)\ndef f(x):\n    return x\n", "fastmath"),
])
def test_the_guard_finds_a_planted_call(tmp_path, code, what):
    (tmp_path / "planted.py").write_text(code)
    assert [w for _, w in _dispatched_calls("planted.py", tmp_path)] == [what]


def test_the_guard_lets_kernels_and_exact_operations_be(tmp_path):
    (tmp_path / "ok.py").write_text(
        "import numpy as np\nfrom numba import njit\n@njit(cache=True)\ndef k(x):\n    return np.exp(x) ** 1.5\n"
        "def f(x):\n    return np.sqrt(x) ** 2 + x.sum() + 2 ** 20 + np.argsort(x, kind='stable')\n")
    assert _dispatched_calls("ok.py", tmp_path) == []

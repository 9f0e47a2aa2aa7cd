"""The structure the code promises: what each mechanism declares is what it does, and the docs agree.

- a mechanism touches only the student columns and shared fields it declares (sim/contract.py: checked
  year by year on a run, and on planted mechanisms that break the contract), and the schedule reads no
  field of this year before the mechanism that sets it;
- no mechanism imports another mechanism module or looks another mechanism up (what they share lives in
  sim/mechanisms/library/, what they hand on goes through the shared state);
- its rule is its config section;
- every outcome it declares is in the README with the same unit, in the order of the output tables;
- the results of a small run are pinned (SHA-256 of their content, tests/pinned.py): a restructuring
  must not change them. Update PINNED only on purpose, saying why in the commit;
- the model's code calls none of numpy's CPU-dispatched float routines (sim/fpmath.py).
"""

import ast
import dataclasses
import importlib.util
import re
import subprocess
import sys

import pytest

from conftest import ROOT, small_config
from pinned import PINNED, digests, pinned_config
from sim import contract
from sim.config import BehaviourConfig, Rules
from sim.mechanisms.finance import Finance
from sim.mechanisms.innovation import Innovation
from sim.mechanisms.learning import Learning
from sim.mechanisms.quality import Quality
from sim.model import SCHEDULE, HemsimModel
from sim.outcomes import Flow, Metric
from sim.results import METRIC_ORDER
from sim.state import FIELDS
from sim.students import ALL

MECHANISMS = [cls() for cls in SCHEDULE]


# ---- the contract: what a mechanism declares is what it touches -------------------------------------
def test_every_mechanism_touches_exactly_what_it_declares():
    """Three recorded years of a scenario that pulls every lever: no undeclared read or write of a column or
    field, and no declared field left untouched (the declarations are the mechanisms' real interface)."""
    model = HemsimModel(small_config(students=20_000, years=3, scenario="comprehensive_internationalisation"))
    assert contract.audit(model, years=3, unused=True) == []


def test_the_schedule_reads_no_field_before_it_is_set():
    assert contract.schedule_problems(SCHEDULE) == []


def _with(replace: dict, order=None):
    class Model(HemsimModel):
        schedule = tuple(replace.get(cls, cls) for cls in (order or SCHEDULE))
    return Model(small_config(students=5_000, years=2))


def test_an_undeclared_write_is_found():
    class Planted(Quality):                       # writes the universities' arrays but declares none of them
        writes = ()
    problems = contract.audit(_with({Quality: Planted}))
    assert "Planted writes universities.teaching without declaring it" in problems
    assert all(p.startswith("Planted") for p in problems)


def test_an_undeclared_read_is_found():
    class Reader(Innovation):                     # reads the census and the workforce without saying so
        reads = ("universities.researchers",)
    assert contract.audit(_with({Innovation: Reader})) == ["Reader reads census without declaring it",
                                                           "Reader reads workforce without declaring it"]


def test_a_field_read_before_its_writer_is_found():
    early = (Finance,) + tuple(cls for cls in SCHEDULE if cls is not Finance)
    problems = contract.schedule_problems(early)
    assert "Finance reads census before Learning sets it this year" in problems
    assert "Finance reads universities.enrolled before Learning sets it this year" in problems
    assert not any(p.startswith("Learning") for p in problems)


def test_a_declared_name_must_exist():
    class Typo(Learning):
        writes = Learning.writes + ("universities.teachnig",)
    assert contract.schedule_problems((Typo,)) == [
        "Typo declares 'universities.teachnig': neither a student column (sim/students.py) nor a shared field "
        "(sim/state.py)"]


def test_student_columns_and_shared_fields_are_apart():
    assert not set(ALL) & set(FIELDS)


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.name)
def test_declared_outcomes_exist(mechanism):
    for outcome in mechanism.outcomes:
        assert isinstance(outcome, (Metric, Flow)) and outcome.doc


# ---- no mechanism reaches into another ------------------------------------------------------------------
MECHANISM_MODULES = sorted(p.stem for p in (ROOT / "sim" / "mechanisms").glob("*.py") if p.stem not in ("__init__", "base"))


def _sim_imports(path) -> set[str]:
    """Modules of sim a file imports (`from sim.a import b` gives sim.a and, if b is a module, sim.a.b)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("sim"))
    return out


@pytest.mark.parametrize("name", MECHANISM_MODULES)
def test_no_mechanism_imports_another(name):
    others = {f"sim.mechanisms.{m}" for m in MECHANISM_MODULES if m != name}
    assert not _sim_imports(ROOT / "sim" / "mechanisms" / f"{name}.py") & others


def test_the_library_imports_no_mechanism():
    mechanisms = {f"sim.mechanisms.{m}" for m in MECHANISM_MODULES}
    for path in (ROOT / "sim" / "mechanisms" / "library").glob("*.py"):
        assert not _sim_imports(path) & mechanisms, path.name


def test_no_mechanism_looks_another_up():
    """Nothing under sim/mechanisms calls `model.mechanism(...)`: what one hands the next is shared state."""
    for path in (ROOT / "sim" / "mechanisms").rglob("*.py"):
        calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr in ("mechanism", "mechanisms")]
        assert not calls, f"{path.name}: line {calls[0].lineno}"


def test_the_guard_against_cross_imports_finds_one(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from sim.mechanisms import choice\nfrom sim.mechanisms.finance import Finance\n")
    assert {"sim.mechanisms.choice", "sim.mechanisms.finance"} <= _sim_imports(planted)


def test_each_rule_is_its_config_section():
    behaviour = BehaviourConfig()
    rules = Rules.from_config(behaviour)
    for name in Rules._fields:
        section = getattr(behaviour, name)
        assert type(getattr(rules, name)) is sys.modules[type(section).__module__].Rule
        assert getattr(rules, name)._asdict() == dataclasses.asdict(section)


def test_the_readme_outcome_tables_are_the_declared_outcomes():
    """README.md's tables of flow kinds and metrics are generated from the mechanisms' declarations
    (scripts/readme_outcomes.py); a declaration changed without regenerating them fails here."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_outcomes.py"), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    readme = (ROOT / "README.md").read_text()
    for m in MECHANISMS:
        for o in m.outcomes:
            row = f"| `{o.name}` | {o.unit} | {o.doc} |" if isinstance(o, Metric) else f"| `{o.name}` | {o.doc} |"
            assert row in readme, row
    assert re.findall(r"^\| `(\w+)` \| [^|]+ \| [^|]+ \|$", readme.split("<!-- outcomes:metrics -->")[1]
                      .split("<!-- /outcomes:metrics -->")[0], re.M) == [n for n in METRIC_ORDER]


def test_the_readme_check_finds_a_stale_table(tmp_path):
    spec = importlib.util.spec_from_file_location("readme_outcomes", ROOT / "scripts" / "readme_outcomes.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = (ROOT / "README.md").read_text()
    stale = readme.replace("| `papers` | papers/year |", "| `papers` | papers |")
    assert stale != readme and script.current(stale) == readme


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
# statistical fits that call LAPACK by design (README: their estimates may differ in the last bits between
# CPUs; the gravity fits go through pyfixest and statsmodels, outside this check); the model is outside them
ALLOWED = {("sim/inference/counterfactual.py", "synthetic_control")}


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

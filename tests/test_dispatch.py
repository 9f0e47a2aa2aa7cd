"""Results that do not depend on the CPU: the pinned run gives the same flows, metrics and state under
every SIMD path numpy can take here, with another OpenBLAS core, and with Numba's kernels compiled for
a generic x86-64; a checkpoint written under one setting resumes to the same results under another.

Each setting runs in its own process (tests/dispatch_child.py), which reports what it saw, so a setting
that did not take effect fails here rather than passing unnoticed. The settings are read from the
installed numpy (`__cpu_dispatch__`: its dispatch targets, `__cpu_features__`: those this CPU has), not
hard-coded. README, "Reproducibility"; sim/fpmath.py.
"""

import json
import os
import subprocess
import sys

import pytest
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

from conftest import ROOT
from pinned import PINNED

CHILD = str(ROOT / "tests" / "dispatch_child.py")
FOUND = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]   # numpy's targets this CPU runs


def _openblas_core() -> str:
    from threadpoolctl import threadpool_info
    import numpy  # noqa: F401  (loads OpenBLAS)
    cores = {i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"}
    return next(iter(cores), "")


def settings(numba_cache: str) -> dict[str, dict[str, str]]:
    """Environment of each setting: numpy's default dispatch; numpy's baseline only (every dispatch target
    off); only its lowest target (a CPU one level down, e.g. AVX2 without AVX-512); another OpenBLAS core
    (Haswell, the issue's, where this CPU runs another); Numba compiled for a generic x86-64 on one thread
    with numpy's baseline (the oldest CPU this machine can stand in for)."""
    out = {"default": {}}
    if FOUND:
        out["numpy baseline"] = {"NPY_DISABLE_CPU_FEATURES": ",".join(FOUND)}
    if len(FOUND) > 1:
        out[f"numpy up to {FOUND[0]}"] = {"NPY_DISABLE_CPU_FEATURES": ",".join(FOUND[1:])}
    core = "Haswell" if "X86_V3" in FOUND and _openblas_core() != "Haswell" else "Sandybridge"
    out[f"OpenBLAS {core}"] = {"OPENBLAS_CORETYPE": core}
    out["generic x86-64"] = {"NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": numba_cache, "NUMBA_NUM_THREADS": "1",
                             **({"NPY_DISABLE_CPU_FEATURES": ",".join(FOUND)} if FOUND else {})}
    return out


def child(env: dict, *args, lines: int | None = None):
    """What a child process under `env` reports: its last JSON line (with `lines`: its last so many, a list)."""
    full = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")}
    full.update(env, HEMSIM_SPIN_UP_CACHE="0")     # every process simulates its own spin-up
    out = subprocess.run([sys.executable, CHILD, *args], env=full, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    reported = [json.loads(line) for line in out.stdout.strip().splitlines()[-(lines or 1):]]
    return reported if lines else reported[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dispatch")
    setups = settings(str(tmp / "numba-generic"))
    return tmp, setups, {name: child(env, "run", str(tmp / f"{i}.hemsim")) for i, (name, env) in enumerate(setups.items())}


def test_every_setting_takes_effect(runs):
    _, setups, out = runs
    assert len(setups) >= 3
    for name, env in setups.items():
        seen = out[name]["setting"]
        disabled = set(env.get("NPY_DISABLE_CPU_FEATURES", "").split(",")) - {""}
        assert seen["dispatch"] == [f for f in FOUND if f not in disabled], name
        if "OPENBLAS_CORETYPE" in env:
            assert seen["openblas"] == [env["OPENBLAS_CORETYPE"]], name


def test_the_pinned_run_is_identical_under_every_setting(runs):
    _, _, out = runs
    for name, r in out.items():
        assert r["results"] == PINNED, f"{name}: flows and metrics differ from the pin"
    assert len({r["state"] for r in out.values()}) == 1, {name: r["state"][:12] for name, r in out.items()}


def test_the_maths_the_model_relies_on_is_identical_under_every_setting(runs):
    _, _, out = runs
    reference = out["default"]["primitives"]
    for name, r in out.items():
        assert r["primitives"] == reference, {k for k in reference if r["primitives"][k] != reference[k]}


RESUMES = [(1, 0), (0, 1), (-1, 0)]      # (the setting that wrote a checkpoint, the one that resumes it)


@pytest.fixture(scope="module")
def resumes(runs):
    """Each checkpoint of RESUMES resumed under its setting: one process per resuming setting, which resumes its
    checkpoints one after the other (a model of its own each), as a process of its own would."""
    tmp, setups, _ = runs
    names = list(setups)
    out = {}
    for resumed in sorted({r for _, r in RESUMES}):
        written = [w for w, r in RESUMES if r == resumed]
        paths = [tmp / f"{w % len(names)}.hemsim" for w in written]
        if all(p.exists() for p in paths):
            reported = child(setups[names[resumed]], "resume", *map(str, paths), lines=len(paths))
            out.update({(w, resumed): r for w, r in zip(written, reported)})
    return out


@pytest.mark.parametrize("written,resumed", RESUMES, ids=["baseline->default", "default->baseline",
                                                          "generic->default"])
def test_a_checkpoint_resumes_identically_under_another_setting(runs, resumes, written, resumed):
    tmp, setups, out = runs
    names = list(setups)
    path = tmp / f"{written % len(names)}.hemsim"
    assert path.exists()
    r = resumes[(written, resumed)]
    assert r["results"] == PINNED and r["state"] == out[names[resumed]]["state"]


def test_numba_keeps_the_scalar_routines():
    """No SVML (its SIMD exp/log differ from the C library's in the last bits): `import sim` turns it off."""
    import numba

    import sim  # noqa: F401
    assert numba.config.USING_SVML is False

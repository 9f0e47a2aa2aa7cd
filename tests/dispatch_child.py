"""One process of tests/test_dispatch.py, started under one SIMD/BLAS setting; prints a JSON line.

    python tests/dispatch_child.py run [CHECKPOINT]         the pinned run (saving its state after 3 years)
    python tests/dispatch_child.py resume CHECKPOINT [...]  the rest of the pinned run from each saved state, in turn

Every line also reports the setting as the process saw it (numpy's active dispatch targets, OpenBLAS's
core) and digests of the elementwise maths and reductions the model relies on, on fixed inputs.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

sys.path.insert(0, str(Path(__file__).parent))

from pinned import digests, pinned_config  # noqa: E402
from sim import checkpoint, fpmath  # noqa: E402
from sim.model import HemsimModel  # noqa: E402

CHECKPOINT_YEARS = 3


def setting() -> dict:
    from threadpoolctl import threadpool_info
    return {"dispatch": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)],
            "openblas": sorted({i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"})}


def primitives() -> dict[str, str]:
    rng = np.random.default_rng(0)
    x, p = rng.normal(0, 3, 10_007), rng.uniform(1e-3, 60, 10_007)
    table = rng.normal(size=(97, 131))
    ties = rng.integers(0, 5, 10_007).astype(float)
    values = {"exp": fpmath.exp(x), "log": fpmath.log(p), "log1p": fpmath.log1p(p), "expm1": fpmath.expm1(x / 10),
              "power": fpmath.power(p, x / 7), "sin": fpmath.sin(x), "cos": fpmath.cos(x),
              "arcsin": fpmath.arcsin(np.clip(x / 10, -1, 1)), "tanh": fpmath.tanh(x), "dot": np.array(fpmath.dot(x, p)),
              "linear_fit": np.array(fpmath.linear_fit(x, p)),
              "sums": np.concatenate([[x[:n].sum() for n in (7, 9, 130, 1_000, 10_007)], table.sum(axis=0),
                                      table.sum(axis=1), table.mean(axis=0), table.T.sum(axis=1), np.cumsum(x)]),
              "stable_argsort": np.argsort(ties, kind="stable").astype(np.int64)}
    return {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()[:16] for k, v in values.items()}


def state_digest(model) -> str:
    """SHA-256 of the model's whole state at the end (what a checkpoint holds), but the recorded tables."""
    state = model.state()
    state.pop("recorded")
    h = hashlib.sha256()

    def walk(x):
        if isinstance(x, dict):
            for k in sorted(x, key=str):
                h.update(str(k).encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, np.ndarray):
            h.update(str(x.dtype).encode() + np.ascontiguousarray(x).tobytes())
        else:
            h.update(repr(x).encode())
    walk(state)
    return h.hexdigest()


def report(model, results) -> None:
    print(json.dumps({"setting": setting(), "primitives": primitives(), "results": digests(results),
                      "state": state_digest(model)}))


def main(mode: str, *paths: str) -> None:
    cfg = pinned_config()
    if mode == "run":
        path = paths[0] if paths else None

        def save(model):
            if path and model.year == cfg.start_year + CHECKPOINT_YEARS:
                checkpoint.save(Path(path), model.state(), "pinned", model.year)
        model = HemsimModel(cfg)
        report(model, model.run(checkpoint_every=1, on_checkpoint=save))
    else:                     # a line for each checkpoint, each resumed by a model of its own
        for path in paths:
            model = HemsimModel(cfg, state=checkpoint.load(Path(path), "pinned"))
            report(model, model.run())


if __name__ == "__main__":
    main(*sys.argv[1:])

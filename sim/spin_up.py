"""A cache of spun-up states: the years before the first recorded one, simulated once per configuration.

Every run starts by simulating `spin_up_years` unrecorded years (11 by default: programmes fill and
the doctoral pipeline flows) under the default policy: scenario levers act only from the start year.
So the state at the start depends on the world, the behaviour, the start year, the seed and the code,
never on the scenario or the number of years: a sweep of scenarios at one seed, or the same run again,
can start from the state the first run saved. It is saved in the checkpoint format (data, never code,
checked by SHA-256: sim/checkpoint.py) under a key over all of that, including a digest of hemsim's own
source files, so a code change never reuses an old state. Restoring is byte-identical to simulating
(the same test as checkpoints: tests/test_spin_up.py).

Where: $HEMSIM_CACHE_DIR/spin-up (default ~/.cache/hemsim/spin-up); at most MAX_FILES states and
MAX_BYTES, the least recently used removed first (only files this cache wrote); worlds above
MAX_STUDENTS agents are not cached (their states are large: checkpoints serve them).
HEMSIM_SPIN_UP_CACHE=0 turns it off.
"""

import dataclasses
import hashlib
import json
import os
from functools import cache
from pathlib import Path

from sim import checkpoint

MAX_FILES = 64
MAX_BYTES = 2 * 2 ** 30          # the cache's size on disk, at most
MAX_STUDENTS = 5_000_000         # larger worlds are not cached (a state of ~250 MB and more): use checkpoints
SUFFIX = ".spin-up.hemsim"


def enabled(cfg=None) -> bool:
    on = os.environ.get("HEMSIM_SPIN_UP_CACHE", "1") not in ("0", "false", "no", "off")
    return on and (cfg is None or cfg.world.students <= MAX_STUDENTS)


def folder() -> Path:
    root = os.environ.get("HEMSIM_CACHE_DIR") or Path.home() / ".cache" / "hemsim"
    return Path(root) / "spin-up"


@cache
def code_digest() -> str:
    """SHA-256 over hemsim's source files and the versions of the libraries its kernels run on."""
    import numba
    import numpy
    h = hashlib.sha256(f"{numpy.__version__} {numba.__version__}".encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def data_digest(cfg) -> dict:
    """The real world's input files by SHA-256 (the world is built from them, whatever the config says)."""
    if cfg.world.kind == "synthetic":
        return {}
    from sim.io import sha256
    from sim.world.real import DATA_FILES
    d = Path(cfg.world.data_dir).expanduser()
    return {name: sha256(d / name) for name in DATA_FILES if (d / name).is_file()}


def key(cfg, schedule) -> str:
    """What the spun-up state depends on: world, behaviour, start year, seed, the schedule, the code and,
    for the real world, its data files."""
    parts = {"world": dataclasses.asdict(cfg.world), "behaviour": dataclasses.asdict(cfg.behaviour),
             "start_year": cfg.start_year, "seed": cfg.seed, "backend": cfg.backend,
             "schedule": [f"{c.__module__}.{c.__qualname__}" for c in schedule], "code": code_digest(),
             "data": data_digest(cfg)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def load(k: str) -> dict | None:
    """The cached state under this key, or None (absent, or not whole: then it is simulated again)."""
    path = folder() / f"{k[:32]}{SUFFIX}"
    if not path.is_file():
        return None
    try:
        state = checkpoint.load(path, k)
    except checkpoint.CheckpointError:
        return None
    os.utime(path)                     # recently used: pruned last
    return state


def save(k: str, state: dict, year: int) -> None:
    """Save a spun-up state; a cache that cannot be written (read-only home, full disk) is skipped."""
    d = folder()
    try:
        d.mkdir(parents=True, exist_ok=True)
        checkpoint.save(d / f"{k[:32]}{SUFFIX}", state, k, year)
        _prune(d)
    except OSError:
        pass


def _prune(d: Path) -> None:
    """Remove the least recently used states beyond MAX_FILES or MAX_BYTES (only this cache's files)."""
    files = sorted(d.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    kept = 0
    for i, path in enumerate(files):
        kept += path.stat().st_size
        if i >= MAX_FILES or kept > MAX_BYTES:
            path.unlink(missing_ok=True)

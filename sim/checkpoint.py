"""Checkpoints: a long run saves its state every N years so that a killed run can resume.

A checkpoint holds everything the next year reads (students, researchers, university state,
networks, the year) and the years recorded so far. The random numbers are counter-based, so
there is no generator state to save: a resumed run ends bit-identical to an uninterrupted one.

The file is two pickles (protocol 5, which streams NumPy arrays without copying them): a small
header, read and checked first, then the state. It is written atomically (a temporary file
renamed into place), so a run killed while saving keeps its previous checkpoint. The header
names the format version and a digest of the run's configuration: a checkpoint from another
version of the state, or from another configuration, is refused with a one-line message.
"""

import hashlib
import json
import pickle
from pathlib import Path

from sim.errors import UserError
from sim.io import atomic_write

FORMAT = "hemsim-checkpoint"
VERSION = 2          # bump whenever the saved state changes shape or meaning (2: structures of arrays)
FILENAME = "checkpoint.pkl"
RUN_CONTROL = ("progress", "resume", "checkpoint_every")  # keys that do not change the results


class CheckpointError(UserError):
    """A checkpoint that cannot be resumed from."""


def config_digest(resolved: dict) -> str:
    """SHA-256 of a run's resolved configuration, without the keys that only control the run."""
    kept = {k: v for k, v in resolved.items() if k not in RUN_CONTROL}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def save(path: Path, state: dict, digest: str, year: int) -> None:
    header = {"format": FORMAT, "version": VERSION, "config": digest, "year": year}

    def write(tmp):
        with open(tmp, "wb") as f:
            pickle.dump(header, f, protocol=5)
            pickle.dump(state, f, protocol=5)
    atomic_write(path, write)


def load(path: Path, digest: str) -> dict:
    """The state saved in `path`, after checking that this version and configuration can resume it."""
    with open(path, "rb") as f:
        try:
            header = pickle.load(f)
        except Exception as e:  # truncated, or not a pickle at all
            raise CheckpointError(f"checkpoint {path}: not a hemsim checkpoint ({type(e).__name__}); "
                                  f"delete it or rerun with resume=false") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path}: not a hemsim checkpoint; delete it or rerun with resume=false")
        if header.get("version") != VERSION:
            raise CheckpointError(f"checkpoint {path}: format version {header.get('version')}, this hemsim reads "
                                  f"version {VERSION} only; rerun with resume=false to start over")
        if header.get("config") != digest:
            raise CheckpointError(f"checkpoint {path}: written by a different configuration; resume with the same "
                                  f"overrides, or rerun with resume=false to start over")
        return pickle.load(f)

"""Checkpoints: a long run saves its state every N years so that a killed run can resume.

A checkpoint holds everything the next year reads (students, researchers, university state,
networks, the year) and the years recorded so far. The random numbers are counter-based, so
there is no generator state to save: a resumed run ends bit-identical to an uninterrupted one.

The file is data, never code (cluster users share run folders, and a file that can run code when
read is a way in). Layout:

    HEMSIM-CHECKPOINT\\n                       magic line
    {"format": ..., "version": ..., "config": ..., "year": ..., "bytes": N, "sha256": ...}\\n
    N bytes: an .npz archive (NumPy arrays only, read with allow_pickle=False) holding the state's
    arrays and, as `__tree__`, the state's structure in JSON (dicts, lists, tuples, numbers,
    strings; each array by name; arrays of strings and None as strings plus a mask)

The header is read first (a bounded line), then the payload's length and SHA-256 are checked before
anything in it is parsed: a truncated, corrupted or foreign file, another format version or another
configuration is refused with one line. The file is written atomically (a temporary file renamed
into place), so a run killed while saving keeps its previous checkpoint.
"""

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np

from sim.errors import UserError
from sim.io import atomic_write

MAGIC = b"HEMSIM-CHECKPOINT\n"
FORMAT = "hemsim-checkpoint"
VERSION = 5          # bump whenever the saved state changes shape or meaning (3: npz + JSON, no pickle; 4: the
                     # workforce stock is shared state, not the workforce mechanism's own; 5: corridor constants)
FILENAME = "checkpoint.hemsim"
LEGACY = "checkpoint.pkl"            # versions 1-2 (pickles): never read
RUN_CONTROL = ("progress", "resume", "checkpoint_every")  # keys that do not change the results
MAX_HEADER = 4096


class CheckpointError(UserError):
    """A checkpoint that cannot be resumed from."""


def config_digest(resolved: dict) -> str:
    """SHA-256 of a run's resolved configuration, without the keys that only control the run."""
    kept = {k: v for k, v in resolved.items() if k not in RUN_CONTROL}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


# ---- the state as JSON + arrays ------------------------------------------------------------------
def _encode(obj, arrays: dict):
    if isinstance(obj, np.ndarray):
        name = f"a{len(arrays)}"
        if obj.dtype != object:
            arrays[name] = obj
            return {"$array": name}
        flat = obj.ravel()
        if not all(v is None or isinstance(v, str) for v in flat):
            raise TypeError("checkpoint: object arrays may hold strings and None only")
        arrays[name] = np.array(["" if v is None else v for v in flat], dtype=str).reshape(obj.shape)
        arrays[name + "_none"] = np.array([v is None for v in flat], dtype=bool).reshape(obj.shape)
        return {"$strings": name}
    if isinstance(obj, dict):
        return {"$dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return {"$scalar": obj.dtype.str, "value": obj.item()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint: cannot save a {type(obj).__name__}")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "$array" in obj:
        return arrays[obj["$array"]]
    if "$strings" in obj:
        values = arrays[obj["$strings"]].astype(object)
        values[arrays[obj["$strings"] + "_none"]] = None
        return values
    if "$dict" in obj:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["$dict"]}
    if "$tuple" in obj:
        return tuple(_decode(v, arrays) for v in obj["$tuple"])
    if "$scalar" in obj:
        return np.dtype(obj["$scalar"]).type(obj["value"])
    raise ValueError("unknown node")


def save(path: Path, state: dict, digest: str, year: int) -> None:
    """Write the state: the archive streamed to a temporary file and hashed from there, so a large state
    (a 1:1 world) is never held twice in memory."""
    arrays: dict = {}
    tree = json.dumps(_encode(state, arrays), allow_nan=True).encode()
    payload = Path(path).with_name(f".{Path(path).name}.payload.tmp")
    try:
        with open(payload, "wb") as f:
            np.savez(f, __tree__=np.frombuffer(tree, dtype=np.uint8), **arrays)
        size, checksum = payload.stat().st_size, _sha256_file(payload)
        header = {"format": FORMAT, "version": VERSION, "config": digest, "year": int(year), "bytes": size,
                  "sha256": checksum}

        def write(tmp):
            with open(tmp, "wb") as out, open(payload, "rb") as src:
                out.write(MAGIC)
                out.write(json.dumps(header).encode() + b"\n")
                shutil.copyfileobj(src, out, 16 * 2 ** 20)
        atomic_write(path, write)
    finally:
        payload.unlink(missing_ok=True)


def _sha256_file(path: Path, offset: int = 0) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        while block := f.read(16 * 2 ** 20):
            h.update(block)
    return h.hexdigest()


def load(path: Path, digest: str) -> dict:
    """The state saved in `path`, after checking that it is whole, and that this version and
    configuration can resume it; nothing in the file is parsed before its checksum matches."""
    advice = "delete it or rerun with resume=false"
    try:
        with open(path, "rb") as f:
            magic = f.read(len(MAGIC))
            line = f.readline(MAX_HEADER)
            offset = f.tell()
        total = Path(path).stat().st_size
    except OSError as e:
        raise CheckpointError(f"checkpoint {path}: cannot read it ({e.strerror})") from None
    if magic != MAGIC:
        raise CheckpointError(f"checkpoint {path}: not a hemsim checkpoint; {advice}")
    try:
        header = json.loads(line)
        size, checksum = int(header["bytes"]), str(header["sha256"])
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"checkpoint {path}: damaged header; {advice}") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: not a hemsim checkpoint; {advice}")
    if header.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {path}: format version {header.get('version')}, this hemsim reads "
                              f"version {VERSION} only; rerun with resume=false to start over")
    if header.get("config") != digest:
        raise CheckpointError(f"checkpoint {path}: written by a different configuration; resume with the same "
                              f"overrides, or rerun with resume=false to start over")
    if total - offset != size:
        raise CheckpointError(f"checkpoint {path}: cut short ({total - offset:,} of {size:,} bytes); {advice}")
    if _sha256_file(path, offset) != checksum:
        raise CheckpointError(f"checkpoint {path}: checksum mismatch (the file was changed or damaged); {advice}")
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            with np.load(_Window(f, offset), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        return _decode(json.loads(arrays.pop("__tree__").tobytes()), arrays)
    except Exception as e:              # a well-formed checksum over a malformed payload: not ours
        raise CheckpointError(f"checkpoint {path}: unreadable state ({type(e).__name__}); {advice}") from None


class _Window(io.RawIOBase):
    """The file from `offset` on, as a file of its own (the archive's offsets count from its start)."""

    def __init__(self, f, offset: int):
        self.f, self.offset = f, offset
        self.f.seek(offset)

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, b):
        return self.f.readinto(b)

    def seek(self, pos, whence=io.SEEK_SET):
        if whence == io.SEEK_SET:
            return self.f.seek(self.offset + pos) - self.offset
        return self.f.seek(pos, whence) - self.offset

    def tell(self):
        return self.f.tell() - self.offset


def refuse_legacy(outdir: Path) -> None:
    """A checkpoint of hemsim before version 3 is a pickle, which could run code when read: never read it."""
    if (outdir / LEGACY).exists():
        raise CheckpointError(f"checkpoint {outdir / LEGACY}: a pickle from an older hemsim, which is never read "
                              f"(a pickle can run code); rerun with resume=false to start over")

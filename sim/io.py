"""Run outputs on disk: Parquet tables and a manifest, written atomically.

A run directory is complete when `manifest.json` is present and says so: it is written last,
after every table has been renamed into place, and it records each table's SHA-256. A run
that fails or is killed midway leaves no manifest (and no half-written table under a final
name), so nothing incomplete passes as complete.
"""

import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
TABLES = ("flows", "metrics")
MANIFEST_VERSION = 1
PACKAGES = ("hemsim", "numpy", "numba", "mesa", "hydra-core", "pyarrow", "pandas")


def _umask() -> int:
    try:                        # Linux says it without changing it (safe with threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)      # elsewhere reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Write `path` through a temporary file renamed into place, with the mode a plain open() would give
    (0666 less the umask; mkstemp alone makes files only their owner can read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(table: pa.Table, path: Path) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def json_digest(obj: dict) -> str:
    """SHA-256 of a JSON record's content (without its own `sha256` field), as it reads back from disk."""
    plain = json.loads(json.dumps({k: v for k, v in obj.items() if k != "sha256"}, default=str))
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()


def write_json(obj: dict, path: Path, checksum: bool = False) -> None:
    """Write a JSON record atomically; with `checksum`, it carries the SHA-256 of its content (`sha256`),
    so a record changed or damaged on disk is recognised when it is read back (`read_checked_json`)."""
    if checksum:
        obj = obj | {"sha256": json_digest(obj)}

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
    atomic_write(path, write)


def read_checked_json(path: Path) -> dict | None:
    """A JSON record written with a checksum, or None when it is missing, malformed or does not match
    (a record without the field, from an older hemsim, is taken as it is)."""
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(obj, dict) or ("sha256" in obj and obj["sha256"] != json_digest(obj)):
        return None
    return obj


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def numeric_platform() -> dict:
    """What the last bits of a result can depend on beyond the locked versions (README, "Reproducibility"):
    the architecture, the C library whose libm the kernels call, and whether the CPU has FMA (glibc's
    libm takes other code paths without it)."""
    from numpy._core._multiarray_umath import __cpu_features__
    libc, version = platform.libc_ver()
    return {"machine": platform.machine(), "libc": f"{libc} {version}".strip() or "unknown",
            "cpu_fma": bool(__cpu_features__.get("FMA3") and __cpu_features__.get("AVX2"))}


def write_run(outdir: Path, tables: dict[str, pa.Table], config: dict, seed: int, wall_seconds: float,
              extra: dict | None = None) -> dict:
    """Write the tables, then the manifest that marks the run complete. Returns the manifest."""
    outdir = Path(outdir)
    (outdir / MANIFEST).unlink(missing_ok=True)  # the run is incomplete until its new manifest lands
    files = {}
    for name, table in tables.items():
        path = outdir / f"{name}.parquet"
        write_table(table, path)
        files[path.name] = {"sha256": sha256(path), "rows": table.num_rows}
    manifest = {
        "manifest_version": MANIFEST_VERSION, "complete": True, "seed": seed, "config": config,
        "files": files, "versions": versions(), "git_commit": git_commit(), "wall_seconds": round(wall_seconds, 3),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(), "platform": numeric_platform(),
        "numba_threads": _numba_threads(), **(extra or {}),
    }
    write_json(manifest, outdir / MANIFEST, checksum=True)
    return manifest


OWN_FILES = ("flows.parquet", "metrics.parquet", "students.parquet", MANIFEST, "checkpoint.hemsim")


def clean_stale(outdir: Path, keep: tuple[str, ...] = ()) -> list[Path]:
    """Remove what a killed or older run of ours left in its folder: our temporary files (`.<name>.*.tmp`)
    and our outputs this run will not write again (e.g. students.parquet without sample_students). Only
    names hemsim writes; anything else in the folder is left alone."""
    outdir = Path(outdir)
    removed = []
    if not outdir.is_dir():
        return removed
    for name in OWN_FILES:
        stale = list(outdir.glob(f".{name}.*.tmp"))
        if name not in keep and name not in (MANIFEST, "checkpoint.hemsim"):
            stale += [outdir / name] if (outdir / name).exists() else []
        for path in stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def data_hashes(files: list[Path]) -> dict[str, str]:
    """{file name: SHA-256} of the input data a run read (recorded in its manifest)."""
    return {Path(f).name: sha256(Path(f)) for f in files}


def read_manifest(outdir: Path) -> dict | None:
    """The manifest of a complete run whose files are intact, else None."""
    manifest = read_checked_json(Path(outdir) / MANIFEST)
    if manifest is None or not manifest.get("complete"):
        return None
    for name, info in manifest.get("files", {}).items():
        f = Path(outdir) / name
        if not f.exists() or sha256(f) != info.get("sha256"):
            return None
    return manifest


def _numba_threads() -> int:
    import numba
    return numba.get_num_threads()

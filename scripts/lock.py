"""The dependency lock: requirements.lock, every package hemsim installs at one version, with hashes.

    python scripts/lock.py --write --uv PATH   resolve pyproject.toml into requirements.lock, keeping its pins (make lock)
    python scripts/lock.py --write --upgrade   ... to the newest versions allowed (make lock UPGRADE=1)
    python scripts/lock.py --check             is requirements.lock the resolution of this pyproject.toml?

The lock is `uv pip compile` of the project's dependencies, its `test` extra, its build
requirements (setuptools: `make venv` installs hemsim itself without build isolation, so the build uses
the locked setuptools too) and pip, resolved once for every platform and every Python >= 3.12 (`--universal`),
with the SHA-256 of every file pip may download (`--generate-hashes`; `pip install --require-hashes`
refuses anything else). Its first line records the SHA-256 of the inputs it was resolved from (those
tables of pyproject.toml and the options below): `--check` recomputes it, so an edit of the
dependencies without `make lock` is refused in one line, by `make venv` and by the tests
(tests/test_lock.py, which also checks that what is installed is exactly what is locked).

Standard library only: `make venv` runs the check before anything is installed.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
EXTRAS = ("test",)
TOOLS = ("pip",)        # the installer itself, at one version too
OPTIONS = ("--universal", "--python-version", "3.12", "--generate-hashes", "--no-header", "--quiet")
MARK = "# input-sha256: "


def inputs(pyproject: Path = PYPROJECT) -> dict:
    """What the resolution depends on: the requirement tables of pyproject.toml and the resolver's options."""
    p = tomllib.loads(pyproject.read_text())
    project = p.get("project", {})
    return {"requires-python": project.get("requires-python"), "dependencies": project.get("dependencies", []),
            "optional-dependencies": {k: v for k, v in project.get("optional-dependencies", {}).items() if k in EXTRAS},
            "build-system": p.get("build-system", {}).get("requires", []), "tools": list(TOOLS),
            "options": list(OPTIONS)}


def digest(pyproject: Path = PYPROJECT) -> str:
    return hashlib.sha256(json.dumps(inputs(pyproject), sort_keys=True).encode()).hexdigest()


def header() -> str:
    return (f"{MARK}{digest()}\n"
            "# The locked dependencies of hemsim (scripts/lock.py; refresh with `make lock`, never by hand).\n"
            "# Resolved by `uv pip compile " + " ".join(OPTIONS[:-2]) + "` from pyproject.toml: dependencies,\n"
            f"# extra {', '.join(EXTRAS)}, build-system requires, pip. `make venv` installs exactly these.\n")


def check(lock: Path = LOCK, pyproject: Path = PYPROJECT) -> str | None:
    """None if the lock was resolved from this pyproject.toml, else a one-line reason."""
    if not lock.exists():
        return f"{lock.name} is missing: run `make lock`"
    first = lock.read_text().split("\n", 1)[0]
    if not first.startswith(MARK):
        return f"{lock.name}: no '{MARK.strip()}' first line (not written by scripts/lock.py): run `make lock`"
    if first[len(MARK):].strip() != digest(pyproject):
        return (f"{lock.name} was resolved from other requirements than pyproject.toml's (dependencies, extra "
                f"{', '.join(EXTRAS)}, build-system): run `make lock` and commit both")
    return None


def pins(lock: Path = LOCK) -> list[tuple[str, str, str, list[str]]]:
    """(name, version, environment marker or "", hashes) of every locked package, in file order."""
    out = []
    for entry in lock.read_text().replace("\\\n", " ").splitlines():
        if entry and not entry[0].isspace() and not entry.startswith("#"):
            requirement, _, marker = entry.split(" --hash")[0].partition(";")
            name, _, version = requirement.strip().partition("==")
            out.append((name, version, marker.strip(), [h.split()[0] for h in entry.split("--hash=")[1:]]))
    return out


def write(uv: str, upgrade: bool = False) -> None:
    """Resolve pyproject.toml's requirements and replace the lock atomically. The current lock's pins are kept
    where the requirements still allow them (uv prefers an output file's pins), so adding a dependency does
    not move every other package; `upgrade` resolves anew, to the newest versions allowed."""
    build = "\n".join([*inputs()["build-system"], *TOOLS]) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "build.in").write_text(build)
        out = Path(tmp) / "requirements.lock"
        if LOCK.exists() and not upgrade:
            out.write_text(LOCK.read_text())
        extras = [a for e in EXTRAS for a in ("--extra", e)]
        subprocess.run([uv, "pip", "compile", str(PYPROJECT), str(Path(tmp) / "build.in"), *extras, *OPTIONS,
                        *(["--upgrade"] if upgrade else []), "-o", str(out)], check=True, cwd=ROOT)
        body = out.read_text().replace(tmp + "/", "")
        staged = LOCK.with_suffix(".lock.tmp")
        staged.write_text(header() + body)
        staged.replace(LOCK)
    print(f"lock: wrote {LOCK.name} ({sum(1 for line in body.splitlines() if '==' in line)} packages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 2 if the lock is not pyproject.toml's")
    action.add_argument("--write", action="store_true", help="resolve anew with uv and write the lock")
    parser.add_argument("--uv", default="uv", help="the uv executable (--write)")
    parser.add_argument("--upgrade", action="store_true", help="with --write: newest versions, not the lock's")
    args = parser.parse_args()
    if args.write:
        write(args.uv, args.upgrade)
    problem = check()
    if problem:
        print(f"lock: {problem}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

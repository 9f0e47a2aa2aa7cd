"""The lock file: requirements.lock is the resolution of pyproject.toml, and the venv holds exactly it."""

import importlib.util
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

spec = importlib.util.spec_from_file_location("lock", ROOT / "scripts" / "lock.py")
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)

PINS = lock.pins()


def here(marker: str) -> bool:
    return not marker or Marker(marker).evaluate()


def test_the_lock_is_the_resolution_of_pyproject():
    assert lock.check() is None
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock.py"), "--check"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""


@pytest.mark.parametrize("edit", [
    lambda s: s.replace('"numpy>=2.0",', '"numpy>=2.0",\n    "requests>=2",'),        # a dependency added
    lambda s: s.replace('"tabulate>=0.9",\n', ""),                                    # one removed
    lambda s: s.replace('"pytest>=8"', '"pytest>=9"'),                                # a test extra narrowed
    lambda s: s.replace('requires = ["setuptools>=68"]', 'requires = ["setuptools>=70"]'),  # the build's
], ids=["added", "removed", "extra", "build"])
def test_an_edit_of_the_requirements_without_make_lock_is_refused(tmp_path, edit):
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    assert edit(text) != text
    pyproject.write_text(edit(text))
    problem = lock.check(lock.LOCK, pyproject)
    assert problem and "\n" not in problem and "make lock" in problem


def test_other_edits_of_pyproject_need_no_new_lock(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    assert lock.check(lock.LOCK, pyproject) is None


def test_a_lock_not_written_by_the_script_is_refused(tmp_path):
    fake = tmp_path / "requirements.lock"
    fake.write_text("numpy==2.5.5\n")
    assert "not written by scripts/lock.py" in lock.check(fake)
    assert "missing" in lock.check(tmp_path / "absent.lock")


def test_every_requirement_is_locked_at_a_version_it_allows():
    locked = {canonicalize_name(name): version for name, version, marker, _ in PINS if here(marker)}
    inputs = lock.inputs()
    wanted = [*inputs["dependencies"], *[r for e in inputs["optional-dependencies"].values() for r in e],
              *inputs["build-system"], *inputs["tools"]]
    for text in wanted:
        r = Requirement(text)
        if r.marker is None or r.marker.evaluate():
            assert canonicalize_name(r.name) in locked, f"{r.name} is not in the lock"
            assert r.specifier.contains(locked[canonicalize_name(r.name)], prereleases=True), \
                f"{r.name}=={locked[canonicalize_name(r.name)]} does not satisfy {r.specifier}"


def test_every_locked_package_carries_hashes():
    assert len(PINS) > 50
    for name, version, _, hashes in PINS:
        assert version and hashes and all(h.startswith("sha256:") and len(h) == 7 + 64 for h in hashes), name


def test_the_venv_holds_exactly_the_lock():
    """What `make venv` installed is the lock, nothing more or less (`pip freeze` equals the lock), hemsim
    itself aside. Outside the project's venv (no lock to compare with) there is nothing to check."""
    if sys.prefix != str(ROOT / ".venv"):
        pytest.skip("not the project's .venv")
    locked = {canonicalize_name(name): version for name, version, marker, _ in PINS if here(marker)}
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop("hemsim")
    assert installed == locked


def test_make_venv_refuses_a_stale_lock(tmp_path):
    """The check `make venv` runs first: exit 2, one line, before anything is installed."""
    copy = tmp_path / "project"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "lock.py", copy / "scripts")
    shutil.copy(ROOT / "requirements.lock", copy)
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text().replace('"numpy>=2.0"', '"numpy>=2.1"'))
    out = subprocess.run([sys.executable, str(copy / "scripts" / "lock.py"), "--check"], capture_output=True, text=True)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "make lock" in out.stderr

# hemsim: two commands from a fresh clone.
#   make run    the default study (baseline + policy scenarios x seeds) and its report
#               (make run WORLD=oecd: on the calibrated real world, in results/default_study_oecd;
#                RUN_ARGS="years=5" adds config overrides)
#   make test   the test suite
# Both create .venv and install hemsim into it the first time (needs a Python >= 3.12), with exactly the
# versions of requirements.lock (make lock refreshes it: README, "Installation and the lock file").

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.8
# A Python >= 3.12: the first of these that exists (pyenv's versions included).
PYTHON ?= $(shell for p in python3.12 python3.13 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python 2>/dev/null); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
WORLD ?=
RUN_ARGS ?=
UPGRADE ?=
STUDY_DIR := results/default_study$(if $(WORLD),_$(WORLD))

.PHONY: run test bench calibrate validate slurm-up slurm-down clean-results clean-cache venv lock

venv: $(STAMP)

UV := $(LOCK_VENV)/bin/uv
# uv at UV_VERSION, in a tool venv of its own (.venv-lock): it resolves the lock (make lock) and installs it
# (make venv: the same wheels as pip would, checked against the same hashes, in about a minute instead of
# 3-4). Byte-compiled at install, as pip does: every test's subprocess would otherwise compile numpy,
# pandas, scipy and Mesa from source again (PYTHONDONTWRITEBYTECODE is set on some machines), 7 s an import.
UV_READY = $(UV) --version 2>/dev/null | grep -q "^uv $(UV_VERSION)\b" || { \
	$(PYTHON) -m venv --clear $(LOCK_VENV) && $(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION); }

# Exactly the locked versions (requirements.lock, hashes checked), in a venv made afresh when the lock or
# pyproject.toml changes (so nothing outside the lock stays installed); hemsim itself without build
# isolation, so it is built with the locked setuptools.
$(STAMP): pyproject.toml $(LOCK) scripts/lock.py scripts/solara_assets.py
	@test -n "$(PYTHON)" || { echo "make: no Python >= 3.12 found (set PYTHON=/path/to/python3.12)"; exit 2; }
	@$(PYTHON) scripts/lock.py --check
	@$(UV_READY)
	$(PYTHON) -m venv --clear $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) --require-hashes -r $(LOCK)
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	$(PY) scripts/solara_assets.py
	@touch $(STAMP)

# Resolve pyproject.toml's requirements into requirements.lock with uv (UV_VERSION), keeping the lock's pins
# where still allowed (UPGRADE=1: the newest versions allowed); then `make venv` installs the new lock.
lock:
	@test -n "$(PYTHON)" || { echo "make: no Python >= 3.12 found (set PYTHON=/path/to/python3.12)"; exit 2; }
	@$(UV_READY)
	$(PYTHON) scripts/lock.py --write --uv $(UV) $(if $(UPGRADE),--upgrade)

run: $(STAMP)
	$(VENV)/bin/hemsim -m +sweep=default_study hydra.sweep.dir=$(STUDY_DIR) $(if $(WORLD),world=$(WORLD)) $(RUN_ARGS)
	$(VENV)/bin/hemsim-compare $(STUDY_DIR) --baseline baseline

# two workers, a test file to each at a time (a file's module fixtures and its cluster or browser are
# set up once); `make test ARGS="tests/test_cli.py"` runs part of it
test: $(STAMP)
	@# compile Numba's kernels once (a cold cache would otherwise be compiled by both workers at once)
	$(PY) -c "from sim.model import HemsimModel; HemsimModel(years=1, progress=False, **{'world.students': 2000, 'world.researchers': 200}).run()"
	$(PY) -m pytest -q -n 2 --dist loadfile $(ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks.run

# Refit the real world (world=oecd and the held-out world=oecd_holdout) from the data, ~42 min;
# then report its validation (held out and in sample) in results/validation/.
calibrate: $(STAMP)
	BIN=$(VENV)/bin bash scripts/calibrate-real-world.sh

validate: $(STAMP)
	$(VENV)/bin/hemsim-validate

slurm-up:
	bash scripts/slurm-up.sh

slurm-down:
	bash scripts/slurm-down.sh

# Numba's cache is keyed on each kernel's own source file: after editing a function that other
# modules' kernels inline (sim/rng.py, sim/alias.py, the rules in sim/mechanisms/), clear it.
clean-cache:
	find sim benchmarks -name '*.nbi' -delete -o -name '*.nbc' -delete

clean-results:
	rm -rf results/runs results/sweeps results/default_study results/default_study_*

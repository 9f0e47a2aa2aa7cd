"""hemsim: an agent-based simulator of global higher-education mobility."""

import os

__version__ = "0.1.0"

# Numba's OpenMP threads spin while they wait for work (libgomp's default: 300,000 spins). On a
# shared machine (a laptop with other work, a cluster node with neighbours, a local sweep with
# more processes than cores) a spinning thread that lost its core makes a year up to 10x slower.
# Threads here spin briefly (10,000 spins: back-to-back kernels still find them awake), then
# sleep; quiet-machine timings are unchanged (benchmarks/run.py). Set before Numba starts its
# threads; explicit settings win.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

# Results must not depend on the CPU (README, "Reproducibility"): with Intel's SVML installed, Numba
# would vectorise exp/log in loops with SIMD routines whose last bits differ from the C library's.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

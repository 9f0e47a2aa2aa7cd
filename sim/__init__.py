"""hemsim: an agent-based simulator of global higher-education mobility."""

import os

__version__ = "0.1.0"

# Numba's OpenMP threads spin while they wait for work by default. On a shared machine (a laptop
# with other work, a cluster node with neighbours) a spinning thread that lost its core makes a
# year up to 10x slower; sleeping instead costs nothing measurable when the machine is quiet
# (benchmarks/run.py). Set before Numba starts its threads; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

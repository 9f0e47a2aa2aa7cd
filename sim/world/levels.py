"""The real world's destination and origin constants, applied to a built world.

    destination_constant[d]   added to the utility of studying in d, for every origin
    origin_constant[o]        added to the utility of going abroad at all, for students of o

They carry what the choice's covariates leave out (a destination's language of instruction, degree
recognition or recruitment; an origin's propensity to send students abroad), as destination and
origin fixed effects do in gravity models: 0 in the synthetic world; for the real one, fitted to the
observed totals by `hemsim-levels` (sim/inference/levels.py) into configuration
(`world.destination_constants`, `world.origin_constants`, by ISO3 code; `conf/world/oecd_levels.yaml`).
"""

import numpy as np

from sim.errors import ConfigError


def apply(world, destination: dict[str, float], origin: dict[str, float]) -> None:
    """Set a world's constants from {ISO3 code: value} (codes not given: 0)."""
    index = {c: i for i, c in enumerate(world.codes)}
    for key, given, target in (("destination_constants", destination, world.destination_constant),
                               ("origin_constants", origin, world.origin_constant)):
        for code, value in given.items():
            if code not in index:
                raise ConfigError(f"world.{key}.{code}: not a country of this world "
                                  f"(codes are ISO3, e.g. {', '.join(world.codes[:3])})")
            if not np.isfinite(value):
                raise ConfigError(f"world.{key}.{code}={value}: must be a finite number")
            target[index[code]] = float(value)

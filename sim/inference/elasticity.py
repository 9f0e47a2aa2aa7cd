"""The fee elasticity of a destination's share of international students, as the model implies it.

For a destination d: raise the tuition its fee-paying origins pay by `step` (a corridor's lever), recompute
the choice's expected new degree-mobile entrants under the model's state, and take
d ln(share of d among the international entrants from the origins d charges) / d ln(fee). Only the origins
charged: the published estimates are of flows that pay the fee (about -0.8 for the flows of international
students to Italian universities, an elasticity of the bilateral flow: Beine, Delogu & Ragot 2018; docs/ODD.md
section 6), and a destination most of whose students are exempt (EU/EEA students in Sweden) would otherwise
show a share that barely moves whatever the response. The backtests report the model's beside them.
"""

import numpy as np

from sim import fpmath

from sim.mechanisms.library.destinations import expected_entrants, probabilities

# The destinations the fit and the report average over (those with fees in the history or the world's rule),
# and the published range of the elasticity (Beine, Delogu & Ragot 2018; docs/ODD.md section 6).
DESTINATIONS = ["GBR", "USA", "AUS", "CAN", "NLD", "IRL", "SWE", "DNK", "NZL", "JPN"]
PUBLISHED = (-1.0, -0.5)
YEAR = 2016                 # the world the elasticities are taken in: the last year of the bilateral data


def world_fee_elasticities(config, destinations: list[str] = DESTINATIONS) -> dict[str, float]:
    """{destination: elasticity} of the real world of YEAR under `config`'s behaviour, after one year of
    its policy (seed 0: the elasticities are of expected entrants, so the seed barely matters)."""
    import dataclasses
    from sim.model import HemsimModel
    model = HemsimModel(dataclasses.replace(config, start_year=YEAR, years=1, seed=0))
    model.step()
    return fee_elasticities(model, destinations)


def fee_elasticities(model, destinations: list[str], step: float = 0.1) -> dict[str, float]:
    """{destination: elasticity} at the model's current state and policy (run it a year first, so that the
    policy of that year is in force); destinations that charge no one are left out."""
    w = model.world
    before = _entrants(model)
    out = {}
    saved = model.policy
    for code in destinations:
        if code not in w.codes:
            continue
        d = w.codes.index(code)
        factor = saved["tuition_factor"].copy()
        paying = factor[:, d] > 0
        paying[d] = False
        if not paying.any():
            continue
        factor[:, d] *= 1.0 + step
        model.policy = dict(saved, tuition_factor=factor)
        try:
            after = _entrants(model)
        finally:
            model.policy = saved
        out[code] = float((fpmath.log(_share(after, paying, d)) - fpmath.log(_share(before, paying, d)))
                          / fpmath.log1p(step))
    return out


def _entrants(model) -> np.ndarray:
    """(C, C) new international degree entrants by origin and destination (expected)."""
    flows = expected_entrants(probabilities(model), model.world, model.rules.study.postgraduate_share)
    np.fill_diagonal(flows, 0.0)
    return flows


def _share(flows: np.ndarray, origins: np.ndarray, d: int) -> float:
    """Destination d's share of the international entrants from `origins` (a boolean mask)."""
    return float(flows[origins, d].sum() / flows[origins].sum())

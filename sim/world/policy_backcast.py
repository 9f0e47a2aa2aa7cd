"""Known policy differences applied to a backcast world's origin shares (sim/world/real.py, backcast).

Who studies where is observed from 2013 on only; a world of an earlier year keeps 2013's origin shares of
each destination, scaled to the UIS total of its own year. Where a destination's policy towards some
origins differed between the two years, 2013's shares are those of the later policy: Sweden's of 2013
hold few students from poorer origins because it charged them fees from 2011, so a Sweden of 2009 with
2013's shares would already look as if it charged them, and a backtest of the fees would start from a
composition the fees made. The adjustment moves each corridor's share by the change in the utility the
model's own degree choice gives it (visa openness, the right to stay and work, the cost of study against
a family income of the middle resources band), each destination's total kept at its UIS value:

    stock[o, d] x exp(u_year[o, d] - u_first[o, d]), rescaled so that each destination keeps its total.

It treats each corridor as a small share of its origin's choices (the origin's own denominator is left
out) and is applied to the start year of a run from a backcast only, which is where the composition of
the past matters (the backtests); docs/ODD.md 7.2.
"""

import numpy as np

from sim import fpmath
from sim.mechanisms.library.destinations import money_utility, right_to_stay
from sim.policies import build_tables

MIDDLE_BAND = 1   # the resources band whose family income prices a corridor's cost


def policy_utility(world, policy: dict[str, np.ndarray], choice) -> np.ndarray:
    """(C, C) the part of a foreign destination's utility that policy sets, by origin (rows) and destination:
    choice.visa x visa openness + the right to stay + the cost term of the middle resources band."""
    seats = np.bincount(world.univ_country, world.univ_capacity.astype(np.float64), world.n_countries)
    tuition = np.bincount(world.univ_country, world.univ_tuition_intl * world.univ_capacity,
                          world.n_countries) / np.maximum(seats, 1.0)
    return (choice.visa * policy["visa_openness"] + right_to_stay(world, policy, choice)
            + money_utility(world, policy, tuition, choice.cost)[:, MIDDLE_BAND, :])


def adjusted(stock: np.ndarray, world, choice, year: int, first: int) -> np.ndarray:
    """(C, C) a backcast `stock` of `year` (origin x destination, NaN unobserved) built on the shares of the
    observed year `first`, moved to the policies of `year` (the world's history, no scenario); each
    destination keeps its total."""
    if year >= first:
        return stock
    tables = build_tables([], world, year, first - year + 1)
    then = policy_utility(world, {k: v[0] for k, v in tables.items()}, choice)
    now = policy_utility(world, {k: v[-1] for k, v in tables.items()}, choice)
    seen = ~np.isnan(stock)
    moved = np.where(seen, np.nan_to_num(stock) * fpmath.exp(np.where(seen, then - now, 0.0)), 0.0)
    total, total_moved = np.nansum(stock, axis=0), moved.sum(axis=0)
    scale = np.where(total_moved > 0, total / np.where(total_moved > 0, total_moved, 1.0), 1.0)
    return np.where(seen, moved * scale[None, :], np.nan)

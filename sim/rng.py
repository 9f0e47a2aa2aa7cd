"""Counter-based random numbers: every draw is a pure function of its coordinates.

    u = uniform(seed, stream, year, agent, draw)      in [0, 1)

The same (seed, stream, year, agent, draw) gives the same number in every backend, thread
count, evaluation order and scenario. So a run is reproducible to the bit whatever the
parallelism, and two scenarios run at the same seed give each agent the same dice (common
random numbers): their difference is the policy's effect, not noise. The mixer is splitmix64
(Steele, Lea & Flood 2014), the finaliser Starsim also uses for its counter-based streams.

Streams name what a draw is for; each mechanism owns its streams, so adding a draw to one
mechanism never shifts the numbers another mechanism sees. hemsim's own are listed below; a new
mechanism declares its own in its module with `stream()`, which refuses a number already taken.
"""

import math

import numpy as np
from numba import njit, uint64

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Streams: one per kind of decision. Values are arbitrary but fixed forever (changing one
# changes every result drawn from it).
TALENT = 1
FIELD = 2
RESOURCES = 3
LEVEL = 4
CHOICE = 10
UNIVERSITY = 11    # retired: the university of an application now draws from CHOICE's key
EXCHANGE = 12
EXCHANGE_PARTNER = 13
EXCHANGE_LENGTH = 14
INTERNSHIP = 15
INTERNSHIP_HOST = 16
DROPOUT = 20
RETURN = 30
EMIGRATION = 31     # a home graduate looks for and takes a job abroad
RESEARCH = 50
RESEARCH_TEAM = 51
RESEARCH_CITES = 52
RESEARCH_VISIT = 53
RESEARCH_MIGRATE = 54
RESEARCH_EXIT = 55      # researchers leaving research
RESEARCH_HIRE = 56      # new researchers' productivity
PROGRESSION = 40        # a graduate goes on to a further degree (a master's, a doctorate)
PROGRESSION_CHOICE = 41 # where they apply
DOCTORAL_LENGTH = 42    # the doctorate's length (drawn once: year 0)
SERVICE = 60
SAMPLE = 70        # which students the per-student sample follows
ASSIMILATE = 80    # which students move when the start is made to match the observed stocks

_STREAMS = {value: name for name, value in dict(globals()).items() if name.isupper() and isinstance(value, int)
            and not name.startswith("_")}


def stream(number: int, name: str) -> int:
    """Declare a new stream where the mechanism that draws from it is defined (a module constant, which
    Numba's kernels read as a constant): `JOB_SEARCH = rng.stream(80, "job search")`. A number another
    stream uses is refused when the module is imported: two decisions must never share their dice."""
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 2 ** 32:
        raise ValueError(f"rng.stream({number!r}, {name!r}): a stream is an integer in 1 .. 2^32 - 1")
    if _STREAMS.get(number, name) != name:
        raise ValueError(f"rng.stream({number}, {name!r}): stream {number} is already {_STREAMS[number]!r} "
                         f"(taken: {sorted(_STREAMS)})")
    _STREAMS[number] = name
    return number


@njit(cache=True, inline="always")
def mix(x):
    """splitmix64 finaliser: a bijection on uint64 with full avalanche."""
    x = (x ^ (x >> uint64(30))) * _M1
    x = (x ^ (x >> uint64(27))) * _M2
    return x ^ (x >> uint64(31))


@njit(cache=True)
def prefix(seed, stream, year):
    """The part of a key shared by every agent of one decision in one year (hoist it out of loops)."""
    h = mix(uint64(seed) * _GOLDEN + uint64(stream))
    return mix(h ^ (uint64(year) * _GOLDEN))


@njit(cache=True, inline="always")
def key_from(pre, agent):
    """An agent's key from the shared prefix: key(seed, stream, year, agent) == key_from(prefix(...), agent)."""
    return mix(pre ^ uint64(agent))


@njit(cache=True)
def key(seed, stream, year, agent):
    """Hash of the coordinates that fix an agent's dice for one decision in one year."""
    return key_from(prefix(seed, stream, year), agent)


@njit(cache=True, inline="always")
def bits_at(k, draw):
    """The draw-th random 64-bit word of key k."""
    return mix(k + uint64(draw + 1) * _GOLDEN)


@njit(cache=True, inline="always")
def uniform_at(k, draw):
    """The draw-th uniform in [0, 1) of key k (53 random bits of bits_at(k, draw))."""
    return float(bits_at(k, draw) >> uint64(11)) * _TO_UNIT


@njit(cache=True)
def uniform(seed, stream, year, agent, draw):
    """One uniform number in [0, 1), a pure function of its coordinates."""
    return uniform_at(key(seed, stream, year, agent), draw)


@njit(cache=True, inline="always")
def normal_at(k, draw):
    """A standard normal deviate by Box-Muller from draws (draw, draw+1) of key k."""
    u1 = 1.0 - uniform_at(k, draw)  # in (0, 1]: log is finite
    u2 = uniform_at(k, draw + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def uniforms(seed: int, stream: int, year: int, agents: np.ndarray, draw: int = 0) -> np.ndarray:
    """Vector form of `uniform` for tests and analysis code."""
    return _uniforms(np.uint64(seed), np.int64(stream), np.int64(year), agents.astype(np.uint64), np.int64(draw))


@njit(cache=True)
def _uniforms(seed, stream, year, agents, draw):
    out = np.empty(agents.shape[0], np.float64)
    for i in range(agents.shape[0]):
        out[i] = uniform(seed, stream, year, agents[i], draw)
    return out

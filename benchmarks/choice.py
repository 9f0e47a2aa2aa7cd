"""The destination-choice step (each entrant's first application): Numba vs Mesa vs numpy.

The same rule, the same students, the same counter-based random numbers:

- numba: `sim.mechanisms.choice.applications` for k=0 over the entrants (the array backend);
- mesa:  `sim.agents.Student.application` on one mesa.Agent per student (the reference backend);
- numpy: `draw_numpy` below, a plain vectorised-numpy alias draw on uniforms computed with numpy
  uint64 arithmetic (benchmark-only code);
- inlined: `inlined_applications` below, the same kernel with the per-student rule written
  inside the prange loop (key prefixes hoisted, no call per student): what choice.applications
  costs once `choice._application` is inlined (`@njit(inline="always")`); same choices; measured
  here, not used by the simulator.

All must name the same university for every student; the benchmark asserts it. Only the choice
step is timed (best of 51 runs for the kernels, 11 for numpy, 3 for Mesa); tables and cohort are
built once. `floor` is the time to stream the step's per-student inputs and output once at the
machine's measured memory bandwidth.
"""

import time

import numpy as np
from numba import njit, prange

from sim import alias, rng
from sim.agents import Student
from sim.config import Config
from sim.mechanisms import choice, enrolment
from sim.model import HemsimModel

STUDENTS = 200_000

_GOLDEN, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1


def _timed(fn, repeats: int) -> tuple[float, object]:
    """Best of `repeats` wall times (the least disturbed by other processes on the machine)."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


# ---- numpy reference: splitmix64 and the alias draw, vectorised ---------------------------------
def _mix(x: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser in place on a uint64 array (as sim.rng.mix)."""
    np.right_shift(x, np.uint64(30), out=tmp)
    x ^= tmp
    x *= _M1
    np.right_shift(x, np.uint64(27), out=tmp)
    x ^= tmp
    x *= _M2
    np.right_shift(x, np.uint64(31), out=tmp)
    x ^= tmp
    return x


def _mix_int(x: int) -> int:
    x = ((x ^ (x >> 30)) * int(_M1)) & _MASK
    x = ((x ^ (x >> 27)) * int(_M2)) & _MASK
    return x ^ (x >> 31)


def _keys(seed: int, stream: int, year: int, uid: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """sim.rng.key for every uid: the per-(seed, stream, year) prefix is a Python-int scalar."""
    h = _mix_int((seed * int(_GOLDEN) + stream) & _MASK)
    h = _mix_int(h ^ ((year * int(_GOLDEN)) & _MASK))
    return _mix(uid ^ np.uint64(h), tmp)


def _uniforms(k: np.ndarray, draw: int, tmp: np.ndarray) -> np.ndarray:
    x = k + np.uint64(((draw + 1) * int(_GOLDEN)) & _MASK)
    _mix(x, tmp)
    x >>= np.uint64(11)
    return x.astype(np.float64) * (1.0 / 9007199254740992.0)


def _alias_draw(accept, alias_, row, k, draw, tmp):
    n = accept.shape[1]
    j = np.minimum((_uniforms(k, draw, tmp) * n).astype(np.int64), n - 1)
    flat = row * n + j
    keep = _uniforms(k, draw + 1, tmp) < accept.ravel()[flat]
    return np.where(keep, j, alias_.ravel()[flat])


def draw_numpy(seed, year, uid, origin, field, talent, resources, level, t):
    """First applications (k=0) of a cohort, in vectorised numpy: the rule of choice.application."""
    tmp = np.empty_like(uid)
    band = np.searchsorted(np.array(enrolment.TALENT_CUTS), talent, side="right")
    group = (((origin.astype(np.int64) * t.n_fields + field) * choice.TALENT_BANDS + band)
             * choice.RESOURCE_BANDS + resources) * choice.LEVELS + level
    country = _alias_draw(t.c_accept, t.c_alias, group, _keys(seed, rng.CHOICE, year, uid, tmp), 0, tmp)
    row = country * t.n_fields + field
    j = _alias_draw(t.u_accept, t.u_alias, row, _keys(seed, rng.UNIVERSITY, year, uid, tmp), 0, tmp)
    return t.univ_of[country, j]


# ---- the proposed kernel: the rule inline in the loop, rng.key's prefix hoisted -------------------
@njit(cache=True, parallel=True)
def inlined_applications(candidates, seed, year, uid, origin, field, talent, resources, level,
                         c_accept, c_alias, u_accept, u_alias, univ_of, n_fields):
    """choice.applications for k=0, the rule inline (a call per student passes six arrays as structs)."""
    out = np.empty(candidates.shape[0], np.int32)
    pc, pu = rng.prefix(seed, rng.CHOICE, year), rng.prefix(seed, rng.UNIVERSITY, year)
    for m in prange(candidates.shape[0]):
        i = candidates[m]
        f = field[i]
        g = choice.group_of(origin[i], f, talent[i], resources[i], level[i], n_fields)
        country = alias.draw(c_accept, c_alias, g, rng.key_from(pc, uid[i]), 0)
        j = alias.draw(u_accept, u_alias, country * n_fields + f, rng.key_from(pu, uid[i]), 0)
        out[m] = univ_of[country, j]
    return out


# ---- memory bandwidth -----------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _parallel_copy(src, dst):
    for i in prange(src.shape[0]):
        dst[i] = src[i]


def bandwidth(nbytes: int = 1 << 29, repeats: int = 5) -> float:
    """Bytes per second the machine streams (read + write) in a large copy: the best of numpy's
    single-threaded copy and a parallel Numba copy on all threads."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    _parallel_copy(src[:16], dst[:16])
    t_np, _ = _timed(lambda: np.copyto(dst, src), repeats)
    t_nb, _ = _timed(lambda: _parallel_copy(src, dst), repeats)
    return 2 * nbytes / min(t_np, t_nb)


# ---- the benchmark --------------------------------------------------------------------------------
def bench(students: int = STUDENTS, countries: int = 40, universities: int = 400, mesa_repeats: int = 3) -> dict:
    """Times of the three implementations on a cohort of `students` entrants of a world built by
    HemsimModel (default config: 40 countries, 400 universities), tables from model.year_tables()."""
    cfg = Config()
    cfg.world.countries, cfg.world.universities, cfg.progress = countries, universities, False
    model = HemsimModel(cfg)
    w, year, seed = model.world, cfg.start_year, model.seed
    tables = model.year_tables()
    quota = w.cohort / w.cohort.sum() * students                     # a cohort of exactly `students`
    sizes = np.floor(quota).astype(np.int64)
    sizes[np.argsort(sizes - quota, kind="stable")[:students - sizes.sum()]] += 1
    uid, origin, talent, field, resources, level = enrolment.new_cohort(
        seed, year, sizes, tables.field_cum, tables.log_income, tables.postgraduate_share)
    entrants = np.arange(students, dtype=np.int64)                    # as ArrayStudents.admit's `pending`

    def numba_step():
        return choice.applications(entrants, 0, tables.abroad_applications, seed, year, uid, origin, field, talent,
                                   resources, level, tables.c_accept, tables.c_alias, tables.u_accept,
                                   tables.u_alias, tables.univ_of, tables.n_fields)

    numba_step()
    t_numba, ours = _timed(numba_step, 51)
    t_numpy, theirs = _timed(lambda: draw_numpy(seed, year, uid, origin, field, talent, resources, level, tables), 11)
    assert np.array_equal(ours, theirs), "numpy and numba choices differ"

    def inlined_step():
        return inlined_applications(entrants, seed, year, uid, origin, field, talent, resources, level,
                                    tables.c_accept, tables.c_alias, tables.u_accept, tables.u_alias, tables.univ_of,
                                    tables.n_fields)

    inlined_step()
    t_inlined, proposed = _timed(inlined_step, 51)
    assert np.array_equal(ours, proposed), "the inlined kernel's choices differ"

    agents = [Student(model, int(uid[i]), int(origin[i]), year, tables) for i in range(students)]
    assert np.array_equal([s.talent for s in agents], talent.astype(np.float64))
    assert [(s.field, s.resources, s.level) for s in agents] == list(zip(field.tolist(), resources.tolist(),
                                                                          level.tolist()))
    t_mesa, mesa_out = _timed(lambda: [s.application(0, year, tables) for s in agents], mesa_repeats)
    assert np.array_equal(np.array(mesa_out), ours), "mesa and numba choices differ"
    for s in agents:
        s.remove()

    per_student = sum(a.itemsize for a in (entrants, uid, origin, field, talent, resources, level, ours))
    bw = bandwidth()
    floor = students * per_student / bw
    abroad = float(np.mean(w.univ_country[ours] != origin))
    return dict(students=students, numba=t_numba, numpy=t_numpy, mesa=t_mesa, inlined=t_inlined, floor=floor,
                bandwidth=bw, bytes_per_student=per_student, abroad_share=abroad, countries=w.n_countries,
                universities=w.n_universities, groups=tables.c_accept.shape[0])


if __name__ == "__main__":
    print(bench())
    print(bench(countries=200, universities=1000))

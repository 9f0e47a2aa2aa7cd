"""The destination-choice step (each entrant's first application): Numba vs Mesa vs numpy.

The same rule, the same students, the same counter-based random numbers:

- numba: `sim.mechanisms.choice.first_applications` over the entrants (what the array backend
  runs in the first admission round);
- mesa:  `sim.mechanisms.choice.application` called for one mesa.Agent (`sim.agents.Student`) at a
         time, as the reference backend's `DegreeChoice.step_agents` does;
- numpy: `draw_numpy` below, a plain vectorised-numpy alias draw on random words computed with
  numpy uint64 arithmetic (benchmark-only code).

All must name the same university for every student; the benchmark asserts it. Only the choice
step is timed (best of 201 runs for the kernel, 21 for numpy, 3 for Mesa: the runs least
disturbed by other work on the machine); tables and cohort are built once. `floor` is the time
to stream the step's per-student inputs and output once at the machine's measured memory
bandwidth.

Profile lesson (variants timed on 200,000 students, 2 threads): hashing is cheap (six
splitmix64 mixes a student: 0.3 ms), and so are the table gathers (students come in origin
order, so a block of students reuses one origin's rows). What cost was (1) a call per student
to the rule, which Numba did not inline (x1.3); (2) reading the students through an index
array, which stops LLVM from vectorising the loop (x1.6: entrants are a contiguous block, so
the first round reads them in order); (3) two random numbers, two table reads and an
int-to-float conversion per alias draw (packed uint64 cells with a 32-bit threshold: one word,
one read, integer compare); and (4) a branchy talent band. 6.0 ms -> ~0.6 ms.
"""

import time

import numpy as np
from numba import njit, prange

from sim import rng
from sim.agents import Student
from sim.config import Config
from sim.mechanisms import choice, enrolment
from sim.mechanisms.library import common, destinations
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


def _alias_draw(table, row, k, draw, tmp):
    """sim.alias.draw for every student: column from the high half of the word, test on the low half."""
    x = k + np.uint64(((draw + 1) * int(_GOLDEN)) & _MASK)
    _mix(x, tmp)
    n = table.shape[1]
    j = (((x >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32)).astype(np.int64)
    cell = table[row, j]
    keep = (x & np.uint64(0xFFFFFFFF)) < (cell >> np.uint64(32))
    return np.where(keep, j, (cell & np.uint64(0xFFFFFFFF)).astype(np.int64))


def _uniform(k, draw, tmp):
    """sim.rng.uniform_at for every student: 53 random bits of the draw-th word of key k."""
    x = k + np.uint64(((draw + 1) * int(_GOLDEN)) & _MASK)
    _mix(x, tmp)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def draw_numpy(seed, year, uid, origin, field, talent, resources, level, t):
    """First applications (k=0) of a cohort, in vectorised numpy: the rule of choice.application."""
    tmp = np.empty_like(uid)
    band = np.searchsorted(np.array(common.TALENT_CUTS), talent, side="right")
    group = (((origin.astype(np.int64) * t.n_fields + field) * destinations.TALENT_BANDS + band)
             * destinations.RESOURCE_BANDS + resources) * destinations.LEVELS + level
    row = (origin.astype(np.int64) * t.n_fields + field) * destinations.RESOURCE_BANDS + resources
    key = _keys(seed, rng.CHOICE, year, uid, tmp)
    goes = _uniform(key, 0, tmp) < t.abroad[group]
    country = np.where(goes, _alias_draw(t.where, row, key, 1, tmp), origin.astype(np.int64))
    j = _alias_draw(t.u_table, country * t.n_fields + field, key, 2, tmp)
    return t.first_univ[country] + j


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
    HemsimModel (default config: 40 countries, 400 universities), tables from its DegreeChoice."""
    cfg = Config()
    cfg.world.countries, cfg.world.universities, cfg.progress = countries, universities, False
    model = HemsimModel(cfg)
    w, year, seed, rule = model.world, cfg.start_year, model.seed, model.rules.choice
    tables = model.mechanism(choice.DegreeChoice).tables(model)
    entry = enrolment.Enrolment().tables(model)
    quota = w.cohort / w.cohort.sum() * students                     # a cohort of exactly `students`
    sizes = np.floor(quota).astype(np.int64)
    sizes[np.argsort(sizes - quota, kind="stable")[:students - sizes.sum()]] += 1
    uid, origin, talent, field, resources, level = enrolment.new_cohort(
        seed, year, sizes, entry.field_cum, entry.log_income, entry.postgraduate_share)

    def numba_step():
        return choice.first_applications(seed, year, uid, origin, field, talent, resources, level,
                                         tables.abroad, tables.where, tables.u_table, tables.first_univ,
                                         tables.n_fields)

    numba_step()
    t_numba, ours = _timed(numba_step, 201)
    t_numpy, theirs = _timed(lambda: draw_numpy(seed, year, uid, origin, field, talent, resources, level, tables), 21)
    assert np.array_equal(ours, theirs), "numpy and numba choices differ"

    agents = [Student(model, int(uid[i]), int(origin[i]), *enrolment.draw_entrant(
        seed, year, uid[i], origin[i], entry.field_cum, entry.log_income, entry.postgraduate_share))
        for i in range(students)]
    assert np.array_equal([s.talent for s in agents], talent.astype(np.float64))
    assert [(s.field, s.resources, s.level) for s in agents] == list(zip(field.tolist(), resources.tolist(),
                                                                          level.tolist()))
    t = tables

    def mesa_step():
        return [choice.application(seed, year, s.uid, s.origin, s.field, s.talent, s.resources, s.level, 0,
                                   rule.abroad_applications, t.abroad, t.where, t.u_table, t.first_univ,
                                   t.n_fields)
                for s in agents]
    t_mesa, mesa_out = _timed(mesa_step, mesa_repeats)
    assert np.array_equal(np.array(mesa_out), ours), "mesa and numba choices differ"
    for s in agents:
        s.remove()

    per_student = sum(a.itemsize for a in (uid, origin, field, talent, resources, level, ours))
    bw = bandwidth()
    floor = students * per_student / bw
    abroad = float(np.mean(w.univ_country[ours] != origin))
    return dict(students=students, numba=t_numba, numpy=t_numpy, mesa=t_mesa, floor=floor,
                bandwidth=bw, bytes_per_student=per_student, abroad_share=abroad, countries=w.n_countries,
                universities=w.n_universities, groups=tables.abroad.shape[0])


if __name__ == "__main__":
    print(bench())
    print(bench(countries=200, universities=1000))

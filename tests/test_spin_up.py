"""The spin-up cache (sim/spin_up.py): a run that starts from a cached spun-up state ends byte-identical to
one that simulates its spin-up, whatever the scenario; a damaged cache file is simulated again."""

import pytest

from conftest import small_config
from sim import spin_up
from sim.model import HemsimModel


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HEMSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HEMSIM_SPIN_UP_CACHE", "1")
    return tmp_path / "spin-up"


def _run(cfg):
    return HemsimModel(cfg).run()


def test_a_cached_spin_up_ends_identical_for_every_scenario(cache, monkeypatch):
    monkeypatch.setenv("HEMSIM_SPIN_UP_CACHE", "0")
    fresh = {s: _run(small_config(years=3, seed=4, scenario=s)) for s in ("baseline", "comprehensive_internationalisation")}
    monkeypatch.setenv("HEMSIM_SPIN_UP_CACHE", "1")
    first = _run(small_config(years=3, seed=4))                      # fills the cache
    assert len(list(cache.glob("*.hemsim"))) == 1
    loaded = []
    monkeypatch.setattr(spin_up, "load", lambda k, load=spin_up.load: loaded.append(load(k)) or loaded[-1])
    for s in ("baseline", "comprehensive_internationalisation"):
        r = _run(small_config(years=3, seed=4, scenario=s))            # the scenario's levers start at the start
        assert r.flows.equals(fresh[s].flows) and r.metrics.equals(fresh[s].metrics), s
    assert first.metrics.equals(fresh["baseline"].metrics)
    assert all(state is not None for state in loaded) and len(loaded) == 2
    assert len(list(cache.glob("*.hemsim"))) == 1                      # one spin-up for both scenarios


def test_the_key_follows_what_the_spin_up_depends_on():
    from sim.model import SCHEDULE
    base = spin_up.key(small_config(seed=1), SCHEDULE)
    assert base == spin_up.key(small_config(seed=1, years=9, scenario="open_visas"), SCHEDULE)
    other = small_config(seed=1)
    other.behaviour.choice.visa += 0.1
    assert len({base, spin_up.key(small_config(seed=2), SCHEDULE), spin_up.key(other, SCHEDULE),
                spin_up.key(small_config(seed=1, students=30_000), SCHEDULE), spin_up.key(small_config(seed=1),
                                                                                        SCHEDULE[:-1])}) == 5


def test_a_damaged_cache_file_is_simulated_again(cache, monkeypatch):
    first = _run(small_config(years=2, seed=6))
    (path,) = cache.glob("*.hemsim")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    again = _run(small_config(years=2, seed=6))
    assert again.metrics.equals(first.metrics) and again.flows.equals(first.flows)


def test_runs_that_sample_students_and_runs_that_do_not_share_a_spin_up(cache, monkeypatch):
    plain = small_config(years=2, seed=8)
    sampled = small_config(years=2, seed=8)
    sampled.sample_students = 0.05
    monkeypatch.setenv("HEMSIM_SPIN_UP_CACHE", "0")
    fresh = _run(sampled)
    monkeypatch.setenv("HEMSIM_SPIN_UP_CACHE", "1")
    assert _run(plain).students is None                              # fills the cache
    again = _run(sampled)                                            # restores it, and samples
    assert again.students is not None and again.students.equals(fresh.students)
    assert again.metrics.equals(fresh.metrics) and _run(plain).students is None

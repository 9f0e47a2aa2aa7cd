"""sim/fpmath.py: the C library's scalar routines elementwise, sums in a fixed order, numpy's shapes.

That the results do not change with the CPU's SIMD path is tests/test_dispatch.py's; here, that each
function is the scalar routine (so it is what the model's Numba kernels compute too) and behaves as
the numpy function it replaces does at its edges."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from sim import fpmath

finite = st.floats(-700, 700, allow_nan=False)
positive = st.floats(1e-300, 1e300, allow_nan=False)
SCALAR = {"exp": (math.exp, finite), "log": (math.log, positive), "log1p": (math.log1p, positive),
          "expm1": (math.expm1, finite), "sin": (math.sin, finite), "cos": (math.cos, finite),
          "arcsin": (math.asin, st.floats(-1, 1)), "tanh": (math.tanh, finite)}


@pytest.mark.parametrize("name", SCALAR)
@given(data=st.data())
def test_each_function_is_the_scalar_routine(name, data):
    routine, values = SCALAR[name]
    x = np.array(data.draw(st.lists(values, min_size=1, max_size=50)))
    got = getattr(fpmath, name)(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert got.tobytes() == np.array([routine(v) for v in x]).tobytes()     # bit for bit
    assert getattr(fpmath, name)(float(x[0])) == routine(x[0]) and isinstance(getattr(fpmath, name)(x[0]), float)


@given(arrays(np.float64, array_shapes(max_dims=3, max_side=5), elements=st.floats(-30, 30)))
def test_any_shape_and_layout_keeps_its_shape(x):
    assert fpmath.exp(x).shape == x.shape
    assert fpmath.exp(x.T).tobytes() == np.ascontiguousarray(fpmath.exp(x).T).tobytes()   # a view is read in its order


def test_edges_are_numpy_s():
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for f, x in [(fpmath.log, [0.0, -1.0, np.inf]), (fpmath.log1p, [-1.0, -2.0]), (fpmath.exp, [-np.inf, 1e3]),
                     (fpmath.arcsin, [2.0]), (fpmath.power, [-8.0])]:
            args = (np.array(x), 1 / 3) if f is fpmath.power else (np.array(x),)
            expected = np.power(*args) if f is fpmath.power else getattr(np, f.__name__)(*args)
            np.testing.assert_array_equal(f(*args), expected)
    assert fpmath.exp(np.array([], float)).shape == (0,)


@given(st.lists(st.tuples(st.floats(1e-3, 1e3), st.floats(-5, 5)), min_size=1, max_size=30))
def test_power_broadcasts_and_is_the_scalar_power(pairs):
    x, y = np.array(pairs).T
    assert fpmath.power(x, y).tobytes() == np.array([a ** b for a, b in pairs]).tobytes()
    assert fpmath.power(x[:, None], y[None, :]).shape == (len(x), len(y))
    assert fpmath.power(x, 2.0).tobytes() == np.array([a ** 2.0 for a in x]).tobytes()


@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=60))
def test_dot_adds_in_index_order(pairs):
    x, y = np.array(pairs).T
    total = 0.0
    for a, b in pairs:
        total += a * b
    assert fpmath.dot(x, y) == total


def test_dot_refuses_vectors_of_other_lengths_in_one_line():
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(2,\)"):
        fpmath.dot(np.ones(3), np.ones(2))


@given(st.floats(-3, 3), st.floats(-100, 100), st.lists(st.integers(-5000, 5000), min_size=3, max_size=40, unique=True))
def test_linear_fit_recovers_a_line_and_agrees_with_polyfit(slope, intercept, xs):
    x = np.array(xs) / 100
    noise = np.sin(np.arange(len(x)))          # deterministic, not a line
    s, i = fpmath.linear_fit(x, intercept + slope * x)
    assert s == pytest.approx(slope, abs=1e-9) and i == pytest.approx(intercept, abs=1e-7)
    np.testing.assert_allclose(fpmath.linear_fit(x, slope * x + noise), np.polyfit(x, slope * x + noise, 1),
                               rtol=1e-9, atol=1e-9)


def test_linear_fit_refuses_too_few_or_equal_points():
    with pytest.raises(ValueError, match="linear_fit"):
        fpmath.linear_fit([1.0], [2.0])
    with pytest.raises(ValueError, match="do not vary"):
        fpmath.linear_fit([1.0, 1.0, 1.0], [2.0, 3.0, 4.0])

"""Float maths whose results do not depend on the CPU (README: "Reproducibility").

numpy picks an implementation of exp, log, log1p, expm1, power, arcsin, tanh, ... when a process
starts, by the CPU's SIMD features (`X86_V3` = AVX2, `X86_V4` = AVX-512, ...), and those
implementations differ from each other in the last bit; OpenBLAS picks its kernels by CPU too
(`a @ b`, `np.dot`, and `np.polyfit` through LAPACK). A result computed that way is reproducible on
one machine only. The model's floats go through this module instead:

- the elementwise functions are one loop in a Numba kernel calling the C library's scalar routine,
  as the model's other kernels do (Numba adds no SIMD maths of its own: no fastmath, no SVML);
- `dot` and `linear_fit` add in a fixed order.

What stays numpy is exact or fixed-order whatever the dispatch: + - * / and sqrt (IEEE 754 rounds
them correctly), minimum/maximum/comparisons, and sums and means (numpy's pairwise summation is the
same sequence of additions on every dispatch path; tests/test_dispatch.py checks all of this in
processes with the SIMD levels turned off). tests/test_architecture.py keeps the dispatched
routines out of the model's code.

Each function takes a number or an array (any shape) and returns a float or a float64 array.
"""

import math

import numpy as np
from numba import njit

# the operations of the unary kernel (one compiled kernel for all: each cached kernel costs a load)
_EXP, _LOG, _LOG1P, _EXPM1, _SIN, _COS, _ARCSIN, _TANH = range(8)


@njit(cache=True)
def _unary(op, x, out):
    for i in range(x.size):
        v = x[i]
        if op == _EXP:
            out[i] = math.exp(v)
        elif op == _LOG:
            out[i] = math.log(v)
        elif op == _LOG1P:
            out[i] = math.log1p(v)
        elif op == _EXPM1:
            out[i] = math.expm1(v)
        elif op == _SIN:
            out[i] = math.sin(v)
        elif op == _COS:
            out[i] = math.cos(v)
        elif op == _ARCSIN:
            out[i] = math.asin(v)
        else:
            out[i] = math.tanh(v)


@njit(cache=True)
def _power(x, y, out):
    for i in range(x.size):
        out[i] = x[i] ** y[i]


@njit(cache=True)
def _dot(x, y):
    total = 0.0
    for i in range(x.size):
        total += x[i] * y[i]
    return total


def _apply(op: int, x):
    a = np.asarray(x, dtype=np.float64)
    flat = np.ascontiguousarray(a).reshape(-1)
    out = np.empty_like(flat)
    _unary(op, flat, out)
    return out.reshape(a.shape) if a.ndim else float(out[0])


def exp(x):
    """e ** x."""
    return _apply(_EXP, x)


def log(x):
    """Natural logarithm (-inf at 0, nan below, as numpy)."""
    return _apply(_LOG, x)


def log1p(x):
    """log(1 + x), accurate near 0."""
    return _apply(_LOG1P, x)


def expm1(x):
    """exp(x) - 1, accurate near 0."""
    return _apply(_EXPM1, x)


def sin(x):
    return _apply(_SIN, x)


def cos(x):
    return _apply(_COS, x)


def arcsin(x):
    return _apply(_ARCSIN, x)


def tanh(x):
    return _apply(_TANH, x)


def power(x, y):
    """x ** y elementwise, with numpy's broadcasting."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape)
    out = np.empty(shape)
    _power(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1),
           np.ascontiguousarray(np.broadcast_to(b, shape)).reshape(-1), out.reshape(-1))
    return out if out.ndim else float(out[()])


def dot(x, y) -> float:
    """Inner product of two vectors of the same length, summed in index order (not through BLAS)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: two vectors of the same length, not shapes {a.shape} and {b.shape}")
    return float(_dot(np.ascontiguousarray(a), np.ascontiguousarray(b)))


def linear_fit(x, y) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line through (x, y): the closed form, not LAPACK
    (np.polyfit(x, y, 1) up to the last bits)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"linear_fit: two vectors of the same length >= 2, not shapes {x.shape} and {y.shape}")
    dx, dy = x - x.mean(), y - y.mean()
    spread = (dx * dx).sum()
    if not spread > 0:
        raise ValueError("linear_fit: the x values do not vary (no line through them)")
    slope = float((dx * dy).sum() / spread)
    return slope, float(y.mean() - slope * x.mean())

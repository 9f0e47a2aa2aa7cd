"""Gaussian-process regression shared by the emulators (backtest_fit.py, emulator.py): scikit-learn's
GaussianProcessRegressor with one kernel, fitted, stored as numbers and rebuilt from them.

The kernel: a constant times an anisotropic RBF (one length scale per input, on inputs scaled to the unit
box) plus white noise. The noise term is seed noise: a run's outcome is the model's expected outcome
plus the draw of its dice, so an emulator that interpolated the runs exactly would be overconfident
between them. The outputs are standardised (`normalize_y`), so the noise's lower bound `noise_floor`
is a share of the outcome's variance over the design. The predictive sd includes the noise (sklearn adds
the WhiteKernel's level on the diagonal of a prediction's covariance): an interval is for a new run, not
for the expected outcome. Through LAPACK, a fit may differ in its last bits between CPUs; a stored fit
(`hyperparameters`) rebuilt with `refit` predicts the same on one machine as the fit it came from.
"""

from __future__ import annotations

import numpy as np

LENGTH_SCALE, LENGTH_SCALE_BOUNDS = 0.5, (0.05, 20.0)


def kernel(dims: int, noise_floor: float):
    """Constant x anisotropic RBF + white noise (at least `noise_floor` of the standardised variance)."""
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    return ConstantKernel(1.0) * RBF(length_scale=np.full(dims, LENGTH_SCALE), length_scale_bounds=LENGTH_SCALE_BOUNDS)\
        + WhiteKernel(2 * noise_floor, (noise_floor, 1.0))


def fit(x: np.ndarray, y: np.ndarray, noise_floor: float, restarts: int = 2):
    """A GP of y over x (rows in the unit box), its hyperparameters fitted by maximum marginal likelihood
    from the initial kernel and `restarts` seeded random starts."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    return GaussianProcessRegressor(kernel(x.shape[1], noise_floor), normalize_y=True, random_state=0,
                                    n_restarts_optimizer=restarts).fit(x, y)


def hyperparameters(gp) -> dict:
    """The fitted kernel as plain numbers (JSON): constant, length scales, noise level (standardised units)."""
    k = gp.kernel_
    return {"constant": float(k.k1.k1.constant_value),
            "length_scale": [float(v) for v in np.atleast_1d(k.k1.k2.length_scale)],
            "noise": float(k.k2.noise_level),
            "log_marginal_likelihood": float(gp.log_marginal_likelihood_value_)}


def scaling(gp) -> dict:
    """The standardisation the fit used (normalize_y: the training outputs' mean and sd, ddof 0), in the
    output's units; the noise's sd in those units is sqrt(noise) * y_sd."""
    return {"y_mean": float(np.ravel(gp._y_train_mean)[0]), "y_sd": float(np.ravel(gp._y_train_std)[0])}


def refit(x: np.ndarray, y: np.ndarray, hyper: dict):
    """The GP of stored hyperparameters conditioned on stored data (no optimisation): a stored emulator
    rebuilt from numbers, never from a pickle."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    k = ConstantKernel(hyper["constant"], "fixed") * RBF(np.asarray(hyper["length_scale"], float), "fixed") \
        + WhiteKernel(hyper["noise"], "fixed")
    return GaussianProcessRegressor(k, normalize_y=True, optimizer=None).fit(x, y)


def predict(gp, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) at the rows of x; the sd includes the noise term (a new run's spread)."""
    mean, sd = gp.predict(np.atleast_2d(x), return_std=True)
    return np.asarray(mean, float), np.asarray(sd, float)


def interval(mean, sd, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` predictive interval of a normal (mean, sd)."""
    from scipy.stats import norm
    z = float(norm.ppf(0.5 + level / 2))
    return np.asarray(mean) - z * np.asarray(sd), np.asarray(mean) + z * np.asarray(sd)


def coverage(y, mean, sd, level: float) -> float:
    """Share of observed `y` inside their central `level` predictive intervals."""
    low, high = interval(mean, sd, level)
    y = np.asarray(y, float)
    return float(np.mean((y >= low) & (y <= high)))

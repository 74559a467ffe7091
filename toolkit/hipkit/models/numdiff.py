"""Numerical derivatives with Richardson extrapolation (the method of R's numDeriv, which lmerTest uses).

Central differences at steps h, h/2, h/4, h/8 are combined by Richardson extrapolation, which removes
the error terms of order h^2, h^4 and h^6; the result is accurate to about 1e-10 relative for the
smooth deviance functions of a mixed model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["gradient", "hessian", "jacobian"]

_R = 4  # number of step halvings


_EPS = 1e-4
_ZERO_TOL = np.sqrt(np.finfo(float).eps / 7e-7)


def _steps(x: np.ndarray, d: float, scale: np.ndarray | None = None) -> np.ndarray:
    """NumDeriv's initial step: |d x| + eps where x is (near) zero.

    numDeriv uses d = 1e-4 for gradients and Jacobians and d = 0.1 for Hessians (``genD``); a
    Hessian needs the larger step, or rounding error swamps the second difference.

    With ``scale`` (a typical magnitude per coordinate) the step is ``d max(|x|, scale)``: a
    coordinate much smaller than its natural scale (an off-diagonal element of a relative Cholesky
    factor near 0 in a row whose diagonal is not) then gets a step on that scale rather than a tiny
    one, whose second difference would be mostly rounding error of ``f``.
    """
    if scale is not None:
        x = np.maximum(np.abs(x), np.asarray(scale, dtype=float))
    return np.abs(d * x) + _EPS * (np.abs(x) < _ZERO_TOL)


def _richardson(values: list) -> np.ndarray:
    """Extrapolate a list of estimates at steps h, h/2, ... (error in even powers of h)."""
    a = [np.asarray(v, dtype=float) for v in values]
    for m in range(1, len(a)):
        factor = 4.0**m
        a = [(factor * a[i + 1] - a[i]) / (factor - 1.0) for i in range(len(a) - 1)]
    return a[0]


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Jacobian of a vector function: shape (len(f(x)), len(x)); ``scale`` as in :func:`_steps`."""
    x = np.asarray(x, dtype=float)
    h0 = _steps(x, 1e-4, scale)
    cols = []
    for j in range(len(x)):
        est = []
        for r in range(_R):
            h = h0[j] / 2.0**r
            xp, xm = x.copy(), x.copy()
            xp[j] += h
            xm[j] -= h
            est.append((np.asarray(f(xp), dtype=float).ravel() - np.asarray(f(xm), dtype=float).ravel()) / (2 * h))
        cols.append(_richardson(est))
    return np.column_stack(cols)


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Gradient of a scalar function."""
    return jacobian(lambda z: np.atleast_1d(f(z)), x).ravel()


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Hessian of a scalar function (symmetric); ``scale`` as in :func:`_steps`."""
    x = np.asarray(x, dtype=float)
    k = len(x)
    h0 = _steps(x, 0.1, scale)
    f0 = f(x)
    H = np.empty((k, k))
    for i in range(k):
        est = []
        for r in range(_R):
            h = h0[i] / 2.0**r
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            est.append((f(xp) - 2.0 * f0 + f(xm)) / (h * h))
        H[i, i] = _richardson(est)
        for j in range(i):
            est = []
            for r in range(_R):
                hi, hj = h0[i] / 2.0**r, h0[j] / 2.0**r
                pp, pm, mp, mm = x.copy(), x.copy(), x.copy(), x.copy()
                pp[i] += hi
                pp[j] += hj
                pm[i] += hi
                pm[j] -= hj
                mp[i] -= hi
                mp[j] += hj
                mm[i] -= hi
                mm[j] -= hj
                est.append((f(pp) - f(pm) - f(mp) + f(mm)) / (4.0 * hi * hj))
            H[i, j] = H[j, i] = _richardson(est)
    return H

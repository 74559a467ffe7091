"""The Wilcoxon signed-rank test of paired data, as R's ``wilcox.test(x, y, paired = TRUE)``, in n log n.

Why not a library: pingouin's ``wilcoxon`` also computes the common-language effect size from every
pair of observations (quadratic in memory and time: a 250,000-patient registry needs more than 100 GB),
and scipy's ``wilcoxon`` chooses between its exact and normal methods, and treats zeros, by rules that
differ from R's (the reference hipkit is tested against). The test itself is a rank sum: ranking
is n log n, the normal approximation is linear, and the exact null distribution (used only below
:data:`EXACT_MAX_N` differences) is a small dynamic programme.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["signed_rank_test", "signed_rank_exact_cdf", "EXACT_MAX_N", "SIGNED_RANK_COLUMNS"]

#: With fewer nonzero differences than this (and no ties or zeros), the p value is exact (as R).
EXACT_MAX_N = 50

#: Columns of :func:`signed_rank_test`, in order.
SIGNED_RANK_COLUMNS = ["test", "statistic", "p_value", "method", "alternative", "n", "n_zero", "exact"]

_ALTERNATIVES = ("two-sided", "less", "greater")


def signed_rank_exact_cdf(v: float, n: int) -> float:
    """P(V <= v) under the null for ``n`` untied nonzero differences (R's ``psignrank(v, n)``).

    The number of subsets of ranks ``1..n`` with each sum is built one rank at a time
    (O(n^3) operations; only used for n below :data:`EXACT_MAX_N`).

    Parameters
    ----------
    v : float
        Statistic (sum of positive ranks).
    n : int
        Number of nonzero differences.

    Returns
    -------
    float

    Examples
    --------
    >>> signed_rank_exact_cdf(0, 3)  # only the empty set: 1 of 2**3
    0.125
    """
    top = n * (n + 1) // 2
    k = int(np.floor(v + 1e-7))
    if k < 0:
        return 0.0
    if k >= top:
        return 1.0
    # Probabilities rather than counts (each step adds the shifted vector and halves, which is exact in
    # binary): counts pass 2**53 from n = 55 on and would round, and with ``exact=True`` n may be larger.
    # Only additions of non-negative numbers, so a small tail keeps its relative precision.
    prob = np.zeros(top + 1, dtype=np.float64)
    prob[0] = 1.0
    for r in range(1, n + 1):
        shifted = np.zeros_like(prob)
        shifted[r:] = prob[:-r]
        prob = (prob + shifted) * 0.5
    return float(prob[: k + 1].sum())


def _values(values, name: str, func: str) -> np.ndarray:
    """One-dimensional numbers (booleans, text and tables are refused, not silently converted)."""
    if isinstance(values, (str, bytes, pd.DataFrame, dict)) or values is None:
        raise InputError(f"{func}: {name} must be a sequence of numbers, not {type(values).__name__}")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{func}: {name} must be one-dimensional (got shape {arr.shape}); pass one column")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise InputError(f"{func}: {name} must hold numbers, not {arr.dtype} values")
    try:
        out = arr.astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{func}: {name} must hold numbers only (found a value that is not one)") from None
    if arr.dtype == object and any(isinstance(v, (str, bytes, bool, np.bool_)) for v in arr.tolist()):
        raise InputError(f"{func}: {name} must hold numbers only (found text or a boolean)")
    return out


def signed_rank_test(
    x,
    y=None,
    alternative: str = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of paired values (or of one sample of differences), as R.

    Parameters
    ----------
    x : array-like of float
        Follow-up values (or the differences themselves when ``y`` is None).
    y : array-like of float, optional
        Baseline values, paired with ``x``; the differences are ``x - y``.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        "greater": ``x`` tends to be larger than ``y``.
    exact : bool or None, default None
        None: exact p value when fewer than :data:`EXACT_MAX_N` (50) nonzero differences remain and
        there are neither ties nor zeros, as R; otherwise the normal approximation. True asks for the
        exact p value, which is still refused (normal approximation, as R) with ties or zeros.
    correct : bool, default True
        Continuity correction of the normal approximation (R's default).

    Returns
    -------
    pandas.DataFrame
        One row: ``test`` ("wilcoxon"), ``statistic`` (R's V: the sum of the ranks of the positive
        differences), ``p_value``, ``method`` (R's wording), ``alternative``, ``n`` (nonzero
        differences ranked), ``n_zero`` (zero differences dropped, as R does) and ``exact``.

    Raises
    ------
    InputError
        ``x`` and ``y`` differ in length, hold missing or infinite values, no difference is
        nonzero, or ``alternative`` is unknown.

    Notes
    -----
    Zeros are dropped before ranking (Wilcoxon's original method, R's and pingouin's default);
    ties get average ranks. Normal approximation: z = (V - n(n+1)/4 - c) / sigma with
    sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48 over tie groups of size t, and c the continuity
    correction (0.5 toward zero for two sides). Cost: O(n log n) (one sort); the exact distribution
    is used only for n < 50. Validated against R 4.2.2 ``wilcox.test`` in
    ``tests/stats/test_wilcoxon.py`` (reference ``tests/stats/reference/wilcoxon/``).

    References
    ----------
    Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6):80-83.
    doi:10.2307/3001968

    Examples
    --------
    >>> res = signed_rank_test([5.1, 6.3, 7.2, 8.8, 9.1, 10.4], [1, 1, 1, 1, 1, 1])
    >>> float(res["statistic"].iloc[0]), float(res["p_value"].iloc[0]), res["method"].iloc[0]
    (21.0, 0.03125, 'Wilcoxon signed rank exact test')
    """
    from scipy import stats

    func = "signed_rank_test"
    if alternative not in _ALTERNATIVES:
        raise InputError(f"{func}: alternative must be one of {', '.join(_ALTERNATIVES)} (got {alternative!r})")
    d = _values(x, "x", func)
    if y is not None:
        yv = _values(y, "y", func)
        if len(yv) != len(d):
            raise InputError(f"{func}: x and y have different lengths ({len(d)} and {len(yv)})")
        d = d - yv
    if not np.isfinite(d).all():
        raise InputError(f"{func}: {int((~np.isfinite(d)).sum())} missing or infinite difference(s); remove them first")
    zero = d == 0
    n_zero = int(zero.sum())
    d = d[~zero]
    n = len(d)
    if n == 0:
        raise InputError(f"{func}: every difference is zero; the test needs at least one nonzero difference")
    ranks = stats.rankdata(np.abs(d))  # average ranks for ties, n log n
    v = float(ranks[d > 0].sum())
    # Tie groups: sizes of runs of equal |d| (from the sorted values; linear after the sort above).
    sorted_abs = np.sort(np.abs(d))
    starts = np.flatnonzero(np.r_[True, sorted_abs[1:] != sorted_abs[:-1]])
    tie_sizes = np.diff(np.r_[starts, n]).astype(float)
    ties = bool((tie_sizes > 1).any())
    use_exact = (n < EXACT_MAX_N) if exact is None else bool(exact)
    if use_exact and not ties and n_zero == 0:
        method = "Wilcoxon signed rank exact test"
        if alternative == "two-sided":
            if v > n * (n + 1) / 4:
                p = signed_rank_exact_cdf(n * (n + 1) // 2 - v, n)  # P(V >= v) = P(V <= top - v): no 1 - cdf
            else:
                p = signed_rank_exact_cdf(v, n)
            p = min(2.0 * p, 1.0)
        elif alternative == "greater":
            p = signed_rank_exact_cdf(n * (n + 1) // 2 - v, n)
        else:
            p = signed_rank_exact_cdf(v, n)
        is_exact = True
    else:
        method = "Wilcoxon signed rank test"
        z = v - n * (n + 1) / 4
        sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float((tie_sizes**3 - tie_sizes).sum()) / 48)
        correction = 0.0
        if correct:
            correction = {"two-sided": float(np.sign(z)) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
            method += " with continuity correction"
        z = (z - correction) / sigma if sigma > 0 else np.nan
        if alternative == "two-sided":
            p = float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))
        elif alternative == "greater":
            p = float(stats.norm.sf(z))
        else:
            p = float(stats.norm.cdf(z))
        is_exact = False
    row = {
        "test": "wilcoxon",
        "statistic": v,
        "p_value": p,
        "method": method,
        "alternative": alternative,
        "n": n,
        "n_zero": n_zero,
        "exact": is_exact,
    }
    return pd.DataFrame([row], columns=SIGNED_RANK_COLUMNS)

"""Whether the data can identify a model: one check for the in-memory and the Dask path.

The check needs three things, which both paths have: the rows of the fixed-effects matrix (every
observation in memory, the distinct predictor rows on Dask: the same row space, so the same rank and
the same aliased columns), the number of observations, and the smallest and largest value of each
random-effect column within each participant (:func:`group_ranges`; on Dask computed per partition
and combined by min and max).
"""

from __future__ import annotations

import numpy as np

from ..errors import IdentifiabilityError

__all__ = ["group_ranges", "aliased_columns", "rank_deficiency_message", "check_identifiable"]


def group_ranges(Z: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest value of each column of ``Z`` within each group: two (G, q) arrays."""
    q = Z.shape[1]
    zmin = np.full((n_groups, q), np.inf)
    zmax = np.full((n_groups, q), -np.inf)
    for j in range(q):
        lo, hi = zmin[:, j].copy(), zmax[:, j].copy()
        np.minimum.at(lo, group, Z[:, j])
        np.maximum.at(hi, group, Z[:, j])
        zmin[:, j], zmax[:, j] = lo, hi
    return zmin, zmax


def aliased_columns(X: np.ndarray, tol: float = 1e-7) -> list[int]:
    """Columns of ``X`` that are linear combinations of the columns before them (those lme4 drops).

    lme4 (``chkRank.drop.cols``) drops the columns that R's pivoted QR (LINPACK, ``tol = 1e-7``) moves
    to the end: a column whose norm, after removing its projection on the kept columns before it,
    falls below ``tol`` times its own norm. The same rule, column by column.
    """
    dropped: list[int] = []
    Q = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        x = X[:, j]
        norm = float(np.linalg.norm(x))
        r = x - Q @ (Q.T @ x)
        r = r - Q @ (Q.T @ r)  # second pass for accuracy
        rn = float(np.linalg.norm(r))
        if norm == 0.0 or rn <= tol * norm:
            dropped.append(j)
        else:
            Q = np.column_stack([Q, r / rn])
    return dropped


def rank_deficiency_message(x_names: list[str], X: np.ndarray, rank: int) -> str:
    """Why a rank-deficient fixed design is refused, naming the columns lme4 would drop."""
    names = [x_names[j] for j in aliased_columns(X)] or ["(undetermined)"]
    k = len(names)
    which = ", ".join(repr(n) for n in names)
    return (
        f"the fixed-effects design is rank deficient (rank {rank} < {X.shape[1]} columns): {which} "
        f"{'is a linear combination' if k == 1 else 'are linear combinations'} of the columns before "
        f"(lme4 drops {'it' if k == 1 else 'them'}: 'fixed-effect model matrix is rank deficient so dropping "
        f"{k} column{'' if k == 1 else 's'} / coefficient{'' if k == 1 else 's'}'); hipkit does not drop "
        "columns: remove the collinear covariate, or the interaction with empty combinations of factor "
        "levels, from the fixed part"
    )


def check_identifiable(d, X: np.ndarray, ranges) -> None:
    """Raise :class:`~hipkit.errors.IdentifiabilityError` when the data cannot identify the model.

    Parameters
    ----------
    d : Design
        The specification (names, numbers of observations and participants).
    X : ndarray
        Rows of the fixed-effects matrix spanning its row space (all rows, or the distinct ones).
    ranges : callable
        Returns :func:`group_ranges` of the random-effect columns (called only for a random slope).
    """
    rank = np.linalg.matrix_rank(X)
    if rank < d.p:
        raise IdentifiabilityError(rank_deficiency_message(d.x_names, X, rank))
    if d.q > 1:
        # Each random slope needs participants with at least two distinct values of it.
        zmin, zmax = ranges()
        for j, name in enumerate(d.z_names):
            if name == "(Intercept)":
                continue
            varying = int(((zmax[:, j] - zmin[:, j]) > 1e-12).sum())
            if varying == 0:
                raise IdentifiabilityError(
                    f"the random slope of {name!r} cannot be identified: no participant has two different values "
                    f"of it (one visit each?); drop '{name}' from the random part, e.g. (1 | {d.parsed.group})"
                )
    if d.n <= d.p:
        raise IdentifiabilityError(
            f"{d.n} observations for {d.p} fixed-effect coefficients: nothing is left to estimate the "
            "variance; simplify the fixed part or use more data"
        )
    if d.n <= d.n_groups and d.q >= 1:
        raise IdentifiabilityError(
            f"{d.n} observations for {d.n_groups} participants: with one observation each, the random intercept "
            "cannot be told apart from the residual; use an ordinary regression"
        )

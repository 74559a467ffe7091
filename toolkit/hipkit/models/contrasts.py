"""Hypothesis matrices for F tests of model terms (Type III) and multiplicity adjustments."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["type3_contrasts", "adjust_pvalues"]

_C_FIRST_ARG = re.compile(r"^C\(\s*(.+?)\s*(?:,.*)?\)$")


def _sum_code(code: str) -> str:
    m = _C_FIRST_ARG.match(code)
    inner = m.group(1) if m else code
    return f"C({inner}, Sum)"


def type3_contrasts(design, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Type III hypothesis matrices, one per fixed term, in the model's own (treatment) coding.

    A term's Type III hypothesis is "its coefficients are zero" when every categorical factor is
    coded with sum-to-zero contrasts (the SAS / lmerTest definition, valid for unbalanced data).
    The fixed design is rebuilt with sum coding, ``T = pinv(X_sum) X`` maps this model's
    coefficients to the sum-coded ones, and the rows of ``T`` belonging to a term form its
    hypothesis matrix.
    """
    import patsy

    info = design.x_design_info
    terms = [t for t in info.terms if t.factors]
    categorical = {f for f, fi in info.factor_infos.items() if fi.type == "categorical"}
    out: dict[str, np.ndarray] = {}
    if not categorical:
        for name, cols in design.x_terms.items():
            if name == "Intercept":
                continue
            L = np.zeros((len(cols), design.p))
            L[np.arange(len(cols)), cols] = 1.0
            out[name] = L
        return out
    pieces = []
    for t in terms:
        pieces.append(":".join(_sum_code(f.code) if f in categorical else f.code for f in t.factors))
    has_intercept = any(not t.factors for t in info.terms)
    formula = ("1 + " if has_intercept else "0 + ") + " + ".join(pieces)
    xs = patsy.dmatrix(formula, frame, NA_action="raise", return_type="dataframe")
    if xs.shape[1] != design.p:
        raise ValueError("sum-coded design has a different number of columns")  # pragma: no cover
    T = np.linalg.pinv(xs.to_numpy(dtype=float)) @ design.X
    T[np.abs(T) < 1e-10] = 0.0
    s_info = xs.design_info
    for t, name in zip(terms, [t.name() for t in terms]):
        s_name = ":".join(_sum_code(f.code) if f in categorical else f.code for f in t.factors)
        sl = s_info.term_name_slices.get(s_name)
        if sl is None:  # patsy may order factors differently; fall back to position
            sl = list(s_info.term_name_slices.values())[[tt.name() for tt in info.terms].index(name)]
        L = T[sl]
        out[name] = L[np.abs(L).sum(axis=1) > 1e-8]
    return out


def adjust_pvalues(
    p: np.ndarray, method: str, t: np.ndarray | None = None, df: np.ndarray | None = None, n_means: int | None = None
) -> np.ndarray:
    """Adjust a family of p values: ``none``, ``bonferroni``, ``holm`` or ``tukey``.

    ``tukey`` uses the studentized range distribution with ``n_means`` means (for all pairwise
    comparisons of ``n_means`` means), as emmeans does: p = P(Q > |t| sqrt(2)).
    """
    p = np.asarray(p, dtype=float)
    m = len(p)
    if method == "none" or m <= 1 and method != "tukey":
        return p
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "holm":
        order = np.argsort(p)
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
        out = np.empty(m)
        out[order] = adj
        return out
    if method == "tukey":
        if t is None or df is None or n_means is None:
            raise ValueError("tukey needs t, df and n_means")
        return stats.studentized_range.sf(np.abs(t) * np.sqrt(2.0), n_means, np.asarray(df, dtype=float))
    raise ValueError(f"unknown p-value adjustment {method!r}; use none, bonferroni, holm or tukey")

"""Hypothesis matrices for F tests of model terms (lmerTest's Type I and Type III) and multiplicity adjustments.

The Satterthwaite (and Kenward-Roger) denominator df of a multi-df F test depends on the basis of
its hypothesis matrix, not only on its row space, so matching lmerTest's den df and p needs
lmerTest's own matrices, row for row. No Python library builds them: statsmodels' ``anova_lm``
covers ``ols`` models only and uses sum-to-zero contrasts for Type III, which span the same
hypotheses in another basis. The constructions below follow lmerTest 3.1 (``get_contrasts_type1``,
``get_contrasts_type3`` and ``extract_contrasts_type3``), written from its description:

* Type I (sequential): the rows of the unit upper-triangular factor of ``X'X`` (Doolittle,
  without pivoting) belonging to each term.
* Type III: with every factor in treatment coding, the "complete" cell design ``rdX`` (each term
  coded with one column per cell, the SAS "full-rank-deficient" design) is projected on the model's
  design, ``L0 = (X^+ rdX)'``; the columns of each term that is contained in other terms (SAS's
  containment) are replaced by their residuals on the columns of the terms containing it, higher
  order terms first; the rows of the model's own coefficients give one matrix per term. Models
  in another coding map the result with ``X_t^+ X``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ArgumentError
from .matrices import dmatrix, mentions, rowwise_formula

__all__ = ["type1_contrasts", "type3_contrasts", "adjust_pvalues"]

_C_FIRST_ARG = re.compile(r"^C\(\s*(.+?)\s*(?:,.*)?\)$")


def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest absolute entry."""
    x = np.asarray(x, dtype=float)
    mx = float(np.max(np.abs(x))) if x.size else 0.0
    if not mx > 0:
        return x.copy()
    return np.round(x, max(0, digits - int(np.ceil(np.log10(mx)))))


def _doolittle_lower(a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The unit lower-triangular factor of ``a = L U`` by Doolittle's method, without pivoting.

    Hand-written because lmerTest's Type I rows are this factor: LAPACK's LU (scipy) pivots, and a
    Cholesky factor gives the same matrix only up to lmerTest's treatment of tiny pivots (a column
    is zeroed when its pivot is below ``eps``) and entries (set to 0 below ``eps``).
    """
    n = a.shape[0]
    L = np.eye(n)
    U = np.zeros((n, n))
    for i in range(n):
        U[i, :] = a[i, :] - L[i, :i] @ U[:i, :]
        if i + 1 < n:
            col = a[i + 1 :, i] - L[i + 1 :, :i] @ U[:i, i]
            L[i + 1 :, i] = 0.0 if abs(U[i, i]) < eps else col / U[i, i]
    L[np.abs(L) < eps] = 0.0
    return L


def _fixed_terms(design) -> list[str]:
    """The fixed terms' labels (patsy's), without the intercept, in the design's column order."""
    return [t for t in design.x_terms if t != "Intercept"]


def type1_contrasts(design, XtX: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Type I (sequential) hypothesis matrices, one per fixed term, as lmerTest's ``anova(m, type = 1)``.

    Parameters
    ----------
    design : Design
    XtX : ndarray, optional
        ``X'X`` (needed when the design holds distinct rows only, as a Dask fit's does).
    """
    p = design.p
    if p == 0:
        return {}
    if XtX is None:
        XtX = design.X.T @ design.X
    Lt = _doolittle_lower(np.asarray(XtX, dtype=float)).T if p > 1 else np.ones((1, 1))
    return {name: Lt[design.x_terms[name]] for name in _fixed_terms(design)}


def _indicator_coded(info) -> bool:
    """Whether every categorical factor of the design is coded by 0/1 indicators (treatment or full dummy)."""
    for subterms in info.term_codings.values():
        for sub in subterms:
            for cm in sub.contrast_matrices.values():
                m = np.asarray(cm.matrix, dtype=float)
                if not (np.isin(m, (0.0, 1.0)).all() and (m.sum(axis=0) == 1).all() and (m.sum(axis=1) <= 1).all()):
                    return False
    return True


def _treatment_code(code: str) -> str:
    m = _C_FIRST_ARG.match(code)
    inner = m.group(1) if m else code
    return f"C({inner}, Treatment)"


def _resid(x: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Residuals of the least-squares fit of each column of ``y`` on the columns of ``x`` (R's lm.fit)."""
    if x.shape[1] == 0:
        return y.copy()
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    u = u[:, s > tol * s[0]] if s.size and s[0] > 0 else u[:, :0]
    return y - u @ (u.T @ y)


def _contained_in(design) -> dict[str, list[str]]:
    """For each fixed term, the terms that contain it (SAS containment, as lmerTest's ``containment``).

    F1 is contained in F2 when every variable of F1 is in F2, F2 has more variables, and both involve
    the same numeric variables. As in lmerTest, a term's variables are those R's ``terms()`` marks 1 in
    its ``factors`` attribute (coded by contrasts): R marks a variable 2 when the term without it is
    not within an earlier term (``week`` in ``week + week:group``), and such a variable is left out.
    The design's terms are in R's order, which that rule depends on.
    """
    info = design.x_design_info
    categorical = {f for f, fi in info.factor_infos.items() if fi.type == "categorical"}
    ordered = [t for t in info.terms if t.factors]

    def marked_one(i: int, v) -> bool:
        rest = set(ordered[i].factors) - {v}
        return not rest or any(rest <= set(ordered[j].factors) for j in range(i))

    vars_ = {t.name(): {v for v in t.factors if marked_one(i, v)} for i, t in enumerate(ordered)}
    names = [n for n in _fixed_terms(design) if n in vars_]
    numeric = {n: {f for f in vars_[n] if f not in categorical} for n in names}
    return {
        a: [b for b in names if vars_[a] <= vars_[b] and vars_[b] - vars_[a] and numeric[a] == numeric[b]]
        for a in names
    }


def type3_contrasts(design, frame: pd.DataFrame, XtX: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Type III hypothesis matrices, one per fixed term, row for row those of lmerTest's ``anova(m, type = 3)``.

    See the module's description of the construction. A model with one term (or one column) gets
    lmerTest's Type I matrices, as lmerTest does.

    Parameters
    ----------
    design : Design
    frame : DataFrame
        The rows behind ``design.X`` (the rows used, or a Dask fit's distinct rows).
    XtX : ndarray, optional
        ``X'X``, passed on to :func:`type1_contrasts` for one-term models.

    Returns
    -------
    dict
        term label (patsy's) -> k x p matrix in the model's own coding, all-zero rows dropped.
    """
    names = _fixed_terms(design)
    if design.p <= 1 or len(names) <= 1:
        return type1_contrasts(design, XtX)
    if design.rows is not None and rowwise_formula(design.parsed.fixed):
        # patsy is slow per row, and the matrices need only the distinct predictor rows whenever every
        # cell column lies in the span of X (a hierarchical model); _type3 checks that, else all rows.
        used = [c for c in frame.columns if mentions(design.parsed.fixed, str(c))]
        if used:
            first = np.flatnonzero(~frame[used].duplicated().to_numpy())
            if len(first) < len(frame):
                out = _type3(design, frame.iloc[first], design.X[first], exact=True)
                if out is not None:
                    return out
    return _type3(design, frame, design.X, exact=False)


def _type3(design, frame: pd.DataFrame, X: np.ndarray, exact: bool) -> dict[str, np.ndarray] | None:
    """The Type III construction on these rows; None when ``exact`` and the cells leave the span of X."""
    info = design.x_design_info
    names = _fixed_terms(design)
    categorical = {f for f, fi in info.factor_infos.items() if fi.type == "categorical"}
    terms = {t.name(): t for t in info.terms}
    coded = {f: (_treatment_code(f.code) if f in categorical else f.code) for f in info.factor_infos}
    treatment = _indicator_coded(info)
    if treatment:
        X_t, x_terms = X, design.x_terms
    else:
        pieces = [":".join(coded[f] for f in terms[n].factors) for n in names]
        has_intercept = "Intercept" in design.x_terms
        formula = ("1 + " if has_intercept else "0 + ") + " + ".join(pieces)
        xt = dmatrix(formula, frame)
        X_t = np.asarray(xt, dtype=float)
        t_slices = xt.design_info.term_name_slices
        x_terms = {}
        for n in ["Intercept", *names] if has_intercept else names:
            sl = t_slices.get(n if n == "Intercept" else ":".join(coded[f] for f in terms[n].factors))
            x_terms[n] = list(range(sl.start, sl.stop))
    # The complete design: one column per cell of every term (and the intercept).
    blocks, owner = [], {}
    if "Intercept" in x_terms:
        blocks.append(np.ones((X_t.shape[0], 1)))
        owner["Intercept"] = [0]
    start = len(blocks)
    for n in names:
        b = np.asarray(
            dmatrix("0 + " + ":".join(coded[f] for f in terms[n].factors), frame, return_type="matrix"), dtype=float
        )
        blocks.append(b)
        owner[n] = list(range(start, start + b.shape[1]))
        start += b.shape[1]
    rdX = np.hstack(blocks)
    B = np.linalg.lstsq(X_t, rdX, rcond=None)[0]
    if exact and np.abs(X_t @ B - rdX).max() > 1e-9 * max(1.0, float(np.abs(rdX).max())):
        return None
    L = _zapsmall(B.T)  # rows: cells; columns: X_t's coefficients
    # Each coefficient of X_t is the cell of its term with the same column.
    coef_row = np.empty(X_t.shape[1], dtype=int)
    for n, cols in x_terms.items():
        cand = owner[n]
        for j in cols:
            hit = [c for c in cand if np.array_equal(rdX[:, c], X_t[:, j])]
            if not hit:  # pragma: no cover - treatment coding always gives a cell column
                raise ValueError(f"column {j} of term {n!r} matches none of its cells")
            coef_row[j] = hit[0]
    contained = _contained_in(design)
    degree = {n: len(terms[n].factors) for n in names}
    for n in sorted(names, key=lambda m: -degree[m]):  # higher-order terms first (stable)
        if contained[n]:
            cols = x_terms[n]
            by = [c for m in contained[n] for c in x_terms[m]]
            L[:, cols] = _zapsmall(_resid(L[:, by], L[:, cols]))
    L = L[coef_row]  # p x p: rows X_t's coefficients, columns their hypotheses
    to_model = None if treatment else _zapsmall(np.linalg.lstsq(X_t, X, rcond=None)[0])  # X_t's coding -> X's
    out = {}
    for n in names:
        M = L[:, x_terms[n]].T
        if to_model is not None:
            M = M @ to_model
        out[n] = M[np.abs(M).sum(axis=1) > 1e-8]
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
            raise ArgumentError("tukey needs t, df and n_means")
        return stats.studentized_range.sf(np.abs(t) * np.sqrt(2.0), n_means, np.asarray(df, dtype=float))
    raise ArgumentError(f"unknown p-value adjustment {method!r}; use none, bonferroni, holm or tukey")

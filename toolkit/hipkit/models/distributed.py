"""Mixed models on data that does not fit in memory: the blocks of cross-products computed on Dask.

The profiled deviance needs only the per-participant cross-products Z_i'Z_i, Z_i'X_i, Z_i'y_i and the
totals X'X, X'y, y'y (see :mod:`hipkit.models.engine`). Each is a sum over rows, so it can be
computed partition by partition and added up:

1. one pass finds the distinct rows of the predictors (small: visit weeks x groups x ...), from
   which the fixed and random designs are built once, with every categorical level known;
2. each partition maps its rows to those designs and sums its cross-products per participant;
3. the per-partition tables are combined pairwise on the workers (a participant's rows may span
   partitions: their sums are added), and only the combined blocks come back.

The fit then runs on the blocks as for in-memory data, so the estimates are the same to the
optimiser's precision.

Precision. The blocks hold the same sums as the in-memory ones, added in another order (per
partition, then pairwise, against bincount and BLAS over all rows), so a few of them differ in their
last bit, as they do for an in-memory fit of the same rows in another order. At the same theta that
leaves every number equal to about 1e-12 relative. The optimiser, though, locates the minimum by
comparing deviance values, which carry rounding noise of about 1e-14 x |deviance|; within that noise
the deviance is flat over a region of theta some 1e-5 of theta's standard errors wide, and the fit
stops somewhere in it. So a Dask fit and an in-memory fit (or two in-memory fits of reordered rows)
reach the same minimum of the deviance (REML criteria equal to about 1e-13 relative), and their
estimates, standard errors, sigma, R^2 and ICC agree to about 1e-6 relative (at most 4e-7 over 120
simulated cohorts; estimates to 3e-7 of their standard error). Satterthwaite df come from numerical
derivatives of the deviance with steps proportional to theta: they agree to about 1e-4 relative,
2e-3 where an off-diagonal element of theta is near zero. ``tests/test_dask.py`` checks each of
these. On the same partitions a Dask fit repeats bit for bit: the combination is a fixed pairwise
tree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from .design import Design, DistinctRows
from .engine import Blocks
from .formula import parse_formula, r_term_name
from .identifiability import check_identifiable, group_ranges
from .matrices import as_float, fixed_design, formula_variables, random_parts, rowwise_formula

__all__ = ["is_dask_collection", "dask_design_blocks"]


def is_dask_collection(obj) -> bool:
    """Whether ``obj`` is a Dask DataFrame (checked without importing Dask).

    Examples
    --------
    >>> is_dask_collection(pd.DataFrame())
    False
    """
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "npartitions")


def _categorise(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    return frame.astype(dtypes) if dtypes else frame


def _partition_sums(pdf: pd.DataFrame, used, predictors, response, group, dtypes, keys, X_u, Z_u):
    """Per-participant cross-products of one partition, and its totals."""
    q, p = Z_u.shape[1], X_u.shape[1]
    pdf = pdf[used]
    complete = pdf.notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    pdf = _categorise(pdf.loc[complete], dtypes)
    rows = keys.get_indexer(pd.MultiIndex.from_frame(pdf[predictors]))
    if (rows < 0).any():  # pragma: no cover - the distinct rows come from the same data
        raise ModelSpecError("a partition has predictor values not seen when the design was built")
    X, Z = X_u[rows], Z_u[rows]
    y = pdf[response].to_numpy(dtype=float)
    codes, labels = pd.factorize(pdf[group])
    G = len(labels)
    cols = []
    for a in range(q):
        for b in range(q):
            cols.append(np.bincount(codes, weights=Z[:, a] * Z[:, b], minlength=G))
    for a in range(q):
        for b in range(p):
            cols.append(np.bincount(codes, weights=Z[:, a] * X[:, b], minlength=G))
    for a in range(q):
        cols.append(np.bincount(codes, weights=Z[:, a] * y, minlength=G))
    table = pd.DataFrame(np.column_stack(cols), index=pd.Index(labels, name="group"))
    zmin, zmax = group_ranges(Z, codes, G)
    ranges = (
        pd.DataFrame(zmin, index=table.index),
        pd.DataFrame(zmax, index=table.index),
    )
    tot = {
        "XtX": X.T @ X,
        "Xty": X.T @ y,
        "yty": float(y @ y),
        "n": len(y),
        "n_dropped": n_dropped,
        "Xsum": X.sum(axis=0),
    }
    return table, ranges, tot


def _combine(a, b):
    """Add two partial results: per-participant tables by label (rows may be shared), totals by sum.

    The per-participant ranges of the random-effect columns combine by min and max.
    """
    ta, (lo_a, hi_a), sa = a
    tb, (lo_b, hi_b), sb = b
    both = pd.concat([ta, tb])
    lo, hi = pd.concat([lo_a, lo_b]), pd.concat([hi_a, hi_b])
    if both.index.has_duplicates:
        both = both.groupby(level=0, sort=False).sum()
        lo = lo.groupby(level=0, sort=False).min()
        hi = hi.groupby(level=0, sort=False).max()
    tot = {k: sa[k] + sb[k] for k in sa}
    return both, (lo, hi), tot


def dask_design_blocks(formula: str, ddf, progress: bool = False):
    """Build the model's design and blocks from a Dask DataFrame without loading its rows.

    Parameters
    ----------
    formula : str
        lme4-style formula (see :func:`hipkit.lmm`).
    ddf : dask.dataframe.DataFrame
        The data, in any number of partitions; a participant's rows may be in several.
    progress : bool, default False
        Show Dask's progress bar (local schedulers) while the blocks are computed.

    Returns
    -------
    design : Design
        The specification, without data rows (``rows`` is None); its ``distinct`` holds the matrices
        of the distinct predictor rows.
    blocks : Blocks
    distinct : pandas.DataFrame
        The distinct predictor rows (what the designs were built on).

    Notes
    -----
    The blocks equal those of :func:`hipkit.models.engine.make_blocks` on the same rows up to the
    order of their floating-point sums (a difference in the last bit of a few of them); see the
    module docstring for what that means for the fit.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> rows = pd.DataFrame({"pid": ["a", "a", "b", "b", "c", "c"], "week": [0.0, 2.0] * 3,
    ...                      "pain": [6.0, 5.0, 7.0, 5.5, 5.0, 4.5]})
    >>> design, blocks, distinct = dask_design_blocks("pain ~ week + (1 | pid)", dd.from_pandas(rows, npartitions=2))
    >>> blocks.n, design.n_groups, distinct["week"].tolist()
    (6, 3, [0.0, 2.0])
    """
    import dask

    parsed = parse_formula(formula)
    meta = ddf._meta
    if parsed.group not in meta.columns:
        raise ModelSpecError(f"grouping column {parsed.group!r} is not in the data")
    if parsed.response not in meta.columns:
        raise ModelSpecError(f"response column {parsed.response!r} is not in the data")
    if not pd.api.types.is_numeric_dtype(meta[parsed.response]):
        raise ModelSpecError(f"response {parsed.response!r} must be numeric")
    if not rowwise_formula(parsed.fixed, *(t.expr for t in parsed.random)):
        raise ModelSpecError(
            "for Dask data every term must be a column or a row-wise function of one (log, sqrt, C(...)); "
            "transforms that look at the whole column (center, splines, I(x - x.mean())) need the transformed "
            "column added to the data first"
        )
    used = formula_variables(meta, parsed)
    predictors = [c for c in used if c not in (parsed.group, parsed.response)]
    sub = ddf[used]
    if not predictors:  # intercept-only on both sides: one design row for everyone
        sub = sub.assign(__one=0)
        used, predictors = [*used, "__one"], ["__one"]
    distinct = sub.dropna()[predictors].drop_duplicates().compute()
    dtypes = {}
    for c in predictors:
        known = isinstance(meta[c].dtype, pd.CategoricalDtype) and len(meta[c].cat.categories) > 0
        if known:  # keep the user's level order (an unknown-categories column has none in its meta)
            dtypes[c] = pd.CategoricalDtype([str(x) for x in meta[c].cat.categories], ordered=meta[c].cat.ordered)
        elif not (pd.api.types.is_numeric_dtype(distinct[c]) or pd.api.types.is_bool_dtype(distinct[c])):
            dtypes[c] = pd.CategoricalDtype(sorted(distinct[c].astype(str).unique()))
    distinct = _categorise(distinct.astype({c: str for c in dtypes}), dtypes)
    distinct = distinct.sort_values(predictors).reset_index(drop=True)
    _, x_df, x_info = fixed_design(parsed, distinct, "plain")  # R's term order, as the in-memory path
    z_parts, z_names, term_blocks, pattern = random_parts(parsed, distinct)
    X_u = as_float(x_df)
    Z_u = as_float(pd.concat(z_parts, axis=1))
    keys = pd.MultiIndex.from_frame(distinct[predictors])
    p, q = X_u.shape[1], Z_u.shape[1]

    def as_text(pdf):
        return pdf.astype({c: str for c in dtypes}) if dtypes else pdf

    partial = [
        dask.delayed(_partition_sums)(
            dask.delayed(as_text)(part), used, predictors, parsed.response, parsed.group, dtypes, keys, X_u, Z_u
        )
        for part in sub.to_delayed()
    ]
    while len(partial) > 1:  # pairwise combination on the workers
        partial = [
            dask.delayed(_combine)(partial[i], partial[i + 1]) if i + 1 < len(partial) else partial[i]
            for i in range(0, len(partial), 2)
        ]
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            ((table, (lo, hi), tot),) = dask.compute(partial[0])
    else:
        ((table, (lo, hi), tot),) = dask.compute(partial[0])
    if tot["n"] == 0:
        raise ModelSpecError("no complete rows: every row misses a value of a model variable")
    table = table.sort_index()
    G = len(table)
    values = table.to_numpy(dtype=float)
    ZtZ = values[:, : q * q].reshape(G, q, q)
    ZtX = values[:, q * q : q * q + q * p].reshape(G, q, p)
    Zty = values[:, q * q + q * p :].reshape(G, q)
    blocks = Blocks(
        ZtZ=ZtZ,
        ZtX=ZtX,
        Zty=Zty,
        XtX=tot["XtX"],
        Xty=tot["Xty"],
        yty=float(tot["yty"]),
        n=int(tot["n"]),
        Xsum=tot["Xsum"],
    )
    design = Design(
        parsed=parsed,
        group_labels=np.asarray(table.index),
        x_names=[r_term_name(c) for c in x_df.columns],
        z_names=z_names,
        pattern=pattern,
        term_blocks=term_blocks,
        n_obs=int(tot["n"]),
        x_design_info=x_info,
        n_dropped=int(tot["n_dropped"]),
        x_terms={name: list(range(sl.start, sl.stop)) for name, sl in x_info.term_name_slices.items()},
        distinct=DistinctRows(X=X_u, Z=Z_u, index=distinct.index),
    )
    # The distinct rows span the row space of all rows: the same rank and aliased columns.
    check_identifiable(design, X_u, lambda: (lo.loc[table.index].to_numpy(), hi.loc[table.index].to_numpy()))
    return design, blocks, distinct

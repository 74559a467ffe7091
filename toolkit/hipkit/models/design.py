"""From a formula and a DataFrame to the model's arrays: y, X, Z, group codes and the Lambda pattern."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import IdentifiabilityError, ModelSpecError
from .formula import (
    ParsedFormula,
    as_float,
    dmatrix_cached,
    parse_formula,
    r_order,
    r_term_name,
    random_design,
    rowwise_formula,
)

__all__ = ["Design", "build_design"]


@dataclass
class Design:
    """The arrays of a linear mixed model with one grouping factor.

    ``pattern`` lists the (row, column) of each free element of the q x q lower-triangular
    relative covariance factor Lambda, in the order of theta (column by column within each
    random term, as lme4 orders them).
    """

    parsed: ParsedFormula
    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    group: np.ndarray  # integer code per row, 0..G-1
    group_labels: np.ndarray
    x_names: list[str]
    z_names: list[str]
    pattern: list[tuple[int, int]]
    term_blocks: list[tuple[int, int, bool]]  # (start, size, correlated) per random term
    x_design_info: object = None
    rows_used: pd.Index = None
    n_dropped: int = 0
    x_terms: dict = field(default_factory=dict)  # fixed term label -> column indices
    # Set when the rows stayed on Dask: X and Z then hold the distinct predictor rows only.
    n_obs: int | None = None

    @property
    def n(self) -> int:
        """Number of observations."""
        return len(self.y) if self.n_obs is None else self.n_obs

    @property
    def out_of_core(self) -> bool:
        """Whether the model was built from a Dask DataFrame (no row-level arrays here)."""
        return self.n_obs is not None

    @property
    def p(self) -> int:
        """Number of fixed-effect columns."""
        return self.X.shape[1]

    @property
    def q(self) -> int:
        """Number of random effects per participant."""
        return self.Z.shape[1]

    @property
    def n_groups(self) -> int:
        """Number of participants (groups)."""
        return len(self.group_labels)

    def theta_lower_bounds(self) -> np.ndarray:
        """0 for diagonal elements of Lambda, -inf for off-diagonal ones."""
        return np.array([0.0 if r == c else -np.inf for r, c in self.pattern])

    def theta_start(self) -> np.ndarray:
        """lme4's starting value: identity Lambda."""
        return np.array([1.0 if r == c else 0.0 for r, c in self.pattern])


def _variables(data: pd.DataFrame, parsed: ParsedFormula) -> list[str]:
    """The data columns the formula uses (response, predictors, group), sorted."""
    original = {str(c): c for c in data.columns}
    return [original.get(n, n) for n in _variables_cached(parsed, tuple(original))]


@functools.lru_cache(maxsize=256)
def _variables_cached(parsed: ParsedFormula, columns: tuple[str, ...]) -> tuple[str, ...]:
    import patsy

    names: set[str] = set()
    for text in [parsed.response + " ~ " + parsed.fixed] + [t.expr for t in parsed.random]:
        try:
            desc = patsy.ModelDesc.from_formula(text)
        except patsy.PatsyError as exc:
            raise ModelSpecError(f"cannot read formula part {text!r}: {str(exc).splitlines()[0]}") from None
        for side in (desc.lhs_termlist, desc.rhs_termlist):
            for term in side:
                for factor in term.factors:
                    code = factor.code
                    for col in columns:
                        if col == code or _mentions(code, col):
                            names.add(col)
    names.add(parsed.group)
    return tuple(sorted(names))


def _mentions(code: str, col: str) -> bool:

    return re.search(r"(?<![A-Za-z0-9_.])" + re.escape(col) + r"(?![A-Za-z0-9_.])", code) is not None


def random_parts(parsed: ParsedFormula, frame: pd.DataFrame):
    """The random-effects design of every term: (Z parts, column names, term blocks, Lambda pattern).

    ``pattern`` lists the free elements of Lambda in lme4's order (column by column within each
    term; only the diagonal for an uncorrelated ``||`` term).
    """
    z_parts, term_blocks, pattern, z_names = [], [], [], []
    start = 0
    for term in parsed.random:
        z = random_design(term.expr, frame)
        k = z.shape[1]
        if k == 0:
            raise ModelSpecError(f"random term ({term.expr} | {term.group}) has no columns")
        z_parts.append(z)
        z_names += list(z.columns)
        term_blocks.append((start, k, term.correlated))
        for c in range(k):
            for r in range(c, k):
                if r == c or term.correlated:
                    pattern.append((start + r, start + c))
        start += k
    if len(set(z_names)) != len(z_names):
        raise ModelSpecError(f"random terms repeat a column ({', '.join(z_names)}); write each once")
    return z_parts, z_names, term_blocks, pattern


def build_design(formula: str, data: pd.DataFrame) -> Design:
    """Parse ``formula`` and build the model arrays from ``data`` (rows with missing values dropped).

    Raises
    ------
    ModelSpecError
        Unknown columns, a non-numeric response, an empty design.
    IdentifiabilityError
        A random slope that the data cannot identify (e.g. one visit per participant), or a
        rank-deficient fixed-effects design.
    """
    import patsy

    parsed = parse_formula(formula)
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if parsed.group not in data.columns:
        raise ModelSpecError(f"grouping column {parsed.group!r} is not in the data")
    used = _variables(data, parsed)
    missing_cols = [c for c in [parsed.response] if c not in data.columns]
    if missing_cols:
        raise ModelSpecError(f"response column {missing_cols[0]!r} is not in the data")
    frame = data[used]
    complete = frame.notna().all(axis=1)
    n_dropped = int((~complete).sum())
    frame = frame.loc[complete]
    if len(frame) == 0:
        raise ModelSpecError("no complete rows: every row misses a value of a model variable")
    # patsy is slow per row (it inspects every value of a text column), so the fixed and random
    # designs are built on the distinct combinations of the predictors and expanded by index: a
    # clinic cohort has a few dozen combinations however many rows. Transforms whose result depends
    # on the whole column (centring, splines) need every row, and so does a transformed response.
    predictors = [c for c in used if c not in (parsed.group, parsed.response)]
    response_plain = parsed.response in frame.columns and pd.api.types.is_numeric_dtype(frame[parsed.response])
    rows = None
    rowwise = rowwise_formula(parsed.fixed, *(t.expr for t in parsed.random))
    if predictors and response_plain and rowwise:
        codes_u = frame[predictors].groupby(predictors, sort=False, observed=True).ngroup().to_numpy()
        n_unique = int(codes_u.max()) + 1 if len(codes_u) else 0
        if n_unique <= len(frame) // 2:
            first = np.unique(codes_u, return_index=True)[1]
            rows = codes_u
            design_frame = frame[predictors].iloc[first]
    if rows is None:
        design_frame = frame
    try:
        if rows is None:
            y_df, x_df = patsy.dmatrices(
                parsed.response + " ~ " + parsed.fixed, frame, NA_action="raise", return_type="dataframe"
            )
        else:
            x_df = dmatrix_cached(parsed.fixed, design_frame)
            y_df = frame[[parsed.response]]
    except patsy.PatsyError as exc:
        raise ModelSpecError(f"fixed part '{parsed.fixed}': {str(exc).splitlines()[0]}") from None
    if y_df.shape[1] != 1:
        raise ModelSpecError(f"response {parsed.response!r} must be numeric (got a categorical column)")
    x_df, x_info = r_order(x_df, parsed.fixed)  # R's term order (lme4's fixef order), patsy's names
    x_names = [r_term_name(c) for c in x_df.columns]
    x_terms = {name: list(range(sl.start, sl.stop)) for name, sl in x_info.term_name_slices.items()}
    z_parts, z_names, term_blocks, pattern = random_parts(parsed, design_frame)
    codes, labels = pd.factorize(frame[parsed.group], sort=True)
    if len(labels) < 2:  # as lme4: "grouping factors must have > 1 sampled level"
        raise IdentifiabilityError(
            f"the grouping factor {parsed.group!r} has {len(labels)} level(s) in the rows used; "
            "a random effect needs at least 2 (fit a model without it, e.g. with statsmodels' OLS)"
        )
    X = as_float(x_df)
    Z = as_float(pd.concat(z_parts, axis=1))
    if rows is not None:
        X, Z = np.ascontiguousarray(X[rows]), np.ascontiguousarray(Z[rows])
    y = as_float(y_df).ravel()
    for what, values in ((f"response {parsed.response!r}", y), ("the fixed part", X), ("the random part", Z)):
        bad = ~np.isfinite(values)
        if bad.any():
            where = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
            shown = ", ".join(repr(frame.index[i]) for i in where[:5]) + (", ..." if len(where) > 5 else "")
            n_inf = int(np.isinf(values).reshape(len(values), -1).any(axis=1).sum())
            kind = f"{n_inf} infinite" if n_inf == len(where) else f"{len(where)} infinite or undefined"
            raise ModelSpecError(
                f"{what} holds {kind} value{'s' if len(where) != 1 else ''} (rows {shown}); "
                "remove or correct them before fitting"
            )
    design = Design(
        parsed=parsed,
        y=y,
        X=X,
        Z=Z,
        group=codes.astype(np.int64),
        group_labels=np.asarray(labels),
        x_names=x_names,
        z_names=z_names,
        pattern=pattern,
        term_blocks=term_blocks,
        x_design_info=x_info,
        rows_used=frame.index,
        n_dropped=n_dropped,
        x_terms=x_terms,
    )
    _check_identifiable(design)
    return design


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


def rank_deficiency_message(d: Design, rank: int) -> str:
    """Why a rank-deficient fixed design is refused, naming the columns lme4 would drop."""
    names = [d.x_names[j] for j in aliased_columns(d.X)] or ["(undetermined)"]
    k = len(names)
    which = ", ".join(repr(n) for n in names)
    return (
        f"the fixed-effects design is rank deficient (rank {rank} < {d.p} columns): {which} "
        f"{'is a linear combination' if k == 1 else 'are linear combinations'} of the columns before "
        f"(lme4 drops {'it' if k == 1 else 'them'}: 'fixed-effect model matrix is rank deficient so dropping "
        f"{k} column{'' if k == 1 else 's'} / coefficient{'' if k == 1 else 's'}'); hipkit does not drop "
        "columns: remove the collinear covariate, or the interaction with empty combinations of factor "
        "levels, from the fixed part"
    )


def _check_identifiable(d: Design) -> None:
    rank = np.linalg.matrix_rank(d.X)
    if rank < d.p:
        raise IdentifiabilityError(rank_deficiency_message(d, rank))
    if d.q > 1:
        # Each random slope needs participants with at least two distinct values of it.
        for j, name in enumerate(d.z_names):
            if name == "(Intercept)":
                continue
            z = d.Z[:, j]
            zmin = np.full(d.n_groups, np.inf)
            zmax = np.full(d.n_groups, -np.inf)
            np.minimum.at(zmin, d.group, z)
            np.maximum.at(zmax, d.group, z)
            varying = int(((zmax - zmin) > 1e-12).sum())
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

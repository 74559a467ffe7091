"""A model's design: its specification (what a fit needs without the data) and its data rows.

:class:`Design` is the specification: the parsed formula, the names of the fixed and random
columns, the Lambda pattern and term blocks, patsy's design information, the fixed terms, the
participants' labels and the numbers of observations used and dropped. Its :attr:`Design.rows`
(:class:`DesignRows`: y, X, Z, group codes, the index of the rows used, one entry per
observation) are held when the model was built from a pandas DataFrame and are ``None`` when it was
reduced on Dask; a Dask design holds the distinct predictor rows its matrices were built on
(:class:`DistinctRows`) instead. Code that needs the data rows asks for them
(:meth:`Design.require_rows`) and gets a clear error when they are absent.

The patsy calls are in :mod:`hipkit.models.matrices`, the identifiability check in
:mod:`hipkit.models.identifiability`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import IdentifiabilityError, InputError, ModelSpecError
from .formula import ParsedFormula, parse_formula, r_term_name
from .identifiability import check_identifiable, group_ranges
from .matrices import as_float, fixed_design, formula_variables, random_parts, rowwise_formula

__all__ = ["Design", "DesignRows", "DistinctRows", "build_design"]


@dataclass(frozen=True)
class DesignRows:
    """The data rows of a model, one entry per observation used."""

    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    group: np.ndarray  # integer code per row, 0..G-1
    rows_used: pd.Index | None = None


@dataclass(frozen=True)
class DistinctRows:
    """The distinct predictor rows a Dask design was built on (no response, no participant)."""

    X: np.ndarray
    Z: np.ndarray
    index: pd.Index


@dataclass
class Design:
    """The specification of a linear mixed model with one grouping factor, with its rows or not.

    ``pattern`` lists the (row, column) of each free element of the q x q lower-triangular
    relative covariance factor Lambda, in the order of theta (column by column within each
    random term, as lme4 orders them).
    """

    parsed: ParsedFormula
    group_labels: np.ndarray
    x_names: list[str]
    z_names: list[str]
    pattern: list[tuple[int, int]]
    term_blocks: list[tuple[int, int, bool]]  # (start, size, correlated) per random term
    n_obs: int
    x_design_info: object = None
    n_dropped: int = 0
    x_terms: dict = field(default_factory=dict)  # fixed term label -> column indices
    rows: DesignRows | None = None  # None when the rows stayed on Dask
    distinct: DistinctRows | None = None  # the Dask path's distinct predictor rows

    def require_rows(self, message: str, error: type[Exception] = InputError) -> DesignRows:
        """The data rows; ``error(message)`` when the design has none (built on Dask)."""
        if self.rows is None:
            raise error(message)
        return self.rows

    def _predictor_rows(self):
        return self.rows if self.rows is not None else self.distinct

    @property
    def y(self) -> np.ndarray:
        """The response (needs the rows)."""
        return self.require_rows("the response needs the data rows; this design was built on Dask").y

    @property
    def group(self) -> np.ndarray:
        """The participant code of each row (needs the rows)."""
        return self.require_rows("the participant codes need the data rows; this design was built on Dask").group

    @property
    def X(self) -> np.ndarray:
        """The fixed-effects matrix: of the rows used, or of the distinct predictor rows on Dask."""
        return self._predictor_rows().X

    @property
    def Z(self) -> np.ndarray:
        """The random-effects matrix: of the rows used, or of the distinct predictor rows on Dask."""
        return self._predictor_rows().Z

    @property
    def rows_used(self) -> pd.Index | None:
        """The index of the rows behind :attr:`X` (the data rows used, or the distinct rows on Dask)."""
        rows = self._predictor_rows()
        return rows.rows_used if isinstance(rows, DesignRows) else rows.index

    @property
    def n(self) -> int:
        """Number of observations."""
        return self.n_obs

    @property
    def p(self) -> int:
        """Number of fixed-effect columns."""
        return len(self.x_names)

    @property
    def q(self) -> int:
        """Number of random effects per participant."""
        return len(self.z_names)

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
    parsed = parse_formula(formula)
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if parsed.group not in data.columns:
        raise ModelSpecError(f"grouping column {parsed.group!r} is not in the data")
    used = formula_variables(data, parsed)
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
    if rows is None:
        y_df, x_df, x_info = fixed_design(parsed, frame, "with_response")
    else:
        _, x_df, x_info = fixed_design(parsed, design_frame, "cached")
        y_df = frame[[parsed.response]]
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
    group = codes.astype(np.int64)
    design = Design(
        parsed=parsed,
        group_labels=np.asarray(labels),
        x_names=x_names,
        z_names=z_names,
        pattern=pattern,
        term_blocks=term_blocks,
        n_obs=len(y),
        x_design_info=x_info,
        n_dropped=n_dropped,
        x_terms=x_terms,
        rows=DesignRows(y=y, X=X, Z=Z, group=group, rows_used=frame.index),
    )
    check_identifiable(design, X, lambda: group_ranges(Z, group, design.n_groups))
    return design

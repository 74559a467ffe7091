"""Every patsy call of the model stack, and its caches: formulas and data to design matrices.

No other hipkit module imports patsy. The model's fixed and random designs (:func:`fixed_design`,
:func:`random_parts`), the variables a formula uses (:func:`formula_variables`), R's term order
(:func:`r_order`), design information reused across small frames (:func:`dmatrix_cached`), and the
plain matrices the Type III contrasts and the marginal means build (:func:`dmatrix`,
:func:`design_rows`) are all made here. patsy's errors on a
user's formula come out as :class:`~hipkit.errors.ModelSpecError`. patsy is imported lazily, in
the functions that call it.
"""

from __future__ import annotations

import collections
import functools
import itertools
import re

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from .formula import ParsedFormula, r_term_name

__all__ = [
    "rowwise_formula",
    "dmatrix_cached",
    "dmatrix",
    "design_rows",
    "r_order",
    "random_design",
    "random_parts",
    "fixed_design",
    "formula_variables",
    "mentions",
    "as_float",
]


# A factor whose value in a row depends on that row alone: a column, C(column, ...), or a log,
# exponential, square root or absolute value of a column. Anything else (I(x - x.mean()), a
# user function) may look at the whole column, so the design must then see every row.
_ROWWISE = re.compile(
    r"^\s*(?:[A-Za-z_][A-Za-z0-9_.]*|C\(\s*[A-Za-z_][A-Za-z0-9_.]*\s*(?:,.*)?\)"
    r"|(?:np\.|numpy\.)?(?:log|log10|log2|log1p|exp|sqrt|abs)\(\s*[A-Za-z_][A-Za-z0-9_.]*\s*\))\s*$",
    re.S,
)


def rowwise_formula(*parts: str) -> bool:
    """Whether every factor of these patsy formula parts is computed row by row (see ``_ROWWISE``).

    Examples
    --------
    >>> rowwise_formula("week * C(group, Treatment('KNEE'))", "1 + np.log(week)")
    True
    >>> rowwise_formula("I(week - week.mean())")
    False
    """
    import patsy

    for part in parts:
        try:
            desc = patsy.ModelDesc.from_formula(part)
        except patsy.PatsyError:
            return False
        for term in desc.rhs_termlist:
            for factor in term.factors:
                if not _ROWWISE.match(factor.code):
                    return False
    return True


_INFO_CACHE: dict = {}


def dmatrix_cached(formula: str, data: pd.DataFrame):
    """``patsy.dmatrix`` that reuses the design information of an earlier call on the same columns.

    Parsing the formula and inspecting the factors is most of patsy's cost on small frames (the
    distinct predictor rows, or the many small cohorts of a power simulation). The information is
    reused only when the columns, their types and every categorical column's set of levels are the
    same, and only for factors computed row by row (:func:`rowwise_formula`), never for transforms that
    learn from the data (``center``, splines, ``I(x - x.mean())``).
    """
    import patsy

    # Reuse is safe only for row-wise factors, and not for C(x), which takes its levels from x's values.
    if len(data) > 5000 or "C(" in formula or not rowwise_formula(formula):
        return patsy.dmatrix(formula, data, NA_action="raise", return_type="dataframe")

    def levels(col):
        if isinstance(col.dtype, pd.CategoricalDtype):  # patsy uses the categories, in their order
            return ("categories", tuple(map(str, col.cat.categories)), bool(col.cat.ordered))
        return None if pd.api.types.is_numeric_dtype(col) else tuple(sorted(map(str, col.unique())))

    key = (formula, tuple((c, str(col.dtype), levels(col)) for c, col in data.items()))
    info = _INFO_CACHE.get(key)
    if info is None:
        out = patsy.dmatrix(formula, data, NA_action="raise", return_type="dataframe")
        if len(_INFO_CACHE) > 256:
            _INFO_CACHE.clear()
        _INFO_CACHE[key] = out.design_info
        return out
    return patsy.build_design_matrices([info], data, NA_action="raise", return_type="dataframe")[0]


@functools.lru_cache(maxsize=256)
def _r_term_order(fixed: str) -> tuple[tuple, dict]:
    """R's order of a fixed formula's terms, and of its variables.

    Terms: the formula's order, stably sorted by degree. Variables: by first appearance in the
    formula, which is the order R writes them in an interaction (``visit + group + group:visit``
    has the term ``visit:group``, its columns with visit varying fastest).
    """
    import patsy

    written = patsy.ModelDesc.from_formula(fixed).rhs_termlist
    variables: dict = {}
    for term in written:
        for factor in term.factors:
            variables.setdefault(factor, len(variables))
    return tuple(sorted(written, key=lambda t: len(t.factors))), variables


def _combinations(sizes: list[int]) -> list[tuple[int, ...]]:
    """Column index combinations of an interaction, the left-most factor varying fastest (R and patsy)."""
    return [c[::-1] for c in itertools.product(*[range(n) for n in reversed(sizes)])]


def r_order(x_df: pd.DataFrame, fixed: str):
    """A patsy fixed-effects design with its terms and columns in R's order, and the matching design information.

    patsy groups the terms by the numeric factors they involve (``week * group`` gives Intercept,
    group, week, week:group); R's ``terms()`` keeps the formula's order and puts interactions after
    main effects by degree (``(Intercept)``, week, group, week:group), which is lme4's ``fixef``
    order. Within an interaction R orders the variables by their first appearance in the formula
    (the first varying fastest), patsy as the term is written. The columns keep patsy's names; the
    returned ``DesignInfo`` builds new data in the new order, so ``patsy.build_design_matrices`` on
    it gives columns that match the coefficients.

    Returns
    -------
    (DataFrame, DesignInfo)
    """
    info = x_df.design_info
    hit = _ORDER_CACHE.get((id(info), fixed))
    if hit is None or hit[0] is not info:  # dmatrix_cached reuses design information: so can this
        if len(_ORDER_CACHE) > 256:
            _ORDER_CACHE.clear()
        hit = _ORDER_CACHE[(id(info), fixed)] = (info, *_r_permutation(info, fixed))
    _, index, new_info = hit
    return (x_df, info) if index is None else (x_df.iloc[:, index], new_info)


_ORDER_CACHE: dict = {}


def _r_permutation(info, fixed: str):
    """(column permutation, reordered DesignInfo) taking patsy's design to R's order; (None, None) if it is."""
    from patsy.design_info import DesignInfo, SubtermInfo

    order, variables = _r_term_order(fixed)
    if set(order) != set(info.terms) or len(order) != len(info.terms):
        return None, None
    index, codings, changed = [], collections.OrderedDict(), list(order) != list(info.terms)
    for term in order:
        start = info.term_slices[term].start
        subterms = []
        for sub in info.term_codings[term]:
            factors = sorted(sub.factors, key=lambda f: variables.get(f, len(variables)))
            if factors == list(sub.factors):
                index += range(start, start + sub.num_columns)
                subterms.append(sub)
            else:
                changed = True

                def n_cols(f, sub=sub):
                    cm = sub.contrast_matrices.get(f)
                    return cm.matrix.shape[1] if cm is not None else info.factor_infos[f].num_columns

                old = {c: k for k, c in enumerate(_combinations([n_cols(f) for f in sub.factors]))}
                pos = [sub.factors.index(f) for f in factors]
                for combo in _combinations([n_cols(f) for f in factors]):
                    as_old = [0] * len(combo)
                    for k, p in enumerate(pos):
                        as_old[p] = combo[k]
                    index.append(start + old[tuple(as_old)])
                subterms.append(SubtermInfo(factors, sub.contrast_matrices, sub.num_columns))
            start += sub.num_columns
        codings[term] = subterms
    if not changed:
        return None, None
    columns = [info.column_names[i] for i in index]
    return index, DesignInfo(columns, factor_infos=info.factor_infos, term_codings=codings)


def random_design(expr: str, data: pd.DataFrame):
    """Build the random-effects design of one term with patsy (columns named R-style)."""
    import patsy

    try:
        z = dmatrix_cached(expr, data)
    except patsy.PatsyError as exc:
        raise ModelSpecError(f"random term '{expr}': {str(exc).splitlines()[0]}") from None
    z.columns = [r_term_name(c) for c in z.columns]
    return z


def as_float(frame) -> np.ndarray:
    """A design frame as a contiguous float64 array."""
    return np.ascontiguousarray(np.asarray(frame, dtype=float))


def dmatrix(formula: str, data: pd.DataFrame, return_type: str = "dataframe"):
    """``patsy.dmatrix(formula, data)`` with missing values refused (``NA_action="raise"``)."""
    import patsy

    return patsy.dmatrix(formula, data, NA_action="raise", return_type=return_type)


def design_rows(design_info, data: pd.DataFrame) -> np.ndarray:
    """The rows of a fitted design (``design_info``, in R's column order) for new data, as floats."""
    import patsy

    return np.asarray(patsy.build_design_matrices([design_info], data)[0], dtype=float)


def mentions(code: str, col: str) -> bool:
    """Whether the formula text ``code`` names the column ``col`` (as a whole word)."""
    return re.search(r"(?<![A-Za-z0-9_.])" + re.escape(col) + r"(?![A-Za-z0-9_.])", code) is not None


def formula_variables(data: pd.DataFrame, parsed: ParsedFormula) -> list[str]:
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
                        if col == code or mentions(code, col):
                            names.add(col)
    names.add(parsed.group)
    return tuple(sorted(names))


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


def fixed_design(parsed: ParsedFormula, frame: pd.DataFrame, how: str):
    """The fixed-effects design in R's order: ``(response frame or None, X frame, DesignInfo)``.

    ``how`` says which patsy call builds it: ``"with_response"`` (``patsy.dmatrices`` of the whole
    formula on every row), ``"cached"`` (:func:`dmatrix_cached` of the fixed part, on distinct
    predictor rows) or ``"plain"`` (``patsy.dmatrix`` of the fixed part). Only the first returns
    a response frame.

    Raises
    ------
    ModelSpecError
        patsy cannot build the fixed part, or the response is categorical.
    """
    import patsy

    y_df = None
    try:
        if how == "with_response":
            y_df, x_df = patsy.dmatrices(
                parsed.response + " ~ " + parsed.fixed, frame, NA_action="raise", return_type="dataframe"
            )
        elif how == "cached":
            x_df = dmatrix_cached(parsed.fixed, frame)
        else:
            x_df = patsy.dmatrix(parsed.fixed, frame, NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise ModelSpecError(f"fixed part '{parsed.fixed}': {str(exc).splitlines()[0]}") from None
    if y_df is not None and y_df.shape[1] != 1:
        raise ModelSpecError(f"response {parsed.response!r} must be numeric (got a categorical column)")
    x_df, x_info = r_order(x_df, parsed.fixed)  # R's term order (lme4's fixef order), patsy's names
    return y_df, x_df, x_info

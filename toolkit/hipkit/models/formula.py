"""lme4 model formulas: a fixed part in R/patsy syntax plus random terms for one grouping factor.

``pain_vas ~ visit_week * group + (1 + visit_week | participant_id)`` is split into the fixed
formula ``pain_vas ~ visit_week * group`` (built by patsy: interactions, ``C()``, contrasts,
categorical columns) and the random terms. ``(x | g)`` gives correlated random effects for the
terms of ``x`` (an intercept unless ``0 +`` or ``- 1``); ``(x || g)`` gives uncorrelated ones, as
in lme4. Several terms on the same grouping factor are combined into one block; a second grouping
factor (nested or crossed designs) raises :class:`~hipkit.errors.NotSupportedError`.
"""

from __future__ import annotations

import collections
import functools
import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ModelSpecError, NotSupportedError

__all__ = ["RandomTerm", "ParsedFormula", "parse_formula", "r_term_name", "r_order"]


@dataclass(frozen=True)
class RandomTerm:
    """One ``(expr | group)`` or ``(expr || group)`` term."""

    expr: str
    group: str
    correlated: bool


@dataclass(frozen=True)
class ParsedFormula:
    """A formula split into its response, fixed right-hand side and random terms."""

    formula: str
    response: str
    fixed: str
    random: tuple[RandomTerm, ...]

    @property
    def group(self) -> str:
        """The single grouping factor."""
        return self.random[0].group


def _top_level_groups(text: str) -> list[tuple[int, int]]:
    """Spans of top-level parenthesised groups in ``text``."""
    spans, depth, start = [], 0, None
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ModelSpecError(f"unbalanced parentheses in formula {text!r}")
            if depth == 0:
                spans.append((start, i + 1))
    if depth != 0:
        raise ModelSpecError(f"unbalanced parentheses in formula {text!r}")
    return spans


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4 formula into response, fixed part and random terms.

    Examples
    --------
    >>> f = parse_formula("pain_vas ~ visit_week * group + (1 + visit_week | participant_id)")
    >>> f.fixed, f.random[0].expr, f.random[0].group, f.random[0].correlated
    ('visit_week * group', '1 + visit_week', 'participant_id', True)
    >>> parse_formula("y ~ t + (t || id)").random[0].correlated
    False
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise ModelSpecError(f"a model formula looks like 'y ~ x + (1 | id)', got {formula!r}")
    lhs, rhs = formula.split("~", 1)
    response = lhs.strip()
    if not response:
        raise ModelSpecError(f"formula {formula!r} has no response on the left of '~'")
    random: list[RandomTerm] = []
    pieces = []
    last = 0
    for a, b in _top_level_groups(rhs):
        inner = rhs[a + 1 : b - 1]
        if "|" not in inner:
            continue
        pieces.append(rhs[last:a])
        last = b
        if "||" in inner:
            expr, group = inner.split("||", 1)
            correlated = False
        else:
            expr, group = inner.split("|", 1)
            correlated = True
        group = group.strip()
        expr = expr.strip() or "1"
        if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", group):
            raise NotSupportedError(
                f"grouping factor {group!r} is not supported yet: hipkit fits one grouping factor given by a "
                "column name; for nested (a/b) or interaction (a:b) groups make one column of their combination, "
                "or fit the model with lme4 in R"
            )
        random.append(RandomTerm(expr, group, correlated))
    pieces.append(rhs[last:])
    fixed = " ".join(pieces)
    # R spellings of a categorical predictor: factor(x), as.factor(x) -> patsy's C(x).
    fixed = re.sub(r"(?<![A-Za-z0-9_.])(?:as\.)?factor\(", "C(", fixed)
    fixed = re.sub(r"\+\s*(\+\s*)+", "+ ", fixed)
    fixed = re.sub(r"^\s*\+|\+\s*$", "", fixed.strip()).strip()
    if not fixed:
        fixed = "1"
    if not random:
        raise ModelSpecError(
            f"formula {formula!r} has no random term such as (1 | participant_id); for a model without random "
            "effects use an ordinary regression (statsmodels.formula.api.ols)"
        )
    groups = sorted({t.group for t in random})
    if len(groups) > 1:
        raise NotSupportedError(
            f"random terms on more than one grouping factor ({', '.join(groups)}) are not supported yet: hipkit fits "
            "one grouping factor (participants). For nested or crossed designs use lme4 in R, or statsmodels MixedLM "
            "with vc_formula"
        )
    return ParsedFormula(formula=formula, response=response, fixed=fixed, random=tuple(random))


_T_LEVEL = re.compile(r"\[T\.([^\]]*)\]")


def r_term_name(name: str) -> str:
    """Turn a patsy column name into R's: ``group[T.KNEE]`` -> ``groupKNEE``, ``Intercept`` -> ``(Intercept)``.

    Examples
    --------
    >>> r_term_name("visit_week:group[T.KNEE]")
    'visit_week:groupKNEE'
    >>> r_term_name("C(visit, Treatment('0'))[T.2]")
    'visit2'
    """
    if name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in _split_top(name, ":"):
        if part.startswith("C("):
            end = _matching_paren(part, 1)
            inner = _split_top(part[2:end], ",")[0].strip()
            part = inner + part[end + 1 :]
        parts.append(_T_LEVEL.sub(lambda mm: mm.group(1), part))
    return ":".join(parts)


def _matching_paren(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(text) - 1


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and brackets."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


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

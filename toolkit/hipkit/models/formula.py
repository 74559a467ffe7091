"""lme4 model formulas: a fixed part in R/patsy syntax plus random terms for one grouping factor.

``pain_vas ~ visit_week * group + (1 + visit_week | participant_id)`` is split into the fixed
formula ``pain_vas ~ visit_week * group`` (built by patsy: interactions, ``C()``, contrasts,
categorical columns) and the random terms. ``(x | g)`` gives correlated random effects for the
terms of ``x`` (an intercept unless ``0 +`` or ``- 1``); ``(x || g)`` gives uncorrelated ones, as
in lme4. Several terms on the same grouping factor are combined into one block; a second grouping
factor (nested or crossed designs) raises :class:`~hipkit.errors.NotSupportedError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ModelSpecError, NotSupportedError

__all__ = ["RandomTerm", "ParsedFormula", "parse_formula", "r_term_name"]


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

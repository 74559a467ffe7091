r"""Strict schemas for configuration files, with pydantic, and one-line error messages.

Every model of a configuration file derives from :class:`StrictModel`: an unknown key is an error
that names the key and suggests the closest valid one; numbers may be written as text (the YAML
reader keeps every scalar as text) but must be finite. :func:`validate` turns pydantic's multi-line
report into one line naming the file, the line, the place (measure, column, ...) and what to do.

Examples
--------
>>> from hipkit._yaml import parse_yaml
>>> class Figure(StrictModel):
...     value: float
...     source: str | None = None
>>> doc = parse_yaml("value: 2\nsorce: Crossley 2004\n", "f.yml")
>>> validate(Figure, doc)
Traceback (most recent call last):
...
hipkit.errors.InputError: f.yml, line 2: unknown section 'sorce' (did you mean 'source'?)
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ._yaml import YamlDocument
from .errors import InputError

__all__ = ["StrictModel", "suggest", "validate", "describe_value"]

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors, numbers finite, frozen."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True, frozen=True, populate_by_name=True
    )

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        # pydantic's own extra="forbid" error does not say which keys were valid; this one does,
        # so the message can suggest the closest.
        if isinstance(data, dict):
            valid = _keys_of(cls)
            for key in data:
                if key not in valid:
                    raise PydanticCustomError(
                        "unknown_key", "unknown key {key}", {"key": key, "valid": ", ".join(valid)}
                    )
        return data


@functools.cache
def _keys_of(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(f.alias or name for name, f in model.model_fields.items())


def _one_edit_apart(a: str, b: str) -> bool:
    # difflib's ratio ranks 'unit' above 'units' for 'unist' and cannot break the tie between
    # 'side' and 'site' for 'sied'; a typo is usually one deletion, insertion, substitution or
    # swap of neighbours, which this checks directly (no library offers it without a new dependency).
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    )


def suggest(word: Any, valid: list[str] | tuple[str, ...]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the valid word(s) closest to ``word``, or ``""``.

    Candidates come from :func:`difflib.get_close_matches`; those one edit (deletion, insertion,
    substitution, swap of neighbours) away from ``word`` are preferred, all of them when several are.

    Examples
    --------
    >>> suggest("mcdi", ["name", "mcid", "mdc", "sem"])
    " (did you mean 'mcid'?)"
    >>> suggest("mcd", ["name", "mcid", "mdc", "sem"])
    " (did you mean 'mcid' or 'mdc'?)"
    >>> suggest("zzz", ["name"])
    ''
    """
    text = str(word).strip().lower()
    lowered = {v.lower(): v for v in valid}
    if text in lowered:
        return f" (did you mean {lowered[text]!r}?)"
    close = difflib.get_close_matches(text, list(lowered), n=4, cutoff=0.6)
    near = [c for c in close if _one_edit_apart(text, c)]
    picks = [lowered[c] for c in (near or close[:1])]
    if not picks:
        return ""
    return " (did you mean " + " or ".join(repr(p) for p in picks) + "?)"


def describe_value(value: Any) -> str:
    """Describe a value for a message: text quoted and shortened, other kinds by name.

    Examples
    --------
    >>> describe_value("abc"), describe_value(None), describe_value([1, 2]), describe_value(2.0)
    ("'abc'", 'nothing', 'a list of 2 items', '2')
    """
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


_NUMBER_TYPES = {"float_type", "float_parsing", "int_type", "int_parsing", "int_from_float", "decimal_parsing"}


def _problem(err: dict) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, describe_value(err.get("input"))
    if kind == "unknown_key":
        key = str(ctx["key"])
        hint = suggest(key, ctx["valid"].split(", ")) if len(key) <= 100 else ""
        return f"unknown key {describe_value(key)}" + hint
    if kind == "missing":
        return "missing key"
    if kind in _NUMBER_TYPES:
        return f"expected a number, got {got}"
    if kind == "finite_number":
        return f"expected a finite number, got {got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "?")
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        return f"expected a number {op} {bound}, got {got}"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping (key: value), got {got}"
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return f"expected a list, got {got}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return (
            f"expected {'at least' if kind == 'too_short' else 'at most'} {n} item(s), got {ctx.get('actual_length')}"
        )
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of {', '.join(choices)}, got {got}" + suggest(err.get("input"), choices)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return " ".join(str(err.get("msg", kind)).split())


def validate(
    model: type[M],
    doc: YamlDocument,
    *,
    error: type[InputError] = InputError,
    where: Callable[[tuple, Any], tuple[str, tuple]] | None = None,
) -> M:
    r"""Validate a document against ``model``; raise one line per file for the first problem.

    Parameters
    ----------
    model : StrictModel subclass
        The schema.
    doc : YamlDocument
        The file read by :func:`hipkit._yaml.read_yaml` (or a tree wrapped in one).
    error : type of InputError
        The exception raised.
    where : callable, optional
        ``where(loc, data) -> (place, rest)`` names the place a location is in ("measure 'hop_cm'")
        and returns the rest of the location, shown as a key path.

    Returns
    -------
    model
        The validated instance.

    Raises
    ------
    InputError
        (of type ``error``): ``"<file>, line <n>: <place>: <key>: <problem>"``, with the number of
        further problems when there are several.

    Examples
    --------
    >>> from hipkit._yaml import parse_yaml
    >>> class Visit(StrictModel):
    ...     week: float
    >>> validate(Visit, parse_yaml("week: two\n", "v.yml"))
    Traceback (most recent call last):
    ...
    hipkit.errors.InputError: v.yml, line 1: week: expected a number, got 'two'
    """
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    if not errors:  # pragma: no cover - pydantic always reports at least one error
        raise error(f"{doc.origin}: invalid")

    def line_of(err: dict) -> int:
        loc = _clean_loc(err["loc"])
        if err["type"] == "unknown_key":
            loc = (*loc, err["ctx"]["key"])
        return doc.line(loc) or 0

    errors.sort(key=line_of)  # report the first problem in the file
    err = errors[0]
    loc = _clean_loc(err["loc"])
    place, rest = where(loc, doc.data) if where is not None else ("", loc)
    problem = _problem(err)
    if err["type"] == "missing" and rest:
        rest, problem = rest[:-1], f"missing key {str(rest[-1])!r}"
    if err["type"] == "unknown_key" and not loc and not place:
        problem = problem.replace("unknown key", "unknown section", 1)
    parts = [p for p in (place, _key_path(rest)) if p]
    line = line_of(err)
    head = f"{doc.origin}, line {line}" if line else doc.origin
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    raise error(": ".join([head, *parts, problem]) + more) from None


def _clean_loc(loc: tuple) -> tuple:
    # pydantic marks a dict key's own validation with "[key]"; the key itself is the place.
    return tuple(p for p in loc if p != "[key]")


def _key_path(rest: tuple) -> str:
    text = ""
    for p in rest:
        if isinstance(p, int):
            text += f" item {p + 1}"
        else:
            name = str(p) if re.fullmatch(r"\w+", str(p)) else repr(str(p))
            text += f".{name}" if text else name
    return text.strip()

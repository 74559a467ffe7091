"""Argument checks at hipkit's public entry points: one vocabulary, one kind of error.

Every public function takes its arguments from one vocabulary (``data``, ``outcome``,
``subject``, ``time``, ``conf_level``, ...; see the package glossary). :func:`checked` binds a
call to the function's signature and checks each argument by its name before the function
runs, so that a wrong type or value is an :class:`~hipkit.errors.ArgumentError` (a
``TypeError`` and ``ValueError`` too) or an :class:`~hipkit.errors.InputError` with one line
that names the function and the argument, never a bare ``TypeError``, ``AttributeError`` or
``KeyError`` from deep inside pandas (issue 16, "typed errors from the Python API").

Why by hand: the checks are about hipkit's own vocabulary (a column argument must name a column
of ``data``; a measure list may be one name or several), which validation libraries such as
pydantic's ``validate_call`` would express only through custom types for every argument, with
multi-line messages.

Examples
--------
>>> import pandas as pd
>>> @checked()
... def mean_of(data, outcome="pain_vas", conf_level=0.95):
...     return float(data[outcome].mean())
>>> mean_of(pd.DataFrame({"pain_vas": [1.0, 3.0]}))
2.0
>>> mean_of(pd.DataFrame({"pain_vas": [1.0]}), conf_level=95)
Traceback (most recent call last):
...
hipkit.errors.ArgumentError: mean_of: conf_level must be a number between 0 and 1 (e.g. 0.95), got 95
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import ArgumentError, InputError

__all__ = ["checked", "renamed", "VOCABULARY", "report_infinite"]

Check = Callable[[str, str, Any, Mapping[str, Any]], None]


def _short(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _is_frame(value: Any) -> bool:
    import pandas as pd

    return isinstance(value, pd.DataFrame)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def frame(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A pandas DataFrame."""
    if not _is_frame(value):
        raise ArgumentError(f"{func}: {name} must be a pandas DataFrame, not {type(value).__name__}")


def _column_in(func: str, name: str, value: Any, args: Mapping[str, Any], what: str = "a column name") -> None:
    data = args.get("data")
    columns = list(data.columns) if _is_frame(data) else None
    if columns is not None:
        try:
            present = value in data.columns
        except TypeError:  # unhashable
            present = False
        if present:
            return
    if not isinstance(value, str):
        raise ArgumentError(f"{func}: {name} must be {what} (text), not {type(value).__name__}: {_short(value)}")
    if columns is not None:
        shown = ", ".join(map(str, columns[:15])) + (", ..." if len(columns) > 15 else "")
        raise InputError(f"{func}: {name}={value!r} is not in the data (columns: {shown})")


def column(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """The name of a column of ``data``."""
    _column_in(func, name, value, args)


def optional_column(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """The name of a column of ``data``, or None."""
    if value is not None:
        _column_in(func, name, value, args)


def columns(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """One column name or a list of them (or None)."""
    if value is None or isinstance(value, str):
        optional_column(func, name, value, args)
        return
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise ArgumentError(
            f"{func}: {name} must be a column name or a list of column names, not {type(value).__name__}: "
            f"{_short(value)}"
        )
    for item in value:
        _column_in(func, name, item, args, what="a list of column names")


def column_list(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """One column name or a list of them (not None; an empty list is allowed)."""
    if value is None:
        raise ArgumentError(f"{func}: {name} must be a column name or a list of column names, not None")
    columns(func, name, value, args)


def boolean(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """True or False (numpy booleans too)."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{func}: {name} must be True or False, not {_short(value)}")


def optional_boolean(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """True, False or None."""
    if value is not None:
        boolean(func, name, value, args)


def probability(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A number strictly between 0 and 1."""
    if not _is_real(value) or not 0.0 < float(value) < 1.0:
        example = {"conf_level": "0.95", "alpha": "0.05", "target": "0.8"}.get(name, "0.5")
        raise ArgumentError(f"{func}: {name} must be a number between 0 and 1 (e.g. {example}), got {_short(value)}")


def real(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A finite number."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ArgumentError(f"{func}: {name} must be a finite number, got {_short(value)}")


def optional_real(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A finite number, or None."""
    if value is not None:
        real(func, name, value, args)


def optional_positive(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A finite number above 0, or None."""
    if value is not None and (not _is_real(value) or not math.isfinite(float(value)) or float(value) <= 0):
        raise ArgumentError(f"{func}: {name} must be a finite number above 0 (or None), got {_short(value)}")


def count(minimum: int) -> Check:
    """A whole number of at least ``minimum``."""

    def check(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < minimum:
            raise ArgumentError(f"{func}: {name} must be a whole number of at least {minimum}, got {_short(value)}")

    check.__doc__ = f"A whole number of at least {minimum}."
    return check


def seed(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A non-negative whole number (a random seed)."""
    count(0)(func, name, value, args)


def choice(*options: str, case: bool = False) -> Check:
    """One of ``options`` (text, compared without case unless ``case``)."""

    def check(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
        allowed = options if case else tuple(o.lower() for o in options)
        if not isinstance(value, str) or (value if case else value.lower()) not in allowed:
            raise ArgumentError(
                f"{func}: {name} must be one of {', '.join(repr(o) for o in options)}, got {_short(value)}"
            )

    check.__doc__ = f"One of {options}."
    return check


def number_map(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A mapping of names to finite numbers, or None (e.g. ``mcids={"pain_vas": 20}``)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ArgumentError(
            f"{func}: {name} must be a dict of measure name -> number (e.g. {{'pain_vas': 20}}), "
            f"not {type(value).__name__}: {_short(value)}"
        )
    for key, v in value.items():
        if not isinstance(key, str) or not _is_real(v) or not math.isfinite(float(v)):
            raise ArgumentError(f"{func}: {name} must map measure names to finite numbers; got {key!r}: {_short(v)}")


def text(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A string."""
    if not isinstance(value, str):
        raise ArgumentError(f"{func}: {name} must be text, not {type(value).__name__}: {_short(value)}")


def optional_text(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A string, or None."""
    if value is not None:
        text(func, name, value, args)


#: The shared vocabulary: argument name -> check. A function's own ``checked(name=...)`` wins.
_MODEL_CHECK = choice("warn", "ignore", "error")


def model_checks(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """Keyword arguments passed on to :func:`hipkit.lmm` (``check_singular``, ``check_convergence``).

    Each is "warn", "ignore" or "error"; any other keyword is an error naming it.
    """
    allowed = ("check_singular", "check_convergence")
    for key, item in dict(value).items():
        if key not in allowed:
            raise ArgumentError(
                f"{func}: unexpected keyword argument {key!r} (besides its own arguments it accepts "
                f"{' and '.join(allowed)})"
            )
        _MODEL_CHECK(func, key, item, args)


def text_formula(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A model formula: non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{func}: {name} must be a formula in lme4 syntax (text), not {_short(value)}")


def _as_list(value: Any) -> list:
    """A grid argument as a list: lists, tuples, ranges and arrays element by element, else one value."""
    import numpy as np

    if isinstance(value, (list, tuple, range)):
        return list(value)
    if hasattr(value, "__array__") and np.ndim(value) > 0:
        return np.asarray(value).ravel().tolist()
    return [value]


def whole_numbers(minimum: int) -> Check:
    """A whole number of at least ``minimum``, or a non-empty sequence of them (a grid)."""

    def check(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
        values = _as_list(value)
        if not values:
            raise ArgumentError(f"{func}: {name} is empty; give at least one whole number")
        for v in values:
            count(minimum)(func, name, v, args)

    check.__doc__ = f"A whole number of at least {minimum}, or a sequence of them."
    return check


def finite_numbers(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A finite non-negative number, or a non-empty sequence of them."""
    values = _as_list(value)
    if not values:
        raise ArgumentError(f"{func}: {name} is empty; give at least one number")
    for v in values:
        if not _is_real(v) or not math.isfinite(float(v)) or float(v) < 0:
            raise ArgumentError(f"{func}: {name} must be finite non-negative numbers, got {_short(v)}")


def texts(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """Text, or a non-empty sequence of texts."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise ArgumentError(f"{func}: {name} must be text or a list of texts, got {_short(value)}")


def function(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """A callable or None."""
    if value is not None and not callable(value):
        raise ArgumentError(f"{func}: {name} must be a function or None, got {_short(value)}")


def control_settings(func: str, name: str, value: Any, args: Mapping[str, Any]) -> None:
    """None or a mapping of optimiser settings: ``max_evaluations`` (a whole number >= 1), ``restarts`` (bool)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ArgumentError(f"{func}: {name} must be a dict of optimiser settings or None, not {_short(value)}")
    known = ("max_evaluations", "restarts")
    for key, item in value.items():
        if key not in known:
            raise ArgumentError(f"{func}: unknown {name} setting {key!r} (known: {', '.join(known)})")
        if key == "max_evaluations":
            if not isinstance(item, numbers.Integral) or isinstance(item, bool) or item < 1:
                raise ArgumentError(
                    f"{func}: {name}['max_evaluations'] must be a whole number >= 1, got {_short(item)}"
                )
        else:
            boolean(func, f"{name}['restarts']", item, args)


VOCABULARY: dict[str, Check] = {
    "data": frame,
    "outcome": column,
    "predictor": column,
    "time": column,
    "subject": column,
    "x": column,
    "y": column,
    "dv": column,
    "measure": column,
    "column": column,
    "session": column,
    "within": optional_column,
    "between": optional_column,
    "group": optional_column,
    "measures": columns,
    "outcomes": columns,
    "covariates": column_list,
    "conf_level": probability,
    "alpha": probability,
    "target": probability,
    "reml": boolean,
    "random_slope": boolean,
    "average_sides": boolean,
    "show_n": boolean,
    "by_side": optional_boolean,
    "progress": optional_boolean,
    "baseline": real,
    "follow_up": optional_real,
    "mdc": optional_positive,
    "mcids": number_map,
    "digits": count(0),
    "seed": seed,
    "nsim": count(1),
    "reps": count(1),
    "check_singular": choice("warn", "ignore", "error"),
    "check_convergence": choice("warn", "ignore", "error"),
    "checks": model_checks,
    "control": control_settings,
    "formula": text_formula,
}


def report_infinite(values: Any, func: str) -> None:
    """Raise :class:`InputError` with the count and the first rows when a column holds +/-inf.

    Missing values (NaN) are missing data, left out and counted by each function; an infinite
    value is an error in the data, never silently dropped.
    """
    import numpy as np
    import pandas as pd

    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isinf(v)
    if bad.any():
        rows = values.index[bad]
        shown = ", ".join(repr(r) for r in rows[:5].tolist()) + (", ..." if len(rows) > 5 else "")
        raise InputError(
            f"{func}: column {values.name!r} holds {int(bad.sum())} infinite value(s) (rows {shown}); "
            "correct or remove them"
        )


def checked(**overrides: Check | None) -> Callable:
    """Decorate a public function so that each argument is checked by its name before it runs.

    Parameters
    ----------
    **overrides : check or None
        Checks for this function's arguments that differ from :data:`VOCABULARY` (None: do not
        check that argument here, the function does).

    Notes
    -----
    A column argument that was left at its default is checked for its type only: the function
    decides what a missing default column means (``group="group"`` on ungrouped data, say).
    """

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        name = func.__name__

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise ArgumentError(f"{name}: {exc}") from None
            given = set(bound.arguments)
            bound.apply_defaults()
            values = bound.arguments
            for arg, value in values.items():
                check = overrides[arg] if arg in overrides else VOCABULARY.get(arg)
                if check is None:
                    continue
                if arg not in given and check in (column, optional_column, columns):
                    if value is not None and not isinstance(value, (str, list, tuple)):
                        check(name, arg, value, {})
                    continue
                check(name, arg, value, values)
            return func(*bound.args, **bound.kwargs)

        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        return wrapper

    return decorate


def renamed(**old_to_new: str) -> Callable:
    """Accept an argument's old name for one release, with a ``FutureWarning`` naming the new one.

    Put it above :func:`checked`: ``@renamed(dv="outcome")`` lets ``f(data, dv="pain_vas")`` run as
    ``f(data, outcome="pain_vas")``. Giving both names is an :class:`ArgumentError`.

    Examples
    --------
    >>> import warnings
    >>> @renamed(dv="outcome")
    ... def f(outcome):
    ...     return outcome
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = f(dv="pain_vas")
    >>> value, caught[0].category.__name__
    ('pain_vas', 'FutureWarning')
    >>> str(caught[0].message)[:50]
    "f: the argument 'dv' is now called 'outcome'; writ"
    """

    def decorate(func: Callable) -> Callable:
        name = func.__name__

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ArgumentError(f"{name}: give {new}= only ({old}= is its old name)")
                    warnings.warn(
                        f"{name}: the argument {old!r} is now called {new!r}; write {new}=... "
                        f"({old}= stops working in the next release)",
                        FutureWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        wrapper.renamed_arguments = dict(old_to_new)  # type: ignore[attr-defined]
        return wrapper

    return decorate

"""Publish a notebook's key results so that tests can check them.

A notebook calls :func:`record` for each number a test should pin down. When the notebook runs
under :func:`hipkit.report.execute_notebook` the values go to ``reports/<notebook>.results.json``;
run by hand (no ``HIPKIT_RESULTS`` in the environment) :func:`record` only returns the value.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["RESULTS_ENV", "record", "read_results"]

#: Environment variable naming the JSON file that :func:`record` writes to.
RESULTS_ENV = "HIPKIT_RESULTS"


def _json_safe(value: Any, name: str) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values (NaN and inf to ``None``)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist") and not isinstance(value, (dict, list, tuple)):  # numpy scalar or array
        return _json_safe(value.tolist(), name)
    if hasattr(value, "item") and not isinstance(value, (dict, list, tuple)):
        return _json_safe(value.item(), name)
    if isinstance(value, dict):
        return {str(k): _json_safe(v, name) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, name) for v in value]
    raise InputError(
        f"record({name!r}, ...): cannot store a {type(value).__name__}; record numbers, text, booleans, "
        "or lists/dicts of them (e.g. float(x) or df.to_dict())"
    )


def record(name: str, value: Any) -> Any:
    """Record one key result of a notebook for the tests and return it unchanged.

    Parameters
    ----------
    name : str
        Result name, unique within the notebook (a later call with the same name replaces it).
    value : number, str, bool, None, or a list/dict of these
        numpy and pandas scalars are converted; NaN and infinities are stored as ``null``.

    Returns
    -------
    object
        ``value``, so that ``p = record("interaction_p", fit_p)`` reads naturally.

    Raises
    ------
    InputError
        If ``name`` is empty or ``value`` cannot be stored as JSON.

    Notes
    -----
    The values go to the JSON file named by the ``HIPKIT_RESULTS`` environment variable, which
    :func:`hipkit.report.execute_notebook` sets; without it (a notebook run by hand) nothing is
    written.

    Examples
    --------
    >>> record("interaction_p", 0.003)
    0.003
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"record(name, value): name must be non-empty text (got {name!r})")
    safe = _json_safe(value, name)
    target = os.environ.get(RESULTS_ENV)
    if not target:
        return value
    path = Path(target)
    results = read_results(path) if path.exists() else {}
    results[name] = safe
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return value


def read_results(path: str | os.PathLike) -> dict:
    """Read a ``*.results.json`` file written by :func:`record` (an empty file reads as ``{}``).

    Parameters
    ----------
    path : str or path-like
        The results file.

    Returns
    -------
    dict
        Result name to value.
    """
    text = Path(path).read_text(encoding="utf-8").strip()
    return json.loads(text) if text else {}

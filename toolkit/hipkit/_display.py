"""How result objects show themselves: summary text, notebook HTML and JSON-safe records.

Ground floor (imports nothing of hipkit), so that every result class (models, bootstrap, emmeans,
cleaning) shares one contract: ``summary()`` returns :class:`SummaryText`, which a notebook shows as
text rather than as a quoted string with escaped newlines; ``_repr_html_`` escapes every character that came
from data; ``to_dict()`` holds only JSON types (:func:`json_safe`, :func:`records`).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

__all__ = ["SummaryText", "json_safe", "records", "html_result"]


class SummaryText(str):
    """A result's summary: a ``str`` that notebooks and the REPL show as the text itself.

    Examples
    --------
    >>> s = SummaryText("a < b")
    >>> repr(s) == str(s)
    True
    >>> s._repr_html_()
    '<pre>a &lt; b</pre>'
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def json_safe(value):
    """``value`` with numpy and pandas scalars, arrays and frames turned into JSON types.

    Non-finite floats become ``None`` (JSON has no NaN); tuples become lists; dict keys become text.

    Examples
    --------
    >>> json_safe({"a": np.float64(1.5), "b": [np.nan, np.int64(2)], 3: (True,)})
    {'a': 1.5, 'b': [None, 2], '3': [True]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, (pd.Series, pd.Index)):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows of ``frame`` as JSON-safe dicts (column -> value)."""
    return [{str(k): json_safe(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def html_result(title: str, table: pd.DataFrame | None = None, notes: tuple | list = ()) -> str:
    """A result's notebook display: an escaped title, an escaped table and escaped notes."""
    parts = [f"<p><strong>{html.escape(title)}</strong></p>"]
    if table is not None:
        parts.append(table.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.4g}"))
    parts += [f"<p>{html.escape(str(n))}</p>" for n in notes]
    return "\n".join(parts)

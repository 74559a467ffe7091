"""Shared helpers of :mod:`hipkit.stats`: input checks, de-duplication, pingouin without rounding.

Nothing here is public API. The helpers make the missing-data policy of the package explicit:
every function that leaves rows or participants out counts them and says so.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .._arguments import report_infinite
from ..errors import DataQualityWarning, InputError
from ..registry import Measure, load_registry

__all__ = [
    "require_columns",
    "require_numeric",
    "pingouin_unrounded",
    "collapse",
    "registry_measure",
    "warn_dropped",
    "fisher_z_ci",
    "hedges_g_ci",
    "check_conf_level",
    "report_infinite",
]


def require_columns(data: pd.DataFrame, columns: Iterable[str | None], func: str) -> None:
    """Raise :class:`InputError` naming every column of ``columns`` missing from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{func}: data must be a pandas DataFrame, got {type(data).__name__}")
    wanted = [c for c in columns if c is not None]
    missing = [c for c in dict.fromkeys(wanted) if c not in data.columns]
    if missing:
        raise InputError(
            f"{func}: column(s) {missing} not in the data; available columns: {', '.join(map(str, data.columns))}"
        )


def require_numeric(data: pd.DataFrame, columns: Iterable[str], func: str) -> None:
    """Raise :class:`InputError` if a column of ``columns`` is not numeric."""
    for c in columns:
        if not (pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])):
            raise InputError(f"{func}: column {c!r} must be numeric, it has dtype {data[c].dtype}")
        report_infinite(data[c], func)


def check_conf_level(conf_level: float, func: str) -> float:
    """Return ``conf_level`` as a float after checking that it lies in (0, 1)."""
    value = float(conf_level)
    if not 0.0 < value < 1.0:
        raise InputError(f"{func}: conf_level must be between 0 and 1 (e.g. 0.95), got {conf_level!r}")
    return value


@contextmanager
def pingouin_unrounded() -> Iterator[None]:
    """Run pingouin with every rounding option off (pingouin rounds ``CI95`` to 2 decimals by default).

    The options are restored afterwards, even on error. pandas deprecation warnings raised inside
    pingouin are silenced (they concern pingouin's code, not the user's).
    """
    import pingouin

    saved = dict(pingouin.options)
    for key in [k for k in pingouin.options if str(k).startswith("round.")]:
        del pingouin.options[key]
    pingouin.options["round"] = None
    try:
        with warnings.catch_warnings():
            # pandas deprecations raised inside pingouin's own code are not actionable for users.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pingouin\.")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pingouin\.")
            yield
    finally:
        pingouin.options.clear()
        pingouin.options.update(saved)


def registry_measure(name: str) -> Measure | None:
    """The registry entry of ``name``, or None when the registry does not define it."""
    reg = load_registry()
    return reg[name] if name in reg else None


def collapse(
    data: pd.DataFrame,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    carry: Sequence[str] = (),
    average_sides: bool = False,
    func: str = "hipkit.stats",
    hint: str | None = None,
) -> pd.DataFrame:
    """Reduce ``data`` to one row per ``keys``.

    Rows repeating the same value (participant-level measures such as pain repeat on the left
    and right rows of a visit in the canonical table) are de-duplicated: the one non-missing
    value is kept. Rows with *different* values for the same keys (per-side measures such as
    strength) are averaged only when ``average_sides`` is true; otherwise an
    :class:`InputError` says how to proceed. ``carry`` columns (e.g. ``group``) keep their
    first non-missing value; a participant with two different values raises. ``hint`` replaces
    the advice of the error message.

    Returns
    -------
    pandas.DataFrame
        Columns ``keys + carry + values`` (in that order, without duplicates), one row per key.
    """
    keys = list(keys)
    carry = [c for c in dict.fromkeys(carry) if c is not None and c not in keys]
    values = [v for v in dict.fromkeys(values) if v not in keys and v not in carry]
    cols = [*keys, *carry, *values]
    sub = data.loc[:, cols]
    if not sub.duplicated(keys).any():
        return sub.reset_index(drop=True)
    grouped = sub.groupby(keys, dropna=False, sort=True, observed=True)
    out = grouped[carry + values].first()
    for c in carry:
        if (grouped[c].nunique() > 1).any():
            raise InputError(f"{func}: column {c!r} takes more than one value within one {tuple(keys)}")
    for v in values:
        conflicting = grouped[v].nunique() > 1
        if conflicting.any():
            if not average_sides:
                example = conflicting[conflicting].index[0]
                if isinstance(example, tuple):  # plain values in the message, not numpy reprs
                    example = tuple(v.item() if hasattr(v, "item") else v for v in example)
                advice = hint or (
                    "this is usually a per-side measure with left and right rows. Keep one side "
                    "(data[data['side'] == 'left']) or pass average_sides=True to average the rows of "
                    "each combination."
                )
                raise InputError(
                    f"{func}: {int(conflicting.sum())} {tuple(keys)} combination(s) hold more than one "
                    f"different value of {v!r} (first: {example}); {advice}"
                )
            out[v] = grouped[v].mean()
    return out.reset_index()


def warn_dropped(func: str, what: str, count: int, reason: str) -> None:
    """Emit a :class:`DataQualityWarning` when ``count`` > 0 units were left out."""
    if count:
        warnings.warn(
            f"{func}: {count} {what} left out ({reason}); the count is in the output", DataQualityWarning, stacklevel=3
        )


def fisher_z_ci(r: float, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Two-sided Fisher-z confidence interval of a correlation (same formula as pingouin.compute_esci).

    ``tanh(atanh(r) +/- z_(1 - alpha/2) / sqrt(n - 3))``; NaN when ``n <= 3``; ``(r, r)`` when ``|r| = 1``.
    """
    from scipy.stats import norm

    if not np.isfinite(r) or n <= 3:
        return (np.nan, np.nan)
    if abs(r) >= 1.0:
        return (float(r), float(r))
    z = np.arctanh(r)
    half = norm.ppf(1 - (1 - conf_level) / 2) / np.sqrt(n - 3)
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def hedges_g_ci(g: float, n_a: int, n_b: int, paired: bool, conf_level: float = 0.95) -> tuple[float, float]:
    """Approximate confidence interval of a standardised mean difference (pingouin.compute_esci formula).

    Independent samples: ``se = sqrt((n_a + n_b) / (n_a n_b) + g^2 / (2 (n_a + n_b)))`` with
    ``n_a + n_b - 2`` df (Hedges & Olkin 1985). Paired samples: ``se = sqrt(1/n + g^2 / (2 n))``
    with ``n - 1`` df. The interval is ``g +/- t_(1 - alpha/2, df) * se``.
    """
    from scipy.stats import t

    if not np.isfinite(g):
        return (np.nan, np.nan)
    if paired:
        n = n_a
        if n < 2:
            return (np.nan, np.nan)
        se = np.sqrt(1 / n + g**2 / (2 * n))
        dof = n - 1
    else:
        if n_a < 1 or n_b < 1 or n_a + n_b < 3:
            return (np.nan, np.nan)
        se = np.sqrt((n_a + n_b) / (n_a * n_b) + g**2 / (2 * (n_a + n_b)))
        dof = n_a + n_b - 2
    crit = t.ppf(1 - (1 - conf_level) / 2, dof)
    return (float(g - crit * se), float(g + crit * se))

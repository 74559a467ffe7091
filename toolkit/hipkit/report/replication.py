"""Small helpers the replication notebooks share: calibration tables, claim agreement, within/between effects.

Their text is written with :mod:`hipkit.report.format` (``fmt_ci``, ``fmt_p``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .format import fmt_ci, fmt_p

__all__ = ["load_simulated", "agreement", "within_between_effects"]


def load_simulated(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A bundled simulated cohort: its data, its calibration table and its datapackage.

    Returns
    -------
    data : DataFrame
        ``data.csv``.
    calibration : DataFrame
        parameter, value, kind (published, literature, derived, assumption), source.
    package : dict
        The Frictionless ``datapackage.json``.
    """
    folder = Path(folder)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    calibration = pd.DataFrame(package["calibration"])[["parameter", "value", "kind", "source"]]
    return pd.read_csv(folder / "data.csv"), calibration, package


def agreement(direction_ok, significant_ok=None, magnitude_ok=None) -> str:
    """Whether a replication agrees with a published claim.

    ``yes`` when every criterion that could be tested holds (direction, significance, magnitude
    within the CI; ``None`` for a criterion that cannot be tested), ``no`` otherwise, and
    ``not tested`` when none could be.

    Examples
    --------
    >>> agreement(True, True), agreement(True, False), agreement(None)
    ('yes', 'no', 'not tested')
    """
    tested = [c for c in (direction_ok, significant_ok, magnitude_ok) if c is not None]
    if not tested:
        return "not tested"
    return "yes" if all(bool(c) for c in tested) else "no"


def within_between_effects(fit, predictor: str, unit: str, per: float = 10) -> tuple[pd.Series, pd.Series, str]:
    """The within- and between-person rows of a :func:`hipkit.within_between` fit, and a text summary.

    Effects are scaled to ``per`` units of the predictor (e.g. per 10 N of strength); ``unit`` is
    the label printed after them, e.g. ``"cm per 10 N"``.

    Returns
    -------
    within, between : Series
        The ``<predictor>_within`` and ``<predictor>_between`` rows of ``fit.tidy()``.
    text : str
        Two lines: each effect per ``per`` units with its 95% CI and p value.
    """
    terms = fit.tidy().set_index("term")
    within, between = terms.loc[f"{predictor}_within"], terms.loc[f"{predictor}_between"]
    lines = []
    for name, row in (("Within-person: ", within), ("Between-person:", between)):
        ci = fmt_ci(per * row.estimate, per * row.conf_low, per * row.conf_high, unit, 2)
        lines.append(f"{name} {ci} {fmt_p(row.p_value)}")
    return within, between, "\n".join(lines)

"""Small helpers the replication notebooks share: formatting, calibration tables, claim agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["fmt_p", "fmt_ci", "load_simulated", "agreement", "within_between_effects"]


def fmt_p(p: float) -> str:
    """A p value as text.

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.0123)
    ('p < 0.001', 'p = 0.012')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_ci(est: float, low: float, high: float, unit: str = "", digits: int = 1) -> str:
    """An estimate with its confidence interval as text.

    Examples
    --------
    >>> fmt_ci(12.34, 4.5, 20.06, "N")
    '12.3 N (95% CI 4.5 to 20.1)'
    """
    u = f" {unit}" if unit and unit != "%" else unit
    return f"{est:.{digits}f}{u} (95% CI {low:.{digits}f} to {high:.{digits}f})"


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

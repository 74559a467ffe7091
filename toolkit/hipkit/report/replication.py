"""Small helpers the replication notebooks share: formatting, calibration tables, claim agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["fmt_p", "fmt_ci", "load_simulated", "agreement"]


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

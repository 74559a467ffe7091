"""Small helpers the replication notebooks share: calibration tables, claim agreement, within/between effects.

Their text is written with :mod:`hipkit.report.format` (``fmt_ci``, ``fmt_p``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..registry import load_registry
from .format import fmt_ci, fmt_p, short_label

__all__ = ["load_simulated", "agreement", "within_between_effects", "within_between_sentences"]


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


def within_between_sentences(
    within: pd.Series, between: pd.Series, outcome: str, per: float = 10.0, alpha: float = 0.05
) -> list[str]:
    """What a within/between strength model says, in sentences computed from its two rows.

    The direction, size, interval and significance of each effect, and which of the two questions the
    data answer, are read from the estimates (a notebook on other data says what those data show);
    better or worse comes from the outcome's direction in the registry.

    Parameters
    ----------
    within, between : Series
        The ``<predictor>_within`` and ``<predictor>_between`` rows of a :func:`hipkit.within_between`
        fit's ``tidy()`` (estimate, conf_low, conf_high, p_value), per newton of strength.
    outcome : str
        Registry name of the outcome (``"lefs"``, ``"pain_vas"``).
    per : float, default 10
        Effects are stated per this many newtons.
    alpha : float, default 0.05
        A relation is called clear when its p value is below ``alpha``.

    Returns
    -------
    list of str
        Three sentences: the between-person effect, the within-person effect, what the two say together.

    Examples
    --------
    >>> rows = {"estimate": 0.3, "conf_low": 0.1, "conf_high": 0.5, "p_value": 0.004}
    >>> b, w = pd.Series(rows), pd.Series({"estimate": -0.01, "conf_low": -0.2, "conf_high": 0.2, "p_value": 0.9})
    >>> within_between_sentences(w, b, "lefs")[2]
    "So in these data the link between strength and function (LEFS) is a difference between people: they do not show that a participant's own strength gain goes with better function (LEFS)."
    """  # noqa: E501
    m = load_registry()[outcome]
    name = short_label(outcome, unit=False)
    name = name[0].lower() + name[1:] if name else m.label
    unit = "points" if m.unit in {"points", "score", ""} else m.unit
    sign = {"higher_better": 1, "lower_better": -1}.get(m.direction or "", 0)

    def parts(row):
        est, low, high = per * float(row["estimate"]), per * float(row["conf_low"]), per * float(row["conf_high"])
        clear = bool(float(row["p_value"]) < alpha and (low > 0 or high < 0))
        word = "higher" if est > 0 else "lower"
        better = None if sign == 0 else (est * sign > 0)
        ci = fmt_ci(est, low, high, f"{unit} per {per:g} N", 2)
        return ci, clear, word, better, fmt_p(float(row["p_value"]))

    b_ci, b_clear, b_word, b_better, b_p = parts(between)
    w_ci, w_clear, w_word, w_better, w_p = parts(within)
    verdict = {True: "a clear relation", False: "no clear relation (the interval includes no difference)"}
    out = [
        f"Between people: participants who were stronger on average had {b_word} {name}, {b_ci} ({b_p}); "
        f"{verdict[b_clear]}.",
        f"Within people: at visits when a participant was stronger than their own usual level (beyond the "
        f"average change over time), their {name} was {w_word}, {w_ci} ({w_p}); {verdict[w_clear]}.",
    ]
    good = {True: "better", False: "worse", None: "a different"}
    if b_clear and not w_clear:
        out.append(
            f"So in these data the link between strength and {name} is a difference between people: they do not "
            f"show that a participant's own strength gain goes with {good[True] if sign else 'a different'} {name}."
        )
    elif w_clear and not b_clear:
        out.append(
            f"So in these data a participant's own strength gain goes with {good[w_better]} {name}, while "
            f"stronger people do not clearly differ in {name} from weaker ones."
        )
    elif w_clear and b_clear:
        out.append(
            f"So in these data both hold: stronger people have {good[b_better]} {name}, and a participant's own "
            f"strength gain goes with {good[w_better]} {name}."
        )
    else:
        out.append(f"So these data show no clear link between strength and {name}, within or between people.")
    return out


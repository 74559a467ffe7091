"""Numbers to text for reports, replication helpers and notebooks: the one place that formats results.

Estimates never format themselves: the analyses return numbers (and :class:`~hipkit.report.disclosure.Count`
cells), and everything a reader sees as text is made here. Measure names shown to readers come from
the registry (``label``, ``short_label`` and ``unit`` of :mod:`hipkit.registry`), never from a table
of names kept here.

- Single numbers: :func:`number`, :func:`week`, :func:`weeks`, :func:`percent`, :func:`p_cell`, :func:`fmt_p`.
- Estimates with intervals: :func:`with_ci` (table cells), :func:`fmt_ci` (running text).
- Sentences: :func:`plain_sentence` (a within-patient estimate for a clinician), :func:`per_step_sentence`
  (a model coefficient per step of its predictor).
- Tables: :func:`html_table` (escaped through :mod:`hipkit.report.markup`), :func:`display_means`,
  :func:`display_change`.
- Labels: :func:`short_label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from ..registry import load_registry
from . import markup
from .markup import Fragment

__all__ = [
    "number",
    "week",
    "weeks",
    "percent",
    "p_cell",
    "fmt_p",
    "fmt_ci",
    "with_ci",
    "short_label",
    "plain_sentence",
    "per_step_sentence",
    "html_table",
    "display_means",
    "display_change",
]


def number(value: float, matched: Sequence[float] | None = None, signed: bool = False) -> str:
    """``value`` with 2 decimals when every number of ``matched`` is below 10 in size, else 1.

    Parameters
    ----------
    value : float
    matched : sequence of float, optional
        The numbers shown together with ``value`` (an estimate and its interval share their
        decimals); default: ``value`` alone.
    signed : bool, default False
        Show a + on positive values (for changes).

    Returns
    -------
    str

    Examples
    --------
    >>> number(2.345), number(12.345), number(1.5, [1.5, 12.0], signed=True)
    ('2.35', '12.3', '+1.5')
    """
    matched = [value] if matched is None else matched
    d = 2 if max(abs(v) for v in matched) < 10 else 1
    return f"{value:+.{d}f}" if signed else f"{value:.{d}f}"


def week(value: float) -> str:
    """A visit week as text (``2.0`` -> ``"2"``, ``2.5`` -> ``"2.5"``); empty when missing.

    Examples
    --------
    >>> week(2.0), week(2.5), week(float("nan"))
    ('2', '2.5', '')
    """
    return "" if pd.isna(value) else f"{value:g}"


def weeks(values: Iterable[float]) -> str:
    """Visit weeks as a comma-separated list.

    Examples
    --------
    >>> weeks([0, 2.0, 4, 6])
    '0, 2, 4, 6'
    """
    return ", ".join(week(w) for w in values)


def percent(p: float, decimals: int = 0) -> str:
    """A proportion as a percentage.

    Examples
    --------
    >>> percent(0.5), percent(0.12345, 1)
    ('50%', '12.3%')
    """
    return f"{p:.{decimals}%}"


def p_cell(p: float) -> str:
    """A p value for a table cell: ``"<0.001"``, three decimals, or empty when missing.

    Examples
    --------
    >>> p_cell(0.0002), p_cell(0.04567), p_cell(float("nan"))
    ('<0.001', '0.046', '')
    """
    return "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def fmt_p(p: float) -> str:
    """A p value for running text.

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.0123)
    ('p < 0.001', 'p = 0.012')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_ci(est: float, low: float, high: float, unit: str = "", digits: int = 1) -> str:
    """An estimate with its confidence interval for running text.

    Examples
    --------
    >>> fmt_ci(12.34, 4.5, 20.06, "N")
    '12.3 N (95% CI 4.5 to 20.1)'
    """
    u = f" {unit}" if unit and unit != "%" else unit
    return f"{est:.{digits}f}{u} (95% CI {low:.{digits}f} to {high:.{digits}f})"


def with_ci(est: float, low: float, high: float, signed: bool = False) -> str:
    """``"est (low to high)"`` with matched decimals; empty when suppressed (NaN).

    An estimate whose interval could not be computed (every change the same, one patient) is shown
    alone, with ``"(CI not estimable)"``.

    Parameters
    ----------
    est, low, high : float
        The estimate and its interval (NaN where suppressed or not estimable).
    signed : bool, default False
        Show a + on positive values (for changes).

    Returns
    -------
    str
        The three numbers with the decimals of :func:`number`.

    Examples
    --------
    >>> with_ci(-2.271, -2.33, -2.21, signed=True)
    '-2.27 (-2.33 to -2.21)'
    >>> with_ci(-8.0, float("nan"), float("nan"), signed=True)
    '-8.00 (CI not estimable)'
    """
    if pd.isna(est):
        return ""
    if pd.isna(low) or pd.isna(high):
        return f"{number(est, [est], signed)} (CI not estimable)"
    values = [est, low, high]
    return f"{number(est, values, signed)} ({number(low, values, signed)} to {number(high, values, signed)})"


def short_label(measure: str, unit: bool = True) -> str:
    """Short display name of a registry measure (its ``short_label``, else its ``label``), with its unit.

    Parameters
    ----------
    measure : str
    unit : bool, default True

    Returns
    -------
    str

    Examples
    --------
    >>> short_label("pain_vas")
    'Pain (VAS), cm'
    """
    m = load_registry()[measure]
    name = m.short_label or m.label
    return f"{name}, {m.unit}" if unit else name


def _directed_ci(low: float, high: float, unit: str, decimals: int, undecided: str = "") -> str:
    """A 95% CI in words of direction: both bounds lower, both higher, or from lower to higher."""
    f = f"{{:.{decimals}f}}"
    if high < 0:
        return f"95% CI {f.format(-high)} to {f.format(-low)} {unit} lower"
    if low > 0:
        return f"95% CI {f.format(low)} to {f.format(high)} {unit} higher"
    return f"95% CI from {f.format(abs(low))} {unit} lower to {f.format(high)} {unit} higher{undecided}"


def plain_sentence(outcome: str, est: float, low: float, high: float, step: float = 10.0) -> str:
    """One sentence a clinician can read: a within-patient strength estimate per ``step`` newtons.

    Parameters
    ----------
    outcome : str
        Registry name of the outcome (its label, unit and direction are used).
    est, low, high : float
        Estimate and 95% CI limits of the change in ``outcome`` per ``step`` N.
    step : float, default 10

    Returns
    -------
    str

    Examples
    --------
    >>> plain_sentence("pain_vas", -0.12, -0.2, -0.04)
    'When a patient gained 10 N of hip-abductor strength, their pain (VAS) was on average 0.12 cm lower (95% CI 0.04 to 0.20 cm lower), beyond the change expected from time in the programme alone; lower is better.'
    """  # noqa: E501
    m = load_registry()[outcome]
    short = m.short_label
    name = short[0].lower() + short[1:] if short else m.label
    unit = "points" if m.unit in {"points", "score", ""} else m.unit
    decimals = 2 if max(abs(low), abs(high)) < 10 else 1
    f = f"{{:.{decimals}f}}"
    word = "lower" if est < 0 else "higher"
    ci = _directed_ci(low, high, unit, decimals, undecided=", so no clear relation")
    better = {"lower_better": "lower is better", "higher_better": "higher is better"}.get(m.direction or "", "")
    return (
        f"When a patient gained {step:g} N of hip-abductor strength, their {name} was on average "
        f"{f.format(abs(est))} {unit} {word} ({ci}), beyond the change expected from time in the programme alone"
        + (f"; {better}." if better else ".")
    )


def per_step_sentence(row, step: float, lead: str, unit: str = "cm", outcome: str = "pain score") -> str:
    """A model coefficient as one plain sentence: the change in the outcome per ``step`` of the predictor.

    Parameters
    ----------
    row : pandas.Series or mapping
        One row of ``LmmResult.tidy()`` (``estimate``, ``conf_low``, ``conf_high``, per unit of the predictor).
    step : float
        The predictor difference to describe (e.g. 10 N).
    lead : str
        The start of the sentence, with ``{step}`` where the step goes.
    unit : str, default "cm"
        The outcome's unit.
    outcome : str, default "pain score"
        What the outcome is called in the sentence.

    Returns
    -------
    str

    Examples
    --------
    >>> per_step_sentence({"estimate": -0.012, "conf_low": -0.02, "conf_high": -0.004}, 10, "Each {step} N gain")
    'Each 10 N gain went with a 0.12 cm lower pain score (95% CI 0.04 to 0.20 cm lower).'
    """
    est, low, high = (float(row[k]) * step for k in ("estimate", "conf_low", "conf_high"))
    direction = "lower" if est < 0 else "higher"
    ci = _directed_ci(low, high, unit, 2)
    return f"{lead.format(step=f'{step:g}')} went with a {abs(est):.2f} {unit} {direction} {outcome} ({ci})."


def html_table(frame: pd.DataFrame, labels: dict | None = None, digits: int | dict = 2) -> Fragment:
    """A plain HTML table (no index, no per-run ids) for the report; numbers rounded, missing blank.

    Headers and cells are escaped (:func:`hipkit.report.markup.table`); ``display()`` shows it.

    Parameters
    ----------
    frame : pandas.DataFrame
    labels : dict, optional
        Column renames for display.
    digits : int or dict, default 2
        Decimals for float columns (a dict per column).

    Returns
    -------
    hipkit.report.markup.Fragment

    Examples
    --------
    >>> html_table(pd.DataFrame({"a": [1.234]}), digits=1).count('<td><span class="hipkit-num">1.2</span></td>')
    1
    """
    shown = frame.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            d = digits.get(c, 2) if isinstance(digits, dict) else digits
            shown[c] = shown[c].map(lambda v, d=d: "" if pd.isna(v) else f"{v:.{d}f}")
    shown = shown.astype(object).where(shown.notna(), "")
    if labels:
        shown = shown.rename(columns=labels)
    return markup.table(shown)


def _readable(frame: pd.DataFrame, value: str, columns: tuple[str, str, str], signed: bool) -> pd.DataFrame:
    """Measure, group, week and n, then ``value`` as ``"est (low to high)"`` from three columns."""
    return pd.DataFrame(
        {
            "Measure": frame["measure"].map(short_label),
            "Group": frame["group"],
            "Week": frame["week"].map(week),
            "n": frame["n"],
            value: [with_ci(*v, signed=signed) for v in frame[list(columns)].to_numpy()],
        }
    )


def display_means(means: pd.DataFrame) -> pd.DataFrame:
    """:func:`~hipkit.report.clinic.visit_means` as text cells: ``Measure, Group, Week, n, Mean (95% CI), SD``."""
    out = _readable(means, "Mean (95% CI)", ("mean", "conf_low", "conf_high"), signed=False)
    return out.assign(SD=means["sd"].map(lambda v: "" if pd.isna(v) else number(v, [v])))


def display_change(change: pd.DataFrame) -> pd.DataFrame:
    """:func:`~hipkit.report.clinic.change_from_baseline` as text cells: change (95% CI), Hedges' g, both p values."""
    out = _readable(change, "Change from week 0 (95% CI)", ("mean_change", "conf_low", "conf_high"), signed=True)
    out["Hedges' g"] = change["hedges_g"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    out["p"] = change["p_value"].map(p_cell)
    out["p (Wilcoxon)"] = change["p_wilcoxon"].map(p_cell) if "p_wilcoxon" in change else ""
    return out

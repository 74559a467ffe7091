"""Disclosure control of the clinic report's tables, through the report's one ledger.

Every analysis registers its counts in a :class:`~hipkit.report.disclosure.Disclosure` (the report's,
or a private one when a function is used on its own); :func:`publish` shows the tables once the
ledger is resolved, blanking what a hidden count would give away (:data:`HIDE_WITH`). The rule itself
(primary and complementary suppression) lives in :mod:`hipkit.report.disclosure` only.
"""

from __future__ import annotations

import re

import pandas as pd

from ..disclosure import Count, Disclosure, suppress
from .data import ClinicData

__all__ = ["HIDE_WITH", "suppress", "publish", "cleaning_counts", "quarantine_counts"]


def _ledger(disclosure: Disclosure | None, min_cell: int) -> tuple[Disclosure, bool]:
    """The report's ledger, or a private one (resolved at once) when a function is used on its own."""
    if disclosure is not None:
        return disclosure, False
    return Disclosure(min_cell), True


def _finish(ledger: Disclosure, own: bool, frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Standalone use: resolve the private ledger and return what is shown; else the frame of Counts."""
    if not own:
        return frame
    ledger.resolve()
    return ledger.publish(frame, HIDE_WITH.get(table))


#: What else is blanked where a table's count is hidden (means, rates and intervals built on it).
HIDE_WITH = {
    "means": {"n": ["mean", "sd", "conf_low", "conf_high"]},
    "change": {"n": ["mean_change", "conf_low", "conf_high", "hedges_g", "p_value", "p_wilcoxon"]},
    "responders": {"responders": ["proportion", "conf_low", "conf_high"], "n": ["proportion", "conf_low", "conf_high"]},
    "mdc": {"n_exceeding": ["proportion", "conf_low", "conf_high"], "n": ["proportion", "conf_low", "conf_high"]},
    "relation": {"n_patients": ["estimate", "conf_low", "conf_high", "p_value"]},
}


def publish(ledger: Disclosure, tables: dict) -> dict:
    """The tables of :func:`register_report` as shown, after ``ledger.resolve()``.

    Parameters
    ----------
    ledger : Disclosure
    tables : dict

    Returns
    -------
    dict
    """
    shown = dict(tables)
    for name in ("flow", "means", "change", "responders", "mdc", "data_quality", "relation", "sex"):
        frame = tables.get(name)
        if isinstance(frame, pd.DataFrame):
            shown[name] = ledger.publish(frame, HIDE_WITH.get(name))
    if isinstance(tables.get("table1"), pd.DataFrame):
        shown["table1"] = _publish_table1(ledger, tables["table1"])
    return shown


def _publish_table1(ledger: Disclosure, table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 cells ``"mean (SD) [n]"`` with n shown through the ledger (the cell blanked when n is hidden)."""
    out = table.copy()
    for g in out.columns.drop("measure"):
        shown = []
        for text, count in out[g]:
            value = ledger.show(count)
            if isinstance(value, str):
                shown.append(f"{value} values" if value.startswith("<") else "suppressed")
            else:
                shown.append(re.sub(r"\[\d+\]\s*$", f"[{value}]", str(text)))
        out[g] = shown
    return out


def _hide_proportion(out: pd.DataFrame, count: str, min_cell: int) -> pd.DataFrame:
    """Suppress a count, its complement and the proportion they give away when either is small.

    A standalone rule for one table of counts without member sets (the report itself registers
    counts and their complements in its :class:`~hipkit.report.disclosure.Disclosure` ledger).
    """
    ledger = Disclosure(min_cell)
    n_cells, k_cells = [], []
    for i, (n, k) in enumerate(zip(out["n"].astype(int), out[count].astype(int))):
        total = ledger.count(("n", i), value=n)
        hits = ledger.count((count, i), value=k)
        rest = ledger.count(("rest", i), value=n - k, published=False)
        ledger.relation(total, [hits, rest])
        n_cells.append(total)
        k_cells.append(hits)
    shown = out.copy()
    shown["n"] = n_cells
    shown[count] = k_cells
    ledger.resolve()
    return ledger.publish(
        shown, {count: ["proportion", "conf_low", "conf_high"], "n": ["proportion", "conf_low", "conf_high"]}
    )


def cleaning_counts(cd: ClinicData, ledger: Disclosure) -> list[tuple[str, list[tuple[str, Count]]]]:
    """The cleaning log's conversion counts (appendix), registered in ``ledger`` (records).

    Parameters
    ----------
    cd : ClinicData
        Its cleaning log (``cd.log``; nothing for an already-clean input).
    ledger : Disclosure

    Returns
    -------
    list of (str, list of (str, Count))
        One entry per kind of step (unit conversions, visit labels, ...), each a list of labelled counts.
    """
    if cd.log is None:
        return []
    out = []
    counts = cd.log["counts"]
    for key in ("unit_conversions", "units_assumed", "visit_labels", "categories", "missing_tokens", "derivations"):
        if counts.get(key):
            items = [
                (str(k), ledger.count(("log", key, str(k)), value=int(v), universe="records", table="appendix"))
                for k, v in counts[key].items()
            ]
            out.append((key, items))
    return out


def quarantine_counts(cd: ClinicData, ledger: Disclosure) -> pd.DataFrame:
    """Quarantined records by reason, action and column (appendix), registered in ``ledger``.

    Parameters
    ----------
    cd : ClinicData
        Its quarantine table (``cd.quarantine``).
    ledger : Disclosure
        Each (reason, action) total is linked to the data-quality table's count of it.

    Returns
    -------
    pandas.DataFrame
        ``reason, action, column, count`` (counts as :class:`~hipkit.report.disclosure.Count`).
    """
    q = cd.quarantine
    if not len(q):
        return pd.DataFrame(columns=["reason", "action", "column", "count"])
    q = q.groupby(["reason", "action", "column"], dropna=False).size().rename("count").reset_index()
    q["count"] = [
        ledger.count(("quarantine detail", str(a), str(b), str(c)), value=int(n), universe="records", table="appendix")
        for a, b, c, n in q[["reason", "action", "column", "count"]].itertuples(index=False)
    ]
    # Each (reason, action) total of the data-quality table is the sum of its columns here.
    for (reason, action), part in q.groupby(["reason", "action"], dropna=False):
        total = ledger.count(
            ("quarantine", str(reason), str(action)), value=sum(c.value for c in part["count"]), universe="records"
        )
        ledger.relation(total, list(part["count"]))
    return q

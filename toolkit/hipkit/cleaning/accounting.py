"""The row accounting of a cleaning run as a table and a figure (what ``glance()`` and ``plot()`` show).

One home for both cleaning results (:class:`~hipkit.cleaning.pipeline.CleanResult` in memory and
:class:`~hipkit.cleaning.outofcore.OutOfCoreResult` out of core): they hold the same audit log, whose
``rows`` entry accounts for every input record.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ACCOUNTING_COLUMNS", "accounting_glance", "accounting_figure"]

#: Columns of a cleaning result's ``glance()``, in order (keys of ``log["rows"]`` and the warning count).
ACCOUNTING_COLUMNS = [
    "records_in",
    "clean",
    "quarantined",
    "duplicates_removed",
    "combined_into_other_rows",
    "rows_out",
    "values_quarantined",
    "participants",
    "invariant_holds",
    "n_warnings",
]
_KEYS = {"records_in": "in", "rows_out": "out"}


def accounting_glance(log: dict) -> pd.DataFrame:
    """One row: where every input record went (``log["rows"]``) and how many warnings the log holds."""
    rows = log.get("rows", {})
    out = {c: rows.get(_KEYS.get(c, c)) for c in ACCOUNTING_COLUMNS[:-1]}
    out["n_warnings"] = len(log.get("warnings", []))
    return pd.DataFrame([out], columns=ACCOUNTING_COLUMNS)


def accounting_figure(log: dict, reasons: pd.Series | None = None):
    """Bars of where the input records went and, if given, of the quarantine reasons (returned, not shown)."""
    from matplotlib.figure import Figure

    g = accounting_glance(log).iloc[0]
    parts = ["clean", "quarantined", "duplicates_removed", "combined_into_other_rows"]
    counts = [int(g[p] or 0) for p in parts]
    panels = 2 if reasons is not None and len(reasons) else 1
    fig = Figure(figsize=(5.0 * panels, 2.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    axes[0].barh([p.replace("_", " ") for p in parts][::-1], counts[::-1], color="#1f4e79")
    axes[0].set_title(f"{int(g['records_in'] or 0):,} input records", fontsize=10)
    axes[0].set_xlabel("records")
    if panels == 2:
        r = reasons.astype(str).value_counts().sort_values()
        axes[1].barh([s.replace("_", " ") for s in r.index], r.to_numpy(), color="#b35c1e")
        axes[1].set_title("quarantine entries by reason", fontsize=10)
        axes[1].set_xlabel("entries")
    return fig

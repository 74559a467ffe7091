"""The quarantine table and the audit log that every cleaning step writes to."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._glossary import QUARANTINE_COLUMNS, QuarantineReason
from .._version import __version__

__all__ = ["Quarantine", "AuditLog", "participant_ids"]


class Quarantine:
    """Collects quarantined values and rows, vectorised (one call per problem and column).

    ``action`` is ``value_set_missing`` (the value is blanked, the row stays clean) or
    ``row_removed`` (the whole record leaves the clean table).
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        #: source file -> slice id -> canonical name -> raw header (set by the pipeline)
        self.headers: dict[str, dict[int, dict[str, str]]] = {}

    def add(
        self,
        records: pd.DataFrame,
        mask: np.ndarray | pd.Series,
        column: str | pd.Series,
        raw_value: pd.Series | str | None,
        reason: QuarantineReason,
        action: str,
        message: str | pd.Series,
        check: str | None = None,
        slices: np.ndarray | None = None,
    ) -> int:
        """Quarantine the records where ``mask`` is true; return how many.

        ``slices`` (the header slice of each record, row for row: see
        :class:`~hipkit.cleaning.issues.RecordState`) shows ``column`` as the export's header.
        """
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n == 0:
            return 0
        keep = [c for c in ("source_file", "source_line", "participant_id") if c in records.columns]
        at = np.flatnonzero(mask)
        sub = records[keep].iloc[at]  # only the columns the entry needs

        def pick(value, default=""):
            if isinstance(value, pd.Series):
                return value.loc[mask].astype("object").to_numpy()
            return np.full(n, default if value is None else value, dtype=object)

        pid = sub["participant_id"] if "participant_id" in sub.columns else pd.Series([""] * n)
        columns = pick(column)
        if slices is not None and self.headers:
            files = sub["source_file"].to_numpy(dtype=object)
            columns = np.array(
                [self.headers.get(f, {}).get(int(s), {}).get(c, c) for f, s, c in zip(files, slices[at], columns)],
                dtype=object,
            )
        part = pd.DataFrame(
            {
                "source_file": sub["source_file"].astype("object").to_numpy(),
                "source_line": sub["source_line"].to_numpy(dtype=np.int64),
                "participant_id": pd.Series(pid).astype("object").to_numpy(),
                "column": columns,
                "raw_value": pick(raw_value),
                "check": pick(check or str(reason)),
                "reason": str(reason),
                "action": action,
                "message": pick(message),
            }
        )
        self._parts.append(part)
        return n

    def frame(self) -> pd.DataFrame:
        """The quarantine table, sorted by origin, with the glossary's columns."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in QUARANTINE_COLUMNS}).astype(
                {"source_line": "int64"}
            )
        q = pd.concat(self._parts, ignore_index=True)
        # One entry per (origin, column, action): a specific reason found first wins over the
        # generic schema failure that the same blanked value may cause later.
        q = q.drop_duplicates(["source_file", "source_line", "column", "action"], keep="first")
        q = q.sort_values(["source_file", "source_line", "column"], kind="stable").reset_index(drop=True)
        q["raw_value"] = q["raw_value"].map(
            lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
        )
        q["participant_id"] = q["participant_id"].map(
            lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
        )
        return q[QUARANTINE_COLUMNS]


_ID_MARK = "\x1f"
_ID = re.compile(f"{_ID_MARK}id{_ID_MARK}(.*?){_ID_MARK}", re.DOTALL)


def participant_ids(ids: Iterable, limit: int = 5) -> str:
    """Participant ids for a log message, marked so that :meth:`AuditLog.to_dict` can hash them.

    With ``--deidentify`` the log shows the salted codes the clean table uses, never a raw id.
    """
    ids = list(ids)
    shown = ", ".join(f"{_ID_MARK}id{_ID_MARK}{v}{_ID_MARK}" for v in ids[:limit])
    return shown + (" ..." if len(ids) > limit else "")


@dataclass
class AuditLog:
    """Counts of every step of a cleaning run, written as JSON (no timestamps: re-runs match).

    Participant ids in messages are written with :func:`participant_ids`; ``id_display`` (set by a
    de-identifying run) turns each into its salted code when the log is rendered.
    """

    inputs: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    counters: dict = field(default_factory=lambda: defaultdict(Counter))
    warnings: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    id_display: Callable[[str], str] | None = None

    def count(self, step: str, key: str, n: int) -> None:
        """Add ``n`` to the counter ``key`` of ``step`` (zero counts are not recorded)."""
        if n:
            self.counters[step][key] += int(n)

    def step(self, name: str, **details) -> None:
        """Record one applied transformation (a conversion, a mapping) with its details."""
        self.steps.append({"step": name, **details})

    def warn(self, message: str) -> None:
        """Record a data-quality warning (also raised as a DataQualityWarning by the pipeline)."""
        self.warnings.append(message)

    def render(self, text: str) -> str:
        """``text`` with its marked participant ids shown raw, or as codes in a de-identifying run."""
        show = self.id_display or (lambda v: v)
        return _ID.sub(lambda m: show(m.group(1)), text)

    def to_dict(self) -> dict:
        """The log as plain JSON-serialisable data."""
        return {
            "hipkit_version": __version__,
            "settings": self.settings,
            "inputs": self.inputs,
            "rows": self.rows,
            "counts": {k: dict(sorted(v.items())) for k, v in sorted(self.counters.items())},
            "steps": self.steps,
            "warnings": [self.render(w) for w in self.warnings],
        }

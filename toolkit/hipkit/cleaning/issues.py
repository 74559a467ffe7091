"""What every cleaning step hands on besides the records: the :class:`Issues` collector.

Every step of the cleaner is a function ``step(frame, issues, **settings) -> (frame, issues)``
(:class:`Step`): it reads the records, never writes into them (a changed column is a new frame),
and says what it found through ``issues``:

- quarantine entries (:attr:`Issues.quarantine`) and log events (:attr:`Issues.log`), the two
  accumulators of a run, shared by every step;
- the row accounting (:attr:`Issues.tally`: records read, removed, copies dropped, ...);
- the per-record state that travels beside the records but is no column of theirs
  (:class:`RecordState`: the header slice of a wide file each record came from, the unit stated
  for each value, each measure's raw cell text, the visit week a header names, the rows marked
  for removal). It is replaced, never edited (:meth:`Issues.with_records`), so a step that is
  given an ``Issues`` cannot change what its caller's ``Issues`` says about the records.

The collector is a frozen dataclass: its fields are never re-bound; the accumulators are
append-only, and the per-record state is swapped with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd

from .audit import AuditLog, Quarantine

__all__ = ["Issues", "RecordState", "Step"]


@dataclass(frozen=True)
class RecordState:
    """Per-record state beside the records, on the records' index (a typed side table).

    Attributes
    ----------
    slice : Series of int
        The header slice of the file each record came from (see
        :attr:`hipkit.cleaning.audit.Quarantine.headers`): 0 for a long file.
    no_values : Series of bool
        The record stands for a line that holds no value at any visit.
    header_week : Series of float
        The visit week the measure headers name (wide files), NaN where none.
    units : DataFrame
        Measure -> the unit stated for each value (header or unit column; ``""`` when none).
    raw : DataFrame
        Measure -> the value as written in the export (set by harmonisation, for the quarantine).
    remove : Series of bool
        Records a step quarantined as ``row_removed`` and that :func:`drop_removed` takes out.
    """

    slice: pd.Series
    no_values: pd.Series
    header_week: pd.Series
    units: pd.DataFrame
    raw: pd.DataFrame
    remove: pd.Series

    @classmethod
    def empty(cls, index: pd.Index) -> "RecordState":
        """The state of records with no slice, unit or raw value recorded."""
        return cls(
            slice=pd.Series(0, index=index, dtype="int64"),
            no_values=pd.Series(False, index=index, dtype=bool),
            header_week=pd.Series(np.nan, index=index, dtype=float),
            units=pd.DataFrame(index=index),
            raw=pd.DataFrame(index=index),
            remove=pd.Series(False, index=index, dtype=bool),
        )

    def take(self, index: pd.Index) -> "RecordState":
        """The state of the records at ``index`` (labels of the current index), in that order."""
        return RecordState(
            slice=self.slice.loc[index],
            no_values=self.no_values.loc[index],
            header_week=self.header_week.loc[index],
            units=self.units.loc[index],
            raw=self.raw.loc[index],
            remove=self.remove.loc[index],
        )

    def marked(self, rows: np.ndarray) -> "RecordState":
        """The state with the records where ``rows`` (positional mask) is true marked for removal."""
        return replace(self, remove=self.remove | pd.Series(np.asarray(rows, dtype=bool), index=self.remove.index))

    def with_raw(self, raw: pd.DataFrame) -> "RecordState":
        """The state with the raw text of the measures given (columns of ``raw``)."""
        return replace(self, raw=raw)

    @classmethod
    def concat(cls, states: list["RecordState"]) -> "RecordState":
        """The states of frames concatenated with ``ignore_index=True``, in the same order."""
        if not states:
            return cls.empty(pd.RangeIndex(0))

        def cat(parts):
            return pd.concat(parts, ignore_index=True, sort=False)

        return cls(
            slice=cat([s.slice for s in states]).astype("int64"),
            no_values=cat([s.no_values for s in states]).astype(bool),
            header_week=cat([s.header_week for s in states]).astype(float),
            units=cat([s.units for s in states]),
            raw=cat([s.raw for s in states]),
            remove=cat([s.remove for s in states]).astype(bool),
        )

    def raw_value(self, column: str, fallback: pd.Series) -> pd.Series:
        """The raw text of ``column`` where recorded (on ``fallback``'s positions), else ``fallback``."""
        if column in self.raw.columns:
            return pd.Series(self.raw[column].to_numpy(dtype=object), index=fallback.index, dtype="object")
        return fallback.astype("object")


@dataclass(frozen=True)
class Issues:
    """The collector every cleaning step takes and returns (see the module docstring).

    Attributes
    ----------
    quarantine : Quarantine
        Quarantined values and records (append-only).
    log : AuditLog
        Counts, steps and warnings of the run (append-only).
    tally : Counter
        Row accounting: ``in`` (records read), ``quarantined`` (records removed with a reason),
        and what :func:`~hipkit.cleaning.duplicates.resolve_duplicates` counts.
    spellings : dict
        Column -> Counter of free-text spellings over every record read (removed or not).
    files : dict
        Source file -> what reshaping found (``layout``, ``records``, ``empty_slices``,
        ``lines_without_values``).
    records : RecordState or None
        The state of the records flowing through the steps; None before reshaping and after the
        duplicates are resolved.
    """

    quarantine: Quarantine = field(default_factory=Quarantine)
    log: AuditLog = field(default_factory=AuditLog)
    tally: Counter = field(default_factory=Counter)
    spellings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    records: RecordState | None = None

    def with_records(self, records: RecordState | None) -> "Issues":
        """The same collector with the per-record state replaced."""
        return replace(self, records=records)

    def state_of(self, frame: pd.DataFrame) -> RecordState:
        """The per-record state of ``frame``'s rows (an empty state when none is carried)."""
        if self.records is None:
            return RecordState.empty(frame.index)
        return self.records.take(frame.index)

    def add(self, records: pd.DataFrame, *entry, **options) -> int:
        """Quarantine rows of ``records``; column names are shown as the export's headers.

        The arguments after ``records`` are :meth:`Quarantine.add`'s (mask, column, raw_value, reason,
        action, message, check). ``records`` are rows of the records in flight (their index is the
        state's): the header slice of each comes from the state. Returns the number of entries.
        """
        slices = None
        if self.records is not None and len(records):
            slices = self.records.slice.loc[records.index].to_numpy()
        return self.quarantine.add(records, *entry, slices=slices, **options)

    def warn(self, message: str) -> None:
        """Record a data-quality warning in the log."""
        self.log.warn(message)

    def count(self, step: str, key: str, n: int) -> None:
        """Add ``n`` to a counter of the log (see :meth:`AuditLog.count`)."""
        self.log.count(step, key, n)


class Step(Protocol):
    """The contract of a cleaning step: ``(frame, issues, **settings) -> (frame, issues)``.

    The step returns a new frame (or its input, untouched) and never changes the frame it is given.
    """

    def __call__(self, frame, issues: Issues, /, **settings) -> tuple[object, Issues]:
        """Run the step on ``frame``; return the new frame and the collector."""
        ...


def drop_removed(frame: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Take out the records marked for removal, counting them as quarantined (a step)."""
    if issues.records is None:
        return frame, issues
    state = issues.records.take(frame.index)
    gone = state.remove.to_numpy(dtype=bool)
    issues.tally["quarantined"] += int(gone.sum())
    kept = frame.index[~gone]
    return frame.loc[kept], issues.with_records(state.take(kept))

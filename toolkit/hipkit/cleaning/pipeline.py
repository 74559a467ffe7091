"""The cleaning pipeline: read -> map -> reshape -> harmonise -> validate -> de-duplicate -> derive.

Every step is one function ``step(frame, issues, **settings) -> (frame, issues)``
(:mod:`hipkit.cleaning.issues`): it returns a new frame, never changes the one it is given, and
reports quarantine entries, log events, row counts and per-record state through ``issues``.
:func:`clean_tables` composes them in order, as lme4 composes ``lFormula -> mkLmerDevfun ->
optimizeLmer -> mkMerMod``:

- per file (:data:`FILE_STEPS`): :func:`~hipkit.cleaning.screen.screen_identifiers` ->
  :func:`~hipkit.cleaning.reshape.to_records` -> :func:`~hipkit.cleaning.harmonise.harmonise_file` ->
  :func:`quarantine_read_problems` -> :func:`~hipkit.cleaning.issues.drop_removed`;
- over every file (:data:`TABLE_STEPS`): :func:`~hipkit.cleaning.spellings.normalise_free_text` ->
  :func:`~hipkit.cleaning.participants.warn_id_collisions` -> :func:`~hipkit.cleaning.participants.resolve_limbs`
  -> :func:`~hipkit.cleaning.participants.assign_schedule` -> :func:`~hipkit.cleaning.validate.validate` ->
  :func:`~hipkit.cleaning.issues.drop_removed` -> :func:`drop_read_keys` ->
  :func:`~hipkit.cleaning.participants.fill_participant_level` ->
  :func:`~hipkit.cleaning.duplicates.resolve_duplicates` -> :func:`~hipkit.cleaning.derive.derive` ->
  :func:`order_columns` -> :func:`~hipkit.cleaning.deidentify.deidentify` (when asked for).

The row accounting is the contract: every record that leaves the readers ends in exactly one of
*clean* (it is in, or was combined into, a row of the clean table), *quarantined* (removed, with
its reason) or *duplicates removed* (an exact copy of a clean record), and the log proves it:
``rows.in == rows.clean + rows.quarantined + rows.duplicates_removed``.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .._display import SummaryText, html_result, json_safe, records
from .._glossary import DEFAULT_SCHEDULE
from .._glossary import QuarantineReason as R
from ..errors import ArgumentError, DataQualityWarning, HipkitError, InputError, UnmappableFileError
from ..io import atomic_path, guard_outputs, read_tables, write_table
from ..registry import Registry, load_registry, normalise_label
from .accounting import accounting_figure, accounting_glance
from .audit import AuditLog
from .columns import ColumnRole, MappedTable, Mapping, load_mapping, map_columns
from .deidentify import code_for, deidentify, hash_ids, read_salt
from .derive import derive
from .duplicates import resolve_duplicates
from .harmonise import harmonise_file
from .issues import Issues, RecordState, drop_removed
from .participants import assign_schedule, fill_participant_level, resolve_limbs, warn_id_collisions
from .reshape import to_records
from .screen import screen_identifiers
from .spellings import choose_spellings, normalise_free_text, spelling_counts
from .validate import validate

__all__ = [
    "clean",
    "clean_tables",
    "FILE_STEPS",
    "TABLE_STEPS",
    "CleanOptions",
    "CleanResult",
    "DEFAULT_SCHEDULE",
    "DEFAULT_WINDOW_DAYS",
    "CANONICAL_ORDER",
]

DEFAULT_WINDOW_DAYS = 4.0

#: Columns always present in the clean table (even when empty), in this order.
CORE_COLUMNS = [
    "participant_id",
    "group",
    "visit_week",
    "days_from_baseline",
    "side",
    "age_years",
    "sex",
    "body_mass_kg",
]
#: Order of the other known columns, where present.
CANONICAL_ORDER = [
    "participant_id",
    "site",
    "group",
    "sex",
    "age_years",
    "height_cm",
    "body_mass_kg",
    "lever_arm_m",
    "visit_week",
    "days_from_baseline",
    "visit_date",
    "out_of_window",
    "side",
    "limb",
    "affected_side",
]
_TAIL = ["discharge_reason", "source_file", "source_line"]
_WEEK_HEADERS = {"week", "wk", "weeks", "visit week", "week number", "wk no", "week no"}


@dataclass(frozen=True)
class CleanResult:
    """What :func:`clean` returns.

    Attributes
    ----------
    data : DataFrame
        The tidy long table: one row per participant x visit (x side), canonical names and units.
    quarantine : DataFrame
        One row per quarantined value or record: source_file, source_line, participant_id,
        column, raw_value, check, reason, action (``value_set_missing`` or ``row_removed``), message.
    log : dict
        The audit log (JSON-serialisable): settings, inputs, row accounting, counts of every
        conversion and mapping, warnings.
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    log: dict

    def tidy(self) -> pd.DataFrame:
        """The clean tidy long table (a copy of ``data``)."""
        return self.data.copy()

    def glance(self) -> pd.DataFrame:
        """One row of row accounting: records in, clean, quarantined, duplicates, rows out, warnings."""
        return accounting_glance(self.log)

    def plot(self):
        """Where the input records went, and the quarantine reasons (a Figure, not shown)."""
        return accounting_figure(self.log, self.quarantine["reason"] if len(self.quarantine) else None)

    def to_dict(self) -> dict:
        """JSON-safe form: the audit log, the row accounting and the quarantine counts by reason and column.

        Not the data or the quarantined raw values themselves: those are written by :meth:`write`.
        """
        q = self.quarantine
        return {
            "log": json_safe(self.log),
            "glance": records(self.glance())[0],
            "quarantine_by_reason": json_safe(q["reason"].astype(str).value_counts().to_dict()) if len(q) else {},
            "quarantine_by_column": json_safe(q["column"].astype(str).value_counts().to_dict()) if len(q) else {},
        }

    def _repr_html_(self) -> str:
        return html_result("hipkit clean", self.glance(), self.log.get("warnings", []))

    def summary(self) -> SummaryText:
        """A short human-readable account of the run."""
        r = self.log["rows"]
        lines = [
            "hipkit clean",
            f"  inputs: {', '.join(i['file'] for i in self.log['inputs'])}",
            f"  records in: {r['in']}  clean: {r['clean']}  quarantined: {r['quarantined']}  "
            f"duplicates removed: {r['duplicates_removed']}",
            f"  clean table: {r['out']} rows x {self.data.shape[1]} columns, "
            f"{self.data['participant_id'].nunique()} participants",
            f"  values quarantined (set to missing): {r['values_quarantined']}",
        ]
        for w in self.log["warnings"]:
            lines.append(f"  warning: {w}")
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return self.summary()

    def write(
        self,
        out: str | Path,
        quarantine: str | Path | None = None,
        log: str | Path | None = None,
        inputs: Sequence[str | Path] = (),
    ) -> None:
        """Write the clean table (.csv or .parquet), the quarantine table (.csv) and the log (.json).

        All or nothing: each file is written in full to a temporary file first, and the three are
        renamed into place only when all are written; no output may be one of ``inputs``.

        Raises
        ------
        OutputError
            An output is an input or two outputs are one file (nothing is written), or a file cannot
            be written (nothing is left half-written).
        """
        import contextlib
        import json

        guard_outputs([out, quarantine, log], inputs)
        with contextlib.ExitStack() as stack:
            tmp_out = stack.enter_context(atomic_path(out))
            n = write_table(self.data, tmp_out, suffix=Path(out).suffix)
            if n:
                self.log.setdefault("counts", {}).setdefault("output", {})["formula-like cells neutralised"] = n
            if quarantine is not None:
                write_table(self.quarantine, stack.enter_context(atomic_path(quarantine)), suffix=".csv")
            if log is not None:
                text = json.dumps(self.log, indent=2, sort_keys=False, default=_json_default) + "\n"
                stack.enter_context(atomic_path(log)).write_text(text, encoding="utf-8")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def _describe_role(r: ColumnRole) -> str:
    if r.role == "measure":
        bits = [r.target]
        if r.visit is not None:
            bits.append(f"week {r.visit:g}")
        if r.side or r.limb:
            bits.append(r.side or r.limb)
        if r.unit:
            bits.append(f"unit {r.unit}")
        return ", ".join(bits)
    if r.role == "key":
        return r.target + ("" if r.visit is None else f", week {r.visit:g}")
    if r.role == "unit":
        return f"unit of {r.target}"
    return r.role


def check_headers(info: dict, name: str) -> None:
    """Refuse a table whose header names one column twice: which of the two is which cannot be told."""
    twice = info.get("duplicate_headers")
    if twice:
        shown = ", ".join(f"{h!r} (columns {', '.join(str(c) for c in cols)})" for h, cols in list(twice.items())[:3])
        raise UnmappableFileError(
            f"{name}: the header names the same column more than once: {shown}; rename them in the export"
        )


def quarantine_read_problems(mapped: MappedTable, issues: Issues) -> tuple[MappedTable, Issues]:
    """Quarantine what the reader could not use (a step): malformed lines (removed), unusable cells (blanked)."""
    table, roles = mapped.table, mapped.roles
    q, log = issues.quarantine, issues.log
    name = table.source_file
    if table.bad_lines:
        bad = pd.DataFrame(
            {"source_file": name, "source_line": [b.line for b in table.bad_lines], "participant_id": ""}
        )
        # A broken line's text is shown for diagnosis; clean.screen has withheld it where the
        # file has identifier columns, the line looks identifying, or the run de-identifies.
        shown = [b.text[:500] for b in table.bad_lines]
        q.add(
            bad,
            np.ones(len(bad), dtype=bool),
            "",
            pd.Series(shown),
            R.MALFORMED_LINE,
            "row_removed",
            pd.Series([f"malformed line: {b.reason}; the line was not read" for b in table.bad_lines]),
            check="csv_structure",
        )
        for reason, n in pd.Series([b.reason for b in table.bad_lines]).value_counts().items():
            log.count("malformed_lines", reason, int(n))
        log.warn(
            f"{name}: {len(table.bad_lines)} malformed line(s) quarantined (lines "
            + ", ".join(str(b.line) for b in table.bad_lines[:5])
            + (" ..." if len(table.bad_lines) > 5 else "")
            + ")"
        )
    if table.cell_issues:
        id_col = next((r.raw for r in roles if r.role == "key" and r.target == "participant_id"), None)
        by_line = dict(zip(table.lines.tolist(), range(len(table.lines))))
        rows = []
        for c in table.cell_issues:
            i = by_line.get(c["line"])
            pid = "" if id_col is None or i is None else str(table.data[id_col].iloc[i]).strip().upper()
            rows.append({"source_file": name, "source_line": c["line"], "participant_id": pid, **c})
        frame = pd.DataFrame(rows)
        for reason, part in frame.groupby("reason", sort=True):
            q.add(
                part.reset_index(drop=True),
                np.ones(len(part), dtype=bool),
                part["column"].reset_index(drop=True),
                part["raw_value"].reset_index(drop=True),
                R(reason),
                "value_set_missing",
                part["message"].reset_index(drop=True),
            )
            log.count("values_quarantined", f"spreadsheet cells: {reason}", len(part))
    return mapped, issues


def clean(
    inputs: str | Path | Sequence[str | Path],
    mapping: str | Path | dict | Mapping | None = None,
    schedule: Iterable[float] = DEFAULT_SCHEDULE,
    window_days: float = DEFAULT_WINDOW_DAYS,
    deidentify: bool = False,
    salt: str | bytes | Path | None = None,
    measures: str | Path | dict | None = None,
    registry: Registry | None = None,
    progress: bool | None = None,
    sheets: Sequence[str] | None = None,
) -> CleanResult:
    """Clean one or more raw exports into one validated tidy long table.

    Parameters
    ----------
    inputs : path or list of paths
        CSV (any delimiter, decimal comma), Excel (.xlsx), Parquet or REDCap flat exports, in wide
        (a column per visit) or long (a row per visit) layout.
    mapping : path to a YAML mapping file, or dict, optional
        Headers, visit labels and coded values the heuristics cannot read (see
        :mod:`hipkit.cleaning.columns`).
    schedule : iterable of float, default (0, 2, 4, 6)
        The protocol's visit weeks.
    window_days : float, default 4
        A dated visit more than this many days from its scheduled day is flagged
        ``out_of_window`` (and kept).
    deidentify : bool, default False
        Replace ids by salted hashes and shift dates per participant (direct identifiers such as
        names are never written, with or without this).
    salt : str, bytes or path, optional
        The salt for de-identification (a file path, a literal, or ``$HIPKIT_SALT``); random when
        absent. Never written to any output.
    measures : path or dict, optional
        User measure definitions added to the registry.
    registry : Registry, optional
        A registry to use instead of the built-in one (``measures`` extends it).
    progress : bool, optional
        Show progress bars; by default when standard error is a terminal.
    sheets : list of str, optional
        For Excel workbooks: read only these sheets (default: every sheet that holds data).

    Returns
    -------
    CleanResult
        ``.data``, ``.quarantine`` and ``.log``.

    Raises
    ------
    UnreadableFileError
        A file is missing, empty, binary or corrupt.
    UnmappableFileError
        A file has no participant-id or measure column, or an unknown unit in a header.

    Warns
    -----
    DataQualityWarning
        When values or rows were quarantined or columns could not be mapped.

    Examples
    --------
    >>> import hipkit
    >>> res = hipkit.clean("datasets/raw/clinic_export_messy.csv")  # doctest: +SKIP
    >>> res.log["rows"]["in"] == (res.log["rows"]["clean"] + res.log["rows"]["quarantined"]
    ...                           + res.log["rows"]["duplicates_removed"])  # doctest: +SKIP
    True
    """
    from tqdm.auto import tqdm

    paths = _input_paths(inputs)
    options = CleanOptions.make(
        mapping=mapping,
        schedule=schedule,
        window_days=window_days,
        deidentify=deidentify,
        salt=salt,
        measures=measures,
        registry=registry,
        progress=progress,
        sheets=sheets,
    )
    tables, notes = [], []
    bar = tqdm(total=len(paths), desc="reading", unit=" files", disable=not options.progress, leave=False)
    for path in paths:
        found = read_tables(path, sheets=options.sheets, progress=options.progress)
        if len(found) > 1:
            notes.append(
                f"{Path(path).name}: {len(found)} sheets hold data and each was read: "
                + ", ".join(t.info["sheet"] for t in found)
            )
        tables += found
        bar.update(1)
    bar.close()
    result = clean_tables(tables, options, notes=notes)
    rows = result.log["rows"]
    if rows["quarantined"] or rows["values_quarantined"] or any("not mapped" in w for w in result.log["warnings"]):
        warnings.warn(
            f"hipkit.clean: {rows['quarantined']} records and {rows['values_quarantined']} values quarantined; "
            f"{len(result.log['warnings'])} warnings in the log (see result.quarantine and result.log)",
            DataQualityWarning,
            stacklevel=2,
        )
    return result


def _input_paths(inputs) -> list[Path]:
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        raise ArgumentError(f"inputs must be a path or a list of paths, not {type(inputs).__name__}")
    paths = []
    for p in inputs:
        if not isinstance(p, (str, os.PathLike)):
            raise ArgumentError(f"inputs must be paths (str or pathlib.Path), not {type(p).__name__}: {p!r:.60}")
        paths.append(Path(p))
    if not paths:
        raise InputError("no input files given")
    # Outputs name a record's file without its folders (folder names can identify people), so two
    # inputs of one name could not be told apart in the quarantine and the lineage.
    by_name: dict[str, Path] = {}
    for p in paths:
        other = by_name.get(p.name)
        if other is not None:
            same = other.resolve() == p.resolve()
            raise InputError(
                f"{p.name} is given twice" if same else f"two inputs are named {p.name} ({other} and {p}); "
                "their records could not be told apart in the outputs: rename one"
            )
        by_name[p.name] = p
    return paths


def _real(value, name: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"{name} must be a number, not {type(value).__name__}: {value!r:.60}")
    value = float(value)
    if not np.isfinite(value) or value < low:
        raise ArgumentError(f"{name} must be a finite number of at least {low:g}, got {value!r}")
    return value


@dataclass(frozen=True)
class CleanOptions:
    """The settings of one cleaning run, checked once (:meth:`make`) and shared by every part."""

    registry: Registry
    mapping: Mapping
    schedule: tuple
    window_days: float
    deidentify: bool
    salt: bytes | None
    progress: bool
    sheets: tuple | None
    settings: dict

    @classmethod
    def make(
        cls,
        mapping=None,
        schedule=DEFAULT_SCHEDULE,
        window_days=DEFAULT_WINDOW_DAYS,
        deidentify=False,
        salt=None,
        measures=None,
        registry=None,
        progress=None,
        sheets=None,
    ) -> "CleanOptions":
        """Check every argument of :func:`clean` (types and values) and build the options."""
        if registry is not None and not isinstance(registry, Registry):
            raise ArgumentError(f"registry must be a hipkit Registry, not {type(registry).__name__}")
        if measures is not None and not isinstance(measures, (str, os.PathLike, dict)):
            raise ArgumentError(f"measures must be a path or a dict, not {type(measures).__name__}")
        if mapping is not None and not isinstance(mapping, (str, os.PathLike, dict, Mapping)):
            raise ArgumentError(f"mapping must be a path, a dict or a Mapping, not {type(mapping).__name__}")
        if not isinstance(deidentify, (bool, np.bool_)):
            raise ArgumentError(f"deidentify must be True or False, not {deidentify!r:.60}")
        if progress is not None and not isinstance(progress, (bool, np.bool_)):
            raise ArgumentError(f"progress must be True, False or None, not {progress!r:.60}")
        if salt is not None and not isinstance(salt, (str, bytes, os.PathLike)):
            raise ArgumentError(f"salt must be a path, a string or bytes, not {type(salt).__name__}")
        if isinstance(schedule, (str, bytes, dict)) or not isinstance(schedule, Iterable):
            raise ArgumentError(f"schedule must be a list of weeks such as [0, 2, 4, 6], not {schedule!r:.60}")
        sched = sorted({_real(w, "each week of the schedule") for w in schedule})
        if not sched or sched[0] != 0:
            raise InputError("the schedule must start at week 0 (baseline)")
        window = _real(window_days, "window_days")
        if isinstance(sheets, str):
            sheets = [sheets]
        if sheets is not None and (
            not isinstance(sheets, (list, tuple)) or not all(isinstance(x, str) for x in sheets)
        ):
            raise ArgumentError(f"sheets must be a list of sheet names, not {sheets!r:.60}")
        reg = registry if registry is not None else load_registry()
        if measures is not None:
            reg = reg.extend(measures)
        mp = load_mapping(mapping)
        settings = {
            "schedule_weeks": sched,
            "window_days": window,
            "deidentify": bool(deidentify),
            "mapping": Path(mp.source).name if mp.source and mp.source != "mapping" else None,
            "user_measures": None
            if measures is None
            else (Path(measures).name if isinstance(measures, (str, os.PathLike)) else "mapping"),
        }
        if sheets:
            settings["sheets"] = list(sheets)
        return cls(
            registry=reg,
            mapping=mp,
            schedule=tuple(sched),
            window_days=window,
            deidentify=bool(deidentify),
            salt=read_salt(salt) if deidentify else None,
            progress=sys.stderr.isatty() if progress is None else bool(progress),
            sheets=tuple(sheets) if sheets else None,
            settings=settings,
        )


def clean_tables(
    tables: list, options: CleanOptions, notes: Sequence[str] = (), context: dict | None = None
) -> CleanResult:
    """Clean tables already read (:func:`hipkit.io.read_tables`); :func:`clean` reads, then calls this.

    Parameters
    ----------
    tables : list of RawTable
    options : CleanOptions
    notes : list of str
        Warnings from reading (several sheets read, ...).
    context : dict, optional
        Decisions taken over a whole export when it is cleaned in parts (:mod:`hipkit.cleaning.outofcore`):
        ``spellings`` (group and site spellings), ``global_checks`` (False: checks across all
        participants are left to the caller), ``ids`` (present: filled with the part's participant
        ids, for those checks), ``identifier_scans`` (source file -> the whole file's
        :class:`~hipkit.cleaning.identifiers.IdentifierScan`). Per-table decisions (visit labels, date
        order) are in each table's ``info["context"]``. Without it every decision is taken from the
        tables.

    Returns
    -------
    CleanResult
    """
    from tqdm.auto import tqdm

    context = context or {}
    issues = Issues(log=AuditLog(settings=dict(options.settings)))
    for n in notes:
        issues.warn(n)
    steps = tqdm(total=len(tables) * 3 + 4, desc="cleaning", unit=" steps", disable=not options.progress)
    parts, states = [], []
    for table in tables:
        records, issues = _clean_file(table, issues, options, context, steps)
        parts.append(records)
        states.append(issues.records)
    _warn_unused_mapping(tables, options.mapping, issues)
    data, issues = _combine_files(parts, RecordState.concat(states), issues)
    spellings = context.get("spellings") or choose_spellings(issues.spellings)
    data, issues = normalise_free_text(data, issues, spellings=spellings)
    if context.get("global_checks", True):
        data, issues = warn_id_collisions(data, issues)
    data, issues = resolve_limbs(data, issues)
    data, issues = assign_schedule(data, issues, schedule=list(options.schedule), window_days=options.window_days)
    steps.update(1)
    data, issues = validate(data, issues, registry=options.registry)
    data, issues = drop_removed(data, issues)
    data, issues = drop_read_keys(data, issues)
    data, issues = fill_participant_level(data, issues)
    steps.update(1)
    data, issues = resolve_duplicates(data, issues)
    data, issues = derive(data, issues, registry=options.registry)
    steps.update(1)
    data, issues = order_columns(data, issues, registry=options.registry)
    quar = _quarantine_table(issues)
    if "ids" in context:  # a part of an export: the caller checks ids across parts
        context["ids"] = list(pd.unique(data["participant_id"].dropna()))
    if options.deidentify:
        salt = options.salt
        data, issues = deidentify(data, issues, salt=salt)
        quar["participant_id"] = hash_ids(quar["participant_id"], salt)
        quar.loc[quar["column"].astype(str).str.contains("date"), "raw_value"] = "[date withheld]"
        issues.log.id_display = lambda v: code_for(salt, v)
    steps.update(1)
    steps.close()
    issues.log.rows = _row_accounting(tables, data, quar, issues)
    return CleanResult(data=data, quarantine=quar, log=issues.log.to_dict())


#: The steps of one file, in order: each ``(frame, issues, **settings) -> (frame, issues)``.
FILE_STEPS = ("screen_identifiers", "to_records", "harmonise_file", "quarantine_read_problems", "drop_removed")
#: The steps over the records of every file, in order (``deidentify`` only when asked for).
TABLE_STEPS = (
    "normalise_free_text",
    "warn_id_collisions",
    "resolve_limbs",
    "assign_schedule",
    "validate",
    "drop_removed",
    "drop_read_keys",
    "fill_participant_level",
    "resolve_duplicates",
    "derive",
    "order_columns",
    "deidentify",
)


def _map(table, options: CleanOptions) -> list[ColumnRole]:
    """The role of each column of one table (an unmappable sheet says which sheets hold data)."""
    try:
        return map_columns(list(table.data.columns), options.registry, options.mapping, table.source_file)
    except UnmappableFileError as exc:
        if "sheet" in table.info:
            sheet_names = ", ".join(s["sheet"] for s in table.info.get("sheets", []) if s.get("read") == "yes")
            raise UnmappableFileError(
                f"{exc}; or, if this sheet holds no data, choose the sheets to read with --sheet "
                f"(sheets holding data: {sheet_names or table.info['sheet']})"
            ) from None
        raise


def _clean_file(table, issues: Issues, options: CleanOptions, context: dict, steps) -> tuple[pd.DataFrame, Issues]:
    """The steps of one file (:data:`FILE_STEPS`): its records, harmonised, without removed rows."""
    reg = options.registry
    name = table.source_file
    check_headers(table.info, name)
    for w in table.warnings:
        issues.warn(w)
    mapped = MappedTable(table, _map(table, options))
    issues = issues.with_records(None)
    scan = context.get("identifier_scans", {}).get(name)  # the whole file's, out of core
    mapped, issues = screen_identifiers(mapped, issues, registry=reg, salt=options.salt, scan=scan)
    roles = mapped.roles
    unmapped = [r.raw for r in roles if r.role == "unmapped"]
    identifiers = [r.raw for r in roles if r.role == "identifier"]
    if unmapped:
        issues.warn(f"{name}: columns not mapped (not carried): {', '.join(repr(u) for u in unmapped)}")
    records, issues = to_records(mapped, issues, registry=reg)
    steps.update(1)
    visit_is_week = any(
        r.role == "key" and r.target == "visit" and normalise_label(r.raw) in _WEEK_HEADERS for r in roles
    )
    records, issues = harmonise_file(
        records,
        issues,
        registry=reg,
        mapping=options.mapping,
        decimal=mapped.table.info["decimal"],
        source=name,
        visit_is_week=visit_is_week,
        context=mapped.table.info.get("context"),
    )
    for col, table_counts in spelling_counts(records).items():  # every record read, removed or not
        issues.spellings.setdefault(col, Counter()).update(table_counts)
    steps.update(1)
    mapped, issues = quarantine_read_problems(mapped, issues)
    bad_lines = len(mapped.table.bad_lines)
    n_in = int(len(records)) + bad_lines
    issues.tally["in"] += n_in
    issues.tally["quarantined"] += bad_lines
    records, issues = drop_removed(records, issues)
    rinfo = issues.files[name]
    issues.log.inputs.append(
        {
            **mapped.table.info,
            "layout": rinfo["layout"],
            "records": n_in,
            "empty_visit_slices": rinfo["empty_slices"],
            "lines_without_values": rinfo["lines_without_values"],
            "columns": {r.raw: _describe_role(r) for r in roles},
            "unmapped_columns": unmapped,
            "identifier_columns": identifiers,
        }
    )
    steps.update(1)
    return records, issues


def _warn_unused_mapping(tables: list, mp: Mapping, issues: Issues) -> None:
    headers_seen = {h for t in tables for h in t.data.columns}
    unused = [h for h in mp.columns if h not in headers_seen]
    if unused and tables:
        issues.warn(
            f"the mapping file names column(s) that no input has: {', '.join(repr(u) for u in unused[:10])}"
            + (" ..." if len(unused) > 10 else "")
            + "; check their spelling"
        )


def _combine_files(parts: list, state: RecordState, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """The records of every file in one frame (with a ``side`` column and parsed visit dates)."""
    data = pd.concat(parts, ignore_index=True, sort=False) if parts else pd.DataFrame()
    if "side" not in data.columns:
        data["side"] = pd.Series(None, index=data.index, dtype="object")
    if "visit_date" in data.columns:
        data["visit_date"] = pd.to_datetime(data["visit_date"])
    return data, issues.with_records(state)


def drop_read_keys(data: pd.DataFrame, issues: Issues) -> tuple[pd.DataFrame, Issues]:
    """Drop the keys that only reading needed (the visit label, REDCap's repeat instrument): a step."""
    return data.drop(columns=[c for c in ("visit", "repeat_instrument") if c in data.columns]), issues


def _quarantine_table(issues: Issues) -> pd.DataFrame:
    """The quarantine table; quarantined cells are counted once (a participant-level value repeats)."""
    quar = issues.quarantine.frame()
    vq = quar[quar["action"] == "value_set_missing"]
    log = issues.log
    log.counters.pop("values_quarantined", None)
    for (col, reason), n in vq.groupby(["column", "reason"]).size().items():
        log.count("values_quarantined", f"{col}: {reason}", int(n))
    return quar


def _row_accounting(tables: list, data: pd.DataFrame, quar: pd.DataFrame, issues: Issues) -> dict:
    """The log's ``rows``: every record read is clean, quarantined or a removed duplicate."""
    tally = issues.tally
    rows = {
        "lines": sum(int(len(t.data)) + len(t.bad_lines) for t in tables),
        "in": int(tally["in"]),
        "clean": int(len(data)) + int(tally["combined_records"]),
        "quarantined": int(tally["quarantined"]) + int(tally["conflicting_records"]),
        "duplicates_removed": int(tally["duplicates_removed"]),
        "combined_into_other_rows": int(tally["combined_records"]),
        "out": int(len(data)),
        "values_quarantined": int((quar["action"] == "value_set_missing").sum()),
        "participants": int(data["participant_id"].nunique()),
    }
    rows["invariant_holds"] = rows["in"] == rows["clean"] + rows["quarantined"] + rows["duplicates_removed"]
    for key in ("duplicate_lines", "combined_lines"):
        if tally.get(key):
            rows[key] = tally[key]  # origins of records not in the table as rows of their own
    if not rows["invariant_holds"]:
        raise HipkitError(f"internal error: row accounting does not balance ({rows}); please report this with the log")
    return rows


def order_columns(data: pd.DataFrame, issues: Issues, *, registry: Registry) -> tuple[pd.DataFrame, Issues]:
    """Columns in canonical order (core columns always present), rows by participant and visit: a step."""
    reg = registry
    data = data.copy(deep=False)
    for col in CORE_COLUMNS:
        if col not in data.columns:
            data[col] = np.nan if col in ("age_years", "body_mass_kg", "days_from_baseline") else None
    for col in ("participant_id", "group", "side", "sex", "site", "limb", "affected_side", "discharge_reason"):
        if col in data.columns:
            data[col] = data[col].astype("object").where(data[col].notna(), None)
    measures = [m.name for m in reg if m.name in data.columns and m.kind != "covariate"]
    derived = [
        c
        for m in measures
        for c in (f"{m}_change", f"{m}_pct_change", f"{m}_lsi", f"{m}_responder")
        if c in data.columns
    ]
    head = [c for c in CANONICAL_ORDER if c in data.columns]
    tail = [c for c in _TAIL if c in data.columns]
    rest = [c for c in data.columns if c not in set(head + measures + derived + tail)]
    data = data[head + measures + derived + rest + tail]
    sort = ["participant_id", "visit_week"] + [c for c in ("side", "limb") if c in data.columns]
    data = data.sort_values(sort, kind="stable", na_position="first").reset_index(drop=True)
    data["source_line"] = data["source_line"].astype("int64")
    return data, issues

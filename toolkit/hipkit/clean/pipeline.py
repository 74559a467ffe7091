"""The cleaning pipeline: read -> map -> reshape -> harmonise -> validate -> de-duplicate -> derive.

The row accounting is the contract: every record that leaves the readers ends in exactly one of
*clean* (it is in, or was combined into, a row of the clean table), *quarantined* (removed, with
its reason) or *duplicates removed* (an exact copy of a clean record), and the log proves it:
``rows.in == rows.clean + rows.quarantined + rows.duplicates_removed``.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from ..errors import DataQualityWarning, HipkitError, InputError
from ..io import read_raw, write_table
from ..registry import Registry, load_registry, normalise_label
from .audit import AuditLog, Quarantine
from .columns import ColumnRole, Mapping, load_mapping, map_columns
from .deidentify import deidentify as _deidentify
from .deidentify import hash_ids, read_salt
from .derive import derive
from .duplicates import resolve_duplicates
from .harmonise import assign_schedule, fill_participant_level, harmonise_file, normalise_free_text
from .identifiers import screen_identifiers
from .reshape import to_records
from .validate import validate

__all__ = ["clean", "CleanResult", "DEFAULT_SCHEDULE", "DEFAULT_WINDOW_DAYS", "CANONICAL_ORDER"]

DEFAULT_SCHEDULE = (0.0, 2.0, 4.0, 6.0)
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

    def summary(self) -> str:
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
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def write(self, out: str | Path, quarantine: str | Path | None = None, log: str | Path | None = None) -> None:
        """Write the clean table (.csv or .parquet), the quarantine table (.csv) and the log (.json)."""
        import json

        n = write_table(self.data, out)
        if n:
            self.log.setdefault("counts", {}).setdefault("output", {})["formula-like cells neutralised"] = n
        if quarantine is not None:
            write_table(self.quarantine, quarantine)
        if log is not None:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            with open(log, "w", encoding="utf-8") as fh:
                json.dump(self.log, fh, indent=2, sort_keys=False, default=_json_default)
                fh.write("\n")


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


def _resolve_limbs(data: pd.DataFrame, log: AuditLog) -> None:
    """Fill side from limb (and limb from side) where the participant's affected side is known."""
    if "affected_side" not in data.columns:
        return
    aff = data.groupby("participant_id")["affected_side"].transform("first")
    if "limb" in data.columns:
        lb = data["limb"]
        from_limb = pd.Series(
            np.where(
                lb == "involved", aff, np.where(lb == "uninvolved", aff.map({"left": "right", "right": "left"}), None)
            ),
            index=data.index,
            dtype="object",
        )
        side = data["side"] if "side" in data.columns else pd.Series(None, index=data.index, dtype="object")
        fill = side.isna() & from_limb.notna()
        data["side"] = side.where(~fill, from_limb)
        log.count("categories", "side derived from injured/uninjured and the affected side", int(fill.sum()))
    if "side" in data.columns:
        lb = data["limb"] if "limb" in data.columns else pd.Series(None, index=data.index, dtype="object")
        derived = pd.Series(
            np.where(data["side"].isna() | aff.isna(), None, np.where(data["side"] == aff, "involved", "uninvolved")),
            index=data.index,
            dtype="object",
        )
        data["limb"] = lb.where(lb.notna(), derived)


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
) -> CleanResult:
    """Clean one or more raw exports into one validated tidy long table.

    Parameters
    ----------
    inputs : path or list of paths
        CSV (any delimiter, decimal comma), Excel (.xlsx), Parquet or REDCap flat exports, in wide
        (a column per visit) or long (a row per visit) layout.
    mapping : path to a YAML mapping file, or dict, optional
        Headers, visit labels and coded values the heuristics cannot read (see
        :mod:`hipkit.clean.columns`).
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

    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not paths:
        raise InputError("no input files given")
    reg = registry if registry is not None else load_registry()
    if measures is not None:
        reg = reg.extend(measures)
    mp = load_mapping(mapping)
    try:
        sched = sorted({float(w) for w in schedule})
    except (TypeError, ValueError):
        raise InputError(f"schedule must be a list of weeks, got {schedule!r}") from None
    if not sched or sched[0] != 0:
        raise InputError("the schedule must start at week 0 (baseline)")
    if progress is None:
        progress = sys.stderr.isatty()
    q = Quarantine()
    log = AuditLog(
        settings={
            "schedule_weeks": sched,
            "window_days": float(window_days),
            "deidentify": bool(deidentify),
            "mapping": Path(mp.source).name if mp.source and mp.source != "mapping" else None,
            "user_measures": None
            if measures is None
            else (Path(measures).name if isinstance(measures, (str, Path)) else "mapping"),
        }
    )
    parts = []
    rows_in = quarantined = 0
    steps = tqdm(total=len(paths) * 4 + 4, desc="cleaning", unit=" steps", disable=not progress)
    key = read_salt(salt) if deidentify else None
    for path in paths:
        table = read_raw(path, progress=progress)
        steps.update(1)
        name = table.source_file
        roles = map_columns(list(table.data.columns), reg, mp, name)
        table, roles = screen_identifiers(table, roles, reg, q, log, key)  # by header and content; warns
        unmapped = [r.raw for r in roles if r.role == "unmapped"]
        identifiers = [r.raw for r in roles if r.role == "identifier"]
        if unmapped:
            log.warn(f"{name}: columns not mapped (not carried): {', '.join(repr(u) for u in unmapped)}")
        rec, rinfo = to_records(table, roles, reg)
        q.headers[name] = rinfo.pop("headers")
        steps.update(1)
        visit_is_week = any(
            r.role == "key" and r.target == "visit" and normalise_label(r.raw) in _WEEK_HEADERS for r in roles
        )
        rec, drop = harmonise_file(rec, reg, mp, table.info["decimal"], q, log, name, visit_is_week)
        steps.update(1)
        if table.bad_lines:
            bad = pd.DataFrame(
                {
                    "source_file": name,
                    "source_line": [ln for ln, _ in table.bad_lines],
                    "participant_id": "",
                }
            )
            q.add(
                bad,
                np.ones(len(bad), dtype=bool),
                "",
                pd.Series([t for _, t in table.bad_lines]),
                R.SCHEMA,
                "row_removed",
                "line has more fields than the header",
                check="field_count",
            )
        n_in = int(len(rec)) + len(table.bad_lines)
        rows_in += n_in
        quarantined += int(drop.sum()) + len(table.bad_lines)
        parts.append(rec.loc[~drop])
        log.inputs.append(
            {
                **table.info,
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
    data = pd.concat(parts, ignore_index=True, sort=False) if parts else pd.DataFrame()
    if "side" not in data.columns:
        data["side"] = pd.Series(None, index=data.index, dtype="object")
    for col in ("visit_date",):
        if col in data.columns:
            data[col] = pd.to_datetime(data[col])
    normalise_free_text(data, log)
    _resolve_limbs(data, log)
    assign_schedule(data, sched, float(window_days), log)
    steps.update(1)
    drop = validate(data, reg, q, log)
    quarantined += int(drop.sum())
    data = data.loc[~drop]
    data = data.drop(
        columns=[
            c
            for c in data.columns
            if c.endswith("__unit") or c in ("visit", "visit_week_header", "__no_values", "repeat_instrument")
        ]
    )
    fill_participant_level(data, log)
    steps.update(1)
    data, dcounts = resolve_duplicates(data, q, log)
    quarantined += dcounts["conflicting_records"]
    data = data.drop(columns=[c for c in data.columns if c.endswith("__raw") or c == "__slice"])
    data = derive(data, reg, log)
    steps.update(1)
    data = _order(data, reg)
    quar = q.frame()
    # Count quarantined cells once (a participant-level value repeats on each side's record).
    vq = quar[quar["action"] == "value_set_missing"]
    log.counters.pop("values_quarantined", None)
    for (col, reason), n in vq.groupby(["column", "reason"]).size().items():
        log.count("values_quarantined", f"{col}: {reason}", int(n))
    if deidentify:
        data = _deidentify(data, key, log)
        quar["participant_id"] = hash_ids(quar["participant_id"], key)
        quar.loc[quar["column"].astype(str).str.contains("date"), "raw_value"] = "[date withheld]"
    steps.update(1)
    steps.close()
    rows = {
        "in": rows_in,
        "clean": int(len(data)) + dcounts["combined_records"],
        "quarantined": quarantined,
        "duplicates_removed": dcounts["duplicates_removed"],
        "combined_into_other_rows": dcounts["combined_records"],
        "out": int(len(data)),
        "values_quarantined": int((quar["action"] == "value_set_missing").sum()),
        "participants": int(data["participant_id"].nunique()),
    }
    rows["invariant_holds"] = rows["in"] == rows["clean"] + rows["quarantined"] + rows["duplicates_removed"]
    for key in ("duplicate_lines", "combined_lines"):
        if dcounts.get(key):
            rows[key] = dcounts[key]  # origins of records not in the table as rows of their own
    if not rows["invariant_holds"]:
        raise HipkitError(f"internal error: row accounting does not balance ({rows}); please report this with the log")
    log.rows = rows
    result = CleanResult(data=data, quarantine=quar, log=log.to_dict())
    n_q = rows["quarantined"] + rows["values_quarantined"]
    if n_q or any("not mapped" in w for w in log.warnings):
        warnings.warn(
            f"hipkit.clean: {rows['quarantined']} records and {rows['values_quarantined']} values quarantined; "
            f"{len(log.warnings)} warnings in the log (see result.quarantine and result.log)",
            DataQualityWarning,
            stacklevel=2,
        )
    return result


def _order(data: pd.DataFrame, reg: Registry) -> pd.DataFrame:
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
    return data

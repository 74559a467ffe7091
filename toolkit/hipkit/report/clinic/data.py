"""Loading a clinic's data for a report: raw exports (cleaned here) or clean tables, told apart by their columns.

:func:`load_clinic_data` returns a :class:`ClinicData` (the clean long table with its cleaning record);
:func:`check_reportable` refuses data no report can be made of. :func:`patient_codes` and :func:`coded`
give the analyses patients as integer codes (ids are never needed past this module).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..._glossary import DEFAULT_SCHEDULE
from ...cleaning import clean
from ...cleaning.deidentify import hash_ids, read_salt
from ...cleaning.identifiers import identifier_columns
from ...errors import InputError, RegistryError
from ...io import read_clean_table
from ...registry import load_registry
from .. import format as fmt

__all__ = [
    "SUBJECT",
    "TIME",
    "GROUP",
    "ALL_PATIENTS",
    "STRENGTH",
    "PAIN_MEASURES",
    "FUNCTION_MEASURES",
    "Note",
    "ClinicData",
    "load_clinic_data",
    "save_prepared",
    "load_prepared",
    "outcome_measures",
    "check_reportable",
    "patient_codes",
    "coded",
]

SUBJECT = "participant_id"
TIME = "visit_week"
GROUP = "group"
ALL_PATIENTS = "All patients"


def _registered(*names: str) -> tuple[str, ...]:
    """``names``, each checked against the registry: a misspelt measure fails here, not as an empty section."""
    known = {m.name for m in load_registry().measures}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RegistryError(f"hipkit.report.clinic names measures the registry does not define: {', '.join(unknown)}")
    return names


(STRENGTH,) = _registered("hip_abd_strength_n")
# Measures that go with pain and with function in the plain-language sentences, in order of preference.
PAIN_MEASURES = _registered("pain_vas", "pain_nprs")
FUNCTION_MEASURES = _registered("akps", "lefs")


@dataclass(frozen=True)
class Note:
    """Something the report cannot show, and why (rendered as a sentence, never as an empty section)."""

    section: str
    reason: str

    def __str__(self) -> str:
        return f"{self.section}: {self.reason}"


@dataclass
class ClinicData:
    """The clean table behind a report, with the cleaning record and where the data came from.

    Attributes
    ----------
    data : pandas.DataFrame
        The clean long table (ids kept for the analysis; never shown).
    quarantine : pandas.DataFrame
        Values and records the cleaner set aside (empty for an already-clean input).
    log : dict
        The cleaning audit log (``None`` for an already-clean input).
    inputs : list of str
        Input file names (no folders).
    input_hash : str
        SHA-256 over the input files' bytes, in order (first 16 hex digits).
    was_raw : bool
        Whether the inputs were raw exports (cleaned here) or already-clean tables.
    programme_weeks : list of float
        The protocol visit weeks.
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    log: dict | None
    inputs: list[str]
    input_hash: str
    was_raw: bool
    programme_weeks: list[float] = field(default_factory=lambda: [0.0, 2.0, 4.0, 6.0])


def _file_hash(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def _is_clean_table(path: Path) -> bool:
    """Whether ``path`` looks like ``hipkit clean`` output: canonical id, week and measure columns."""
    if path.suffix.lower() not in {".csv", ".parquet"}:
        return False
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            columns = pq.read_schema(path).names
        else:
            columns = pd.read_csv(path, nrows=0, encoding="utf-8").columns.tolist()
    except Exception:  # noqa: BLE001 - not readable as a clean table: let the cleaner try (and explain)
        return False
    names = {m.name for m in load_registry().measures}
    return SUBJECT in columns and TIME in columns and bool(names & set(columns))


def _read_clean_table(path: Path, registry) -> pd.DataFrame:
    """Read a clean table (ids and labels as text); refuse (one line) a week or measure column that is not numbers."""
    frame = read_clean_table(path)
    numeric = [TIME, *(m.name for m in registry.measures if m.name in frame.columns)]
    for column in numeric:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        as_numbers = pd.to_numeric(values.where(~values.map(lambda v: isinstance(v, bool))), errors="coerce")
        bad = np.flatnonzero((as_numbers.isna() & values.notna()).to_numpy())
        if len(bad):
            raise InputError(
                f"{path.name}: row {bad[0] + 1}: {column} holds {str(values.iloc[bad[0]])[:40]!r}, not a number; "
                "give the table `hipkit clean` wrote, or the raw export"
            )
        frame[column] = as_numbers.astype(float)
    return frame


def _identifier_columns(frame: pd.DataFrame, registry) -> list[str]:
    # One home for "is this an identifier": headers and values (any cell, since a clean table has
    # been through the cleaner and should hold none), through hipkit.cleaning.identifiers.
    return identifier_columns(frame, registry, cells=True)


def load_clinic_data(
    paths: str | Path | Sequence[str | Path],
    programme_weeks: Sequence[float] = DEFAULT_SCHEDULE,
    deidentify: bool = False,
    salt: str | bytes | Path | None = None,
) -> ClinicData:
    """Read a clinic's exports for a report: clean raw exports, or read an already-clean table.

    Parameters
    ----------
    paths : str, path or list of them
        Raw exports (any format :func:`hipkit.clean` reads) or clean tables written by ``hipkit clean``
        (``.csv`` or ``.parquet`` with ``participant_id``, ``visit_week`` and measure columns); not a mix.
    programme_weeks : sequence of float, default (0, 2, 4, 6)
        The protocol's visit weeks (the cleaner's schedule).
    deidentify : bool, default False
        Confirm that inputs carrying direct identifiers (names, dates of birth, phone numbers, ...) may be
        used: ids are then replaced by salted hashes and dates shifted (see :func:`hipkit.clean`).
        Direct identifiers are never carried into the clean table or the report either way.
    salt : str, bytes or path, optional
        Salt for ``deidentify`` (random when not given).

    Returns
    -------
    ClinicData

    Raises
    ------
    InputError
        A file is missing, raw and clean inputs are mixed, or an input carries direct identifiers and
        ``deidentify`` is not set (one-line message naming the file and columns).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cd = load_clinic_data("datasets/raw/clinic_export_messy.csv")  # doctest: +SKIP
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no input files given")
    for f in files:
        if not f.is_file():
            raise InputError(f"{f}: no such file")
    registry = load_registry()
    weeks = sorted(float(w) for w in programme_weeks)
    kinds = [_is_clean_table(f) for f in files]
    if any(kinds) and not all(kinds):
        raise InputError("give either raw exports or clean tables written by `hipkit clean`, not a mix")
    if all(kinds):
        frames = []
        for f in files:
            frame = _read_clean_table(f, registry)
            found = _identifier_columns(frame, registry)
            if found and not deidentify:
                raise InputError(
                    f"{f.name}: has direct identifiers ({', '.join(found)}); remove them, or pass --deidentify "
                    "to drop them and hash the ids"
                )
            frames.append(frame.drop(columns=[c for c in found if c != SUBJECT]))  # ids: hashed below
        data = pd.concat(frames, ignore_index=True)
        if deidentify:
            data[SUBJECT] = hash_ids(data[SUBJECT], read_salt(salt))
        quarantine = pd.DataFrame(columns=["reason", "action", "column"])
        log = None
    else:
        if not deidentify:
            # Look first (headers only) so that an export with names or dates of birth is refused
            # before anything else is done with it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probe = clean(files, progress=False, schedule=weeks)
            found = [
                f"{entry['file']}: {', '.join(entry['identifier_columns'])}"
                for entry in probe.log["inputs"]
                if entry.get("identifier_columns")
            ]
            if found:
                raise InputError(
                    f"the input has direct identifiers ({'; '.join(found)}); they are never shown, but pass "
                    "--deidentify to confirm and to hash the ids"
                )
            result = probe
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = clean(files, progress=False, schedule=weeks, deidentify=True, salt=salt)
        data, quarantine, log = result.data, result.quarantine, result.log
    if GROUP not in data.columns or data[GROUP].isna().all():
        data = data.assign(**{GROUP: ALL_PATIENTS})
    else:
        data = data.assign(**{GROUP: data[GROUP].astype("object").fillna("not recorded").astype(str)})
    data = data.loc[data[TIME].notna()].copy()
    return ClinicData(
        data=data,
        quarantine=quarantine,
        log=log,
        inputs=[f.name for f in files],
        input_hash=_file_hash(files),
        was_raw=not all(kinds),
        programme_weeks=weeks,
    )


def save_prepared(cd: ClinicData, path: str | Path) -> Path:
    """Write the loaded data for the report's kernel (a private temporary file; read by :func:`load_prepared`).

    Parameters
    ----------
    cd : ClinicData
    path : str or path

    Returns
    -------
    pathlib.Path
    """
    import pickle

    path = Path(path)
    with open(path, "wb") as fh:
        pickle.dump(cd, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_prepared(path: str | Path) -> ClinicData:
    """Read back what :func:`save_prepared` wrote (only files hipkit wrote itself, in its own temporary folder).

    Parameters
    ----------
    path : str or path

    Returns
    -------
    ClinicData
    """
    import pickle

    with open(path, "rb") as fh:
        cd = pickle.load(fh)  # noqa: S301 - written by save_prepared in this run's private temporary folder
    if not isinstance(cd, ClinicData):
        raise InputError(f"{path}: not a prepared clinic table")
    return cd


def outcome_measures(data: pd.DataFrame) -> list[str]:
    """Registry outcome measures with at least one value in ``data``, in registry order.

    Parameters
    ----------
    data : pandas.DataFrame
        A clean long table.

    Returns
    -------
    list of str

    Examples
    --------
    >>> outcome_measures(pd.DataFrame({"pain_vas": [3.0], "akps": [None], "age_years": [30]}))
    ['pain_vas']
    """
    return [
        m.name
        for m in load_registry().measures
        if m.kind == "outcome" and m.name in data.columns and data[m.name].notna().any()
    ]


def check_reportable(cd: ClinicData, min_cell: int = 5) -> list[Note]:
    """Refuse data no report can be made of; list what the report will not be able to estimate.

    Parameters
    ----------
    cd : ClinicData
        From :func:`load_clinic_data`.
    min_cell : int, default 5
        Smallest count of patients shown.

    Returns
    -------
    list of Note
        Sections that will be empty, with the reason.

    Raises
    ------
    InputError
        No outcome measure was recognised, or fewer than ``min_cell`` patients (every number would be
        suppressed, and the report would describe identifiable people).
    """
    data = cd.data
    measures = outcome_measures(data)
    if not measures:
        names = ", ".join(m.name for m in load_registry().measures if m.kind == "outcome")
        raise InputError(
            f"no outcome measure recognised in {', '.join(cd.inputs)} (the registry knows: {names}); "
            "see `hipkit measures`, or map headers with `hipkit clean --map`"
        )
    n = data[SUBJECT].nunique()
    if n < min_cell:
        raise InputError(
            f"{', '.join(cd.inputs)}: {n} patient{'s' if n != 1 else ''} with outcome data; a report needs at least "
            f"{min_cell} (--min-cell) so that no one can be recognised"
        )
    notes = []
    weeks = sorted(data.loc[data[measures].notna().any(axis=1), TIME].unique())
    if len(weeks) < 2:
        notes.append(
            Note(
                "change over time",
                f"only one visit (week {fmt.week(weeks[0])}) has outcome data, so change, responders, strength gains "
                "and the strength-pain relation cannot be estimated",
            )
        )
    if STRENGTH not in measures:
        notes.append(
            Note(
                "strength",
                "no hip-abductor strength readings, so strength gains and the strength-pain "
                "relation cannot be estimated",
            )
        )
    return notes


def patient_codes(cd: ClinicData) -> np.ndarray:
    """One integer per row of ``cd.data``: its patient, numbered once (the ledger's units).

    Parameters
    ----------
    cd : ClinicData

    Returns
    -------
    numpy.ndarray of int64
    """
    cached = cd.__dict__.get("_patient_codes")
    if cached is None or len(cached) != len(cd.data):
        cached = pd.factorize(cd.data[SUBJECT])[0].astype(np.int64)
        cd.__dict__["_patient_codes"] = cached
    return cached


def coded(cd: ClinicData, columns: Sequence[str]) -> pd.DataFrame:
    """The columns an analysis needs, with patients as their integer codes (grouping ints is fast; ids never needed).

    Parameters
    ----------
    cd : ClinicData
    columns : sequence of str
        Besides the patient, group and week (columns not in the data are skipped).

    Returns
    -------
    pandas.DataFrame
    """
    keep = [c for c in dict.fromkeys([GROUP, TIME, *columns]) if c in cd.data.columns]
    return cd.data[keep].assign(**{SUBJECT: patient_codes(cd)})


def _leg_codes(cd: ClinicData) -> np.ndarray:
    """One integer per row: its leg (patient x side), for counts of legs."""
    side = cd.data["side"].astype(str).to_numpy() if "side" in cd.data else np.full(len(cd.data), "")
    return patient_codes(cd) * 3 + np.select([side == "left", side == "right"], [1, 2], 0)


def _per_visit(data: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """One row per participant, group and week; per-side measures averaged over the two sides."""
    return data.groupby([SUBJECT, GROUP, TIME], as_index=False, observed=True)[list(measures)].mean()

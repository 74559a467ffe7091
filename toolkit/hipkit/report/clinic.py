"""The analyses behind a clinic's programme-outcomes report (``hipkit report``), privacy-safe.

Every function takes the clean long table (one row per participant, visit and side; see
:func:`hipkit.clean`) and returns a small aggregate :class:`pandas.DataFrame` (or a figure) that can
be shared: no participant ids, no row-level values, no dates (visits are weeks from baseline), and
every count of people below ``min_cell`` replaced by ``"<min_cell"`` (:func:`suppress`). The report
template (``hipkit/report/templates/clinic_report.py``) calls them in order; each can also be used on
its own in a notebook.

What cannot be estimated (one visit, too few patients, no strength measure) is returned as a
:class:`Note` with its reason, so the report says why a section is empty instead of failing.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import HipkitError, InputError
from ..registry import load_registry
from . import markup
from .disclosure import Count, Disclosure
from .markup import Fragment

__all__ = [
    "ClinicData",
    "Note",
    "load_clinic_data",
    "coded",
    "patient_codes",
    "register_report",
    "publish",
    "save_prepared",
    "load_prepared",
    "suppress",
    "participant_flow",
    "outcome_measures",
    "visit_means",
    "change_from_baseline",
    "responder_rates",
    "strength_gains_vs_mdc",
    "within_person_relation",
    "data_quality",
    "headline",
    "references",
    "html_table",
    "short_label",
    "table_one",
    "with_ci",
    "display_means",
    "display_change",
    "p_cell",
]

SUBJECT = "participant_id"
TIME = "visit_week"
GROUP = "group"
ALL_PATIENTS = "All patients"
STRENGTH = "hip_abd_strength_n"
# Measures that go with pain and with function in the plain-language sentences, in order of preference.
PAIN_MEASURES = ("pain_vas", "pain_nprs")
FUNCTION_MEASURES = ("akps", "lefs")


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
    from ..io import read_clean_table

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
    # been through the cleaner and should hold none), through hipkit.clean.identifiers.
    from ..clean.identifiers import identifier_columns

    return identifier_columns(frame, registry, cells=True)


def load_clinic_data(
    paths: str | Path | Sequence[str | Path],
    programme_weeks: Sequence[float] = (0, 2, 4, 6),
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
    from ..clean import clean

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
            from ..clean.deidentify import hash_ids, read_salt

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
                f"only one visit (week {weeks[0]:g}) has outcome data, so change, responders, strength gains and "
                "the strength-pain relation cannot be estimated",
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


def suppress(counts, min_cell: int = 5):
    """Hide counts from 1 to ``min_cell - 1`` as ``"<min_cell"`` (small-number suppression).

    Zero is shown: it identifies no one. Missing values stay missing.

    Parameters
    ----------
    counts : int, pandas.Series or pandas.DataFrame
        Whole-number counts.
    min_cell : int, default 5
        Smallest count shown.

    Returns
    -------
    str, int, pandas.Series or pandas.DataFrame
        Same shape (object dtype for tables).

    Examples
    --------
    >>> suppress(pd.Series([0, 1, 4, 5, 120])).tolist()
    [0, '<5', '<5', 5, 120]
    >>> suppress(3, min_cell=10)
    '<10'
    """
    if np.isscalar(counts) or counts is None:
        if counts is None or (isinstance(counts, float) and math.isnan(counts)):
            return counts
        return f"<{min_cell}" if 0 < counts < min_cell else int(counts)
    hidden = counts.notna() & (counts > 0) & (counts < min_cell)
    shown = counts.astype(object).where(counts.isna(), counts.astype("Int64").astype(object))
    return shown.mask(hidden, f"<{min_cell}")


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


def register_report(cd: ClinicData, ledger: Disclosure, measures: Sequence[str]) -> dict:
    """Every table of the report, computed with its counts registered in ``ledger`` (not yet resolved).

    Parameters
    ----------
    cd : ClinicData
    ledger : Disclosure
    measures : sequence of str

    Returns
    -------
    dict
        ``flow, means, change, responders, mdc, relation, table1, data_quality`` (frames of
        :class:`~hipkit.report.disclosure.Count`; show them with :func:`publish` after
        ``ledger.resolve()``), plus ``relation_notes`` and ``model_warnings``.
    """
    min_cell = ledger.min_cell
    out = {
        "flow": participant_flow(cd, min_cell, disclosure=ledger),
        "means": visit_means(cd, measures, min_cell, disclosure=ledger),
        "change": change_from_baseline(cd, measures, min_cell, disclosure=ledger),
        "responders": responder_rates(cd, min_cell, disclosure=ledger),
        "mdc": strength_gains_vs_mdc(cd, min_cell, disclosure=ledger),
        "data_quality": data_quality(cd, min_cell, disclosure=ledger),
    }
    out["relation"], out["relation_notes"], out["model_warnings"] = within_person_relation(
        cd, min_cell, disclosure=ledger
    )
    out["table1"], out["sex"] = table_one(cd, measures, min_cell, disclosure=ledger)
    return out


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


def table_one(cd: ClinicData, measures: Sequence[str], min_cell: int = 5, disclosure: Disclosure | None = None):
    """Table 1: mean (SD) [n] at week 0 by group, and patients by sex; small cells suppressed.

    Groups with fewer than ``min_cell`` patients at week 0 are left out; a cell whose number of
    values is hidden reads ``"<5 values"`` (primary) or ``"suppressed"`` (complementary).

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str
        Outcome measures (age and body mass are added first when present).
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (counts registered, shown after it is resolved); default: a private one.

    Returns
    -------
    table : pandas.DataFrame or Note
        From :func:`hipkit.table1` (``show_n=True``), measures labelled; a :class:`Note` when no group
        can be shown.
    sex : pandas.DataFrame or None
        Patients by sex and group (suppressed), or None without a sex column.
    """
    from ..stats import table1

    ledger, own = _ledger(disclosure, min_cell)
    at_base = (cd.data[TIME] == min(cd.programme_weeks)).to_numpy()
    baseline = cd.data.loc[at_base]
    if baseline.empty:
        return Note("Table 1", "no patient has a week-0 visit"), None
    codes = patient_codes(cd)[at_base]
    legs = _leg_codes(cd)[at_base]
    n = baseline.groupby(GROUP)[SUBJECT].nunique()
    keep = n[n >= min_cell].index
    if keep.empty:
        return Note("Table 1", f"every group has fewer than {min_cell} patients at week 0"), None
    kept = baseline[GROUP].isin(keep).to_numpy()
    baseline, codes, legs = baseline.loc[kept], codes[kept], legs[kept]
    covariates = [c for c in ("age_years", "body_mass_kg") if c in baseline and baseline[c].notna().any()]
    rows = [*covariates, *measures]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = table1(baseline, measures=rows, by=GROUP, show_n=True)
    reg = load_registry()
    groups = baseline[GROUP].to_numpy()
    cells = {}
    for m in rows:
        per_side = m in reg and reg[m].per_side and "side" in baseline
        units = legs if per_side else codes
        has = baseline[m].notna().to_numpy()
        for g in table.columns.drop("measure"):
            members = units[has & (groups == g)]
            cells[(m, g)] = ledger.count(
                ("table1", m, g), members=members, universe="legs" if per_side else "patients", table="Table 1"
            )
    table = table.copy()
    for g in table.columns.drop("measure"):
        table[g] = [(text, cells[(m, g)]) for m, text in zip(rows, table[g])]
    table["measure"] = table["measure"].map(short_label)
    sex = None
    if "sex" in baseline:
        first = ~pd.Series(codes).duplicated().to_numpy()
        people = baseline.loc[first]
        pc = codes[first]
        sexes = people["sex"].astype(object).fillna("not recorded").astype(str).to_numpy()
        pg_ = people[GROUP].to_numpy()
        levels = sorted(set(sexes))
        frame = {"sex": levels}
        for g in sorted(set(pg_)):
            frame[g] = [
                ledger.count(("sex", s, g), members=pc[(sexes == s) & (pg_ == g)], table="Patients by sex")
                for s in levels
            ]
        # The group's size at week 0 is a margin of this table (the patients behind Table 1's rows).
        for g in sorted(set(pg_)):
            ledger.count(("baseline patients", g), members=pc[pg_ == g], published=False)
        sex = pd.DataFrame(frame)
    if own:
        ledger.resolve()
        table = _publish_table1(ledger, table)
        sex = ledger.publish(sex) if sex is not None else None
    return table, sex


def _publish_table1(ledger: Disclosure, table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 cells ``"mean (SD) [n]"`` with n shown through the ledger (the cell blanked when n is hidden)."""
    import re

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


def _per_visit(data: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """One row per participant, group and week; per-side measures averaged over the two sides."""
    return data.groupby([SUBJECT, GROUP, TIME], as_index=False, observed=True)[list(measures)].mean()


def participant_flow(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Participant flow: enrolled, seen at each visit, completed, and lost after each visit.

    A patient is *seen* at a visit when any outcome was recorded that week, *completed* when seen at
    the last programme week, and *lost after week w* when week ``w`` was their last visit before the
    end. Reasons come from the export's discharge/withdrawal-reason column where there is one.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame
        Columns ``stage`` (``enrolled``, ``seen``, ``completed``, ``lost``), ``week``, ``group``, ``n``
        (suppressed below ``min_cell``, and wherever a hidden count could be recovered from others),
        ``reason`` (for ``lost``; ``"not recorded"`` if absent).
    """
    ledger, own = _ledger(disclosure, min_cell)
    data = cd.data
    codes = patient_codes(cd)
    measures = outcome_measures(data)
    recorded = data[measures].notna().any(axis=1).to_numpy()
    final = max(cd.programme_weeks)
    groups_col = data[GROUP].to_numpy()
    weeks_col = data[TIME].to_numpy(dtype=float)
    rec = pd.DataFrame({"code": codes[recorded], "group": groups_col[recorded], "week": weeks_col[recorded]})
    rec = rec.drop_duplicates()
    last = rec.groupby("code")["week"].max()
    reason_col = "discharge_reason" if "discharge_reason" in data.columns else None
    pairs = pd.DataFrame({"code": codes, "group": groups_col}).drop_duplicates()
    reasons = pd.Series("not recorded", index=pd.Index(np.unique(codes)), dtype=object)
    if reason_col:
        given = data[reason_col].notna().to_numpy()
        stated = pd.Series(data[reason_col].to_numpy()[given], index=codes[given]).astype(str)
        stated = stated.groupby(level=0).last()
        reasons.loc[stated.index] = stated.to_numpy()
    rows = []  # (stage, week, group, reason, member codes)
    for g in [*sorted(set(groups_col)), "all"]:
        ids = pairs["code"].to_numpy() if g == "all" else pairs.loc[pairs["group"] == g, "code"].to_numpy()
        ids = np.unique(ids)
        r = rec if g == "all" else rec.loc[rec["group"] == g]
        rows.append(("enrolled", np.nan, g, "", ids))
        for w in cd.programme_weeks:
            rows.append(("seen", w, g, "", r.loc[r["week"] == w, "code"].to_numpy()))
        lastg = last.reindex(ids).to_numpy()
        done = lastg >= final
        rows.append(("completed", final, g, "", ids[done]))
        lost, lost_weeks = ids[~done], np.nan_to_num(lastg[~done], nan=-1.0)
        why = reasons.reindex(lost).to_numpy()
        for w in np.unique(lost_weeks):
            for reason in sorted(set(why[lost_weeks == w])):
                rows.append(("lost", w if w >= 0 else np.nan, g, reason, lost[(lost_weeks == w) & (why == reason)]))
    # Free-text reasons are shown only when at least min_cell patients share them (a category, not a
    # note about one person); the rest are pooled.
    shared = {}
    for stage, _, g, reason, members in rows:
        if stage == "lost" and g == "all":
            shared[reason] = shared.get(reason, 0) + len(members)
    keep = {reason for reason, n in shared.items() if n >= min_cell} | {"not recorded"}
    pooled: dict = {}
    for stage, week, g, reason, members in rows:
        if stage == "lost" and reason not in keep:
            reason = "other reason (free text not shown)"
        key = (stage, None if week != week else float(week), g, reason)
        pooled.setdefault(key, []).append(members)
    table = []
    for (stage, week, g, reason), parts in pooled.items():
        members = np.unique(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)
        count = ledger.count(
            ("flow", stage, week, g, reason),
            members=members.astype(np.int64),
            table="flow",
            cost=1 if g == "all" else None,
        )
        table.append(
            {"stage": stage, "week": np.nan if week is None else week, "group": g, "reason": reason, "n": count}
        )
    flow = pd.DataFrame(table, columns=["stage", "week", "group", "reason", "n"])
    return _finish(ledger, own, flow, "flow")


def visit_means(
    cd: ClinicData, measures: Sequence[str] | None = None, min_cell: int = 5, disclosure: Disclosure | None = None
) -> pd.DataFrame:
    """Mean of each measure per group and programme week, with a t-based 95% CI.

    Per-side measures (strength) are averaged over the two sides of a patient first, so ``n`` counts
    patients. Cells whose count is hidden are suppressed (mean and CI left empty).

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str, optional
        Default: every outcome measure with data.
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, week, n, mean, sd, conf_low, conf_high``.
    """
    from scipy import stats

    ledger, own = _ledger(disclosure, min_cell)
    measures = list(measures) if measures is not None else outcome_measures(cd.data)
    on_schedule = cd.data[TIME].isin(cd.programme_weeks).to_numpy()
    frame = cd.data.loc[on_schedule, [GROUP, TIME, *measures]].assign(_code=patient_codes(cd)[on_schedule])
    pv = frame.groupby(["_code", GROUP, TIME], as_index=False, observed=True)[measures].mean()
    rows = []
    for m in measures:
        have = pv.loc[pv[m].notna()]
        agg = have.groupby([GROUP, TIME])[m].agg(["count", "mean", "std"])
        members = have.groupby([GROUP, TIME])["_code"].agg(lambda s: s.to_numpy())
        for (g, w), r in agg.iterrows():
            n = int(r["count"])
            half = stats.t.ppf(0.975, n - 1) * r["std"] / math.sqrt(n) if n > 1 else np.nan
            rows.append(
                {
                    "measure": m,
                    "group": g,
                    "week": w,
                    "n": ledger.count(("visit", m, g, float(w)), members=members.loc[(g, w)], table="visit means"),
                    "mean": r["mean"],
                    "sd": r["std"],
                    "conf_low": r["mean"] - half,
                    "conf_high": r["mean"] + half,
                }
            )
    out = pd.DataFrame(rows, columns=["measure", "group", "week", "n", "mean", "sd", "conf_low", "conf_high"])
    return _finish(ledger, own, out, "means")


def change_from_baseline(
    cd: ClinicData, measures: Sequence[str] | None = None, min_cell: int = 5, disclosure: Disclosure | None = None
) -> pd.DataFrame:
    """Mean change from week 0 per group and later programme week: paired t CI and Hedges' g.

    Parameters
    ----------
    cd : ClinicData
    measures : sequence of str, optional
    min_cell : int, default 5
        Rows with fewer patients are suppressed.
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, week, n, mean_change, conf_low, conf_high, hedges_g, p_value`` (paired t)
        and ``p_wilcoxon`` (Wilcoxon signed-rank test).

    Notes
    -----
    :func:`hipkit.paired_change` per group and week (patients with both visits; per-side measures
    averaged over sides): the paired t test, and the Wilcoxon signed-rank test as R's
    ``wilcox.test(paired = TRUE)`` (exact p below 50 patients with nonzero, untied changes; the
    normal approximation with continuity and tie correction otherwise; n log n). One table of
    patients x visits is made once; each test sees only its own pairs (linear in patients).
    """
    from ..stats import paired_change

    ledger, own = _ledger(disclosure, min_cell)
    measures = list(measures) if measures is not None else outcome_measures(cd.data)
    rows = []
    base = min(cd.programme_weeks)
    on_schedule = cd.data[TIME].isin(cd.programme_weeks).to_numpy()
    frame = cd.data.loc[on_schedule, [GROUP, TIME, *measures]].assign(_code=patient_codes(cd)[on_schedule])
    pv = frame.groupby(["_code", GROUP, TIME], as_index=False, observed=True)[measures].mean()
    for m in measures:
        wide = pv.pivot_table(index=[GROUP, "_code"], columns=TIME, values=m, aggfunc="first", observed=True)
        present = set(wide.index.get_level_values(GROUP).unique())
        for g in sorted(cd.data[GROUP].unique()):
            part = wide.xs(g, level=GROUP) if g in present else wide.iloc[:0]
            for w in cd.programme_weeks:
                if w == base:
                    continue
                row = {"measure": m, "group": g, "week": w}
                pair = part[[base, w]].dropna() if base in part.columns and w in part.columns else part.iloc[:0, :0]
                n = len(pair)
                row["n"] = ledger.count(
                    ("change", m, g, float(w)), members=pair.index.to_numpy(dtype=np.int64), table="change"
                )
                if n >= max(min_cell, 2):
                    long = pd.DataFrame(
                        {
                            SUBJECT: np.tile(pair.index.to_numpy(), 2),
                            TIME: np.repeat([base, w], n),
                            m: np.concatenate([pair[base].to_numpy(), pair[w].to_numpy()]),
                        }
                    )
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            res = paired_change(long, m, baseline=base, follow_up=w)
                    except (HipkitError, ValueError):
                        res = None
                    if res is not None:
                        t = res.set_index("test")
                        row.update(
                            mean_change=t.loc["paired_t", "estimate"],
                            conf_low=t.loc["paired_t", "conf_low"],
                            conf_high=t.loc["paired_t", "conf_high"],
                            hedges_g=t.loc["paired_t", "hedges_g"],
                            p_value=t.loc["paired_t", "p_value"],
                            p_wilcoxon=t.loc["wilcoxon", "p_value"],
                        )
                rows.append(row)
    cols = [
        "measure",
        "group",
        "week",
        "n",
        "mean_change",
        "conf_low",
        "conf_high",
        "hedges_g",
        "p_value",
        "p_wilcoxon",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    return _finish(ledger, own, out, "change")


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


def responder_rates(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Share of patients whose change from week 0 to their last visit reached each measure's MCID.

    Only measures with a published MCID in the registry are included; Wilson 95% CIs (Wilson 1927).
    Suppressed where the responders or non-responders number 1 to ``min_cell - 1`` (the
    non-responders are registered as a count that is not shown but follows from the others).

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame
        ``measure, group, n, responders, proportion, conf_low, conf_high, mcid, mcid_source``.
    """
    from ..stats import change_scores, responders
    from ..stats.responder import TOL

    ledger, own = _ledger(disclosure, min_cell)
    reg = load_registry()
    measures = [m for m in outcome_measures(cd.data) if reg[m].mcid is not None]
    cols = ["measure", "group", "n", "responders", "proportion", "conf_low", "conf_high", "mcid", "mcid_source"]
    if not measures:
        return pd.DataFrame(columns=cols)
    frame = cd.data[[GROUP, TIME, *measures]].assign(**{SUBJECT: patient_codes(cd)})
    per_visit = _per_visit(frame, measures)  # one row per patient and visit, sides averaged; ids are codes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = responders(per_visit, measures=measures, group=GROUP, baseline=min(cd.programme_weeks))
    except HipkitError:
        return pd.DataFrame(columns=cols)
    res = _ordered_interval(res.loc[res["n"] > 0, cols].reset_index(drop=True), "proportion", (0.0, 1.0))
    n_cells, k_cells = [], []
    for _, r in res.iterrows():
        m, g = r["measure"], r["group"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cs = change_scores(per_visit.loc[per_visit[GROUP] == g], m, baseline=min(cd.programme_weeks))
        cs = cs.loc[cs["change"].notna()]
        hit = (reg[m].improvement_sign * cs["change"]) >= float(r["mcid"]) - TOL
        ids = cs[SUBJECT].to_numpy(dtype=np.int64)
        total = ledger.count(("responders n", m, g), members=ids, value=int(r["n"]), table="responders")
        hits = ledger.count(
            ("responders", m, g), members=ids[hit.to_numpy()], value=int(r["responders"]), table="responders"
        )
        ledger.count(("non-responders", m, g), members=ids[~hit.to_numpy()], published=False)
        n_cells.append(total)
        k_cells.append(hits)
    res["n"] = pd.Series(n_cells, index=res.index, dtype=object)
    res["responders"] = pd.Series(k_cells, index=res.index, dtype=object)
    return _finish(ledger, own, res, "responders")


def strength_gains_vs_mdc(
    cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None
) -> pd.DataFrame | Note:
    """Share of legs whose strength gain (week 0 to last visit) exceeds the MDC95.

    Each leg is judged on its own, as the MDC is for one reading (so ``n`` counts legs; the two legs
    of a patient are not independent, so the CIs are a little narrow). The MDC is the registry's
    (derived from the between-tester SEM of Piva et al. 2006). The legs, the legs exceeding the MDC
    and the rest are counts in the ledger (universe ``legs``); a group with fewer than ``min_cell``
    patients behind its legs is not shown.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame or Note
        ``group, unit, n, n_exceeding, proportion, conf_low, conf_high, mdc``; a :class:`Note` if there is no
        strength measure or no follow-up.
    """
    from ..stats import strength_vs_mdc

    ledger, own = _ledger(disclosure, min_cell)
    if STRENGTH not in outcome_measures(cd.data):
        return Note("strength gains against the MDC", "the data have no hip-abductor strength readings")
    base_week = min(cd.programme_weeks)
    has = cd.data[STRENGTH].notna().to_numpy()
    legs = pd.DataFrame(
        {
            "leg": _leg_codes(cd)[has],
            "patient": patient_codes(cd)[has],
            GROUP: cd.data[GROUP].to_numpy()[has],
            TIME: cd.data[TIME].to_numpy(dtype=float)[has],
            STRENGTH: cd.data[STRENGTH].to_numpy(dtype=float)[has],
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = strength_vs_mdc(coded(cd, [STRENGTH, "side"]), STRENGTH, group=GROUP, baseline=base_week)
    except HipkitError as exc:
        return Note("strength gains against the MDC", str(exc).splitlines()[0])
    res = res.loc[res["n"] > 0, ["group", "unit", "n", "n_exceeding", "proportion", "conf_low", "conf_high", "mdc"]]
    if res.empty:
        return Note("strength gains against the MDC", "no patient has strength at week 0 and at a later visit")
    res = _ordered_interval(res.reset_index(drop=True), "proportion", (0.0, 1.0))
    # The legs behind each row: a week-0 reading and a later one (the last), per leg.
    first = legs.loc[legs[TIME] == base_week].groupby("leg")[STRENGTH].mean()
    later = legs.loc[legs[TIME] > base_week].sort_values(TIME).groupby("leg")[STRENGTH].last()
    gain = (later - first).dropna()
    info = legs.drop_duplicates("leg").set_index("leg")
    mdc = float(res["mdc"].iloc[0])
    n_cells, k_cells, keep = [], [], []
    for _, r in res.iterrows():
        g = r["group"]
        ids = gain.index[(info.loc[gain.index, GROUP] == g).to_numpy()].to_numpy(dtype=np.int64)
        over = (gain.loc[ids] > mdc).to_numpy()
        if len(ids) != int(r["n"]) or int(over.sum()) != int(r["n_exceeding"]):
            over = None  # the stats function counts by another rule: counts without members
        patients = (
            info.loc[ids, "patient"].nunique() if over is not None else legs.loc[legs[GROUP] == g, "patient"].nunique()
        )
        shown = bool(patients >= min_cell)  # what identifies people is the patients behind the legs
        if over is None:
            total = ledger.count(("mdc legs", g), value=int(r["n"]), universe="legs", table="MDC", published=shown)
            hits = ledger.count(
                ("mdc exceeding", g), value=int(r["n_exceeding"]), universe="legs", table="MDC", published=shown
            )
            rest = ledger.count(
                ("mdc not exceeding", g), value=int(r["n"]) - int(r["n_exceeding"]), universe="legs", published=False
            )
            ledger.relation(total, [hits, rest])
        else:
            total = ledger.count(("mdc legs", g), members=ids, universe="legs", table="MDC", published=shown)
            hits = ledger.count(("mdc exceeding", g), members=ids[over], universe="legs", table="MDC", published=shown)
            ledger.count(("mdc not exceeding", g), members=ids[~over], universe="legs", published=False)
        keep.append(shown)
        n_cells.append(total)
        k_cells.append(hits)
    res["n"] = pd.Series(n_cells, index=res.index, dtype=object)
    res["n_exceeding"] = pd.Series(k_cells, index=res.index, dtype=object)
    # What identifies people is the number of patients behind the legs: a group with few is left out.
    res = res.loc[keep].reset_index(drop=True)
    if res.empty:
        return Note("strength gains against the MDC", f"fewer than {min_cell} patients with strength at two visits")
    return _finish(ledger, own, res, "mdc")


def data_quality(cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None) -> pd.DataFrame:
    """Data-quality notes: rows set aside, values blanked, duplicates, out-of-window visits.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger; default: a private one, resolved here.

    Returns
    -------
    pandas.DataFrame
        ``item, count, detail``; counts suppressed below ``min_cell`` (and where the record
        accounting would give a hidden one away).
    """
    ledger, own = _ledger(disclosure, min_cell)
    rows = []
    if cd.log is not None:
        r = cd.log["rows"]
        cells = {
            k: ledger.count(("records", k), value=int(r.get(k, 0) or 0), universe="records", table="data quality")
            for k in ("in", "clean", "quarantined", "duplicates_removed", "values_quarantined")
        }
        # Every record is clean, quarantined or a duplicate: the first four are one linked table.
        ledger.relation(cells["in"], [cells["clean"], cells["quarantined"], cells["duplicates_removed"]])
        rows += [
            ("records in the export(s)", cells["in"], ""),
            (
                "records in the clean table",
                cells["clean"],
                "every record is clean, quarantined or a duplicate: "
                + ("balances" if r.get("invariant_holds") else "DOES NOT BALANCE"),
            ),
            ("records quarantined (set aside whole)", cells["quarantined"], ""),
            ("exact duplicate records removed", cells["duplicates_removed"], ""),
            ("single values set to missing (rest of record kept)", cells["values_quarantined"], ""),
        ]
        q = cd.quarantine
        if len(q):
            by_action: dict = {}
            for (reason, action), n in q.groupby(["reason", "action"], dropna=False).size().items():
                count = ledger.count(("quarantine", str(reason), str(action)), value=int(n), universe="records")
                rows.append((f"  quarantined: {reason}", count, str(action)))
                by_action.setdefault(str(action), []).append(count)
            # Where the reasons of one action add up to a total shown above, that is a linked table too.
            for action, total in (("row_removed", "quarantined"), ("value_set_missing", "values_quarantined")):
                parts = by_action.get(action, [])
                if parts and sum(c.value for c in parts) == cells[total].value:
                    ledger.relation(cells[total], parts)
    else:
        count = ledger.count(("rows", "clean table"), value=len(cd.data), universe="rows", table="data quality")
        rows.append(("input was an already-clean table", count, "no cleaning log available"))
    codes = patient_codes(cd)
    if "out_of_window" in cd.data:
        flagged = cd.data["out_of_window"].fillna(False).astype(bool).to_numpy()
        visits = codes[flagged] * 1000 + np.round(cd.data[TIME].to_numpy(dtype=float)[flagged]).astype(np.int64) % 1000
        rows.append(
            (
                "visits outside their visit window (kept)",
                ledger.count(("out of window visits",), members=visits.astype(np.int64), universe="visits"),
                "weeks from baseline differ from the protocol week by more than the window",
            )
        )
    recorded = cd.data[outcome_measures(cd.data)].notna().any(axis=1).to_numpy()
    seen = pd.Series(cd.data[TIME].to_numpy(dtype=float)[recorded]).groupby(codes[recorded])
    first, last = seen.min(), seen.max()
    base = min(cd.programme_weeks)
    only_base = first.index[((first == base) & (last == base)).to_numpy()] if len(cd.programme_weeks) > 1 else []
    everyone = np.unique(codes)
    rows += [
        (
            "patients seen only at week 0",
            ledger.count(("dq", "only week 0"), members=np.asarray(only_base, dtype=np.int64), table="data quality"),
            "counted in the participant flow (lost after week 0); no change, responder or MDC result",
        ),
        (
            "patients with no week-0 visit",
            ledger.count(("dq", "no week 0"), members=first.index[(first > base).to_numpy()].to_numpy(dtype=np.int64)),
            "counted in the participant flow; no change, responder or MDC result",
        ),
        (
            "patients with no outcome recorded",
            ledger.count(("dq", "no outcome"), members=np.setdiff1d(everyone, first.index.to_numpy(dtype=np.int64))),
            "counted as enrolled only",
        ),
    ]
    off = ~cd.data[TIME].isin(cd.programme_weeks)
    rows.append(
        (
            "rows at weeks outside the programme schedule (not analysed)",
            ledger.count(("rows", "off schedule"), value=int(off.sum()), universe="rows"),
            f"schedule: weeks {', '.join(f'{w:g}' for w in cd.programme_weeks)}",
        )
    )
    out = pd.DataFrame(rows, columns=["item", "count", "detail"])
    return _finish(ledger, own, out, "data_quality")


def cleaning_counts(cd: ClinicData, ledger: Disclosure) -> list[tuple[str, list[tuple[str, Count]]]]:
    """The cleaning log's conversion counts (appendix), registered in ``ledger`` (records).

    Parameters
    ----------
    cd : ClinicData
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
    ledger : Disclosure

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


_SHORT = {
    "pain_vas": "Pain (VAS)",
    "pain_nprs": "Pain (NPRS)",
    "akps": "Knee function (AKPS)",
    "lefs": "Function (LEFS)",
    "hip_abd_strength_n": "Hip-abductor strength",
    "hip_abd_strength_nkg": "Hip-abductor strength per body mass",
}


def short_label(measure: str, unit: bool = True) -> str:
    """Short display name of a registry measure, with its unit.

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
    name = _SHORT.get(measure, m.label)
    return f"{name}, {m.unit}" if unit else name


def with_ci(est: float, low: float, high: float, signed: bool = False) -> str:
    """``"est (low to high)"`` with matched decimals; empty when suppressed (NaN).

    An estimate whose interval could not be computed (every change the same, one patient) is shown
    alone, with ``"(CI not estimable)"``.

    Parameters
    ----------
    est, low, high : float
    signed : bool, default False
        Show a + on positive values (for changes).

    Returns
    -------
    str

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
        return f"{_number(est, [est], signed)} (CI not estimable)"
    values = [est, low, high]
    return f"{_number(est, values, signed)} ({_number(low, values, signed)} to {_number(high, values, signed)})"


def _number(value: float, matched: Sequence[float], signed: bool = False) -> str:
    """``value`` with 2 decimals when every number of ``matched`` is below 10 in size, else 1."""
    d = 2 if max(abs(v) for v in matched) < 10 else 1
    return f"{value:+.{d}f}" if signed else f"{value:.{d}f}"


def _ordered_interval(frame: pd.DataFrame, estimate: str, bounds: tuple[float, float] | None = None) -> pd.DataFrame:
    """Keep ``conf_low <= estimate <= conf_high`` (and within ``bounds``) where the three are known.

    Intervals contain their estimate in exact arithmetic; rounding can put a bound a hair past it
    (statsmodels' Wilson upper bound at 100% is 0.9999999999999999), which a table would show as
    "100% (76% to 100%)" but a figure would draw as a negative error bar.
    """
    out = frame.copy()
    est = out[estimate].astype(float)
    low, high = out["conf_low"].astype(float), out["conf_high"].astype(float)
    if bounds is not None:
        est, low, high = (x.clip(*bounds) for x in (est, low, high))
        out[estimate] = est.where(out[estimate].notna())
    out["conf_low"] = low.where(low.isna() | est.isna(), np.fmin(low, est))
    out["conf_high"] = high.where(high.isna() | est.isna(), np.fmax(high, est))
    return out


def _step_for(measure: str) -> float:
    return {"hip_abd_strength_n": 10.0, "hip_abd_strength_nkg": 0.1}.get(measure, 1.0)


def within_person_relation(
    cd: ClinicData, min_cell: int = 5, disclosure: Disclosure | None = None
) -> tuple[pd.DataFrame, list[Note], list[str]]:
    """Within-patient relation of strength to pain and to function, as mixed-model estimates and sentences.

    For each of pain and function (the first measure of each present), fits
    ``outcome ~ week + strength_within + strength_between + (1 | patient)`` with
    :func:`hipkit.within_between` (person-mean centring, Curran & Bauer 2011; Satterthwaite df), and
    writes the within-patient estimate per 10 N as one plain sentence.

    Parameters
    ----------
    cd : ClinicData
    min_cell : int, default 5
    disclosure : Disclosure, optional
        The report's ledger (``n_patients`` and ``n_visits`` are counts in it); default: a private one.

    Returns
    -------
    table : pandas.DataFrame
        ``outcome, estimate, conf_low, conf_high, p_value, per, n_patients, n_visits, sentence``
        (``estimate`` and CI per ``per`` units of strength).
    notes : list of Note
        Outcomes that could not be modelled, with the reason.
    warnings : list of str
        Model warnings (singular fit, convergence), for the report header.
    """
    from ..models.predictors import within_between

    ledger, own = _ledger(disclosure, min_cell)
    measures = outcome_measures(cd.data)
    outcomes = [m for m in PAIN_MEASURES if m in measures][:1] + [m for m in FUNCTION_MEASURES if m in measures][:1]
    cols = ["outcome", "estimate", "conf_low", "conf_high", "p_value", "per", "n_patients", "n_visits", "sentence"]
    notes: list[Note] = []
    model_warnings: list[str] = []
    if STRENGTH not in measures:
        return pd.DataFrame(columns=cols), [Note("strength and symptoms", "no hip-abductor strength readings")], []
    if not outcomes:
        return pd.DataFrame(columns=cols), [Note("strength and symptoms", "no pain or function measure")], []
    rows = []
    reg = load_registry()
    step = _step_for(STRENGTH)
    for outcome in outcomes:
        section = f"strength and {reg[outcome].label}"
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = within_between(
                    coded(cd, [outcome, STRENGTH, "side"]), outcome=outcome, predictor=STRENGTH, check_singular="warn"
                )
                g = fit.glance().iloc[0]
                t = fit.tidy().set_index("term").loc[f"{STRENGTH}_within"]
        except HipkitError as exc:
            notes.append(Note(section, str(exc).splitlines()[0]))
            continue
        except Exception as exc:  # noqa: BLE001
            # The model failed on valid data without saying why in a HipkitError (hipkit.lmm raises
            # numpy's LinAlgError for a rank-deficient design, e.g. strength changing in step with the
            # weeks for every patient, and ZeroDivisionError when there are no residual degrees of
            # freedom). One section of the report says so; the rest of the report is still made.
            reason = (str(exc).splitlines() or [""])[0]
            detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
            notes.append(Note(section, f"the mixed model could not be fitted on these data ({detail})"))
            continue
        for w in caught:
            if "dropped" not in str(w.message):
                model_warnings.append(f"{outcome}: {str(w.message).splitlines()[0]}")
        if int(g["ngroups"]) < min_cell:
            notes.append(Note(section, f"fewer than {min_cell} patients with two visits"))
            continue
        est, low, high = (float(t[k]) * step for k in ("estimate", "conf_low", "conf_high"))
        if not all(math.isfinite(v) for v in (est, low, high)):
            notes.append(Note(section, "the within-patient estimate or its interval is not finite"))
            continue
        rows.append(
            {
                "outcome": outcome,
                "estimate": est,
                "conf_low": low,
                "conf_high": high,
                "p_value": float(t["p_value"]),
                "per": f"{step:g} {reg[STRENGTH].unit}",
                "n_patients": _model_patients(cd, ledger, outcome, int(g["ngroups"])),
                "n_visits": ledger.count(("model visits", outcome), value=int(g["nobs"]), universe="visits"),
                "sentence": plain_sentence(outcome, est, low, high, step),
            }
        )
    return _finish(ledger, own, pd.DataFrame(rows, columns=cols), "relation"), notes, model_warnings


def _model_patients(cd: ClinicData, ledger: Disclosure, outcome: str, n: int) -> Count:
    """The patients behind a model fit (rows with the outcome and strength), as a count in the ledger."""
    rows = (cd.data[outcome].notna() & cd.data[STRENGTH].notna()).to_numpy()
    members = np.unique(patient_codes(cd)[rows])
    if len(members) == n:
        return ledger.count(("model patients", outcome), members=members, table="strength relation")
    return ledger.count(("model patients", outcome), value=n, universe="model patients", table="strength relation")


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
    short = _SHORT.get(outcome)
    name = short[0].lower() + short[1:] if short else m.label
    unit = "points" if m.unit in {"points", "score", ""} else m.unit
    decimals = 2 if max(abs(low), abs(high)) < 10 else 1
    f = f"{{:.{decimals}f}}"
    word = "lower" if est < 0 else "higher"
    if high < 0:
        ci = f"95% CI {f.format(-high)} to {f.format(-low)} {unit} lower"
    elif low > 0:
        ci = f"95% CI {f.format(low)} to {f.format(high)} {unit} higher"
    else:
        ci = f"95% CI from {f.format(abs(low))} {unit} lower to {f.format(high)} {unit} higher, so no clear relation"
    better = {"lower_better": "lower is better", "higher_better": "higher is better"}.get(m.direction or "", "")
    return (
        f"When a patient gained {step:g} N of hip-abductor strength, their {name} was on average "
        f"{f.format(abs(est))} {unit} {word} ({ci}), beyond the change expected from time in the programme alone"
        + (f"; {better}." if better else ".")
    )


def headline(cd: ClinicData, flow: pd.DataFrame, change: pd.DataFrame, resp: pd.DataFrame) -> list[str]:
    """The report's key numbers as short sentences (what the first screen says).

    Parameters
    ----------
    cd : ClinicData
    flow, change, resp : pandas.DataFrame
        From :func:`participant_flow`, :func:`change_from_baseline`, :func:`responder_rates`.

    Returns
    -------
    list of str
    """
    out = []
    f = flow.loc[flow["group"] == "all"]
    enrolled = f.loc[f["stage"] == "enrolled", "n"].iloc[0]
    done = f.loc[f["stage"] == "completed"].iloc[0]
    out.append(f"{enrolled} patients enrolled; {done['n']} seen at the final visit (week {done['week']:g}).")
    final = max(cd.programme_weeks)
    reg = load_registry()
    for m in [*PAIN_MEASURES, *FUNCTION_MEASURES, STRENGTH]:
        part = change.loc[(change["measure"] == m) & (change["week"] == final)].dropna(subset=["mean_change"])
        for _, r in part.iterrows():
            values = [v for v in (r["mean_change"], r["conf_low"], r["conf_high"]) if pd.notna(v)]
            est = _number(r["mean_change"], values, signed=True)
            if pd.isna(r["conf_low"]) or pd.isna(r["conf_high"]):
                ci = "95% CI not estimable"
            else:
                ci = f"95% CI {_number(r['conf_low'], values, True)} to {_number(r['conf_high'], values, True)}"
            out.append(
                f"{short_label(m, unit=False)}, {r['group']}: mean change by week {final:g} {est} {reg[m].unit} "
                f"({ci}; n = {r['n']})."
            )
    for _, r in resp.dropna(subset=["proportion"]).iterrows():
        if r["measure"] in PAIN_MEASURES:
            out.append(
                f"{short_label(r['measure'], unit=False)}, {r['group']}: {r['proportion']:.0%} reached the MCID of "
                f"{r['mcid']:g} {reg[r['measure']].unit} (95% CI {r['conf_low']:.0%} to {r['conf_high']:.0%})."
            )
    return out


def references(measures: Sequence[str]) -> list[str]:
    """Sources of the MCIDs/MDCs used and of the methods, as reference lines.

    Parameters
    ----------
    measures : sequence of str

    Returns
    -------
    list of str
    """
    reg = load_registry()
    lines = []
    for m in measures:
        for src in (reg[m].mcid_source, reg[m].mdc_source, reg[m].sem_source):
            if src and src not in lines:
                lines.append(src)
    lines += [
        "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. "
        "J Am Stat Assoc 22:209-212. (Wilson intervals for proportions.)",
        "Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related estimators. "
        "J Educ Stat 6:107-128. (Hedges' g.)",
        "Curran PJ, Bauer DJ (2011). The disaggregation of within-person and between-person effects in "
        "longitudinal models of change. Annu Rev Psychol 62:583-619. (Person-mean centring.)",
        "Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using lme4. "
        "J Stat Softw 67(1). (The model formulation hipkit follows.)",
        "Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in linear mixed effects "
        "models. J Stat Softw 82(13). (Satterthwaite degrees of freedom.)",
    ]
    return lines


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


def p_cell(p: float) -> str:
    """A p value for a table cell: ``"<0.001"``, three decimals, or empty when missing.

    Examples
    --------
    >>> p_cell(0.0002), p_cell(0.04567), p_cell(float("nan"))
    ('<0.001', '0.046', '')
    """
    return "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _readable(frame: pd.DataFrame, value: str, columns: tuple[str, str, str], signed: bool) -> pd.DataFrame:
    """Measure, group, week and n, then ``value`` as ``"est (low to high)"`` from three columns."""
    return pd.DataFrame(
        {
            "Measure": frame["measure"].map(short_label),
            "Group": frame["group"],
            "Week": frame["week"].map(lambda w: f"{w:g}"),
            "n": frame["n"],
            value: [with_ci(*v, signed=signed) for v in frame[list(columns)].to_numpy()],
        }
    )


def display_means(means: pd.DataFrame) -> pd.DataFrame:
    """:func:`visit_means` as a compact table for reading: ``Measure, Group, Week, n, Mean (95% CI), SD``.

    Parameters
    ----------
    means : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    out = _readable(means, "Mean (95% CI)", ("mean", "conf_low", "conf_high"), signed=False)
    return out.assign(SD=means["sd"].map(lambda v: "" if pd.isna(v) else _number(v, [v])))


def display_change(change: pd.DataFrame) -> pd.DataFrame:
    """:func:`change_from_baseline` as a compact table: change (95% CI), Hedges' g, p.

    Parameters
    ----------
    change : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
    """
    out = _readable(change, "Change from week 0 (95% CI)", ("mean_change", "conf_low", "conf_high"), signed=True)
    out["Hedges' g"] = change["hedges_g"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    out["p"] = change["p_value"].map(p_cell)
    out["p (Wilcoxon)"] = change["p_wilcoxon"].map(p_cell) if "p_wilcoxon" in change else ""
    return out

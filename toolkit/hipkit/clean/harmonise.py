"""Harmonisation: numbers, units, ids, visits, dates and categories to the canonical form.

Every function is vectorised over the records of one file (or of all files, for the steps that
need every file: group spellings, days from baseline) and writes what it changed to the
:class:`~hipkit.clean.audit.AuditLog` and what it could not use to the
:class:`~hipkit.clean.audit.Quarantine`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from ..registry import Registry, normalise_label
from .audit import AuditLog, Quarantine
from .columns import Mapping, parse_visit_label

__all__ = [
    "fill_participant_level",
    "first_of_cell",
    "parse_numbers",
    "harmonise_file",
    "harmonise_ids",
    "assign_schedule",
    "normalise_free_text",
]

_INLINE_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*([A-Za-z][A-Za-z /%.\-]*?)\.?\s*$")
_AMBIGUOUS = re.compile(r"^\s*[-+]?\d{1,3}(,\d{3})+(\.\d+)?\s*$|^\s*[-+]?\d+,\d+\s*$")
_FORMULA = ("=", "+", "@")
_WS = re.compile(r"\s+")


def parse_numbers(raw: pd.Series, decimal: str, missing_tokens: frozenset[str]):
    """Parse a column of raw cells into floats, telling apart every way a cell can fail.

    Returns
    -------
    values : ndarray of float
        NaN where the cell is missing or unusable.
    status : ndarray of str
        ``ok``, ``missing`` (a missing-value token such as "n/a" or "refused"),
        ``not_a_number``, ``ambiguous_decimal``, ``formula_like``.
    inline_unit : ndarray of object
        The unit written in the cell ("45 lb"), or None.
    token : ndarray of object
        The missing-value token, where status is ``missing``.

    Examples
    --------
    >>> v, st, u, _ = parse_numbers(pd.Series(["12.5", "n/a", "45 lb", "abc"]), ".", frozenset({"n/a"}))
    >>> v.tolist()[0], list(st), list(u)
    (12.5, ['ok', 'missing', 'ok', 'not_a_number'], [None, None, 'lb', None])
    """
    take, values, status, unit, token = parse_distinct(raw, decimal, missing_tokens)
    return values[take], status[take], unit[take], token[take]


def parse_distinct(raw: pd.Series, decimal: str, missing_tokens: frozenset[str]):
    """:func:`parse_numbers` on the distinct cell texts; returns ``take`` and per-distinct arrays.

    Exports repeat the same few cell texts many times, so each distinct text is parsed once;
    ``values[take]`` etc. give the per-cell results.
    """
    n = len(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan).copy()
        status = np.where(np.isnan(values), "missing", "ok").astype(object)
        return (np.arange(n), values, status, np.full(n, None, dtype=object), np.where(np.isnan(values), "", None))
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    u = pd.Series(np.append(np.asarray(uniques, dtype=object), ""), dtype="object")
    values, status, unit, token = _parse_texts(u, decimal, missing_tokens)
    take = np.where(codes < 0, len(uniques), codes)
    return take, values, status, unit, token


def _parse_texts(raw: pd.Series, decimal: str, missing_tokens: frozenset[str]):
    """:func:`parse_numbers` on distinct cell texts (the last one is the empty cell)."""
    n = len(raw)
    text = raw.astype("str").fillna("").str.strip()
    lower = text.str.lower()
    missing = lower.isin(missing_tokens).to_numpy() | raw.isna().to_numpy()
    cand = text if decimal == "." else text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    values = pd.to_numeric(cand.where(~missing, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    status = np.full(n, "ok", dtype=object)
    status[missing] = "missing"
    unit = np.full(n, None, dtype=object)
    failed = np.isnan(values) & ~missing
    if failed.any():
        idx = np.flatnonzero(failed)
        sub = text.iloc[idx]
        ext = sub.str.extract(_INLINE_UNIT)
        has = ext[0].notna().to_numpy()
        if has.any():
            num = ext[0].loc[has]
            num = num.str.replace(",", ".", regex=False) if decimal == "," else num
            parsed = pd.to_numeric(num, errors="coerce").to_numpy(dtype=float)
            ok_idx = idx[has][~np.isnan(parsed)]
            values[ok_idx] = parsed[~np.isnan(parsed)]
            unit[ok_idx] = ext[1].loc[has].to_numpy(dtype=object)[~np.isnan(parsed)]
        still = np.isnan(values[idx])
        bad = idx[still]
        bad_text = text.iloc[bad]
        status[bad] = "not_a_number"
        if decimal == ".":
            status[bad[bad_text.str.match(_AMBIGUOUS).to_numpy()]] = "ambiguous_decimal"
        status[bad[bad_text.str.startswith(_FORMULA).to_numpy()]] = "formula_like"
    token = np.where(missing, lower.to_numpy(dtype=object), None)
    return values, status, unit, token


def _unit_factors(measure, units: pd.Series) -> tuple[np.ndarray, np.ndarray, dict]:
    """Factor per row for a column of unit spellings; NaN where the unit is unknown."""
    codes, uniques = pd.factorize(units.astype("object"), sort=False, use_na_sentinel=False)
    uniques = np.asarray(["" if pd.isna(u) else str(u) for u in uniques], dtype=object)
    table = np.array(
        [measure.factor(str(u)) if measure.factor(str(u)) is not None else np.nan for u in uniques], dtype=float
    )
    factors = table[codes] if len(uniques) else np.ones(len(units))
    labels = np.array([normalise_label(u) or "" for u in uniques], dtype=object)
    return factors, (labels[codes] if len(uniques) else np.full(len(units), "", dtype=object)), dict(enumerate(uniques))


def per_unique(s: pd.Series, func) -> pd.Series:
    """Apply a vectorised text function to the distinct values of ``s`` only, then spread back."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(np.append(np.asarray(uniques, dtype=object), ""), dtype="object").astype("str")
    out = np.asarray(func(u), dtype=object)
    return pd.Series(out[np.where(codes < 0, len(uniques), codes)], index=s.index, dtype="object")


def first_of_cell(rec: pd.DataFrame, name: str | None, headers: dict | None) -> np.ndarray:
    """True for the first record of each raw cell (wide files repeat a cell on each side's record).

    Counts in the log are per cell of the input; with ``name`` None, per line.
    """
    if "__slice" not in rec.columns or not headers or len(headers) <= 1:
        return np.ones(len(rec), dtype=bool)
    if name is None:
        return ~rec.duplicated(["source_line"]).to_numpy()
    col = pd.Series(rec["__slice"].map(lambda s: headers.get(int(s), {}).get(name, "")), index=rec.index)
    return ~pd.DataFrame({"l": rec["source_line"], "c": col}).duplicated().to_numpy()


def _measure_column(
    rec: pd.DataFrame,
    name: str,
    registry: Registry,
    decimal: str,
    q: Quarantine,
    log: AuditLog,
    once: np.ndarray,
) -> np.ndarray:
    m = registry[name]
    raw = rec[name]
    take, values_u, status_u, unit_u, token_u = parse_distinct(raw, decimal, registry.missing_tokens)
    values = values_u[take]

    def where(flags_u: np.ndarray) -> np.ndarray:
        return flags_u.astype(bool)[take]

    missing = where(status_u == "missing") & once
    per_distinct = np.bincount(take[missing], minlength=len(values_u))
    for i in np.flatnonzero(per_distinct):
        if token_u[i]:
            log.count("missing_tokens", f"{name}: {token_u[i]!r}", int(per_distinct[i]))
    log.count("missing_values", name, int(missing.sum()))
    messages = {
        "not_a_number": (R.NOT_A_NUMBER, f"{name}: not a number; value set to missing"),
        "ambiguous_decimal": (
            R.AMBIGUOUS_DECIMAL,
            f"{name}: comma in a file whose decimal mark is '.'; cannot tell 1,5 from 15 thousand",
        ),
        "formula_like": (R.FORMULA_LIKE, f"{name}: formula-like text, not a number"),
    }
    for st, (reason, msg) in messages.items():
        if (status_u == st).any():
            q.add(rec, where(status_u == st), name, raw, reason, "value_set_missing", msg)
    # Units: the cell's own unit wins over the column's (header or unit column).
    unit_col = rec.get(f"{name}__unit")
    in_cell_u = unit_u != None  # noqa: E711
    if unit_col is not None and not in_cell_u.any():
        units = unit_col.astype("object")
        inline_unit = None
    else:
        inline_unit = unit_u[take]
        units = pd.Series(inline_unit, index=rec.index, dtype="object")
        if unit_col is not None:
            units = units.where(units.notna(), unit_col.astype("object"))
    factors, labels, _ = _unit_factors(m, units)
    has_value = ~np.isnan(values)
    if inline_unit is not None:
        in_cell = has_value & where(in_cell_u) & once
        for u, cnt in pd.Series(inline_unit[in_cell]).map(normalise_label).value_counts().items():
            log.count("units_in_cells", f"{name}: unit {u!r} written in the cell (overrides the column's)", cnt)
    unknown = has_value & np.isnan(factors)
    n = 0
    if unknown.any():
        shown = raw[unknown].astype("str") + " [unit: " + units[unknown].astype("str") + "]"
        n = q.add(
            rec,
            unknown,
            name,
            shown.reindex(rec.index),
            R.UNKNOWN_UNIT,
            "value_set_missing",
            f"{name}: unit not known (known: {', '.join(sorted(k for k in m.units if k))})",
        )
    log.count("values_quarantined", f"{name}: unknown_unit", n)
    values = np.where(unknown, np.nan, values * np.where(np.isnan(factors), 1.0, factors))
    # Record each conversion actually applied, with its count.
    conv = has_value & ~unknown & once
    if conv.any():
        lab = pd.Series(labels[conv]).value_counts()
        for spelling, cnt in lab.items():
            factor = m.factor(spelling)
            if spelling == "":
                log.count("units_assumed", f"{name}: no unit stated, read as {m.unit}", cnt)
            elif factor != 1.0:
                log.count("unit_conversions", f"{name}: {spelling} -> {m.unit} (x{factor:g})", cnt)
    return values


def harmonise_ids(
    rec: pd.DataFrame,
    q: Quarantine,
    log: AuditLog,
    once: np.ndarray | None = None,
    missing_tokens: frozenset[str] = frozenset(),
) -> np.ndarray:
    """Trim, upper-case and remove inner spaces of participant ids; mark empty ids for removal."""
    raw = rec["participant_id"].astype("str").fillna("")
    clean = per_unique(raw, lambda u: u.str.replace(_WS, "", regex=True).str.upper())
    once = np.ones(len(rec), dtype=bool) if once is None else once
    log.count("ids", "normalised (spaces or case changed)", int(((clean != raw).to_numpy() & once).sum()))
    empty = (clean == "").to_numpy() | rec["participant_id"].isna().to_numpy()
    empty |= per_unique(raw, lambda u: u.str.strip().str.lower().isin(missing_tokens)).to_numpy(dtype=bool)
    rec["participant_id"] = clean.where(~empty, None)
    q.add(rec, empty, "participant_id", raw, R.MISSING_ID, "row_removed", "no participant id")
    return empty


def _visits(
    rec: pd.DataFrame,
    registry: Registry,
    mapping: Mapping,
    q: Quarantine,
    log: AuditLog,
    source: str,
    header_is_week: bool,
) -> np.ndarray:
    """Fill ``visit_week`` from the header tag or the visit column; return rows to remove."""
    n = len(rec)
    week = np.full(n, np.nan)
    drop = np.zeros(n, dtype=bool)
    if "visit_week_header" in rec.columns:
        week = rec["visit_week_header"].to_numpy(dtype=float, na_value=np.nan)
    if "visit" in rec.columns:
        raw = rec["visit"].astype("str").fillna("").str.strip()
        codes, uniques = pd.factorize(raw)
        parsed = []
        for u in uniques:
            w = parse_visit_label(u, registry, mapping)
            if w is None and header_is_week:
                try:
                    w = float(u.replace(",", "."))
                except ValueError:
                    w = None
            parsed.append(np.nan if w is None else w)
        from_col = np.asarray(parsed, dtype=float)[codes] if len(uniques) else np.full(n, np.nan)
        blank = (raw == "").to_numpy()
        bad = np.isnan(from_col) & ~blank
        labels = sorted({u for u, p in zip(uniques, parsed) if np.isnan(p) and u})
        if labels and bad.mean() > 0.5:
            from ..errors import UnmappableFileError

            raise UnmappableFileError(
                f"{source}: visit labels {labels[:5]} cannot be read as weeks without guessing; "
                "say what they mean in a --map file (visits: {'Visit 2': 2, ...})"
            )
        for lab in labels:
            log.count("visits", f"unrecognised label {lab!r}", int((raw == lab).sum()))
        q.add(
            rec,
            bad,
            "visit",
            raw,
            R.UNRECOGNISED_VISIT,
            "row_removed",
            "visit label not recognised; name it in the mapping file's visits: section",
        )
        drop |= bad
        week = np.where(np.isnan(week), from_col, week)
        for lab, cnt in raw[~bad & ~blank].value_counts().items():
            log.count("visit_labels", f"{lab!r} -> week {from_col[(raw == lab).to_numpy()][0]:g}", cnt)
    rec["visit_week"] = week
    return drop


def _dates(rec: pd.DataFrame, mapping: Mapping, q: Quarantine, log: AuditLog) -> None:
    if "visit_date" not in rec.columns:
        return
    raw = rec["visit_date"].astype("str").fillna("").str.strip()
    codes, uniques = pd.factorize(raw)
    u = pd.Series(uniques, dtype="object")
    fmt = mapping.date_format
    if fmt:
        parsed = pd.to_datetime(u, format=fmt, errors="coerce")
    else:
        full_iso = u.str.match(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[ T][0-9:.]*)?\s*$")
        parsed = pd.to_datetime(u.where(full_iso, None), format="ISO8601", errors="coerce")
        rest = parsed.isna() & (u != "")
        if rest.any():
            parts = u[rest].str.extract(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})$").astype(float)
            day_first = bool((parts[0] > 12).any())
            month_first = bool((parts[1] > 12).any())
            if parts[0].isna().all():
                pass  # no d/m/y dates: whatever failed is simply unreadable (bad_date below)
            elif day_first != month_first:
                f = "%d/%m/%Y" if day_first else "%m/%d/%Y"
                norm = u[rest].str.replace(r"[.\-]", "/", regex=True)
                parsed.loc[rest] = pd.to_datetime(norm, format=f, errors="coerce")
                log.step("dates", column="visit_date", read_as=f, count=int(rest.sum()))
            else:
                log.warn(
                    "visit dates with '/' are ambiguous (day/month order unknown); set date_format in a --map file"
                )
    dates = parsed.to_numpy()[codes] if len(uniques) else np.array([], dtype="datetime64[ns]")
    dates = pd.to_datetime(pd.Series(dates, index=rec.index))
    bad = dates.isna().to_numpy() & (raw != "").to_numpy() & ~raw.str.lower().isin({"na", "n/a", "-"}).to_numpy()
    q.add(
        rec,
        bad,
        "visit_date",
        raw,
        R.BAD_DATE,
        "value_set_missing",
        "visit date not readable (or ambiguous day/month order); set date_format in a --map file",
    )
    log.count("values_quarantined", "visit_date: bad_date", int(bad.sum()))
    rec["visit_date"] = dates.dt.normalize()


def _categories(
    rec: pd.DataFrame, registry: Registry, mapping: Mapping, q: Quarantine, log: AuditLog, once: np.ndarray
) -> np.ndarray:
    drop = np.zeros(len(rec), dtype=bool)
    for col, vocab in (("sex", "sex"), ("side", "side"), ("affected_side", "side")):
        if col not in rec.columns:
            continue
        s = rec[col]
        if col == "side" and "limb" in rec.columns and s.dtype == object and s.isna().all():
            continue
        raw = per_unique(s.astype("str").fillna(""), lambda u: u.str.strip())
        lower = per_unique(raw, lambda u: u.str.lower())
        user = mapping.values.get(col, {})
        codes, uniques = pd.factorize(lower)
        out, limbs = [], []
        for u in uniques:
            v = user.get(u, u)
            canon = registry.category(vocab, v)
            limb = registry.category("limb", v) if col == "side" else None
            out.append(canon)
            limbs.append(limb)
        canon = np.asarray(out, dtype=object)[codes] if len(uniques) else np.array([], dtype=object)
        limb = np.asarray(limbs, dtype=object)[codes] if len(uniques) else np.array([], dtype=object)
        blank = per_unique(lower, lambda u: u.isin(registry.missing_tokens)).to_numpy(dtype=bool)
        is_limb = (limb != None) & (canon == None)  # noqa: E711
        bad = (canon == None) & ~blank & ~is_limb  # noqa: E711
        if col == "side":
            if is_limb.any():
                lb = (
                    rec["limb"].astype("object")
                    if "limb" in rec.columns
                    else pd.Series([None] * len(rec), index=rec.index, dtype="object")
                )
                rec["limb"] = lb.where(~is_limb, pd.Series(limb, index=rec.index))
            q.add(
                rec,
                bad,
                col,
                raw,
                R.UNKNOWN_CATEGORY,
                "row_removed",
                "side not recognised (left/right, or injured/uninjured); map it in the values: section",
            )
            drop |= bad
        else:
            q.add(
                rec,
                bad,
                col,
                raw,
                R.UNKNOWN_CATEGORY,
                "value_set_missing",
                f"{col} value not recognised; map it in the mapping file's values: section",
            )
        changed = (canon != None) & (canon != raw.to_numpy(dtype=object))  # noqa: E711
        log.count("categories", f"{col} normalised", int((changed & once).sum()))
        rec[col] = pd.Series(np.where(canon == None, None, canon), index=rec.index, dtype="object")  # noqa: E711
    for col in ("group", "site", "discharge_reason"):
        if col in rec.columns:
            user = mapping.values.get(col, {})
            s = per_unique(
                rec[col].astype("str").fillna(""),
                lambda u, table=user: (
                    u.str.strip().str.replace(_WS, " ", regex=True).map(lambda v: table.get(v.lower(), v))
                ),
            )
            blank = per_unique(s, lambda u: u.str.lower().isin(registry.missing_tokens)).astype(bool)
            formula = per_unique(s, lambda u: u.str.startswith(_FORMULA)).to_numpy(dtype=bool) & ~blank.to_numpy()
            q.add(
                rec,
                formula,
                col,
                rec[col],
                R.FORMULA_LIKE,
                "value_set_missing",
                f"{col}: formula-like text (starts with =, + or @); value set to missing",
            )
            rec[col] = s.where(~blank & ~formula, None).astype("object")
    if "repeat_instrument" in rec.columns:
        rep = rec["repeat_instrument"].astype("str").fillna("").str.strip() != ""
        q.add(
            rec,
            rep.to_numpy(),
            "redcap_repeat_instrument",
            rec["repeat_instrument"],
            R.REPEATED_INSTRUMENT,
            "row_removed",
            "REDCap repeating-instrument rows are not supported yet; export the repeating "
            "instrument separately, one row per visit",
        )
        drop |= rep.to_numpy()
    return drop


def harmonise_file(
    rec: pd.DataFrame,
    registry: Registry,
    mapping: Mapping,
    decimal: str,
    q: Quarantine,
    log: AuditLog,
    source: str,
    visit_is_week: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Harmonise the records of one file; return them and the mask of rows to remove.

    ``visit_is_week`` says that the visit column's header names weeks ("Week", "wk"), so bare
    numbers in it are weeks; under any other header bare numbers are ambiguous.
    """
    headers = q.headers.get(source)
    line_once = first_of_cell(rec, None, headers)
    drop = harmonise_ids(rec, q, log, line_once, registry.missing_tokens)
    drop |= _visits(rec, registry, mapping, q, log, source, visit_is_week)
    _dates(rec, mapping, q, log)
    drop |= _categories(rec, registry, mapping, q, log, line_once)
    raw_values = {}
    for name in [c for c in rec.columns if c in registry]:
        raw_values[name] = rec[name]
        once = first_of_cell(rec, name, headers)
        rec[name] = _measure_column(rec, name, registry, decimal, q, log, once)
    for name, raw in raw_values.items():
        rec[f"{name}__raw"] = raw
    if "__no_values" in rec.columns:
        lonely = rec["__no_values"].fillna(False).to_numpy(dtype=bool)
        q.add(
            rec, lonely & ~drop, "", "", R.NO_MEASUREMENTS, "row_removed", "the line holds no measurement at any visit"
        )
        drop |= lonely
    return rec, drop


def normalise_free_text(data: pd.DataFrame, log: AuditLog) -> None:
    """Give each free-text category (group, site) one spelling: the most frequent case variant."""
    for col in ("group", "site"):
        if col not in data.columns:
            continue
        s = data[col]
        if s.isna().all():
            continue
        codes, uniques = pd.factorize(s.astype("object"))
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        table = pd.DataFrame({"spelling": np.asarray(uniques, dtype=object), "n": counts})
        table["key"] = table["spelling"].astype("str").str.lower()
        best = table.sort_values(["key", "n", "spelling"], ascending=[True, False, True]).drop_duplicates("key")
        best = best.set_index("key")["spelling"]
        chosen = table["key"].map(best).to_numpy(dtype=object)
        changed = chosen != table["spelling"].to_numpy(dtype=object)
        log.count("categories", f"{col}: spelling unified", int(counts[changed].sum()))
        out = np.append(chosen, None)[np.where(codes < 0, len(uniques), codes)]
        data[col] = pd.Series(out, index=data.index, dtype="object")


def assign_schedule(data: pd.DataFrame, schedule: list[float], window_days: float, log: AuditLog) -> None:
    """Compute ``days_from_baseline`` and flag visits off the schedule or outside the window.

    Baseline is the participant's week-0 visit date, else the earliest date. Visits known only by
    date get the nearest scheduled week. Visits outside ``window_days`` of their scheduled day, or
    at a week not in the schedule, are flagged ``out_of_window`` and kept.
    """
    n = len(data)
    sched = np.asarray(sorted(schedule), dtype=float)
    week = data["visit_week"].to_numpy(dtype=float).copy()
    days = np.full(n, np.nan)
    if "visit_date" in data.columns and data["visit_date"].notna().any():
        d = data["visit_date"]
        pid = data["participant_id"]
        base0 = d.where(data["visit_week"] == 0).groupby(pid).transform("min")
        first = d.groupby(pid).transform("min")
        base = base0.fillna(first)
        days = (d - base).dt.days.to_numpy(dtype=float, na_value=np.nan)
        by_date = np.isnan(week) & ~np.isnan(days)
        if by_date.any():
            nearest = sched[np.abs(days[by_date, None] / 7.0 - sched[None, :]).argmin(axis=1)]
            week[by_date] = nearest
            log.count("visits", "week assigned from visit date", int(by_date.sum()))
    off_schedule = ~np.isnan(week) & ~np.isin(week, sched)
    outside = ~np.isnan(days) & (np.abs(days - 7.0 * week) > window_days)
    log.count("visits", "off schedule (week not in schedule)", int(off_schedule.sum()))
    log.count("visits", f"outside the +/-{window_days:g}-day window", int((outside & ~off_schedule).sum()))
    data["visit_week"] = week
    data["days_from_baseline"] = days
    data["out_of_window"] = off_schedule | outside


#: Participant-level columns: one value per participant, carried to visits where it is missing.
PARTICIPANT_LEVEL = ("group", "site", "sex", "age_years", "height_cm", "affected_side")


def fill_participant_level(data: pd.DataFrame, log: AuditLog) -> None:
    """Carry each participant-level value (group, sex, age, ...) to the participant's other rows.

    Only a participant's single consistent value is carried; a participant recorded with two
    different values keeps them as they are and is named in a warning.
    """
    codes, ids = pd.factorize(data["participant_id"])  # integer groups: fast group-bys
    for col in PARTICIPANT_LEVEL:
        if col not in data.columns or data[col].isna().all():
            continue
        vcodes, _ = pd.factorize(data[col])  # -1 where missing
        frame = pd.DataFrame({"g": codes, "v": vcodes})
        present = frame[frame["v"] >= 0]
        nun = present.groupby("g")["v"].nunique()
        inconsistent = ids[nun.index[nun.to_numpy() > 1]]
        if len(inconsistent):
            shown = ", ".join(map(str, inconsistent[:5])) + (" ..." if len(inconsistent) > 5 else "")
            log.warn(f"{len(inconsistent)} participants have more than one {col} ({shown}); not carried")
        need = (vcodes < 0) & (codes >= 0)
        if not need.any():
            continue
        first_row = present.drop_duplicates("g")
        single = pd.Series(first_row.index.to_numpy(), index=first_row["g"].to_numpy())
        single = single[nun.reindex(single.index).to_numpy() == 1]
        src = pd.Series(codes[need]).map(single).to_numpy()  # row holding the participant's value
        ok = ~pd.isna(src)
        if ok.any():
            rows = data.index[np.flatnonzero(need)[ok]]
            data.loc[rows, col] = data[col].to_numpy()[src[ok].astype(np.int64)]
            log.count("participant_level", f"{col} carried to other visits of the participant", int(ok.sum()))

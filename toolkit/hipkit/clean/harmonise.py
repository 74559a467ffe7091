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
from ..io.ids import CONTROL_CHARS as _CONTROL
from ..io.ids import INVISIBLE_CHARS as _FORMAT_CHARS
from ..io.ids import folded_spellings, normalise_ids, numeric_collisions
from ..registry import Registry, normalise_label
from .audit import AuditLog, Quarantine, participant_ids
from .columns import Mapping, parse_visit_label

__all__ = [
    "normalise_ids",
    "visit_label_text",
    "date_order",
    "numeric_collisions",
    "column_decimal",
    "fill_participant_level",
    "first_of_cell",
    "parse_numbers",
    "harmonise_file",
    "harmonise_ids",
    "assign_schedule",
    "normalise_free_text",
    "choose_spellings",
    "free_text_values",
    "spelling_counts",
]

_INLINE_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)*)\s*([A-Za-z][A-Za-z /%.\-]*?)\.?\s*$")
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
    ``values[take]`` etc. give the per-cell results. ``decimal`` is the file's mark; each column is
    read by its own (:func:`column_decimal`), so a column that mixes ``7.2`` and ``7,5`` reads both.
    """
    n = len(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float, na_value=np.nan).copy()
        status = np.where(np.isnan(values), "missing", "ok").astype(object)
        return (np.arange(n), values, status, np.full(n, None, dtype=object), np.where(np.isnan(values), "", None))
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    u = pd.Series(np.append(np.asarray(uniques, dtype=object), ""), dtype="object")
    values, status, unit, token = _parse_texts(u, column_decimal(u, decimal), missing_tokens)
    take = np.where(codes < 0, len(uniques), codes)
    return take, values, status, unit, token


# Numbers as written in exports. A separator followed by 1-2 or 4+ digits can only be a decimal
# mark (thousands groups have exactly 3 digits), whichever mark the file mostly uses; only a single
# separator followed by exactly 3 digits ("1,500", "1.500") can be either, and is read by the
# column's own decimal mark (else the file's) when there is one, else quarantined as ambiguous.
_NUM_INT = re.compile(r"^[-+]?\d+$")
_NUM_DEC = re.compile(r"^([-+]?\d*)([.,])(\d{1,2}|\d{4,})$")
_NUM_THREE = re.compile(r"^([-+]?)(\d+)([.,])(\d{3})$")
_NUM_GROUPED = re.compile(r"^([-+]?\d{1,3}([.,])\d{3}(?:\2\d{3})*)(?:([.,])(\d+))?$")
_NUM_SCI = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def column_decimal(texts: pd.Series, default: str) -> str:
    """The decimal mark of one column from its unambiguous cells: ``"."``, ``","`` or ``"mixed"``.

    A column with no unambiguous cell takes the file's mark (``default``; ``""`` when the file shows
    none either).

    Examples
    --------
    >>> column_decimal(pd.Series(["7.2", "7,5", "8"]), "."), column_decimal(pd.Series(["1,500"]), ".")
    ('mixed', '.')
    """
    m = texts.astype("str").str.strip().str.extract(_NUM_DEC)[1]
    marks = {x for x in m.dropna().unique() if isinstance(x, str)}
    if marks == {".", ","}:
        return "mixed"
    return marks.pop() if marks else default


def _number(text: str, decimal: str) -> tuple[float, str]:
    """One cell's number and status (``ok``, ``ambiguous_decimal``, ``not_a_number``) under a column mark.

    ``1,500`` is 1.5 in a column (or file) whose decimal mark is the comma; anywhere else (a point
    column, where no mark is known, or both are in use) it is ambiguous and never guessed. Several
    groups (``1,234,567``) or both marks (``1,017.5``) leave no doubt.
    """
    if _NUM_INT.match(text):
        return float(text), "ok"
    m = _NUM_DEC.match(text)
    if m:
        return float(f"{m.group(1) or '0'}.{m.group(3)}"), "ok"
    m = _NUM_THREE.match(text)
    if m:
        sign, whole, sep, frac = m.groups()
        if len(whole) > 3 or sep == decimal:
            return float(f"{sign}{whole}.{frac}"), "ok"  # four digits before: no thousands group
        # The other mark, or no mark known: 1,500 in a point-decimal column is more often 1500 than
        # 1.5, but not always; it is quarantined, never guessed.
        return np.nan, "ambiguous_decimal"
    m = _NUM_GROUPED.match(text)
    if m:
        group, dec = m.group(2), m.group(3)
        if dec is None:
            return float(m.group(1).replace(group, "")), "ok"  # two or more groups of three: thousands
        if dec != group:
            return float(m.group(1).replace(group, "") + "." + m.group(4)), "ok"
        return np.nan, "not_a_number"
    if _NUM_SCI.match(text):
        return float(text), "ok"
    return np.nan, "not_a_number"


def _parse_texts(raw: pd.Series, decimal: str, missing_tokens: frozenset[str]):
    """:func:`parse_numbers` on distinct cell texts (the last one is the empty cell).

    ``decimal`` is the column's mark (see :func:`column_decimal`): ``"."``, ``","`` or ``"mixed"``.
    """
    n = len(raw)
    text = raw.astype("str").fillna("").str.strip()
    lower = text.str.lower()
    missing = lower.isin(missing_tokens).to_numpy() | raw.isna().to_numpy()
    values = np.full(n, np.nan)
    status = np.full(n, "ok", dtype=object)
    status[missing] = "missing"
    unit = np.full(n, None, dtype=object)
    texts = text.to_numpy(dtype=object)
    for i in np.flatnonzero(~missing):
        values[i], status[i] = _number(texts[i], decimal)
    failed = np.flatnonzero(status == "not_a_number")
    if len(failed):
        sub = text.iloc[failed]
        ext = sub.str.extract(_INLINE_UNIT)
        for j, (num, u) in zip(failed, ext.itertuples(index=False)):
            if isinstance(num, str):
                v, st = _number(num.strip(), decimal)
                if st == "ok":
                    values[j], status[j], unit[j] = v, "ok", u
                elif st == "ambiguous_decimal":
                    status[j] = st
        still = failed[status[failed] == "not_a_number"]
        formula = text.iloc[still].str.startswith(_FORMULA).to_numpy()
        status[still[formula]] = "formula_like"
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
    if not pd.api.types.is_numeric_dtype(raw) and column_decimal(raw.drop_duplicates(), decimal) == "mixed":
        log.warn(
            f"{name}: the column mixes decimal commas and points; each value was read by its own mark "
            "(1,5 and 1.5 both as 1.5); values such as 1,500 that could be either are quarantined"
        )

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
            f"{name}: cannot tell whether the separator is a decimal mark or a thousands separator "
            "(1,500: 1.5 or 1500?); write the value without a thousands separator",
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
    """Normalise participant ids (:func:`normalise_ids`); mark empty ids for removal."""
    raw = rec["participant_id"]
    raw_text = raw.astype("object").where(raw.notna(), "").astype("str")
    clean = normalise_ids(raw)
    once = np.ones(len(rec), dtype=bool) if once is None else once
    log.count("ids", "normalised (spaces or case changed)", int(((clean != raw_text).to_numpy() & once).sum()))
    empty = (clean == "").to_numpy() | raw.isna().to_numpy()
    empty |= per_unique(raw_text, lambda u: u.str.strip().str.lower().isin(missing_tokens)).to_numpy(dtype=bool)
    rec["participant_id"] = clean.where(~empty, None)
    q.add(rec, empty, "participant_id", raw_text, R.MISSING_ID, "row_removed", "no participant id")
    folded = folded_spellings(raw[~empty & once], clean[~empty & once])
    if folded:
        shown = participant_ids(list(folded)[:3], limit=3)
        log.warn(
            f"{len(folded)} participant id(s) are written in more than one way that differ only in case, spaces "
            f"or invisible characters (e.g. {shown}); each is read as one participant: if they are different "
            "people, give them different ids"
        )
    return empty


def visit_label_text(values: pd.Series) -> pd.Series:
    """Visit labels as compared and counted (text, trimmed); shared with the out-of-core splitter."""
    return values.astype("object").where(values.notna(), "").astype("str").str.strip()


def _visits(
    rec: pd.DataFrame,
    registry: Registry,
    mapping: Mapping,
    q: Quarantine,
    log: AuditLog,
    source: str,
    header_is_week: bool,
    file_labels: dict | None = None,
) -> np.ndarray:
    """Fill ``visit_week`` from the header tag or the visit column; return rows to remove.

    ``file_labels`` (label -> number of records in the whole file) is given when ``rec`` is a part
    of a file: whether the file's labels are readable at all is decided over the whole file.
    """
    n = len(rec)
    week = np.full(n, np.nan)
    drop = np.zeros(n, dtype=bool)
    if "visit_week_header" in rec.columns:
        week = rec["visit_week_header"].to_numpy(dtype=float, na_value=np.nan)
    if "visit" in rec.columns:
        raw = visit_label_text(rec["visit"])
        counts = file_labels if file_labels is not None else raw.value_counts().to_dict()

        def read(u: str) -> float:
            w = parse_visit_label(u, registry, mapping)
            if w is None and header_is_week:
                try:
                    w = float(u.replace(",", "."))
                except ValueError:
                    w = None
            return np.nan if w is None else w

        weeks = {u: read(u) for u in counts}
        unreadable = sorted(u for u, w in weeks.items() if np.isnan(w) and u)
        total = sum(counts.values())
        if unreadable and total and sum(counts[u] for u in unreadable) / total > 0.5:
            from ..errors import UnmappableFileError

            raise UnmappableFileError(
                f"{source}: visit labels {unreadable[:5]} cannot be read as weeks without guessing; "
                "say what they mean in a --map file (visits: {'Visit 2': 2, ...})"
            )
        codes, uniques = pd.factorize(raw)
        parsed = np.asarray([weeks[u] if u in weeks else read(u) for u in uniques], dtype=float)
        from_col = parsed[codes] if len(uniques) else np.full(n, np.nan)
        blank = (raw == "").to_numpy()
        bad = np.isnan(from_col) & ~blank
        for lab in sorted({u for u, p in zip(uniques, parsed) if np.isnan(p) and u}):
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


_ISO_DATE = r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[ T][0-9:.]*)?\s*$"
_DMY = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})$"


def date_order(texts: pd.Series) -> str | None:
    """The day/month order of a file's d/m/y dates: a format, ``"ambiguous"``, or None (none such).

    Decided over every distinct date text of the file (a day above 12 in one place settles it).

    Examples
    --------
    >>> date_order(pd.Series(["13/02/2024", "03/04/2024"])), date_order(pd.Series(["03/04/2024"]))
    ('%d/%m/%Y', 'ambiguous')
    """
    u = pd.Series(pd.unique(texts.astype("str")), dtype="object")
    u = u[~u.str.match(_ISO_DATE) & (u != "")]
    parts = u.str.extract(_DMY).astype(float)
    if not len(parts) or parts[0].isna().all():
        return None
    day_first = bool((parts[0] > 12).any())
    month_first = bool((parts[1] > 12).any())
    if day_first != month_first:
        return "%d/%m/%Y" if day_first else "%m/%d/%Y"
    return "ambiguous"


#: Visit dates outside this range are quarantined as implausible.
VISIT_DATE_RANGE = (pd.Timestamp("1950-01-01"), pd.Timestamp("2100-12-31"))


def _dates(
    rec: pd.DataFrame,
    mapping: Mapping,
    q: Quarantine,
    log: AuditLog,
    missing_tokens: frozenset[str] = frozenset(),
    file_dates: list | None = None,
) -> None:
    """Parse visit dates; ``file_dates`` (every distinct date text of the file) settles the d/m order."""
    if "visit_date" not in rec.columns:
        return
    raw = rec["visit_date"].astype("object").where(rec["visit_date"].notna(), "").astype("str").str.strip()
    codes, uniques = pd.factorize(raw)
    u = pd.Series(uniques, dtype="object")
    fmt = mapping.date_format
    if fmt:
        parsed = pd.to_datetime(u, format=fmt, errors="coerce")
    else:
        full_iso = u.str.match(_ISO_DATE)
        parsed = pd.to_datetime(u.where(full_iso, None), format="ISO8601", errors="coerce")
        rest = parsed.isna() & (u != "")
        order = date_order(pd.Series(file_dates, dtype="object") if file_dates is not None else u)
        if rest.any() and order not in (None, "ambiguous"):
            norm = u[rest].str.replace(r"[.\-]", "/", regex=True)
            parsed.loc[rest] = pd.to_datetime(norm, format=order, errors="coerce")
            log.step("dates", column="visit_date", read_as=order, count=int(rest.sum()))
        elif rest.any() and order == "ambiguous":
            log.warn("visit dates with '/' are ambiguous (day/month order unknown); set date_format in a --map file")
    # A visit date outside the years visits can have been recorded in is a typo or a placeholder
    # (0001-01-01, 9999-12-31), not a date: quarantined, never carried into days from baseline.
    parsed = pd.to_datetime(parsed, errors="coerce")
    implausible = parsed.notna() & ((parsed < VISIT_DATE_RANGE[0]) | (parsed > VISIT_DATE_RANGE[1]))
    parsed = parsed.where(~implausible, pd.NaT)
    dates = parsed.to_numpy()[codes] if len(uniques) else np.array([], dtype="datetime64[ns]")
    dates = pd.to_datetime(pd.Series(dates, index=rec.index))
    blank = (raw == "").to_numpy() | raw.str.lower().isin(missing_tokens).to_numpy()
    out_of_range = implausible.to_numpy()[codes] if len(uniques) else np.zeros(0, dtype=bool)
    bad = dates.isna().to_numpy() & ~blank & ~out_of_range
    q.add(
        rec,
        bad,
        "visit_date",
        raw,
        R.BAD_DATE,
        "value_set_missing",
        "visit date not readable (or ambiguous day/month order); set date_format in a --map file",
    )
    q.add(
        rec,
        out_of_range & ~blank,
        "visit_date",
        raw,
        R.BAD_DATE,
        "value_set_missing",
        f"visit date outside {VISIT_DATE_RANGE[0].year}-{VISIT_DATE_RANGE[1].year} (a typo or a placeholder); "
        "value set to missing",
        check="date_in_range",
    )
    log.count("values_quarantined", "visit_date: bad_date", int(bad.sum() + (out_of_range & ~blank).sum()))
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
            s, blank, formula = _free_text(rec[col], col, mapping, registry)
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


def _free_text(values: pd.Series, col: str, mapping: Mapping, registry: Registry):
    """Trimmed, single-spaced text with the mapping's values applied; masks of blank and formula-like cells."""
    user = mapping.values.get(col, {})

    def tidy(u: pd.Series, table=user) -> pd.Series:
        # One spelling per label: compatibility forms folded, invisible and control characters
        # removed (a zero-width space must not make a second group, an escape sequence must not
        # reach a terminal), white space collapsed.
        import unicodedata

        u = u.map(lambda t: unicodedata.normalize("NFKC", t))
        u = u.str.replace(_FORMAT_CHARS, "", regex=True).str.replace(_CONTROL, " ", regex=True)
        return u.str.strip().str.replace(_WS, " ", regex=True).map(lambda v: table.get(v.lower(), v))

    s = per_unique(values.astype("object").where(values.notna(), "").astype("str"), tidy)
    blank = per_unique(s, lambda u: u.str.lower().isin(registry.missing_tokens)).to_numpy(dtype=bool)
    formula = per_unique(s, lambda u: u.str.startswith(_FORMULA)).to_numpy(dtype=bool) & ~blank
    return s, blank, formula


def free_text_values(values: pd.Series, col: str, mapping: Mapping, registry: Registry) -> pd.Series:
    """A free-text column (group, site, reason) as the cleaner keeps it: None where blank or formula-like.

    Shared by :func:`harmonise_file` and the out-of-core splitter, which counts spellings with it.
    """
    s, blank, formula = _free_text(values, col, mapping, registry)
    return s.where(~blank & ~formula, None).astype("object")


def harmonise_file(
    rec: pd.DataFrame,
    registry: Registry,
    mapping: Mapping,
    decimal: str,
    q: Quarantine,
    log: AuditLog,
    source: str,
    visit_is_week: bool = False,
    context: dict | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Harmonise the records of one file; return them and the mask of rows to remove.

    ``visit_is_week`` says that the visit column's header names weeks ("Week", "wk"), so bare
    numbers in it are weeks; under any other header bare numbers are ambiguous. ``context`` holds
    the file-wide values that decisions rest on when the records are only a part of the file (out of
    core): ``visit`` (label -> number of records) and ``visit_date`` (the distinct date texts).
    """
    headers = q.headers.get(source)
    line_once = first_of_cell(rec, None, headers)
    drop = harmonise_ids(rec, q, log, line_once, registry.missing_tokens)
    context = context or {}
    drop |= _visits(rec, registry, mapping, q, log, source, visit_is_week, context.get("visit"))
    _dates(rec, mapping, q, log, registry.missing_tokens, context.get("visit_date"))
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


FREE_TEXT = ("group", "site")


def choose_spellings(counts: dict) -> dict:
    """One spelling per free-text category: the most frequent case variant (ties: the first in order).

    Parameters
    ----------
    counts : dict
        Column (``group``, ``site``) -> {spelling: number of input lines}.

    Returns
    -------
    dict
        Column -> {lower-cased spelling: chosen spelling}.

    Examples
    --------
    >>> choose_spellings({"group": {"HIP": 3, "Hip": 1, "knee": 2}})
    {'group': {'hip': 'HIP', 'knee': 'knee'}}
    """
    out = {}
    for col, table in counts.items():
        best: dict = {}
        for spelling, _n in sorted(table.items(), key=lambda kv: (str(kv[0]).lower(), -kv[1], str(kv[0]))):
            best.setdefault(str(spelling).lower(), spelling)
        out[col] = best
    return out


def spelling_counts(data: pd.DataFrame) -> dict:
    """Column -> {spelling: number of distinct input lines holding it}, for :func:`choose_spellings`."""
    out = {}
    for col in FREE_TEXT:
        if col in data.columns and data[col].notna().any():
            part = data.loc[data[col].notna(), [col, "source_file", "source_line"]].drop_duplicates()
            out[col] = part[col].value_counts().to_dict()
    return out


def normalise_free_text(data: pd.DataFrame, log: AuditLog, spellings: dict | None = None) -> None:
    """Give each free-text category (group, site) one spelling: the most frequent case variant.

    Frequency counts input lines (a wide line is one participant, whatever its number of visits).
    ``spellings`` (from :func:`choose_spellings` over a whole export) is given when ``data`` is a part
    of it, so that every part spells a category alike.
    """
    spellings = spellings if spellings is not None else choose_spellings(spelling_counts(data))
    for col in FREE_TEXT:
        if col not in data.columns or data[col].isna().all():
            continue
        table = spellings.get(col, {})
        codes, uniques = pd.factorize(data[col].astype("object"))
        chosen = np.asarray([table.get(str(u).lower(), u) for u in uniques], dtype=object)
        changed = chosen != np.asarray(uniques, dtype=object)
        n_changed = int(np.isin(codes, np.flatnonzero(changed)).sum())
        log.count("categories", f"{col}: spelling unified", n_changed)
        out = np.append(chosen, None)[np.where(codes < 0, len(uniques), codes)]
        data[col] = pd.Series(out, index=data.index, dtype="object")


def assign_schedule(data: pd.DataFrame, schedule: list[float], window_days: float, log: AuditLog) -> None:
    """Compute ``days_from_baseline`` and flag visits off the schedule or outside the window.

    Baseline is the participant's week-0 visit date; for a participant with no week-0 visit, the
    earliest date (unknown when the week-0 visit has no date). Visits known only by date get the
    nearest scheduled week. Visits outside ``window_days`` of their scheduled day, or
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
        # A participant seen at week 0 whose week-0 date is unknown has no known baseline date:
        # their days from baseline are unknown, not counted from a later visit.
        has_week0 = (data["visit_week"] == 0).groupby(pid).transform("any").to_numpy(dtype=bool)
        base = base0.where(has_week0, first)
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
            log.warn(
                f"{len(inconsistent)} participants have more than one {col} ({participant_ids(inconsistent)}); "
                "not carried"
            )
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

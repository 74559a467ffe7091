"""Harmonisation: numbers, units, ids, visits, dates and categories to the canonical form.

Every function is vectorised over the records of one file; the step :func:`harmonise_file` writes
what it changed to the log and what it could not use to the quarantine, both through the
:class:`~hipkit.cleaning.issues.Issues` collector. Steps over all files are in
:mod:`hipkit.cleaning.spellings` (group and site spellings) and :mod:`hipkit.cleaning.participants`
(days from baseline, participant-level values).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from ..errors import UnmappableFileError
from ..io.ids import CONTROL_CHARS as _CONTROL
from ..io.ids import INVISIBLE_CHARS as _FORMAT_CHARS
from ..io.ids import folded_spellings, normalise_ids, numeric_collisions
from ..registry import Registry, normalise_label
from .audit import participant_ids
from .columns import Mapping, parse_visit_label
from .issues import Issues

__all__ = [
    "normalise_ids",
    "visit_label_text",
    "date_order",
    "numeric_collisions",
    "column_decimal",
    "first_of_cell",
    "parse_numbers",
    "harmonise_file",
    "harmonise_ids",
    "free_text_values",
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


def first_of_cell(rec: pd.DataFrame, slices: pd.Series, name: str | None, headers: dict | None) -> np.ndarray:
    """True for the first record of each raw cell (wide files repeat a cell on each side's record).

    ``slices`` is each record's header slice (:class:`~hipkit.cleaning.issues.RecordState`). Counts in
    the log are per cell of the input; with ``name`` None, per line.
    """
    if not headers or len(headers) <= 1:
        return np.ones(len(rec), dtype=bool)
    if name is None:
        return ~rec.duplicated(["source_line"]).to_numpy()
    col = pd.Series(slices.map(lambda s: headers.get(int(s), {}).get(name, "")).to_numpy(), index=rec.index)
    return ~pd.DataFrame({"l": rec["source_line"], "c": col}).duplicated().to_numpy()


def _measure_column(
    rec: pd.DataFrame,
    name: str,
    registry: Registry,
    decimal: str,
    issues: Issues,
    once: np.ndarray,
    units_stated: pd.Series | None,
) -> np.ndarray:
    m = registry[name]
    raw = rec[name]
    take, values_u, status_u, unit_u, token_u = parse_distinct(raw, decimal, registry.missing_tokens)
    values = values_u[take]
    if not pd.api.types.is_numeric_dtype(raw) and column_decimal(raw.drop_duplicates(), decimal) == "mixed":
        issues.log.warn(
            f"{name}: the column mixes decimal commas and points; each value was read by its own mark "
            "(1,5 and 1.5 both as 1.5); values such as 1,500 that could be either are quarantined"
        )

    def where(flags_u: np.ndarray) -> np.ndarray:
        return flags_u.astype(bool)[take]

    missing = where(status_u == "missing") & once
    per_distinct = np.bincount(take[missing], minlength=len(values_u))
    for i in np.flatnonzero(per_distinct):
        if token_u[i]:
            issues.log.count("missing_tokens", f"{name}: {token_u[i]!r}", int(per_distinct[i]))
    issues.log.count("missing_values", name, int(missing.sum()))
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
            issues.add(rec, where(status_u == st), name, raw, reason, "value_set_missing", msg)
    # Units: the cell's own unit wins over the column's (header or unit column).
    unit_col = units_stated
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
            issues.log.count("units_in_cells", f"{name}: unit {u!r} written in the cell (overrides the column's)", cnt)
    unknown = has_value & np.isnan(factors)
    n = 0
    if unknown.any():
        shown = raw[unknown].astype("str") + " [unit: " + units[unknown].astype("str") + "]"
        n = issues.add(
            rec,
            unknown,
            name,
            shown.reindex(rec.index),
            R.UNKNOWN_UNIT,
            "value_set_missing",
            f"{name}: unit not known (known: {', '.join(sorted(k for k in m.units if k))})",
        )
    issues.log.count("values_quarantined", f"{name}: unknown_unit", n)
    values = np.where(unknown, np.nan, values * np.where(np.isnan(factors), 1.0, factors))
    # Record each conversion actually applied, with its count.
    conv = has_value & ~unknown & once
    if conv.any():
        lab = pd.Series(labels[conv]).value_counts()
        for spelling, cnt in lab.items():
            factor = m.factor(spelling)
            if spelling == "":
                issues.log.count("units_assumed", f"{name}: no unit stated, read as {m.unit}", cnt)
            elif factor != 1.0:
                issues.log.count("unit_conversions", f"{name}: {spelling} -> {m.unit} (x{factor:g})", cnt)
    return values


def harmonise_ids(
    rec: pd.DataFrame,
    issues: Issues,
    once: np.ndarray | None = None,
    missing_tokens: frozenset[str] = frozenset(),
) -> np.ndarray:
    """Normalise participant ids (:func:`normalise_ids`); mark empty ids for removal."""
    raw = rec["participant_id"]
    raw_text = raw.astype("object").where(raw.notna(), "").astype("str")
    clean = normalise_ids(raw)
    once = np.ones(len(rec), dtype=bool) if once is None else once
    issues.log.count("ids", "normalised (spaces or case changed)", int(((clean != raw_text).to_numpy() & once).sum()))
    empty = (clean == "").to_numpy() | raw.isna().to_numpy()
    empty |= per_unique(raw_text, lambda u: u.str.strip().str.lower().isin(missing_tokens)).to_numpy(dtype=bool)
    rec["participant_id"] = clean.where(~empty, None)
    issues.add(rec, empty, "participant_id", raw_text, R.MISSING_ID, "row_removed", "no participant id")
    folded = folded_spellings(raw[~empty & once], clean[~empty & once])
    if folded:
        shown = participant_ids(list(folded)[:3], limit=3)
        issues.log.warn(
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
    issues: Issues,
    source: str,
    header_is_week: bool,
    file_labels: dict | None = None,
    header_week: pd.Series | None = None,
) -> np.ndarray:
    """Fill ``visit_week`` from the header tag or the visit column; return rows to remove.

    ``file_labels`` (label -> number of records in the whole file) is given when ``rec`` is a part
    of a file: whether the file's labels are readable at all is decided over the whole file.
    """
    n = len(rec)
    week = np.full(n, np.nan)
    drop = np.zeros(n, dtype=bool)
    if header_week is not None:
        week = header_week.to_numpy(dtype=float, na_value=np.nan)
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
            issues.log.count("visits", f"unrecognised label {lab!r}", int((raw == lab).sum()))
        issues.add(
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
            issues.log.count("visit_labels", f"{lab!r} -> week {from_col[(raw == lab).to_numpy()][0]:g}", cnt)
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
    issues: Issues,
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
            issues.log.step("dates", column="visit_date", read_as=order, count=int(rest.sum()))
        elif rest.any() and order == "ambiguous":
            issues.warn("visit dates with '/' are ambiguous (day/month order unknown); set date_format in a --map file")
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
    issues.add(
        rec,
        bad,
        "visit_date",
        raw,
        R.BAD_DATE,
        "value_set_missing",
        "visit date not readable (or ambiguous day/month order); set date_format in a --map file",
    )
    issues.add(
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
    issues.log.count("values_quarantined", "visit_date: bad_date", int(bad.sum() + (out_of_range & ~blank).sum()))
    rec["visit_date"] = dates.dt.normalize()


def _categories(
    rec: pd.DataFrame, registry: Registry, mapping: Mapping, issues: Issues, once: np.ndarray
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
            drop |= bad
        # An unknown side removes the row (its measures belong to no limb); any other value is set missing.
        action, message = (
            ("row_removed", "side not recognised (left/right, or injured/uninjured); map it in the values: section")
            if col == "side"
            else ("value_set_missing", f"{col} value not recognised; map it in the mapping file's values: section")
        )
        issues.add(rec, bad, col, raw, R.UNKNOWN_CATEGORY, action, message)
        changed = (canon != None) & (canon != raw.to_numpy(dtype=object))  # noqa: E711
        issues.log.count("categories", f"{col} normalised", int((changed & once).sum()))
        rec[col] = pd.Series(np.where(canon == None, None, canon), index=rec.index, dtype="object")  # noqa: E711
    for col in ("group", "site", "discharge_reason"):
        if col in rec.columns:
            s, blank, formula = _free_text(rec[col], col, mapping, registry)
            issues.add(
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
        issues.add(
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
    issues: Issues,
    *,
    registry: Registry,
    mapping: Mapping,
    decimal: str,
    source: str,
    visit_is_week: bool = False,
    context: dict | None = None,
) -> tuple[pd.DataFrame, Issues]:
    """Harmonise the records of one file (a step); rows to remove are marked in ``issues.records``.

    ``visit_is_week`` says that the visit column's header names weeks ("Week", "wk"), so bare
    numbers in it are weeks; under any other header bare numbers are ambiguous. ``context`` holds
    the file-wide values that decisions rest on when the records are only a part of the file (out of
    core): ``visit`` (label -> number of records) and ``visit_date`` (the distinct date texts).

    Returns
    -------
    records : DataFrame
        A new frame: every record, harmonised (none is removed here).
    issues : Issues
        With each measure's raw text and the rows to remove in the records' state.
    """
    rec = rec.copy(deep=False)  # the helpers below replace columns of this frame, never the caller's
    state = issues.state_of(rec)
    issues = issues.with_records(state)
    headers = issues.quarantine.headers.get(source)
    line_once = first_of_cell(rec, state.slice, None, headers)
    drop = harmonise_ids(rec, issues, line_once, registry.missing_tokens)
    context = context or {}
    drop |= _visits(rec, registry, mapping, issues, source, visit_is_week, context.get("visit"), state.header_week)
    _dates(rec, mapping, issues, registry.missing_tokens, context.get("visit_date"))
    drop |= _categories(rec, registry, mapping, issues, line_once)
    raw_values = {}
    for name in [c for c in rec.columns if c in registry]:
        raw_values[name] = rec[name]
        once = first_of_cell(rec, state.slice, name, headers)
        stated = state.units[name] if name in state.units.columns else None
        rec[name] = _measure_column(rec, name, registry, decimal, issues, once, stated)
    state = state.with_raw(pd.DataFrame(raw_values, index=rec.index))
    lonely = state.no_values.to_numpy(dtype=bool)
    message = "the line holds no measurement at any visit"
    issues.add(rec, lonely & ~drop, "", "", R.NO_MEASUREMENTS, "row_removed", message)
    drop |= lonely
    return rec, issues.with_records(state.marked(drop))

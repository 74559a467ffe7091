"""Direct identifiers, found by header and by content: the one home for "is this an identifier".

A column is a direct identifier when its header names one (the registry's ``identifiers:`` list,
read through :func:`is_identifier_header`) or when its values look like one:

- **names**: two to five capitalised words (one is enough after a title such as *Mr*, *Dr*, *Frau*;
  a suffix such as *Jr*, *PhD* is allowed), or *Last, First*; a value counts as a name when its
  first given name is in a list of common given names (:mod:`hipkit.cleaning._given_names`) or it
  starts with a title, and a column counts as names when most values have that shape, there is
  about one distinct value per participant, and either enough of them are such names or there are
  many. Words that clinics put in group, site and reason columns (*Hip*, *Clinic*, *North*,
  *moved*, ...) rule the shape out, and a name-like label shared by several participants (a
  hospital called "John Hunter") is not a person's name;
- **phone numbers**: international (``+``, ``00`` with separators) and North American shapes,
  national numbers with a trunk ``0`` and separators, and (weak evidence, counted for whole columns
  and withheld in carried cells) bare runs of 9 to 15 digits or grouped 8-13 digit numbers; dates
  never count, and 8-digit local numbers without a country code (Denmark, parts of Sweden) cannot
  be told from ids such as 2024-0013;
- **e-mail addresses**;
- **national id numbers**, checked with their check digits through ``python-stdnum`` where the
  number has one: US SSN, UK NHS number, Canadian SIN, Australian TFN and Medicare number, Swedish,
  Norwegian and Finnish personal numbers, Italian codice fiscale, Spanish DNI/NIE, French
  NIR, Polish PESEL, Brazilian CPF, Dutch BSN; and the UK National Insurance number by its format.
  A number in a grouping study ids can share (3-3-3, 3-3-4, 6-4) or a bare run of digits is known
  by its check digit only, which one random number in ten passes: it is withheld inside text, but
  a participant-id column is flagged only when nearly all its values pass;
- **dates of birth**: a column of dates whose median is at least 10 years before the median visit
  date (or, with no visit dates, whose dates spread over 15 years or more), the same for bare years
  under a date-like header, and "DOB 12/03/1985"-like text.

:class:`IdentifierScan` accumulates the evidence column by column with ``update(frame)`` and gives
``findings()``; the counts are sums (and capped sets of distinct values), so scanning a file whole
or chunk by chunk gives the same findings. :func:`find_identifiers` classifies single cells (what
the cleaner withholds from carried text), :func:`identifier_columns` lists a table's identifier
columns (what ``hipkit report`` refuses). Headers are read by :mod:`hipkit.cleaning.identifier_headers`
and the cleaner's step is :func:`hipkit.cleaning.screen.screen_identifiers`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..registry import Registry, load_registry, normalise_label
from ._given_names import fold
from ._identifier_values import NOTHING, PRIORITY, STRONG, SURE, Evidence, classify
from .columns import ColumnRole
from .identifier_headers import _DATEISH_HEADER, _MANY, KINDS, _header_kind, is_identifier_header, withheld

__all__ = [
    "KINDS",
    "IdentifierScan",
    "find_identifiers",
    "identifier_columns",
    "is_identifier_header",
    "participant_keys",
    "withheld",
]

# Share of a column's values that must match for the column to be flagged as a whole.
_WHOLE_SHARE = 0.5
_NAME_SHAPE_SHARE = 0.8
_NAME_HIT_SHARE = 0.3
_DISTINCT_NAMES = 8  # at least this many distinct name-shaped values for the "one per participant" rule
_CHECKED_ID_SHARE = 0.9  # ids known by a check digit only, in an id column: nearly all, and at least 5
_EMBEDDED_MIN = 3
_DOB_GAP_YEARS = 10
_DOB_SPREAD_YEARS = 15
_DISTINCT_CAP = 10_000  # capped sets: their size is min(distinct, cap) whatever the chunking


def find_identifiers(values: pd.Series, min_level: int = STRONG) -> pd.Series:
    """The identifier kind each cell holds (or holds inside longer text), else None.

    Parameters
    ----------
    values : Series
        Cells as text (numbers are read as their digits).
    min_level : int, default STRONG (2)
        1 also reports bare runs of digits that could be a phone or id number, 3 only sure matches.

    Returns
    -------
    Series of object
        ``"name"``, ``"phone"``, ``"email"``, ``"date_of_birth"``, ``"national_id"`` or None, on
        ``values``' index.

    Examples
    --------
    >>> s = pd.Series(["moved away", "call jane@x.org 555-123-4567", "Jane Smith", "HIP-007", "2024-0013"])
    >>> find_identifiers(s).tolist()
    [None, 'email', 'name', None, None]
    """
    text = _as_text(values)
    if text is None:
        return pd.Series([None] * len(values), index=values.index, dtype="object")
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    kinds = [e.kind if e.level >= min_level else None for e in (classify(str(u)) for u in uniques)]
    table = np.asarray(kinds + [None], dtype=object)
    return pd.Series(table[np.where(codes < 0, len(uniques), codes)], index=values.index, dtype="object")



def _as_text(s: pd.Series) -> pd.Series | None:
    """Cells as text; None for a column of non-integer numbers (they cannot be identifiers)."""
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(v)
        if not ok.any() or not np.all(v[ok] == np.round(v[ok])) or np.abs(v[ok]).max() < 1e7:
            return None  # measures, ages, small numeric ids: never 8 or more digits
        out = pd.Series([None] * len(s), index=s.index, dtype="object")
        out[ok] = [str(int(x)) for x in v[ok]]
        return out
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").astype("object")
    return s  # text (or mixed objects: each distinct value is turned into text once)


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------
@dataclass
class _Column:
    """Evidence accumulated for one column (sums, capped sets and per-name tallies: chunk-invariant)."""

    values: int = 0
    matched: int = 0
    whole: Counter = field(default_factory=Counter)  # kind -> values that are wholly that identifier
    embedded: Counter = field(default_factory=Counter)  # kind -> strong matches inside longer text
    kinds: Counter = field(default_factory=Counter)  # kind -> any match
    sure: Counter = field(default_factory=Counter)
    checked_ids: int = 0  # whole values that are id numbers by their check digit only
    shape: int = 0
    hits: int = 0
    given_only: int = 0
    dates: int = 0
    date_years: Counter = field(default_factory=Counter)
    bare_years: Counter = field(default_factory=Counter)
    shaped: set = field(default_factory=set)
    # Names are tallied per text and counted at the end, without those several participants share.
    names: dict = field(default_factory=dict)  # text -> [cells, evidence]
    owner: dict = field(default_factory=dict)  # text -> the one participant it belongs to, or _SHARED

    def add(self, e: Evidence, n: int, text: str) -> None:
        self.values += n
        if e is NOTHING:
            return
        if e.kind == "name":
            self.names.setdefault(text, [0, e])[0] += n
        elif e.kind is not None:
            self._count(e, n)
        if e.shape:
            self.shape += n
            if len(self.shaped) < _DISTINCT_CAP:
                self.shaped.add(text.strip().lower())
        self.given_only += n if e.given_only else 0
        if e.year is not None:
            self.dates += n
            self.date_years[e.year] += n
        if e.bare_year is not None:
            self.bare_years[e.bare_year] += n

    def _count(self, e: Evidence, n: int) -> None:
        self.matched += n
        self.kinds[e.kind] += n
        self.whole[e.kind] += n if e.whole else 0
        self.embedded[e.kind] += n if not e.whole and e.level >= STRONG else 0
        self.sure[e.kind] += n if e.level == SURE else 0
        self.checked_ids += n if e.kind == "national_id" and e.level < SURE and e.whole else 0
        self.hits += n if e.kind == "name" and e.whole else 0

    def shared(self, text: str) -> bool:
        """Whether a name-like ``text`` is held by several participants (then it is a label)."""
        return self.owner.get(text) is _SHARED

    def note_owners(self, texts: pd.Series, codes: np.ndarray, participants: np.ndarray, which: list[int]) -> None:
        """Record which participants hold the name-like distinct values ``which`` (vectorised)."""
        sel = np.isin(codes, which)
        pairs = pd.DataFrame({"c": codes[sel], "p": participants[sel]}).dropna().drop_duplicates()
        for c, p in pairs.groupby("c", sort=False)["p"]:
            text, held = texts.iat[int(c)], set(p)
            before = self.owner.get(text)
            if before is not _SHARED:
                held |= {before} if before is not None else set()
                self.owner[text] = _SHARED if len(held) > 1 else next(iter(held))

    def effective(self) -> "_Column":
        """These counts with the names added, except those several participants share."""
        out = replace(
            self,
            whole=Counter(self.whole),
            embedded=Counter(self.embedded),
            kinds=Counter(self.kinds),
            sure=Counter(self.sure),
        )
        for text, (n, e) in self.names.items():
            if not out.shared(text):
                out._count(e, n)
        return out


_SHARED = object()


def _quantile(hist: Counter, q: float) -> int:
    total = sum(hist.values())
    target = int(np.floor(q * (total - 1)))
    seen = 0
    for year in sorted(hist):
        seen += hist[year]
        if seen > target:
            return year
    return max(hist)


def participant_keys(ids: pd.Series) -> np.ndarray:
    """Participant ids as the cleaner compares them (spaces removed, upper case; None when blank).

    Examples
    --------
    >>> participant_keys(pd.Series([" p01", "P 02", "", None])).tolist()
    ['P01', 'P02', None, None]
    """
    text = ids.astype("object").where(ids.notna(), "").astype(str)
    norm = text.str.replace(r"\s+", "", regex=True).str.upper().to_numpy(dtype=object)
    norm[norm == ""] = None
    return norm


_PLAIN = r"\s*(?:[A-Za-z]{1,5}[-_]?\d{1,7}|[-+]?\d{1,3}(?:[.,]\d+)?|[-+]?\d{1,7}[.,]\d+)\s*"


def _role_kind(role: ColumnRole | None) -> str:
    if role is None:
        return "other"
    if role.role == "ignore":
        return "skip"
    if role.role == "key" and role.target == "participant_id":
        return "id"
    if role.role == "key" and role.target == "visit_date":
        return "visit_date"
    if role.role in ("key", "measure", "unit"):
        return "carried"
    return "other"


def _infer_role(header: str, registry: Registry) -> ColumnRole:
    if is_identifier_header(header, registry):
        return ColumnRole(header, "identifier")
    key = registry.match_key(header)
    if key is not None:
        return ColumnRole(header, "key", key)
    if header in registry or registry.match_header(header) is not None:
        return ColumnRole(header, "measure", header)
    return ColumnRole(header, "unmapped")


class IdentifierScan:
    """Per-column evidence of direct identifiers, accumulated over one file (whole or in chunks).

    Parameters
    ----------
    registry : Registry, optional
        For header spellings and missing-value tokens (default: the built-in registry).
    roles : list of ColumnRole, optional
        The file's column roles (:func:`hipkit.clean.map_columns`); they say which column holds
        the participant id and which the visit dates, and that ``ignore`` columns are not looked at.
        Without them, roles are read from the headers (as for a clean table).

    Examples
    --------
    >>> frame = pd.DataFrame({"ID": ["P1", "P2"], "Info": ["555-123-4567", "+44 7700 900123"],
    ...                       "Group": ["HIP", "KNEE"]})
    >>> scan = IdentifierScan().update(frame.iloc[:1]).update(frame.iloc[1:])
    >>> f = scan.findings()
    >>> f.loc[f["flagged"], ["column", "kind", "matched", "values", "by"]].to_dict("records")
    [{'column': 'Info', 'kind': 'phone', 'matched': 2, 'values': 2, 'by': 'content'}]
    >>> scan.describe("Info")
    'phone numbers in 2 of 2 values'
    """

    def __init__(self, registry: Registry | None = None, roles: list[ColumnRole] | None = None) -> None:
        self.registry = registry if registry is not None else load_registry()
        self._roles: dict[str, ColumnRole] = {r.raw: r for r in roles or []}
        self._given_roles = roles is not None
        self._columns: dict[str, _Column] = {}
        self._order: list[str] = []
        self._ids: set = set()
        self._missing = self.registry.missing_tokens

    def role(self, column: str) -> ColumnRole:
        """The role of ``column`` (given, or read from its header)."""
        if column not in self._roles:
            self._roles[column] = (
                ColumnRole(column, "unmapped") if self._given_roles else _infer_role(column, self.registry)
            )
        return self._roles[column]

    def update(self, frame: pd.DataFrame) -> "IdentifierScan":
        """Add the evidence of ``frame`` (all of a file, or its next chunk of rows); return self."""
        names = [str(c) for c in frame.columns]
        id_at = next((i for i, c in enumerate(names) if _role_kind(self.role(c)) == "id"), None)
        participants = participant_keys(frame.iloc[:, id_at]) if id_at is not None else None
        for i, col in enumerate(names):
            self.update_column(col, frame.iloc[:, i], participants)
        return self

    def update_column(
        self, column: str, values: pd.Series, participants: np.ndarray | None = None
    ) -> tuple[np.ndarray, list, pd.Series] | None:
        """Add the evidence of one column's values; return (codes, evidence, text) per distinct value.

        ``participants`` (:func:`participant_keys` of the id column, row for row) lets a name-like
        value that several participants share count as a label, not a person's name. ``codes``
        gives each cell's distinct value (-1 for missing); ``None`` is returned when the column is
        not looked at (``ignore``) or holds non-integer numbers.
        """
        if column not in self._columns:
            self._columns[column] = _Column()
            self._order.append(column)
        kind = _role_kind(self.role(column))
        if kind == "skip":
            return None
        ev = self._columns[column]
        text = _as_text(values)
        if text is None:
            ev.values += int(values.notna().sum())
            return None
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        texts = pd.Series(uniques, dtype="str") if len(uniques) else pd.Series([], dtype="str")
        # Codes ("P000123", "HIP-007") and small numbers ("12.5", "45") are never identifiers: one
        # vectorised match sets them aside, so that only the other distinct texts are read one by one.
        plain = texts.str.fullmatch(_PLAIN).to_numpy(dtype=bool, na_value=False)
        ev.values += int(counts[plain].sum())
        evidence = [NOTHING] * len(uniques)
        for i in np.flatnonzero(~plain):
            u = texts.iat[i]
            if u.strip().lower() in self._missing:
                continue
            evidence[i] = e = classify(u)
            ev.add(e, int(counts[i]), u)
        if participants is not None and kind != "id":
            which = [i for i, e in enumerate(evidence) if e.kind == "name"]
            if which:
                ev.note_owners(texts, codes, np.asarray(participants, dtype=object), which)
        if kind == "id":
            for u in texts:
                if len(self._ids) >= _DISTINCT_CAP:
                    break
                if u.strip().lower() not in self._missing:
                    self._ids.add("".join(u.split()).upper())
        return codes, evidence, texts

    # -- decisions ------------------------------------------------------------------------
    def _visit_years(self, exclude: str) -> Counter:
        years: Counter = Counter()
        for col in self._order:
            if col != exclude and _role_kind(self.role(col)) == "visit_date":
                years.update(self._columns[col].date_years)
        return years

    def _dob(self, column: str, ev: _Column) -> str | None:
        """Why ``column`` holds dates of birth, or None."""
        kind = _role_kind(self.role(column))
        for hist, n, what in (
            (ev.date_years, ev.dates, "dates"),
            (ev.bare_years, sum(ev.bare_years.values()), "years"),
        ):
            if not n or n < 0.8 * ev.values:
                continue
            if what == "years" and not _DATEISH_HEADER.search(normalise_label(fold(column))):
                continue
            visits = self._visit_years(column)
            median = _quantile(hist, 0.5)
            if visits:
                gap = _quantile(visits, 0.5) - median
                if gap >= _DOB_GAP_YEARS:
                    return f"{what} a median {gap} years before the visit dates"
            elif kind != "visit_date":
                low, high = _quantile(hist, 0.1), _quantile(hist, 0.9)
                if high - low >= _DOB_SPREAD_YEARS:
                    return f"{what} spread over {low}-{high}"
        return None

    def _names(self, ev: _Column, is_id: bool) -> bool:
        """Most values shaped like names, about one per participant, and common given names or many."""
        if not ev.values or ev.shape < _NAME_SHAPE_SHARE * ev.values:
            return False
        distinct = len(ev.shaped)
        participants = distinct if is_id else (len(self._ids) or ev.values)
        if distinct < 0.5 * participants:
            return False  # a few labels shared by many participants ("John Hunter" hospital): not people
        return ev.hits >= _NAME_HIT_SHARE * ev.values or distinct >= _DISTINCT_NAMES

    def _decide(self, column: str) -> tuple[str | None, int, bool, str]:
        """(kind, matched, flagged, why) for one column."""
        ev = self._columns[column].effective()
        role = self.role(column)
        rk = _role_kind(role)
        header = role.role == "identifier" or (
            role.role in ("unmapped", "identifier") and is_identifier_header(column, self.registry)
        )
        dob = self._dob(column, ev) if rk != "skip" else None
        if dob is not None:
            kind, matched, flagged = "date_of_birth", ev.dates or sum(ev.bare_years.values()), True
        elif rk == "id":
            sure = sum(ev.sure.values())
            if sure:
                kind, matched, flagged = max(ev.sure, key=lambda k: (ev.sure[k], -PRIORITY.index(k))), sure, True
            elif ev.checked_ids >= _CHECKED_ID_SHARE * ev.values and ev.checked_ids >= 5:
                kind, matched, flagged = "national_id", ev.checked_ids, True
            elif self._names(ev, True) or (ev.given_only >= _WHOLE_SHARE * ev.values and ev.given_only >= 2):
                kind, matched, flagged = "name", max(ev.shape, ev.given_only), True
            else:
                kind, matched, flagged = None, 0, False
        else:
            whole = sum(ev.whole.values())
            embedded = sum(ev.embedded.values())
            if ev.values and whole >= _WHOLE_SHARE * ev.values:
                kind = max(ev.whole, key=lambda k: (ev.whole[k], -PRIORITY.index(k)))
                matched, flagged = whole, True
            elif self._names(ev, False):
                kind, matched, flagged = "name", ev.shape, True
            elif embedded >= _WHOLE_SHARE * ev.values and embedded >= _EMBEDDED_MIN:
                kind = max(ev.embedded, key=lambda k: (ev.embedded[k], -PRIORITY.index(k)))
                matched, flagged = embedded, True
            elif ev.matched:
                kind = max(ev.kinds, key=lambda k: (ev.kinds[k], -PRIORITY.index(k)))
                matched, flagged = ev.matched, False
            else:
                kind, matched, flagged = None, 0, False
        if header:
            by = "header" if not flagged else "header+content"
            kind = kind if flagged else _header_kind(column)
            return kind, matched, True, by
        return kind, matched, flagged, "content" if flagged else ""

    def findings(self) -> pd.DataFrame:
        """One row per column seen: what it holds, how many values matched, whether it is flagged.

        Returns
        -------
        DataFrame
            Columns ``column``, ``kind`` (one of :data:`KINDS`, or None), ``values`` (non-blank
            cells), ``matched`` (cells that look like that kind of identifier), ``flagged`` (the
            column as a whole is a direct identifier), ``by`` (``"header"``, ``"content"``,
            ``"header+content"``, or ``""``) and ``description`` (for messages).
        """
        rows = []
        for col in self._order:
            kind, matched, flagged, by = self._decide(col)
            rows.append(
                {
                    "column": col,
                    "kind": kind,
                    "values": self._columns[col].values,
                    "matched": int(matched),
                    "flagged": bool(flagged),
                    "by": by,
                    "description": self._describe(col, kind, matched, by),
                }
            )
        return pd.DataFrame(
            rows, columns=["column", "kind", "values", "matched", "flagged", "by", "description"]
        ).astype({"values": "int64", "matched": "int64", "flagged": bool})

    def _describe(self, column: str, kind: str | None, matched: int, by: str) -> str:
        ev = self._columns[column].effective()
        parts = []
        if by.startswith("header"):
            parts.append("by header")
        if kind is not None and (matched or not by.startswith("header")) and by != "header":
            text = f"{_MANY[kind]} in {matched} of {ev.values} values"
            if kind == "date_of_birth":
                why = self._dob(column, ev)
                text += f", {why}" if why else ""
            parts.append(text)
        return "; ".join(parts)

    def describe(self, column: str) -> str:
        """One phrase saying why ``column`` is (or is not) an identifier, for messages."""
        kind, matched, _, by = self._decide(column)
        return self._describe(column, kind, matched, by)

    def flagged(self) -> list[str]:
        """Columns flagged as direct identifiers (by header or content), in file order."""
        return [c for c in self._order if self._decide(c)[2]]


def identifier_columns(frame: pd.DataFrame, registry: Registry | None = None, cells: bool = False) -> list[str]:
    """The columns of ``frame`` that are direct identifiers, by header or by content.

    Parameters
    ----------
    frame : DataFrame
        Any table (a raw export read as text, or a clean table).
    registry : Registry, optional
    cells : bool, default False
        Also list columns in which any single cell holds an identifier (a phone number inside a
        free-text reason, a name as one participant id).

    Returns
    -------
    list of str

    Examples
    --------
    >>> t = pd.DataFrame({"participant_id": ["P01", "P02"], "Tel": ["", ""], "Client": ["Jane Smith", "Ann Lee"],
    ...                   "discharge_reason": ["moved away", "call 555-123-4567"]})
    >>> identifier_columns(t), identifier_columns(t, cells=True)
    (['Tel', 'Client'], ['Tel', 'Client', 'discharge_reason'])
    """
    scan = IdentifierScan(registry).update(frame)
    found = scan.findings()
    keep = found["flagged"]
    if cells:
        keep = keep | (found["matched"] > 0) & found["kind"].notna()
    return found.loc[keep, "column"].tolist()

"""Direct identifiers, found by header and by content: the one home for "is this an identifier".

A column is a direct identifier when its header names one (the registry's ``identifiers:`` list,
read through :func:`is_identifier_header`) or when its values look like one:

- **names**: two to five capitalised words (one is enough after a title such as *Mr*, *Dr*, *Frau*;
  a suffix such as *Jr*, *PhD* is allowed), or *Last, First*; a value counts as a name when its
  first given name is in a list of common given names (:mod:`hipkit.clean._given_names`) or it
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
columns (what ``hipkit report`` refuses), and :func:`screen_identifiers` is the cleaner's step.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from ..errors import InputError, UnmappableFileError
from ..registry import Registry, load_registry, normalise_label
from ._given_names import fold
from ._identifier_values import NOTHING, PRIORITY, STRONG, SURE, Evidence, classify
from .audit import AuditLog, Quarantine
from .columns import ColumnRole
from .deidentify import hash_ids

__all__ = [
    "KINDS",
    "IdentifierScan",
    "find_identifiers",
    "identifier_columns",
    "is_identifier_header",
    "screen_identifiers",
    "withheld",
]

#: The kinds of direct identifier told apart (``address`` is recognised by header only).
KINDS = ("name", "phone", "email", "date_of_birth", "national_id", "address")
_ONE = {
    "name": "person name",
    "phone": "phone number",
    "email": "e-mail address",
    "date_of_birth": "date of birth",
    "national_id": "national id number",
    "address": "address",
}
_MANY = {
    "name": "person names",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "date_of_birth": "dates of birth",
    "national_id": "national id numbers",
    "address": "addresses",
}


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

# ---------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------
_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_NUMBER_WORDS = {"no", "nr", "num", "number", "nbr", "numero", "nummer", "n"}
# Identifier spellings too generic to be looked for inside a longer header ("Site name",
# "Contact lens"): these must be the whole header (after brackets and "no"/"number").
_EXACT_ONLY = {
    "name", "contact", "cell", "tel", "mobile", "zip", "nom", "nome", "naam", "nombre", "client", "parent", "mother",
    "father", "spouse", "carer", "caregiver", "initials", "mail", "portable", "handy", "plz", "sin", "cpr", "nie",
    "dni", "nir", "bsn", "cpf", "tfn", "nok",
}  # fmt: skip
_DATEISH_HEADER = re.compile(
    r"\b(date|dt|year|yr|yob|born|birth|birthday|jahr|jahrgang|geburt\w*|annee|ano|anno|jaar|rok|ar|datum|fecha|data)\b"
)
_HEADER_KINDS = (
    ("date_of_birth", ("birth", "dob", "d o b", "born", "geburt", "naissance", "nacimiento", "nascita", "yob")),
    ("email", ("mail", "courriel", "correo")),
    ("phone", ("phone", "tel", "mobile", "cell", "contact", "fax", "handy", "telefon", "telefono", "movil")),
    ("address", ("address", "street", "postcode", "postal", "zip", "adresse", "direccion", "indirizzo", "adres")),
    (
        "national_id",
        (
            "nhs",
            "ssn",
            "sin",
            "social",
            "insurance",
            "passport",
            "national",
            "mrn",
            "medical record",
            "health card",
            "medicare",
            "nino",
            "tfn",
            "tax",
            "licence",
            "license",
            "personnummer",
            "cpr",
            "pesel",
            "bsn",
            "cpf",
            "nir",
            "dni",
            "nie",
            "codice fiscale",
            "hospital number",
            "id card",
        ),
    ),
)


def _header_forms(header: str) -> list[str]:
    """The header normalised, without bracketed hints, and without a trailing "no"/"number"."""
    full = normalise_label(fold(header))
    bare = normalise_label(_BRACKETS.sub(" ", fold(header)))
    forms = [full, bare]
    tokens = bare.split()
    while len(tokens) > 1 and tokens[-1] in _NUMBER_WORDS:
        tokens = tokens[:-1]
        forms.append(" ".join(tokens))
    return list(dict.fromkeys(f for f in forms if f))


def is_identifier_header(header: str, registry: Registry | None = None) -> bool:
    """Whether a header names a direct identifier (name, phone, date of birth, national id, ...).

    The header is compared with the registry's ``identifiers:`` spellings after lower-casing and
    turning punctuation into spaces, also without a bracketed hint (``"Date of birth (dd/mm/yyyy)"``)
    and without a trailing "no"/"number" (``"Contact no"``); a spelling of two or more words, or a
    specific one (``phone``, ``email``, ``dob``, ``surname``, ...), also counts inside a longer header
    (``"Patient first name"``, ``"Mobile phone"``). Generic words (``name``, ``contact``, ``tel``,
    ...) count only as the whole header, so ``"Site name"`` is not an identifier.

    Parameters
    ----------
    header : str
    registry : Registry, optional
        Default: the built-in registry.

    Returns
    -------
    bool

    Examples
    --------
    >>> [is_identifier_header(h) for h in ["Pt. Name", "Date of birth (dd/mm/yyyy)", "Mobile phone",
    ...                                     "NHS no", "Site name", "Pain wk2"]]
    [True, True, True, True, False, False]
    """
    reg = registry if registry is not None else load_registry()
    return _header_check(str(header), reg.identifiers)


@lru_cache(maxsize=4096)
def _header_check(header: str, identifiers: tuple[str, ...]) -> bool:
    exact = set(identifiers) | {i.replace(" ", "") for i in identifiers}
    forms = _header_forms(header)
    if any(f in exact or f.replace(" ", "") in exact for f in forms):
        return True
    entries = [e for e in dict.fromkeys(identifiers) if e and e not in _EXACT_ONLY]
    return any(f" {e} " in f" {form} " for form in forms for e in entries)


def _header_kind(header: str) -> str:
    text = f" {normalise_label(fold(header))} "
    for kind, words in _HEADER_KINDS:
        if any(f" {w}" in text for w in words):
            return kind
    return "name"


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


def withheld(kind: str) -> str:
    """What the quarantine shows instead of a value that looks like an identifier.

    Examples
    --------
    >>> withheld("phone")
    '[withheld: phone number]'
    """
    return f"[withheld: {_ONE.get(kind, 'identifier')}]"


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


# ---------------------------------------------------------------------------------------------
# The cleaner's step
# ---------------------------------------------------------------------------------------------
def _origin(table, data: pd.DataFrame, ids: pd.Series | None) -> pd.DataFrame:
    """Each row's file, line and (normalised) participant id, for quarantine entries."""
    pid = "" if ids is None else pd.Series(participant_keys(ids), index=data.index, dtype="object").fillna("")
    return pd.DataFrame(
        {
            "source_file": table.source_file,
            "source_line": np.asarray(table.lines, dtype=np.int64),
            "participant_id": pid,
        },
        index=data.index,
    )


def screen_identifiers(table, roles: list[ColumnRole], registry: Registry, q: Quarantine, log: AuditLog,
                       salt: bytes | None = None, scan: "IdentifierScan | None" = None):  # fmt: skip
    """Keep direct identifiers out of everything the cleaner writes, for one raw file.

    - A column flagged as an identifier (by header or content) gets the role ``identifier``: it is
      not carried, and the log's warning names it with what it holds.
    - A carried column (a key such as ``discharge_reason``, ``group``, ``site``, or a measure) with
      identifier-looking cells: those cells are set to missing and quarantined (reason
      ``identifier_in_value``, raw value ``[withheld: phone number]``), before anything else sees them.
    - The participant-id column holding names, e-mails, phone or national id numbers: an error
      without ``salt``; with it (``deidentify=True``) the ids are replaced by salted hashes here,
      so that no later message can show them, and the log says why.
    - Lines that could not be parsed keep no identifier in the quarantine either.

    Parameters
    ----------
    table : hipkit.io.RawTable
    roles : list of ColumnRole
        From :func:`hipkit.clean.map_columns`.
    registry : Registry
    q : Quarantine
    log : AuditLog
    salt : bytes, optional
        The de-identification salt (``deidentify=True``); None when not de-identifying.
    scan : IdentifierScan, optional
        The evidence of the whole file, when ``table`` is a part of it (out of core): which columns
        are identifiers, and which name-like labels several participants share, are then decided
        over the whole file, as in memory.

    Returns
    -------
    table : RawTable
        With withheld cells blanked (and ids hashed when they are identifiers).
    roles : list of ColumnRole
        With flagged columns turned into ``identifier``.

    Raises
    ------
    InputError
        The participant-id column holds identifiers and ``salt`` is None.
    UnmappableFileError
        No measure column is left once identifier columns are set aside.
    """
    name = table.source_file
    data = table.data.copy(deep=False)  # columns that change are replaced, never written into
    local = IdentifierScan(registry, roles)
    id_col = next((r.raw for r in roles if r.role == "key" and r.target == "participant_id"), None)
    keys = participant_keys(data[id_col]) if id_col is not None else None
    per_column = {col: local.update_column(col, data[col], keys) for col in data.columns}
    scan = scan if scan is not None else local  # what decides: the whole file's evidence
    findings = scan.findings().set_index("column")
    unseen = [c for c in data.columns if c not in findings.index]  # a file with no readable record
    if unseen:
        findings = pd.concat([findings, local.findings().set_index("column").loc[unseen]])
    new_roles, dropped = [], []
    for r in roles:
        f = findings.loc[r.raw] if r.raw in findings.index else None
        if r.raw != id_col and f is not None and bool(f["flagged"]) and r.role != "ignore":
            new_roles.append(ColumnRole(r.raw, "identifier"))
            dropped.append(f"{r.raw!r} ({f['description']})")
        else:
            new_roles.append(r)
    if not any(r.role == "measure" for r in new_roles):
        raise UnmappableFileError(
            f"{name}: every outcome or covariate column looks like a direct identifier "
            f"({', '.join(dropped)}); map the measures in a --map file"
        )
    ids = data[id_col] if id_col is not None else None
    if id_col is not None and bool(findings.loc[id_col, "flagged"]):
        what = findings.loc[id_col, "description"]
        if salt is None:
            raise InputError(
                f"{name}: the participant id column {id_col!r} holds direct identifiers ({what}); "
                "re-run with --deidentify to replace ids by salted hashes, or map another id column with --map"
            )
        raw = ids.astype("object").where(ids.notna(), "").astype(str)
        blank = pd.isna(keys) | raw.str.strip().str.lower().isin(registry.missing_tokens).to_numpy()
        codes, uniques = pd.factorize(pd.Series(keys, dtype="object"))  # ids as harmonise_ids normalises them
        hashed = np.append(hash_ids(pd.Series(uniques, dtype="object"), salt).to_numpy(dtype=object), None)[codes]
        data[id_col] = pd.Series(np.where(blank, raw.to_numpy(dtype=object), hashed), index=data.index, dtype="object")
        ids = data[id_col]
        log.warn(
            f"{name}: participant ids in {id_col!r} look like direct identifiers ({what}); "
            "replaced by salted hashes before cleaning"
        )
        log.count("deidentify", "participant ids that looked like identifiers, hashed before cleaning",
                  int((~blank).sum()))  # fmt: skip
    origin = None
    for r in new_roles:
        if r.raw == id_col or r.role not in ("key", "measure", "unit") or per_column.get(r.raw) is None:
            continue
        codes, evidence, texts = per_column[r.raw]
        # A number's cell holding words shaped like a name is withheld too: it is no number, and
        # the quarantine would otherwise show it as it is (not_a_number).
        numeric = r.role in ("measure", "unit")
        kinds = [e.kind or ("name" if numeric and (e.shape or e.given_only) else None) for e in evidence]
        has = np.asarray([k is not None for k in kinds] + [False], dtype=bool)
        take = np.where(codes < 0, len(evidence), codes)
        if not numeric:
            # A name-like label that several participants share ("John Hunter", a hospital) is
            # not a person's name; a person's name belongs to one participant.
            column = scan._columns[r.raw]
            for u, e in enumerate(evidence):
                if e.kind == "name" and column.shared(texts.iat[u]):
                    has[u] = False
        hit = has[take]
        if not hit.any():
            continue
        labels = np.asarray([withheld(k) if k else "" for k in kinds] + [""], dtype=object)
        shown = pd.Series(labels[take], index=data.index, dtype="object")
        if origin is None:
            origin = _origin(table, data, ids)
        n = q.add(
            origin,
            hit,
            r.raw,
            shown,
            R.IDENTIFIER_IN_VALUE,
            "value_set_missing",
            f"{r.raw}: looks like a direct identifier; value withheld and set to missing",
        )
        log.count("identifiers", f"{r.raw}: values withheld (identifier_in_value)", n)
        col = data[r.raw]
        if pd.api.types.is_numeric_dtype(col):
            data[r.raw] = col.where(~hit, np.nan)
        else:
            data[r.raw] = col.astype("object").where(~hit, "")
    bad = list(table.bad_lines)
    if bad:
        any_flagged = bool(findings["flagged"].any())
        out = []
        for b in bad:
            e = classify(str(b.text))
            if any_flagged or salt is not None:
                out.append(replace(b, text="[withheld: a line of a de-identified run or of a file with identifiers]"))
            elif e.kind is not None:
                out.append(replace(b, text=withheld(e.kind)))
            else:
                out.append(b)
        bad = out
    if dropped:
        log.warn(f"{name}: direct identifiers not carried: {', '.join(dropped)}")
    return replace(table, data=data, bad_lines=bad), new_roles

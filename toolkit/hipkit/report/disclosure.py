"""Disclosure control for everything a report publishes: one ledger, primary and complementary suppression.

Every count of people (or legs, or records) that a report shows is registered here as a
:class:`Count`, with the set of units it counts when there is one. :meth:`Disclosure.resolve`
then decides, over the whole report at once, which counts are shown:

1. **Primary suppression**: a count from 1 to ``min_cell - 1`` is hidden (shown ``"<5"``); zero is
   shown (it identifies no one).
2. **Complementary suppression**: no hidden count may be recoverable from the published ones by
   sums and differences. Because each count is the size of a set of units, the whole report is a
   system of linked tables: the margins (total, per group, per site, per visit) and every overlap
   between tables are the membership of the sets, not rules written for one table. A hidden count
   ``h`` can be recovered exactly when the indicator vector of its set is a linear combination of
   the indicator vectors of published sets (then ``h`` is the same combination of their values).
   The test is done on *atoms* (the classes of units with the same membership in every set, so
   the matrix has one row per atom, not per unit): while some hidden count lies in the span of
   the published ones, the cheapest published count taking part in the combination is hidden as
   well (shown ``"suppressed"``). Counts without member sets (records of a cleaning log) are
   linked by declared relations (:meth:`Disclosure.relation`: total = sum of parts).
3. **Implicit counts**: a count that is not shown but follows from shown ones (non-responders =
   patients - responders) is registered with ``published=False``; it is protected like a shown
   count when small, and never shown.

Why hand-written: the statistical-disclosure libraries (sdcMicro, tau-Argus, sdcTable) are R or Java
programs for one table at a time with declared hierarchies; a report's tables overlap in ways no
hierarchy declares (patients seen at week 2 among those with a pain score), which the member sets
capture directly. The linear test is exact for recovery by sums and differences; bounds from
non-negativity (interval disclosure) are not searched.

The ledger (:meth:`Disclosure.audit`) lists every registered count with its status and reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, UsageError

__all__ = ["Count", "Disclosure", "PRIMARY", "COMPLEMENTARY", "count_table", "suppress"]

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _whole(value, what: str, minimum: int = 0) -> int:
    """``value`` as an int when it is a whole number >= ``minimum`` (2.0 yes; 2.7, True, -1, "3" no)."""
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) != int(value) or value < minimum:
        raise InputError(f"{what} must be a whole number >= {minimum} (got {value!r})")
    return int(value)


@dataclass(frozen=True)
class Count:
    """A registered count: its key in the ledger and its true value (never shown before resolving)."""

    key: tuple
    value: int

    def __str__(self) -> str:  # a Count must go through Disclosure.show before it is displayed
        raise UsageError("a Count is shown through Disclosure.show or Disclosure.publish")


@dataclass
class _Entry:
    key: tuple
    value: int
    universe: str
    members: np.ndarray | None
    published: bool
    table: str
    cost: float = 0.0
    status: str = "shown"
    reason: str = ""


@dataclass
class Disclosure:
    """The report's disclosure ledger (one per report).

    Parameters
    ----------
    min_cell : int, default 5
        Smallest count shown; counts from 1 to ``min_cell - 1`` are hidden.

    Examples
    --------
    >>> d = Disclosure(min_cell=5)
    >>> total = d.count(("enrolled", "all"), members=range(15), cost=1)  # a margin: cheap to hide
    >>> hip = d.count(("enrolled", "HIP"), members=range(12))
    >>> knee = d.count(("enrolled", "KNEE"), members=range(12, 15))
    >>> d.resolve()
    >>> [d.show(c) for c in (total, hip, knee)]  # 15 - 12 would give the 3 away
    ['suppressed', 12, '<5']
    """

    min_cell: int = 5
    _entries: dict = field(default_factory=dict)
    _relations: list = field(default_factory=list)
    _universes: dict = field(default_factory=dict)
    _sizes: dict = field(default_factory=dict)
    _resolved: bool = False

    def __post_init__(self):
        self.min_cell = _whole(self.min_cell, "min_cell", minimum=1)

    # -- registering -------------------------------------------------------------------------------
    def count(
        self,
        key,
        members=None,
        value: int | None = None,
        universe: str = "patients",
        published: bool = True,
        table: str = "",
        cost: float | None = None,
    ) -> Count:
        """Register one count; returns the :class:`Count` to put in a table or sentence.

        Parameters
        ----------
        key : hashable
            Unique within the report (a tuple such as ``("seen", "HIP", 2.0)``). Registering the
            same key again with the same value returns the same count (one number, shown twice).
        members : iterable, optional
            The units counted (patient ids, ``(id, side)`` pairs, ...); the count is their number of
            distinct values. Without it, give ``value``.
        value : int, optional
            The count, for counts without a member set (records).
        universe : str, default "patients"
            What is counted; sets are compared only within one universe.
        published : bool, default True
            False for a count that is not shown but follows from shown ones (protected when small).
        table : str, default ""
            Where the count is shown (for the audit).
        cost : float, optional
            What the report loses when this count is hidden to protect another; the cheapest count
            taking part in a recovery is hidden first. Default: the count itself (hide as few people
            as possible). Give a low cost to margins that readers see split into cells (totals).

        Returns
        -------
        Count
        """
        key = key if isinstance(key, tuple) else (key,)
        codes = None
        if members is not None:
            codes = self._codes(universe, members)
            n = len(codes)
            if value is not None and _whole(value, f"count {key}: value") != n:
                raise InputError(f"count {key}: value {value} but {n} distinct members")
            value = n
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise InputError(f"count {key}: give members or a value")
        value = _whole(value, f"count {key}: value")
        if cost is not None and not (_is_number(cost) and math.isfinite(float(cost)) and float(cost) >= 0):
            raise InputError(f"count {key}: cost must be a finite number >= 0 (got {cost!r})")
        if key in self._entries:
            old = self._entries[key]
            if old.value != value or old.universe != universe:
                raise InputError(f"count {key} registered twice with different values ({old.value}, {value})")
            old.published = old.published or published
            return Count(key, value)
        self._resolved = False
        self._entries[key] = _Entry(
            key, value, universe, codes, bool(published), table, cost=float(value if cost is None else cost)
        )
        return Count(key, value)

    def relation(self, total: Count, parts) -> None:
        """Declare that ``total`` is the sum of ``parts`` (for counts registered without members)."""
        self._relations.append((total.key, [p.key for p in parts]))
        self._resolved = False

    def _codes(self, universe: str, members) -> np.ndarray:
        """Distinct members as integer codes within ``universe``.

        An integer array is taken as codes already (the fast path the report uses: patients
        numbered once); anything else is mapped through one hash lookup per member.
        """
        if isinstance(members, np.ndarray) and members.dtype.kind in "iu":
            kind = self._universes.setdefault(universe, "codes")
            if not isinstance(kind, str):
                raise InputError(f"universe {universe!r} mixes integer codes and labels")
            codes = pd.unique(members.astype(np.int64, copy=False))  # hashing: no sort needed
            if len(codes) and codes.min() < 0:
                raise InputError("member codes must be non-negative")
            self._sizes[universe] = max(self._sizes.get(universe, 0), int(codes.max()) + 1 if len(codes) else 0)
            return codes
        series = pd.Series(list(members), dtype=object)
        missing = int(series.isna().sum())
        if missing:
            raise InputError(f"universe {universe!r}: {missing} missing member(s): a missing id is not a unit to count")
        values = pd.unique(series)
        index = self._universes.get(universe, pd.Index([], dtype=object))
        if isinstance(index, str):
            raise InputError(f"universe {universe!r} mixes integer codes and labels")
        codes = index.get_indexer(values)
        new = codes < 0
        if new.any():
            fresh = pd.Index(values[new], dtype=object)
            codes[new] = len(index) + np.arange(len(fresh))
            index = index.append(fresh)
        self._universes[universe] = index
        self._sizes[universe] = len(index)
        return codes.astype(np.int64)

    # -- resolving ---------------------------------------------------------------------------------
    def resolve(self) -> None:
        """Apply primary, then complementary suppression over every registered count."""
        for e in self._entries.values():
            small = 0 < e.value < self.min_cell
            e.status, e.reason = ("hidden", PRIMARY) if small else ("shown", "")
        for universe in {e.universe for e in self._entries.values() if e.members is not None}:
            self._complement_sets(universe)
        self._complement_relations()
        self._resolved = True

    def _complement_sets(self, universe: str) -> None:
        entries = [e for e in self._entries.values() if e.universe == universe and e.members is not None]
        entries = [e for e in entries if e.value > 0]  # empty sets carry no vector
        if not entries:
            return
        n_units = self._sizes[universe]
        member = np.zeros((n_units, len(entries)), dtype=bool)
        for j, e in enumerate(entries):
            member[e.members, j] = True
        # Atoms: units with the same membership everywhere (rows of the matrix, deduplicated).
        used = member[member.any(axis=1)]
        packed = np.packbits(used, axis=1)
        rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first = np.unique(rows, return_index=True)
        atoms = used[np.sort(first)].astype(float)
        while True:
            shown = [j for j, e in enumerate(entries) if e.status == "shown" and e.published]
            # Only primary cells need protecting: a complementary cell is large, and a primary cell
            # outside the span of the published ones cannot be recovered whatever else is known.
            hidden = [j for j, e in enumerate(entries) if e.reason == PRIMARY]
            if not hidden or not shown:
                return
            a = atoms[:, shown]
            u, s, _ = np.linalg.svd(a, full_matrices=False)
            basis = u[:, s > s[0] * 1e-10] if len(s) and s[0] > 0 else u[:, :0]
            found = None
            for j in hidden:
                b = atoms[:, j]
                if np.linalg.norm(b - basis @ (basis.T @ b)) < 1e-6 * max(1.0, np.linalg.norm(b)):
                    found = j
                    break
            if found is None:
                return
            coef, *_ = np.linalg.lstsq(a, atoms[:, found], rcond=None)
            involved = [shown[i] for i in np.flatnonzero(np.abs(coef) > 1e-8)]
            victim = min(involved, key=lambda j: (entries[j].cost, entries[j].value, j))
            entries[victim].status, entries[victim].reason = "hidden", COMPLEMENTARY

    def _complement_relations(self) -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in self._relations:
                cells = [self._entries[k] for k in (total, *parts)]
                hidden = [e for e in cells if e.status == "hidden" or not e.published]
                small = [e for e in hidden if e.reason == PRIMARY]
                if small and len(hidden) == 1:
                    candidates = [e for e in cells if e.status == "shown" and e.value > 0]
                    if candidates:
                        victim = min(candidates, key=lambda e: (e.cost, e.value))
                        victim.status, victim.reason = "hidden", COMPLEMENTARY
                        changed = True

    # -- showing -----------------------------------------------------------------------------------
    def _entry(self, count) -> _Entry:
        if not self._resolved:
            raise UsageError("Disclosure.resolve() must run before any count is shown")
        key = count.key if isinstance(count, Count) else (count if isinstance(count, tuple) else (count,))
        return self._entries[key]

    def hidden(self, count) -> bool:
        """Whether ``count`` is suppressed (primary or complementary)."""
        return self._entry(count).status == "hidden"

    def show(self, count):
        """What the report prints for ``count``: the number, ``"<min_cell"`` or ``"suppressed"``.

        Anything that is not a :class:`Count` (text, a missing value) is returned unchanged.
        """
        if not isinstance(count, Count):
            return count
        e = self._entry(count)
        if not e.published:
            raise UsageError(f"count {e.key} was registered as not published")
        if e.status == "shown":
            return e.value
        return f"<{self.min_cell}" if e.reason == PRIMARY else "suppressed"

    def publish(self, frame: pd.DataFrame, hide_with: dict | None = None) -> pd.DataFrame:
        """``frame`` with every :class:`Count` replaced by what is shown.

        Parameters
        ----------
        frame : pandas.DataFrame
        hide_with : dict, optional
            ``{count_column: [columns]}``: where the count is hidden, the other columns (means,
            rates and intervals built on it) are set to missing.

        Returns
        -------
        pandas.DataFrame
        """
        out = frame.copy()
        blank: dict = {}
        for column, others in (hide_with or {}).items():
            if column not in out.columns:
                continue
            mask = out[column].map(lambda c: isinstance(c, Count) and self.hidden(c)).to_numpy(dtype=bool)
            for other in others:
                if other in out.columns:
                    blank[other] = blank.get(other, np.zeros(len(out), dtype=bool)) | mask
        for other, mask in blank.items():
            if mask.any():
                out[other] = out[other].where(~mask)
        for column in out.columns:
            if out[column].dtype == object and out[column].map(lambda c: isinstance(c, Count)).any():
                out[column] = out[column].map(self.show).astype(object)
        return out

    def audit(self) -> pd.DataFrame:
        """The ledger: one row per registered count (true values: for the audit, never for the report).

        Returns
        -------
        pandas.DataFrame
            ``key, table, universe, value, published, status, reason``.
        """
        rows = [
            {
                "key": e.key,
                "table": e.table,
                "universe": e.universe,
                "value": e.value,
                "published": e.published,
                "status": e.status,
                "reason": e.reason,
            }
            for e in self._entries.values()
        ]
        return pd.DataFrame(rows, columns=["key", "table", "universe", "value", "published", "status", "reason"])

    def members(self, count) -> np.ndarray | None:
        """The member codes of a registered count (for tests and audits)."""
        e = self._entries[count.key if isinstance(count, Count) else count]
        return e.members


def count_table(
    ledger: Disclosure,
    data: pd.DataFrame,
    index,
    columns: str | None = None,
    subject: str = "participant_id",
    name: str = "table",
) -> pd.DataFrame:
    """People per cell of a cross-table, each cell registered in ``ledger`` with the people it counts.

    For notebooks and reports that build their own tables: the cells (and, through their member
    sets, every margin they share with other tables) are protected together when the ledger is
    resolved; show the table with :meth:`Disclosure.publish`.

    Parameters
    ----------
    ledger : Disclosure
    data : pandas.DataFrame
        Long table, one or more rows per person.
    index : str or list of str
        Row variables.
    columns : str, optional
        Column variable (e.g. the visit week).
    subject : str, default "participant_id"
        Whose number is counted (distinct values per cell).
    name : str, default "table"
        Prefix of the ledger keys (one name per table).

    Returns
    -------
    pandas.DataFrame
        Rows ``index`` (as the frame's index), one column per value of ``columns`` (or ``"n"``),
        cells :class:`Count` (0 where nobody is in the cell).

    Examples
    --------
    >>> d = Disclosure(5)
    >>> data = pd.DataFrame({"participant_id": range(9), "group": ["A"] * 7 + ["B"] * 2})
    >>> t = count_table(d, data, "group")
    >>> d.resolve()
    >>> d.publish(t)["n"].tolist()
    [7, '<5']
    """
    index = [index] if isinstance(index, str) else list(index)
    keys = index + ([columns] if columns else [])
    members = data.loc[data[subject].notna()].groupby(keys, observed=True, dropna=False)[subject].unique()
    row_values = members.index.droplevel(columns).unique() if columns else members.index.unique()
    col_values = sorted(members.index.get_level_values(columns).unique()) if columns else ["n"]
    out = pd.DataFrame(index=row_values.sort_values(), columns=col_values, dtype=object)
    for row in out.index:
        row_key = row if isinstance(row, tuple) else (row,)
        for col in col_values:
            key = (*row_key, col) if columns else row_key
            found = members.get(key if len(key) > 1 else key[0], [])
            out.at[row, col] = ledger.count((name, *row_key, col), members=list(found), table=name)
    out.columns.name = columns
    return out


def suppress(counts, min_cell: int = 5):
    """Counts of one table shown with primary suppression only: 1 to ``min_cell - 1`` as ``"<min_cell"``.

    The ledger's rule (:meth:`Disclosure.resolve`) for counts that are not linked to any other
    table: zero is shown (it identifies no one), missing values stay missing. Counts that share
    people with other tables belong in the report's ledger instead (:func:`count_table`).

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
    ledger = Disclosure(min_cell)
    if np.isscalar(counts) or counts is None:
        if counts is None or (isinstance(counts, float) and math.isnan(counts)):
            return counts
        count = ledger.count(("count",), value=int(counts), universe="counts")
        ledger.resolve()
        return ledger.show(count)
    frame = counts.to_frame() if isinstance(counts, pd.Series) else counts
    cells = frame.to_numpy(dtype=object, copy=True)
    missing = frame.isna().to_numpy()
    for i, j in zip(*np.nonzero(~missing)):
        cells[i, j] = ledger.count(("cell", int(i), int(j)), value=int(cells[i, j]), universe="counts")
    ledger.resolve()
    for i, j in zip(*np.nonzero(~missing)):
        cells[i, j] = ledger.show(cells[i, j])
    shown = pd.DataFrame(cells, index=frame.index, columns=frame.columns, dtype=object)
    return shown.iloc[:, 0].rename(counts.name) if isinstance(counts, pd.Series) else shown


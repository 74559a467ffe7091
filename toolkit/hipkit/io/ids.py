"""Participant identity: the one id normaliser every reader and every command uses.

A participant id is text exactly as written, apart from case, white space and characters that
cannot be seen. The cleaner applies it to raw exports (:mod:`hipkit.cleaning.harmonise`) and
:func:`hipkit.io.read_clean_table` applies it again when ``hipkit fit``, ``describe`` and
``report`` read a clean table back, so a clean table round-trips with the same participants
(issue 16, "identity end to end").
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["normalise_ids", "numeric_collisions", "folded_spellings", "INVISIBLE_CHARS", "CONTROL_CHARS"]

# Invisible format characters: soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width
# space/joiners, direction marks and embeddings, word joiner, invisible operators, isolates, BOM.
INVISIBLE_CHARS = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")
_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def _text(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))  # any integral float, 2**53 and above too (str() would write 1e+16 or ...992.0)
    return str(v)


def normalise_ids(raw: pd.Series) -> pd.Series:
    """Participant ids as text: exactly as written, apart from case, spaces and invisible characters.

    Leading zeros are part of an id (``007`` and ``7`` are two people). Compatibility forms are
    folded (NFKC: full-width ``Ｐ０１`` is ``P01``), invisible format characters (zero-width
    spaces, direction marks, soft hyphens), control characters and all white space are removed,
    and letters are upper-cased. Numeric columns (Parquet, Excel) give integer text (``1``, not
    ``1.0``). Missing values give ``""``. The function is idempotent: normalising a normalised id
    changes nothing, which is what lets a clean table be read back with the same participants.

    Parameters
    ----------
    raw : Series
        Ids as read (text, numbers or a mix).

    Returns
    -------
    Series of str (object dtype), same index.

    Examples
    --------
    >>> normalise_ids(pd.Series([" p01 ", "007", "7", "P\u200b01", 3.0])).tolist()
    ['P01', '007', '7', 'P01', '3']
    """
    values = raw.astype("object")
    if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True).startswith("mixed"):
        # True == 1 == 1.0 for hashing, so factorize would give a boolean and a number one id: key the
        # booleans by their text first (a column mixing them is an export error, but two people stay two).
        is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in values), dtype=bool, count=len(values))
        if is_bool.any():
            values = values.copy()
            values[is_bool] = values[is_bool].astype(str)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    u = np.array([_fold(_text(v)) for v in uniques] + [""], dtype="object")
    return pd.Series(u[np.where(codes < 0, len(uniques), codes)], index=raw.index, dtype="object")


def _fold(text: str) -> str:
    """NFKC, drop invisible, control and space characters, upper-case; repeated to a fixed point.

    Upper-casing can leave a string that NFKC composes further (``R`` + combining cedilla is
    ``Ŗ``), so one pass is not idempotent; a second pass almost always reaches the fixed point.
    """
    for _ in range(6):
        folded = unicodedata.normalize("NFKC", text)
        folded = CONTROL_CHARS.sub("", INVISIBLE_CHARS.sub("", folded))
        folded = _WS.sub("", folded).upper().replace("\u1e9e", "SS")  # capital sharp s: as ß.upper()
        if folded == text:
            break
        text = folded
    return text


def numeric_collisions(ids: pd.Series) -> list[list[str]]:
    """Groups of distinct ids that differ only in leading zeros of a number (``007``/``7``, ``P01``/``P1``).

    Examples
    --------
    >>> numeric_collisions(pd.Series(["007", "7", "P01", "P1", "P2"]))
    [['007', '7'], ['P01', 'P1']]
    """
    u = pd.Series(pd.unique(ids.dropna().astype("str")))
    if not len(u):
        return []
    key = u.str.replace(_DIGITS, lambda m: str(int(m.group(0))), regex=True)
    groups = u.groupby(key.to_numpy()).agg(list)
    return [sorted(g) for g in groups if len(g) > 1]


def folded_spellings(raw: pd.Series, normalised: pd.Series | None = None) -> dict[str, int]:
    """Ids that were written in more than one way and fold to one id: ``{id: number of spellings}``.

    Spellings are compared as text (a number and its text, ``1`` and ``"1"``, are one spelling).
    Empty ids are left out.

    Examples
    --------
    >>> folded_spellings(pd.Series(["P01", "p01 ", "P\u200b01", "P02", "P02"]))
    {'P01': 3}
    """
    norm = normalise_ids(raw) if normalised is None else normalised
    text = pd.Series([_text(v) for v in raw.astype("object")], index=raw.index, dtype="object")
    pairs = pd.DataFrame({"id": norm.to_numpy(), "raw": text.to_numpy()})
    pairs = pairs[pairs["id"] != ""].drop_duplicates()
    counts = pairs.groupby("id", sort=True)["raw"].size()
    return {str(k): int(v) for k, v in counts[counts > 1].items()}

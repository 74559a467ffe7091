"""De-identification: ids replaced by salted hashes, dates shifted per participant.

Direct identifiers (name, date of birth, phone, email, address, ...) are never carried into the
clean table, with or without this step. On request, this step also

- replaces each participant id by ``P`` + the first 12 hex digits (upper case) of HMAC-SHA256(salt, id), so the
  same id and salt always give the same code and the code cannot be reversed without the salt;
- shifts every date of a participant by the same offset, -182 to +182 days, drawn from
  HMAC-SHA256(salt, "date:" + id): intervals within a participant (``days_from_baseline``) are
  kept exactly.

The salt is never written to any output. Keep it (``--salt-file``) to re-identify consistently
across exports; without one, a random salt is used and codes differ between runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .issues import Issues

__all__ = ["deidentify", "read_salt", "hash_ids", "code_for"]

MAX_SHIFT_DAYS = 182


def read_salt(salt: str | bytes | Path | None) -> bytes:
    """Return the salt as bytes: from a file path, a literal, ``$HIPKIT_SALT``, or random."""
    if salt is None:
        env = os.environ.get("HIPKIT_SALT")
        return env.encode() if env else secrets.token_bytes(32)
    if isinstance(salt, bytes):
        return salt
    p = Path(salt)
    if p.exists():
        data = p.read_bytes().strip()
        if not data:
            raise InputError(f"{p}: the salt file is empty")
        return data
    if isinstance(salt, Path):
        raise InputError(f"{p}: no such salt file")
    return str(salt).encode()


def _digest(salt: bytes, text: str) -> bytes:
    return hmac.new(salt, text.encode("utf-8"), hashlib.sha256).digest()


def deidentify(data: pd.DataFrame, issues: Issues, *, salt: bytes) -> tuple[pd.DataFrame, Issues]:
    """Hash ids and shift dates of ``data`` (see the module docstring; a step); return a new table."""
    data = data.copy()
    log = issues.log
    ids = data["participant_id"].astype("object")
    uniques = pd.unique(ids.dropna())
    codes = {u: code_for(salt, u) for u in uniques}
    shift = {
        u: int.from_bytes(_digest(salt, "date:" + str(u))[:4], "big") % (2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS
        for u in uniques
    }
    if "visit_date" in data.columns:
        offset = pd.to_timedelta(ids.map(shift).astype(float), unit="D")
        data["visit_date"] = data["visit_date"] + offset
        log.count("deidentify", "dates shifted", int(data["visit_date"].notna().sum()))
    data["participant_id"] = ids.map(codes)
    log.count("deidentify", "participant ids hashed", len(uniques))
    log.step(
        "deidentify",
        ids="HMAC-SHA256(salt, id), P and 12 upper-case hex digits",
        dates=f"shifted per participant by -{MAX_SHIFT_DAYS}..+{MAX_SHIFT_DAYS} days",
        salt="not written",
    )
    return data, issues


def code_for(salt: bytes, value) -> str:
    """The salted code of one id, as :func:`deidentify` writes it: ``P`` and 12 upper-case hex digits.

    Upper case, so that a code is its own normal form (:func:`hipkit.io.ids.normalise_ids`) and a
    de-identified clean table reads back with the same ids.
    """
    return "P" + _digest(salt, str(value)).hex()[:12].upper()


def hash_ids(values: pd.Series, salt: bytes) -> pd.Series:
    """Hash a column of ids the same way as :func:`deidentify` (for quarantine tables)."""
    return values.astype("object").map(
        lambda v: v if v in (None, "") or v is pd.NA else code_for(salt, v)
    )

"""The cleaner's identifier step: direct identifiers kept out of everything the cleaner writes.

What is an identifier is decided by :mod:`hipkit.cleaning.identifiers` (content) and
:mod:`hipkit.cleaning.identifier_headers` (headers); this step applies the decision to one raw table
before any other step sees its values.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .._glossary import QuarantineReason as R
from ..errors import InputError, UnmappableFileError
from ..registry import Registry
from ._identifier_values import classify
from .columns import ColumnRole, MappedTable
from .deidentify import hash_ids
from .identifiers import IdentifierScan, participant_keys, withheld
from .issues import Issues

__all__ = ["screen_identifiers"]


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


def screen_identifiers(
    mapped: MappedTable,
    issues: Issues,
    *,
    registry: Registry,
    salt: bytes | None = None,
    scan: IdentifierScan | None = None,
) -> tuple[MappedTable, Issues]:
    """Keep direct identifiers out of everything the cleaner writes, for one raw file: a step.

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
    mapped : MappedTable
        The raw table and its column roles (:func:`hipkit.clean.map_columns`).
    issues : Issues
    registry : Registry
    salt : bytes, optional
        The de-identification salt (``deidentify=True``); None when not de-identifying.
    scan : IdentifierScan, optional
        The evidence of the whole file, when ``table`` is a part of it (out of core): which columns
        are identifiers, and which name-like labels several participants share, are then decided
        over the whole file, as in memory.

    Returns
    -------
    mapped : MappedTable
        A new table with withheld cells blanked (and ids hashed when they are identifiers), and
        roles with flagged columns turned into ``identifier``.
    issues : Issues

    Raises
    ------
    InputError
        The participant-id column holds identifiers and ``salt`` is None.
    UnmappableFileError
        No measure column is left once identifier columns are set aside.
    """
    table, roles = mapped.table, mapped.roles
    q, log = issues.quarantine, issues.log
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
    return MappedTable(replace(table, data=data, bad_lines=bad), new_roles), issues

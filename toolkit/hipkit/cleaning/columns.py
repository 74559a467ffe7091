"""Column mapping: what each header of an export holds, from the registry and a mapping file.

A header is read as *measure* + optional *visit* + optional *side* + optional *unit*, in any order:
``"HipAbd_6wk (lb)"`` is hip-abductor strength at week 6 in pounds-force, ``"Pain wk2"`` is pain at
week 2, ``"VAS (mm)"`` is a per-row pain VAS in millimetres. Anything the heuristics cannot place is
reported by name (``unmapped``), never guessed; a mapping file settles it::

    # mapping.yml
    columns:
      "Pt Code": participant_id
      "Abd force L wk 2": {measure: hip_abd_strength_n, unit: kgf, visit: 2, side: left}
      "Therapist": ignore
    visits:            # visit labels the heuristics cannot read
      "Visit 1": 0
      "Visit 2": 2
    values:            # coded categories (e.g. REDCap raw exports)
      sex: {"1": female, "2": male}
    date_format: "%d/%m/%Y"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config import suggest
from ..errors import InputError, UnmappableFileError
from ..registry import Registry, normalise_label
from .mapping_file import read_mapping_file

__all__ = ["ColumnRole", "MappedTable", "Mapping", "load_mapping", "map_columns", "parse_visit_label"]

_WEEK_WORDS = {"wk", "wks", "week", "weeks", "w"}
_SIDE_WORDS = {"l": "left", "lt": "left", "left": "left", "r": "right", "rt": "right", "right": "right"}
_LIMB_WORDS = {
    "inj": "involved",
    "injured": "involved",
    "involved": "involved",
    "affected": "involved",
    "symptomatic": "involved",
    "uninj": "uninvolved",
    "uninjured": "uninvolved",
    "uninvolved": "uninvolved",
    "unaffected": "uninvolved",
    "noninjured": "uninvolved",
    "asymptomatic": "uninvolved",
    "healthy": "uninvolved",
}
# Week numbers may have decimals: "week 2.5" is tokenised as "week 2d5" (see _label_tokens).
_NUMBER = r"\d{1,3}(?:d\d{1,2})?"
_TOKEN_WEEK = [
    re.compile(rf"^(?:wk|wks|week|weeks|w)({_NUMBER})$"),
    re.compile(rf"^({_NUMBER})(?:wk|wks|week|weeks|w)$"),
]
_IS_NUMBER = re.compile(rf"^{_NUMBER}$")
_DECIMAL_IN_LABEL = re.compile(r"(\d)[.,](\d)")


def _label_tokens(text: str) -> list[str]:
    """Tokens of a label or header, keeping decimal numbers whole ("week 2.5" -> ["week", "2d5"])."""
    return normalise_label(_DECIMAL_IN_LABEL.sub(r"\1d\2", str(text))).split()


def _week_number(token: str) -> float:
    return float(token.replace("d", "."))
_BRACKET = re.compile(r"[\(\[]([^\)\]]*)[\)\]]")
_REDCAP_BOOKKEEPING = re.compile(
    r"^(redcap_repeat_instrument|redcap_repeat_instance|redcap_survey_identifier|.*_complete|.*_timestamp)$"
)


@dataclass(frozen=True)
class ColumnRole:
    """What one raw column holds.

    ``role`` is one of ``key`` (participant_id, visit, visit_date, group, site, sex, side,
    affected_side, discharge_reason), ``measure`` (a registry measure or covariate), ``unit``
    (the unit of a measure, per row), ``identifier`` (a direct identifier: never written out),
    ``ignore`` and ``unmapped``.
    """

    raw: str
    role: str
    target: str | None = None
    visit: float | None = None
    side: str | None = None
    limb: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class MappedTable:
    """One raw table with the role of each of its columns: what the first cleaning steps pass on.

    Attributes
    ----------
    table : hipkit.io.RawTable
    roles : list of ColumnRole
        From :func:`map_columns`, one per column of ``table.data``.
    """

    table: Any
    roles: list


@dataclass
class Mapping:
    """A user mapping file, parsed (see the module docstring for its shape)."""

    columns: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, float] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    source: str | None = None


def load_mapping(path: str | Path | Mapping | dict | None) -> Mapping:
    """Read a mapping YAML file (or pass through a dict / :class:`Mapping`).

    The file is read safely and checked key by key (:mod:`hipkit.cleaning.mapping_file`): every
    value stays as written (a header ``007``, a code ``1``, a visit label ``no``), and an unknown
    key, a wrong type, an alias or a hostile file is one line naming the file and the line.

    Parameters
    ----------
    path : str, Path, dict, Mapping or None
        The mapping file, its content as a dict, or an already parsed :class:`Mapping`.

    Returns
    -------
    Mapping

    Raises
    ------
    InputError
        The file cannot be read or does not have the mapping file's shape.

    Examples
    --------
    >>> load_mapping({"visits": {"Visit 2": 2}}).visits
    {'visit 2': 2.0}
    """
    if path is None:
        return Mapping()
    if isinstance(path, Mapping):
        return path
    parts, origin = read_mapping_file(path)
    return Mapping(**parts, source=origin)


def parse_visit_label(label: str, registry: Registry, mapping: Mapping | None = None) -> float | None:
    """Return the week a visit label names, or None when it cannot be read without guessing.

    Reads ``Baseline``, ``BL``, ``pre``, ``Week 2``, ``wk4``, ``6 weeks``, ``W6``, ``week_2_arm_1``
    (REDCap events), and bare numbers only when the column is known to hold weeks (the caller
    decides). Labels such as ``Visit 2`` are ambiguous (visit number or week?) and return None
    unless the mapping file's ``visits:`` section names them.

    Examples
    --------
    >>> from hipkit import load_registry
    >>> reg = load_registry()
    >>> [parse_visit_label(x, reg) for x in ["Baseline", "Week 2", "wk4", "6 weeks", "W2", "week 2.5", "Visit 2"]]
    [0.0, 2.0, 4.0, 6.0, 2.0, 2.5, None]
    """
    text = normalise_label(label)
    text = re.sub(r"\s*arm \d+$", "", text)  # REDCap event suffix
    if mapping is not None and text in mapping.visits:
        return mapping.visits[text]
    if not text:
        return None
    if text in registry.baseline_labels:
        return 0.0
    tokens = _label_tokens(re.sub(r"[\s_]*arm[\s_]*\d+\s*$", "", str(label).lower()))
    found = _week_from_tokens(tokens)
    if found is None or len(tokens) > 3:
        return None
    week, rest = found
    if any(ch.isdigit() for t in rest for ch in t):
        return None  # another number beside the week ("week 2 3"): which is it?
    return week


def _week_from_tokens(tokens: list[str]) -> tuple[float, list[str]] | None:
    """Find one visit-week token (or token pair) in ``tokens``; return (week, other tokens)."""
    for i, tok in enumerate(tokens):
        for rx in _TOKEN_WEEK:
            m = rx.match(tok)
            if m:
                return _week_number(m.group(1)), tokens[:i] + tokens[i + 1 :]
        if tok in _WEEK_WORDS and i + 1 < len(tokens) and _IS_NUMBER.match(tokens[i + 1]):
            return _week_number(tokens[i + 1]), tokens[:i] + tokens[i + 2 :]
        if _IS_NUMBER.match(tok) and i + 1 < len(tokens) and tokens[i + 1] in (_WEEK_WORDS - {"w"}):
            return _week_number(tok), tokens[:i] + tokens[i + 2 :]
    return None


def _role_from_mapping(raw: str, spec: Any, registry: Registry, origin: str) -> ColumnRole:
    if isinstance(spec, str):
        spec = {"target": spec}
    if not isinstance(spec, dict):
        raise InputError(f"{origin}: column {raw!r} must map to a name or a mapping")
    target = spec.get("target") or spec.get("measure") or spec.get("key")
    if target in ("ignore", None) and not spec.get("measure"):
        return ColumnRole(raw, "ignore")
    if target == "identifier":
        return ColumnRole(raw, "identifier")
    visit = spec.get("visit")
    side = spec.get("side")
    limb = None
    if side is not None:
        side_n = normalise_label(side)
        limb = _LIMB_WORDS.get(side_n)
        side = None if limb else _SIDE_WORDS.get(side_n)
        if side is None and limb is None:
            raise InputError(f"{origin}: column {raw!r}: side {spec.get('side')!r} is not left/right/injured/uninjured")
    if target in registry:
        unit = spec.get("unit")
        if unit is not None and registry[target].factor(str(unit)) is None:
            raise InputError(
                f"{origin}: column {raw!r}: unit {unit!r} is not known for {target} "
                f"(known: {', '.join(sorted(k for k in registry[target].units if k))})"
            )
        return ColumnRole(
            raw,
            "measure",
            target,
            None if visit is None else float(visit),
            side,
            limb,
            None if unit is None else str(unit),
        )
    if target in registry.keys or target == "participant_id":
        return ColumnRole(raw, "key", target, None if visit is None else float(visit))
    if isinstance(target, str) and target.endswith("_unit") and target[:-5] in registry:
        return ColumnRole(raw, "unit", target[:-5])
    valid = [*registry.names(), *registry.keys, "participant_id", "ignore", "identifier"]
    raise InputError(
        f"{origin}: column {raw!r} maps to {target!r}, which is neither a measure nor a key{suggest(target, valid)} "
        f"(measures: {', '.join(registry.names())}; keys: {', '.join(registry.keys)}; or 'ignore')"
    )


def _role_from_header(raw: str, registry: Registry, redcap: bool) -> ColumnRole:
    norm = normalise_label(raw)
    if redcap and raw.strip().lower() == "redcap_repeat_instrument":
        return ColumnRole(raw, "key", "repeat_instrument")
    if redcap and _REDCAP_BOOKKEEPING.match(raw.strip().lower()):
        return ColumnRole(raw, "ignore")
    if not norm:
        return ColumnRole(raw, "unmapped")
    if registry.is_identifier(raw):
        return ColumnRole(raw, "identifier")
    key = registry.match_key(raw)
    if key is not None:
        return ColumnRole(raw, "key", key)
    # Pull the unit out of brackets: "HipAbd_6wk (lb)" -> "HipAbd_6wk", "lb".
    unit = None
    brackets = _BRACKET.findall(raw)
    rest = raw
    if brackets:
        unit = brackets[-1].strip()
        rest = _BRACKET.sub(" ", raw)
    tokens = _label_tokens(rest)
    visit = None
    found = _week_from_tokens(tokens)
    if found is not None:
        visit, tokens = found
    else:
        base = [t for t in tokens if t in registry.baseline_labels]
        if base:
            visit = 0.0
            tokens = [t for t in tokens if t not in registry.baseline_labels]
    side = limb = None
    kept = []
    for t in tokens:
        if side is None and limb is None and t in _SIDE_WORDS and len(tokens) > 1:
            side = _SIDE_WORDS[t]
        elif side is None and limb is None and t in _LIMB_WORDS and len(tokens) > 1:
            limb = _LIMB_WORDS[t]
        else:
            kept.append(t)
    tokens = kept
    text = " ".join(tokens)
    # Unit columns: "<measure> unit(s)".
    if tokens and tokens[-1] in ("unit", "units"):
        target = registry.match_header(" ".join(tokens[:-1]))
        if target is not None:
            return ColumnRole(raw, "unit", target)
    target = registry.match_header(text)
    if target is None and len(tokens) > 1:
        # A trailing unit without brackets: "strength n", "vas mm", "six minute walk ft".
        candidate = registry.match_header(" ".join(tokens[:-1]))
        if candidate is not None and registry[candidate].factor(tokens[-1]) is not None and unit is None:
            target, unit = candidate, tokens[-1]
    if target is None:
        key = registry.match_key(text) if (visit is not None or side is not None) else None
        if key in ("visit_date",):
            return ColumnRole(raw, "key", key, visit)
        return ColumnRole(raw, "unmapped")
    return ColumnRole(raw, "measure", target, visit, side, limb, unit)


def map_columns(headers: list[str], registry: Registry, mapping: Mapping, source: str) -> list[ColumnRole]:
    """Give every header of one file its :class:`ColumnRole`.

    Raises
    ------
    UnmappableFileError
        No participant id column, no measure column, a header unit the registry does not know,
        or two columns claiming the same place; the message names the columns.
    """
    redcap = any(normalise_label(h) in ("redcap event name", "record id") for h in headers)
    origin = mapping.source or "mapping"
    roles = []
    for h in headers:
        if h in mapping.columns:
            roles.append(_role_from_mapping(h, mapping.columns[h], registry, origin))
        else:
            roles.append(_role_from_header(h, registry, redcap))
    # "<prefix> unit" next to a measure column whose header starts with that prefix ("HHD unit" and
    # "HHD abduction") holds that measure's units; a unit column left unplaced would make the
    # measure's values be read in the canonical unit, so it is an error, never a guess.
    for i, r in enumerate(roles):
        tokens = normalise_label(r.raw).split()
        if r.role != "unmapped" or not tokens or tokens[-1] not in ("unit", "units"):
            continue
        stem = " ".join(tokens[:-1])
        owners = [
            m
            for m in roles
            if m.role == "measure" and m.unit is None and stem and normalise_label(m.raw).startswith(stem)
        ]
        targets = {m.target for m in owners}
        if len(targets) == 1:
            roles[i] = ColumnRole(r.raw, "unit", targets.pop())
        else:
            raise UnmappableFileError(
                f"{source}: column {r.raw!r} looks like a unit column but hipkit cannot tell which measure it "
                "belongs to; map it in a --map file (columns: {'" + r.raw + "': <measure>_unit})"
            )
    # Units stated in headers must be known: never guess a conversion.
    for r in roles:
        if r.role == "measure" and r.unit is not None and registry[r.target].factor(r.unit) is None:
            m = registry[r.target]
            raise UnmappableFileError(
                f"{source}: column {r.raw!r}: unit {r.unit!r} is not known for {m.name} "
                f"(known: {', '.join(sorted(k for k in m.units if k))}); fix the header or map it in a --map file"
            )
    ids = [r for r in roles if r.role == "key" and r.target == "participant_id"]
    if not ids:
        seen = ", ".join(repr(h) for h in headers[:12]) + (" ..." if len(headers) > 12 else "")
        raise UnmappableFileError(
            f"{source}: no participant id column among {seen}; name one in a --map file "
            f"(columns: {{'<header>': participant_id}})"
        )
    if len(ids) > 1:
        raise UnmappableFileError(
            f"{source}: several columns look like the participant id ({', '.join(r.raw for r in ids)}); "
            "map one to participant_id and the others to ignore in a --map file"
        )
    if not any(r.role == "measure" for r in roles):
        unmapped = [r.raw for r in roles if r.role == "unmapped"]
        raise UnmappableFileError(
            f"{source}: no outcome or covariate column recognised; unmapped columns: "
            f"{', '.join(repr(u) for u in unmapped) or 'none'}; map them in a --map file"
        )
    # Two columns for the same slot (same measure, visit, side) cannot both be kept.
    slots: dict[tuple, str] = {}
    for r in roles:
        if r.role in ("measure", "unit") or (r.role == "key" and r.target != "participant_id"):
            slot = (r.role, r.target, r.visit, r.side, r.limb)
            if slot in slots:
                raise UnmappableFileError(
                    f"{source}: columns {slots[slot]!r} and {r.raw!r} both hold "
                    f"{r.target}{'' if r.visit is None else f' at week {r.visit:g}'}"
                    f"{'' if r.side is None and r.limb is None else f' ({r.side or r.limb})'}; "
                    "map one of them to ignore in a --map file"
                )
            slots[slot] = r.raw
    wide = any(r.visit is not None for r in roles if r.role == "measure")
    if wide and any(r.role == "key" and r.target == "visit" for r in roles):
        raise UnmappableFileError(
            f"{source}: the file has both a visit column and per-visit measure columns; "
            "map the per-visit columns (or the visit column) in a --map file"
        )
    return roles

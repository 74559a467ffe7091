"""The outcome-measure registry: one declarative definition of every measure.

The built-in measures live in ``measures.yaml`` beside this module. Users extend the
registry with a YAML file of the same shape, without editing the package::

    # my_measures.yml
    measures:
      - name: hop_distance_cm
        label: Single-leg hop distance
        kind: outcome
        unit: cm
        units: {"": 1, cm: 1, m: 100}
        range: [0, 300]
        direction: higher_better
        per_side: true
        aliases: [hop, single leg hop, hop distance]

Such a file is read safely and checked key by key (:mod:`hipkit.registry.schema`): a misspelt key
(``mcdi:`` for ``mcid:``) is a :class:`~hipkit.errors.RegistryError` naming the file, the line, the
measure and the closest valid key, never a silently unset MCID.

Examples
--------
>>> from hipkit import load_registry
>>> reg = load_registry()
>>> reg["pain_vas"].mcid
2.0
>>> reg.match_header("Pain VAS")
'pain_vas'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from .._config import suggest
from .._yaml import YamlDocument, parse_yaml, read_yaml
from ..errors import RegistryError, UnknownMeasureError
from .labels import SHORT_LABELS, normalise_label
from .schema import MeasureEntry, MeasureFile, read_measure_file

__all__ = ["Measure", "Registry", "load_registry", "normalise_label"]


@dataclass(frozen=True)
class Measure:
    """One measure (outcome, covariate or derived quantity) of the registry.

    Parameters
    ----------
    name : str
        Canonical column name, with its unit where it has one (``hip_abd_strength_n``).
    label : str
        Human-readable label for plots and reports.
    unit : str
        Canonical unit.
    units : dict of str to float
        Accepted unit spellings (normalised) and the factor that converts each to ``unit``.
        The empty spelling ``""`` gives the factor used when no unit is stated.
    range : tuple of float
        Inclusive valid range in the canonical unit.
    kind : {"outcome", "covariate", "derived"}
    direction : {"higher_better", "lower_better"} or None
    per_side : bool
        Whether the measure is taken on each limb separately.
    aliases : tuple of str
        Header spellings, normalised with :func:`normalise_label`.
    mcid, mdc, sem : float or None
        Minimal clinically important difference, minimal detectable change and standard
        error of measurement, in the canonical unit.
    mcid_source, mdc_source, sem_source : str or None
        The published source of each figure.
    """

    name: str
    label: str
    unit: str
    units: Mapping[str, float]
    range: tuple[float, float]
    kind: str = "outcome"
    direction: str | None = None
    per_side: bool = False
    aliases: tuple[str, ...] = ()
    mcid: float | None = None
    mcid_source: str | None = None
    mdc: float | None = None
    mdc_source: str | None = None
    sem: float | None = None
    sem_source: str | None = None

    @property
    def short_label(self) -> str | None:
        """Short display name for report tables and sentences (``"Pain (VAS)"``), or None: use ``label``."""
        return SHORT_LABELS.get(self.name)

    @property
    def improvement_sign(self) -> int:
        """+1 when higher values are better, -1 when lower values are better."""
        return -1 if self.direction == "lower_better" else 1

    def factor(self, unit: str | None) -> float | None:
        """Return the factor converting ``unit`` to the canonical unit, or None if unknown."""
        key = normalise_label(unit or "")
        if key in self.units:
            return float(self.units[key])
        compact = key.replace(" ", "")
        for spelling, value in self.units.items():
            if spelling.replace(" ", "") == compact:
                return float(value)
        return None


def _measure(entry: MeasureEntry) -> Measure:
    """Turn a validated measure-file entry into a :class:`Measure`."""
    units = {normalise_label(k): float(v) for k, v in (entry.units or {"": 1.0}).items()}
    units.setdefault(normalise_label(entry.unit), 1.0)
    aliases = tuple(dict.fromkeys(normalise_label(a) for a in [entry.name, *(entry.aliases or [])]))
    figures = {
        key: (None, None) if fig is None else (float(fig.value), fig.source)
        for key, fig in (("mcid", entry.mcid), ("mdc", entry.mdc), ("sem", entry.sem))
    }
    return Measure(
        name=entry.name,
        label=entry.label or entry.name,
        unit=entry.unit,
        units=units,
        range=(float(entry.range[0]), float(entry.range[1])),
        kind=entry.resolved_kind,
        direction=entry.direction,
        per_side=bool(entry.per_side),
        aliases=aliases,
        mcid=figures["mcid"][0],
        mcid_source=figures["mcid"][1],
        mdc=figures["mdc"][0],
        mdc_source=figures["mdc"][1],
        sem=figures["sem"][0],
        sem_source=figures["sem"][1],
    )


@dataclass(frozen=True)
class Registry:
    """An immutable collection of measures plus the vocabulary of keys and categories.

    Build one with :func:`load_registry`; extend it with :meth:`extend`.
    """

    measures: tuple[Measure, ...]
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    identifiers: tuple[str, ...] = ()
    categories: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    missing_tokens: frozenset[str] = frozenset()
    baseline_labels: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        names = [m.name for m in self.measures]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise RegistryError(f"measure names defined twice: {sorted(dup)}")
        object.__setattr__(self, "_by_name", {m.name: m for m in self.measures})
        alias_map: dict[str, str] = {}
        for m in self.measures:
            for a in m.aliases:
                alias_map.setdefault(a, m.name)
        object.__setattr__(self, "_alias", alias_map)
        key_map: dict[str, str] = {}
        for key, spellings in self.keys.items():
            for s in (key, *spellings):
                key_map.setdefault(normalise_label(s), key)
        object.__setattr__(self, "_key_alias", key_map)

    # -- look-ups -------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Measure:
        try:
            return self._by_name[name]  # type: ignore[attr-defined]
        except KeyError:
            raise UnknownMeasureError(
                f"no measure {name!r} in the registry; known: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    def __iter__(self):
        return iter(self.measures)

    def __len__(self) -> int:
        return len(self.measures)

    def names(self, kind: str | Iterable[str] | None = None) -> list[str]:
        """Canonical names of the measures, optionally only those of ``kind``."""
        if kind is None:
            return [m.name for m in self.measures]
        kinds = {kind} if isinstance(kind, str) else set(kind)
        return [m.name for m in self.measures if m.kind in kinds]

    def match_header(self, text: str) -> str | None:
        """Return the measure a header (without visit, side or unit tokens) names, or None.

        Examples
        --------
        >>> load_registry().match_header("HipAbd")
        'hip_abd_strength_n'
        """
        key = normalise_label(text)
        found = self._alias.get(key)  # type: ignore[attr-defined]
        if found is None:
            found = self._alias.get(key.replace(" ", ""))  # type: ignore[attr-defined]
        if found is None:
            compact = {a.replace(" ", ""): n for a, n in self._alias.items()}  # type: ignore[attr-defined]
            found = compact.get(key.replace(" ", ""))
        return found

    def match_key(self, text: str) -> str | None:
        """Return the key column (participant_id, visit, ...) a header names, or None."""
        return self._key_alias.get(normalise_label(text))  # type: ignore[attr-defined]

    def is_identifier(self, text: str) -> bool:
        """Whether a header names a direct identifier (name, date of birth, phone, ...)."""
        key = normalise_label(text)
        return key in self.identifiers or key.replace(" ", "") in {i.replace(" ", "") for i in self.identifiers}

    def category(self, variable: str, value: str) -> str | None:
        """Normalise a categorical value (sex, side, limb); None when not recognised."""
        table = self.categories.get(variable, {})
        return table.get(str(value).strip().lower())

    def with_mcid(self) -> list[Measure]:
        """Measures that carry a published MCID."""
        return [m for m in self.measures if m.mcid is not None]

    # -- extension ------------------------------------------------------------------------
    def extend(self, source: str | Path | Mapping[str, Any] | Measure) -> "Registry":
        """Return a new registry with the measures of ``source`` added or replaced.

        A measure file may also add spellings to the vocabulary (``keys``, ``identifiers``,
        ``categories``, ``missing_tokens``, ``baseline_labels``); every key of the file is checked
        (see :mod:`hipkit.registry.schema`), and a user's spelling that another measure or key
        already owns is refused rather than silently shadowed.

        Parameters
        ----------
        source : path to a YAML file, a mapping of the YAML's shape, or a :class:`Measure`

        Returns
        -------
        Registry

        Raises
        ------
        RegistryError
            One line naming the file, the line, the measure and what is wrong.

        Examples
        --------
        >>> reg = load_registry().extend({"measures": [{"name": "hop_cm", "unit": "cm", "range": [0, 300],
        ...                                             "direction": "higher_better", "mcdi": 15}]})
        Traceback (most recent call last):
        ...
        hipkit.errors.RegistryError: registry mapping: measure 'hop_cm': unknown key 'mcdi' (did you mean 'mcid'?)
        """
        if isinstance(source, Measure):
            return replace(self, measures=tuple(m for m in self.measures if m.name != source.name) + (source,))
        if isinstance(source, (str, Path)):
            doc = read_yaml(source, error=RegistryError, what="measure file")
        elif isinstance(source, Mapping):
            doc = YamlDocument(dict(source), "registry mapping")
        else:
            raise RegistryError(f"a measure source is a YAML file, a mapping or a Measure, not {type(source).__name__}")
        return _apply(self, read_measure_file(doc), doc, define=False)

    def to_frame(self):
        """The registry as a DataFrame, one row per measure (for docs and reports)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "name": m.name,
                    "label": m.label,
                    "kind": m.kind,
                    "unit": m.unit,
                    "low": m.range[0],
                    "high": m.range[1],
                    "direction": m.direction,
                    "per_side": m.per_side,
                    "mcid": m.mcid,
                    "mcid_source": m.mcid_source,
                    "mdc": m.mdc,
                    "mdc_source": m.mdc_source,
                }
                for m in self.measures
            ]
        )


def _fail(doc: YamlDocument, loc: tuple, message: str) -> RegistryError:
    line = doc.line(loc)
    return RegistryError(f"{doc.origin}{f', line {line}' if line else ''}: {message}")


def _apply(reg: Registry, spec: MeasureFile, doc: YamlDocument, *, define: bool) -> Registry:
    """Add a validated measure file to ``reg``.

    With ``define`` (the built-in file) the file defines the vocabulary of key columns and
    category values; otherwise (users' files) it may only add spellings to what ``reg`` defines.
    """
    entries = [("measures", i, e) for i, e in enumerate(spec.measures or [])]
    entries += [("covariates", i, e) for i, e in enumerate(spec.covariates or [])]
    added: list[Measure] = []
    first: dict[str, tuple] = {}
    for section, i, entry in entries:
        if entry.name in first:
            earlier = doc.line(first[entry.name]) or "?"
            raise _fail(
                doc, (section, i), f"measure {entry.name!r} is defined twice in this file (first at line {earlier})"
            )
        first[entry.name] = (section, i)
        added.append(_measure(entry))
    names = {m.name for m in added}
    kept = tuple(m for m in reg.measures if m.name not in names)

    keys = {k: tuple(v) for k, v in reg.keys.items()}
    for key, spellings in (spec.keys or {}).items():
        if key not in keys and not define:
            raise _fail(doc, ("keys", key), f"keys: unknown key column {key!r}{suggest(key, list(keys))}")
        keys[key] = keys.get(key, ()) + tuple(spellings)
    identifiers = reg.identifiers + tuple(normalise_label(i) for i in spec.identifiers or ())

    categories = {var: dict(table) for var, table in reg.categories.items()}
    for var, table in (spec.categories or {}).items():
        if var not in categories and not define:
            raise _fail(
                doc, ("categories", var), f"categories: unknown variable {var!r}{suggest(var, list(categories))}"
            )
        lookup = categories.setdefault(var, {})
        canon_known = set(lookup.values())
        for canon, spellings in table.items():
            if canon not in canon_known and not define:
                raise _fail(
                    doc,
                    ("categories", var, canon),
                    f"categories: {var}: unknown value {canon!r}{suggest(canon, sorted(canon_known))}; "
                    f"a measure file adds spellings of {', '.join(sorted(canon_known))}",
                )
            for j, spelling in enumerate(spellings):
                low = spelling.strip().lower()
                if lookup.get(low, canon) != canon:
                    raise _fail(
                        doc,
                        ("categories", var, canon, j),
                        f"categories: {var}: {spelling!r} already means {lookup[low]!r}",
                    )
                lookup[low] = canon
    missing = reg.missing_tokens | {t.strip().lower() for t in spec.missing_tokens or ()}
    baseline = reg.baseline_labels | {normalise_label(t) for t in spec.baseline_labels or ()}

    out = Registry(
        measures=kept + tuple(added),
        keys=keys,
        identifiers=identifiers,
        categories=categories,
        missing_tokens=frozenset(missing),
        baseline_labels=frozenset(baseline),
    )
    _check_spellings(out, spec, added, first, doc)
    return out


def _check_spellings(
    reg: Registry, spec: MeasureFile, added: list[Measure], where: dict[str, tuple], doc: YamlDocument
) -> None:
    """Refuse a spelling that two owners claim: the loser would silently never match.

    Header recognition tries identifiers, then key columns, then measures (the first measure to
    claim an alias wins), so a new key spelling or identifier must not be a measure's alias, and
    a new measure's alias must not be an identifier, a key spelling or another measure's alias.
    """
    new = {m.name for m in added}
    owner: dict[str, str] = {}
    for m in sorted(reg.measures, key=lambda m: m.name in new):  # existing measures claim first
        for alias in m.aliases:
            owner.setdefault(alias, m.name)
    for key, spellings in (spec.keys or {}).items():
        for j, spelling in enumerate(spellings):
            taken = owner.get(normalise_label(spelling))
            if taken is not None:
                raise _fail(
                    doc, ("keys", key, j), f"keys: {key}: {spelling!r} is already an alias of measure {taken!r}"
                )
    for j, ident in enumerate(spec.identifiers or ()):
        taken = owner.get(normalise_label(ident))
        if taken is not None:
            raise _fail(doc, ("identifiers", j), f"identifiers: {ident!r} is already an alias of measure {taken!r}")
    for m in added:
        for alias in m.aliases:
            loc = (*where[m.name], "aliases")
            if reg.is_identifier(alias):
                raise _fail(doc, loc, f"measure {m.name!r}: alias {alias!r} is a direct identifier; remove it")
            key = reg.match_key(alias)
            if key is not None:
                raise _fail(doc, loc, f"measure {m.name!r}: alias {alias!r} already names the key column {key!r}")
            if owner[alias] != m.name:
                raise _fail(doc, loc, f"measure {m.name!r}: alias {alias!r} already names {owner[alias]!r}; remove it")


def _builtin() -> Registry:
    text = resources.files(__package__).joinpath("measures.yaml").read_text(encoding="utf-8")
    doc = parse_yaml(text, "measures.yaml", error=RegistryError, what="measure file")
    return _apply(Registry(measures=()), read_measure_file(doc), doc, define=True)


_BUILTIN: Registry | None = None


def load_registry(*extra: str | Path | Mapping[str, Any] | Measure) -> Registry:
    """Load the built-in registry, extended by user measure files or mappings.

    Parameters
    ----------
    *extra : path, mapping or Measure
        User additions, applied in order (a later definition of a name replaces an earlier one).

    Returns
    -------
    Registry

    Examples
    --------
    >>> reg = load_registry({"measures": [{"name": "hop_cm", "unit": "cm", "range": [0, 300],
    ...                                    "direction": "higher_better", "aliases": ["hop"]}]})
    >>> reg.match_header("Hop (cm)".replace("(cm)", ""))
    'hop_cm'
    """
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = _builtin()
    reg = _BUILTIN
    for e in extra:
        if e is not None:
            reg = reg.extend(e)
    return reg

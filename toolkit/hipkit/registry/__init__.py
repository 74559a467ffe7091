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

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..errors import RegistryError

__all__ = ["Measure", "Registry", "load_registry", "normalise_label"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_label(text: str) -> str:
    """Lower-case ``text`` and turn every run of punctuation or space into one space.

    Examples
    --------
    >>> normalise_label("  HipAbd_6wk (lb) ")
    'hipabd 6wk lb'
    """
    return _NON_ALNUM.sub(" ", str(text).lower()).strip()


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


_KINDS = {"outcome", "covariate", "derived"}
_DIRECTIONS = {"higher_better", "lower_better", None}


def _measure_from_dict(entry: Mapping[str, Any], kind_default: str, origin: str) -> Measure:
    try:
        name = str(entry["name"])
        unit = str(entry["unit"])
        low, high = (float(v) for v in entry["range"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RegistryError(
            f"{origin}: measure {entry.get('name', '?')!r} needs name, unit and range [low, high] ({exc})"
        ) from None
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise RegistryError(f"{origin}: measure name {name!r} must be snake_case (a-z, 0-9, _)")
    if low > high:
        raise RegistryError(f"{origin}: measure {name!r} has range low > high")
    kind = str(entry.get("kind", kind_default))
    if kind not in _KINDS:
        raise RegistryError(f"{origin}: measure {name!r} kind must be one of {sorted(_KINDS)}")
    direction = entry.get("direction")
    if direction not in _DIRECTIONS:
        raise RegistryError(f"{origin}: measure {name!r} direction must be higher_better or lower_better")
    units = {normalise_label(k): float(v) for k, v in (entry.get("units") or {"": 1.0}).items()}
    units.setdefault(normalise_label(unit), 1.0)
    aliases = tuple(dict.fromkeys(normalise_label(a) for a in [name, *entry.get("aliases", [])]))

    def fig(key: str) -> tuple[float | None, str | None]:
        value = entry.get(key)
        if value is None:
            return None, None
        if isinstance(value, Mapping):
            return float(value["value"]), value.get("source")
        return float(value), None

    mcid, mcid_src = fig("mcid")
    mdc, mdc_src = fig("mdc")
    sem, sem_src = fig("sem")
    return Measure(
        name=name,
        label=str(entry.get("label", name)),
        unit=unit,
        units=units,
        range=(low, high),
        kind=kind,
        direction=direction,
        per_side=bool(entry.get("per_side", False)),
        aliases=aliases,
        mcid=mcid,
        mcid_source=mcid_src,
        mdc=mdc,
        mdc_source=mdc_src,
        sem=sem,
        sem_source=sem_src,
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
            raise KeyError(f"no measure {name!r} in the registry; known: {', '.join(self.names())}") from None

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

        Parameters
        ----------
        source : path to a YAML file, a mapping of the YAML's shape, or a :class:`Measure`
        """
        if isinstance(source, Measure):
            added = [source]
            spec: Mapping[str, Any] = {}
        else:
            spec = _read_yaml(source) if isinstance(source, (str, Path)) else source
            origin = str(source) if isinstance(source, (str, Path)) else "registry mapping"
            added = [_measure_from_dict(e, "outcome", origin) for e in spec.get("measures", [])]
            added += [_measure_from_dict(e, "covariate", origin) for e in spec.get("covariates", [])]
        names = {m.name for m in added}
        measures = tuple(m for m in self.measures if m.name not in names) + tuple(added)
        keys = {k: tuple(v) for k, v in self.keys.items()}
        for k, v in (spec.get("keys") or {}).items():
            keys[k] = tuple(keys.get(k, ())) + tuple(v)
        return replace(
            self,
            measures=measures,
            keys=keys,
            identifiers=self.identifiers + tuple(normalise_label(i) for i in spec.get("identifiers", [])),
        )

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


def _read_yaml(path: str | Path) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            spec = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise RegistryError(f"cannot read measure file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"measure file {path} is not valid YAML: {exc}") from None
    if not isinstance(spec, Mapping):
        raise RegistryError(f"measure file {path} must be a mapping with a 'measures:' list")
    return spec


def _builtin() -> Registry:
    text = resources.files(__package__).joinpath("measures.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    measures = [_measure_from_dict(e, "outcome", "measures.yaml") for e in spec["measures"]]
    measures += [_measure_from_dict(e, "covariate", "measures.yaml") for e in spec["covariates"]]
    categories = {
        var: {str(s).strip().lower(): canon for canon, sp in table.items() for s in sp}
        for var, table in spec["categories"].items()
    }
    return Registry(
        measures=tuple(measures),
        keys={k: tuple(v) for k, v in spec["keys"].items()},
        identifiers=tuple(normalise_label(i) for i in spec["identifiers"]),
        categories=categories,
        missing_tokens=frozenset(str(t).strip().lower() for t in spec["missing_tokens"]),
        baseline_labels=frozenset(normalise_label(t) for t in spec["baseline_labels"]),
    )


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

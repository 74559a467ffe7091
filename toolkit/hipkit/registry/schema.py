r"""The schema of a measure file (the built-in ``measures.yaml`` and users' ``--measures`` files).

Every key is checked: an unknown key (``mcdi:`` for ``mcid:``) is an error naming the file, the
line, the measure and the closest valid key, never a silently unset field. Scalars arrive as text
(see :mod:`hipkit._yaml`) and are converted here where a number or a flag is expected.

Examples
--------
>>> from hipkit._yaml import parse_yaml
>>> doc = parse_yaml("measures:\n  - name: hop_cm\n    unit: cm\n    range: [0, 300]\n"
...                  "    direction: higher_better\n    mcdi: 15\n", "my.yml")
>>> read_measure_file(doc)
Traceback (most recent call last):
...
hipkit.errors.RegistryError: my.yml, line 6: measure 'hop_cm': unknown key 'mcdi' (did you mean 'mcid'?)
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .._config import StrictModel, describe_value, validate
from .._yaml import YamlDocument
from ..errors import RegistryError
from .labels import normalise_label

__all__ = ["Figure", "MeasureEntry", "CovariateEntry", "MeasureFile", "read_measure_file"]

Positive = Annotated[float, Field(gt=0)]
Text = Annotated[str, Field(min_length=1)]


class Figure(StrictModel):
    """A published figure (MCID, MDC, SEM) in the canonical unit, with its source."""

    value: Positive
    source: str | None = None


def _figure(value: Any) -> Any:
    if value is None or isinstance(value, (dict, Figure)):
        return value
    if isinstance(value, (list, tuple)):
        raise PydanticCustomError(
            "figure_type", "expected a number or {value: ..., source: ...}, got {got}", {"got": describe_value(value)}
        )
    return {"value": value}


FigureField = Annotated[Figure | None, BeforeValidator(_figure)]


def _pair(value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise PydanticCustomError("range_shape", "expected [low, high], got {got}", {"got": describe_value(value)})
    return value


RangeField = Annotated[tuple[float, float], BeforeValidator(_pair)]


class MeasureEntry(StrictModel):
    """One entry of ``measures:`` (an outcome unless ``kind`` says otherwise)."""

    name: str
    label: str | None = None
    kind: Literal["outcome", "covariate", "derived"] | None = None
    unit: Text
    units: dict[str, Positive] | None = None
    range: RangeField
    direction: Literal["higher_better", "lower_better"] | None = None
    per_side: bool | None = None
    aliases: list[Text] | None = None
    mcid: FigureField = None
    mdc: FigureField = None
    sem: FigureField = None

    #: The kind of an entry without ``kind:`` in this section.
    default_kind: ClassVar[str] = "outcome"

    @field_validator("name")
    @classmethod
    def _snake_case(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(
                f"measure name {describe_value(name)} must be snake_case (a-z, 0-9, _), e.g. hop_distance_cm"
            )
        return name

    @model_validator(mode="after")
    def _consistent(self) -> "MeasureEntry":
        low, high = self.range
        if low > high:
            raise ValueError(f"range [{low:g}, {high:g}] has low > high")
        if self.resolved_kind == "outcome" and self.direction is None:
            raise ValueError("an outcome needs direction: higher_better or lower_better")
        seen: dict[str, float] = {}
        for spelling, factor in (self.units or {}).items():
            key = normalise_label(spelling)
            if key in seen and seen[key] != factor:
                raise ValueError(f"units: spellings that read the same ({key!r}) have different factors")
            seen[key] = factor
        canonical = normalise_label(self.unit)
        if canonical in seen and seen[canonical] != 1:
            raise ValueError(f"units: the canonical unit {self.unit!r} must have factor 1, not {seen[canonical]:g}")
        for alias in self.aliases or ():
            if not normalise_label(alias):
                raise ValueError(f"alias {describe_value(alias)} has no letters or digits")
        return self

    @property
    def resolved_kind(self) -> str:
        """The kind, or the section's default (outcome under ``measures:``, covariate under ``covariates:``)."""
        return self.kind or self.default_kind


class CovariateEntry(MeasureEntry):
    """One entry of ``covariates:`` (a covariate unless ``kind`` says otherwise)."""

    default_kind: ClassVar[str] = "covariate"


class MeasureFile(StrictModel):
    """A measure file: measures, covariates and the vocabulary of keys, identifiers and categories."""

    measures: list[MeasureEntry] | None = None
    covariates: list[CovariateEntry] | None = None
    keys: dict[str, list[Text]] | None = None
    identifiers: list[Text] | None = None
    categories: dict[str, dict[str, list[Text]]] | None = None
    missing_tokens: list[str] | None = None
    baseline_labels: list[Text] | None = None


def _where(loc: tuple, data: Any) -> tuple[str, tuple]:
    if len(loc) >= 2 and loc[0] in ("measures", "covariates") and isinstance(loc[1], int):
        entry = data[loc[0]][loc[1]] if isinstance(data, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        place = f"measure {describe_value(name)}" if isinstance(name, str) else f"{loc[0]} item {loc[1] + 1}"
        return place, loc[2:]
    if len(loc) >= 2 and loc[0] == "keys":
        return f"keys: {describe_value(loc[1])}", loc[2:]
    if len(loc) >= 2 and loc[0] == "categories":
        return "categories", loc[1:]
    return "", loc


def read_measure_file(doc: YamlDocument) -> MeasureFile:
    """Validate a measure file read by :func:`hipkit._yaml.read_yaml`.

    Parameters
    ----------
    doc : YamlDocument
        The file (or a Python mapping of the same shape wrapped in one).

    Returns
    -------
    MeasureFile

    Raises
    ------
    RegistryError
        One line: file, line, measure, key and what is wrong (an unknown key suggests the closest).

    Examples
    --------
    >>> from hipkit._yaml import YamlDocument
    >>> read_measure_file(YamlDocument({"measures": [{"name": "hop_cm", "unit": "cm", "range": ["0", "x"],
    ...                                              "direction": "higher_better"}]}, "my.yml"))
    Traceback (most recent call last):
    ...
    hipkit.errors.RegistryError: my.yml: measure 'hop_cm': range item 2: expected a number, got 'x'
    """
    if doc.data is None:
        return MeasureFile()
    if not isinstance(doc.data, dict):
        raise RegistryError(f"{doc.origin}: a measure file is a YAML mapping with a 'measures:' list")
    return validate(MeasureFile, doc, error=RegistryError, where=_where)

r"""The schema of a ``--map`` mapping file: what each header holds, visit labels, coded values.

Shape (see :mod:`hipkit.cleaning.columns`)::

    columns:                       # header -> name, or {measure | target | key, unit, visit, side}
      "Pt Code": participant_id
      "Abd force L wk 2": {measure: hip_abd_strength_n, unit: kgf, visit: 2, side: left}
    visits: {"Visit 2": 2}         # label -> week number
    values: {sex: {"1": female}}   # variable -> {code: label}
    date_format: "%d/%m/%Y"        # a strftime format naming day, month and year

The file is read by :func:`hipkit._yaml.read_yaml`, so every scalar stays text: a header ``007``, a
code ``1`` and a visit label ``no`` mean what they say. Every key is checked; an unknown key is an
error naming the file, the line, the place and the closest valid key.

Examples
--------
>>> read_mapping_file({"columns": {"Pt": {"mesure": "pain_vas"}}})[0]
Traceback (most recent call last):
...
hipkit.errors.InputError: mapping: column 'Pt': unknown key 'mesure' (did you mean 'measure'?)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .._config import StrictModel, describe_value, validate
from .._yaml import YamlDocument, read_yaml
from ..errors import InputError
from ..registry import normalise_label

__all__ = ["ColumnSpec", "CodedValues", "MappingFile", "read_mapping_file"]

Text = Annotated[str, Field(min_length=1)]


class ColumnSpec(StrictModel):
    """What one header holds, when a name alone does not say it."""

    measure: Text | None = None
    target: Text | None = None
    key: Text | None = None
    unit: Text | None = None
    visit: float | None = None
    side: Text | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "ColumnSpec":
        if self.measure is None and self.key is None:
            if self.target is None:
                raise ValueError("say what the column holds with measure:, target: or key: (or map it to ignore)")
            return self  # the common case: a bare name
        given = {k: v for k, v in (("measure", self.measure), ("target", self.target), ("key", self.key)) if v}
        if len(set(given.values())) > 1:
            raise ValueError(f"give one of {', '.join(given)}, not several")
        return self


def _column(value: Any) -> Any:
    if isinstance(value, str):
        return {"target": value}
    if value is None or isinstance(value, (list, tuple)):
        raise PydanticCustomError(
            "column_type",
            "expected a name (a measure, a key, ignore) or {measure: ..., unit: ..., visit: ...}, got {got}",
            {"got": describe_value(value)},
        )
    return value


class CodedValues(StrictModel):
    """Code tables of the categorical columns that harmonisation reads (``values:``)."""

    sex: dict[str, Text] | None = None
    side: dict[str, Text] | None = None
    affected_side: dict[str, Text] | None = None
    group: dict[str, Text] | None = None
    site: dict[str, Text] | None = None
    discharge_reason: dict[str, Text] | None = None

    def tables(self) -> dict[str, dict[str, str]]:
        """The code tables given, by variable."""
        return {var: table for var, table in self.__dict__.items() if table is not None}


def _check_date_format(fmt: str) -> str:
    # A format pandas can read both ways and that names day, month and year (a day-month-year
    # date that round-trips); anything else would make every date unreadable or wrong.
    probe = datetime(2001, 2, 3)
    try:
        back = datetime.strptime(probe.strftime(fmt), fmt)
    except ValueError as exc:
        raise ValueError(f"{fmt!r} is not a usable strftime format ({exc}); e.g. '%d/%m/%Y'") from None
    if back.date() != probe.date():
        raise ValueError(f"{fmt!r} must name the day, month and year (e.g. '%d/%m/%Y', '%Y-%m-%d')")
    return fmt


class MappingFile(StrictModel):
    """A mapping file: ``columns``, ``visits``, ``values`` and ``date_format``."""

    columns: dict[str, Annotated[ColumnSpec, BeforeValidator(_column)]] | None = None
    visits: dict[str, float] | None = None
    values: CodedValues | None = None
    date_format: Text | None = None

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, fmt: str | None) -> str | None:
        return None if fmt is None else _check_date_format(fmt)


def _where(loc: tuple, data: Any) -> tuple[str, tuple]:
    if len(loc) >= 2 and loc[0] == "columns":
        return f"column {describe_value(loc[1])}", loc[2:]
    if len(loc) >= 2 and loc[0] == "visits":
        return f"visit {describe_value(loc[1])}", loc[2:]
    if len(loc) >= 3 and loc[0] == "values":
        return f"values: {loc[1]}: code {describe_value(loc[2])}", loc[3:]
    return "", loc


def _distinct(doc: YamlDocument, where: tuple, table: dict, norm, place: str, *, allow_empty: bool = False) -> dict:
    """``table`` with normalised keys; two keys that read the same must agree (the line says where)."""
    out: dict = {}
    first: dict = {}
    for key, value in table.items():
        norm_key = norm(key)
        line = doc.line((*where, key))
        at = f"{doc.origin}, line {line}" if line else doc.origin
        if not norm_key and not allow_empty:
            raise InputError(f"{at}: {place} {describe_value(key)} has no letters or digits")
        if out.get(norm_key, value) != value:
            raise InputError(
                f"{at}: {place} {describe_value(key)} reads the same as {describe_value(first[norm_key])} "
                f"but says {describe_value(value)}, not {describe_value(out[norm_key])}"
            )
        out[norm_key] = value
        first.setdefault(norm_key, key)
    return out


def read_mapping_file(source: str | Path | dict) -> tuple[dict[str, Any], str]:
    """Read and validate a mapping file (or a dict of its shape).

    Parameters
    ----------
    source : str, Path or dict
        The file, or its content as a Python mapping.

    Returns
    -------
    parts : dict
        The keyword arguments of :class:`hipkit.cleaning.columns.Mapping`: ``columns`` (header ->
        name, or a dict of measure/target/key, unit, visit, side), ``visits`` (normalised label ->
        week), ``values`` (variable -> {lower-cased code: label}) and ``date_format``.
    origin : str
        What to call the file in messages.

    Raises
    ------
    InputError
        One line naming the file, the line, the place (column, visit, ...) and what is wrong.

    Examples
    --------
    >>> parts, origin = read_mapping_file({"values": {"sex": {"1": "female"}}, "visits": {"Visit 2": "2"}})
    >>> parts["values"], parts["visits"]
    ({'sex': {'1': 'female'}}, {'visit 2': 2.0})
    """
    if isinstance(source, (str, Path)):
        doc = read_yaml(source, error=InputError, what="mapping file")
    elif isinstance(source, dict):
        doc = YamlDocument(source, "mapping")
    else:
        raise InputError(f"a mapping is a YAML file or a dict, not {type(source).__name__}")
    if doc.data is None:
        return {"columns": {}, "visits": {}, "values": {}, "date_format": None}, doc.origin
    if not isinstance(doc.data, dict):
        raise InputError(f"{doc.origin}: a mapping file is a YAML mapping with a 'columns:' section")
    spec = validate(MappingFile, doc, error=InputError, where=_where)
    raw_columns = doc.data.get("columns") or {}
    columns: dict[str, Any] = {}
    for header, col in (spec.columns or {}).items():
        given = raw_columns.get(header)
        # A header mapped to a bare name keeps that name (the form map_columns documents).
        columns[header] = given if isinstance(given, str) else col.model_dump(exclude_none=True)
    values: dict[str, dict[str, str]] = {}
    for var, table in (spec.values.tables() if spec.values else {}).items():
        codes = _distinct(
            doc, ("values", var), table, lambda c: c.strip().lower(), f"values: {var}: code", allow_empty=True
        )
        values[var] = codes
    visits = _distinct(doc, ("visits",), spec.visits or {}, normalise_label, "visit")
    return {"columns": columns, "visits": visits, "values": values, "date_format": spec.date_format}, doc.origin

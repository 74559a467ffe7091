"""Cohort cleaning: messy exports to one validated tidy long table, with nothing lost."""

from .audit import AuditLog, Quarantine
from .columns import ColumnRole, Mapping, load_mapping, map_columns, parse_visit_label
from .pipeline import CANONICAL_ORDER, DEFAULT_SCHEDULE, DEFAULT_WINDOW_DAYS, CleanResult, clean
from .validate import clean_schema

__all__ = [
    "clean",
    "CleanResult",
    "clean_schema",
    "load_mapping",
    "map_columns",
    "parse_visit_label",
    "ColumnRole",
    "Mapping",
    "Quarantine",
    "AuditLog",
    "DEFAULT_SCHEDULE",
    "DEFAULT_WINDOW_DAYS",
    "CANONICAL_ORDER",
]

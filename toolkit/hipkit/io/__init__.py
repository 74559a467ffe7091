"""Reading raw exports and writing clean tables."""

from .readers import SUPPORTED_SUFFIXES, RawTable, read_raw
from .writers import neutralise_formulas, write_table

__all__ = ["RawTable", "read_raw", "SUPPORTED_SUFFIXES", "write_table", "neutralise_formulas"]

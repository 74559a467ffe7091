"""Reading raw exports and clean tables, writing outputs."""

from .outputs import atomic_path, guard_outputs, write_bytes, write_text
from .readers import SUPPORTED_SUFFIXES, RawTable, read_raw, read_tables
from .tables import read_clean_table, read_dask_table
from .writers import neutralise_formulas, write_csv, write_table

__all__ = [
    "RawTable",
    "read_raw",
    "read_tables",
    "read_clean_table",
    "read_dask_table",
    "SUPPORTED_SUFFIXES",
    "write_table",
    "write_csv",
    "neutralise_formulas",
    "atomic_path",
    "guard_outputs",
    "write_text",
    "write_bytes",
]

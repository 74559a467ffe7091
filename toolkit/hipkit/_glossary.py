"""Column names shared by every table hipkit returns (one vocabulary, broom style)."""

__all__ = ["QUARANTINE_COLUMNS", "KEY_COLUMNS", "PROVENANCE_COLUMNS", "QuarantineReason"]

from enum import Enum

#: Columns of the quarantine table, in order.
QUARANTINE_COLUMNS = [
    "source_file",
    "source_line",
    "participant_id",
    "column",
    "raw_value",
    "check",
    "reason",
    "action",
    "message",
]

#: Columns identifying one row of the canonical long table.
KEY_COLUMNS = ["participant_id", "visit_week", "side"]

#: Columns recording where a clean row came from.
PROVENANCE_COLUMNS = ["source_file", "source_line"]


class QuarantineReason(str, Enum):
    """Why a value or a row was quarantined (the ``reason`` column)."""

    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_UNIT = "unknown_unit"
    AMBIGUOUS_DECIMAL = "ambiguous_decimal"
    FORMULA_LIKE = "formula_like"
    BAD_DATE = "bad_date"
    UNKNOWN_CATEGORY = "unknown_category"
    MISSING_ID = "missing_id"
    UNRECOGNISED_VISIT = "unrecognised_visit"
    NO_MEASUREMENTS = "no_measurements"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    REPEATED_INSTRUMENT = "repeated_instrument"
    SCHEMA = "schema"
    #: A CSV line that cannot be split into the header's fields (unbalanced quote, too many fields).
    MALFORMED_LINE = "malformed_line"
    #: A spreadsheet cell holding a formula whose value was never computed and saved.
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    #: A value that looks like a direct identifier (name, phone, e-mail, date of birth, national id).
    IDENTIFIER_IN_VALUE = "identifier_in_value"

    def __str__(self) -> str:
        return self.value

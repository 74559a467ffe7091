"""Column names shared by every table hipkit returns (one vocabulary, broom style)."""

__all__ = [
    "QUARANTINE_COLUMNS",
    "KEY_COLUMNS",
    "PROVENANCE_COLUMNS",
    "QuarantineReason",
    "RESULT_CONTRACT",
    "DEFAULT_SCHEDULE",
]

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

#: The protocol's visit weeks when none are given (baseline and every 2 weeks of a 6-week programme):
#: ``hipkit clean --schedule``, ``hipkit report --schedule`` and the functions behind them.
DEFAULT_SCHEDULE = (0.0, 2.0, 4.0, 6.0)

#: The columns of every t test hipkit reports, in order (fixed effects, contrasts, means, paired change).
T_TEST_COLUMNS = ["estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high"]

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


#: The result objects hipkit returns and the methods each must have (tests/test_result_contract.py checks
#: every entry, and that no class named ``*Result`` in the package is missing from it). Every one is a frozen
#: dataclass; ``summary()`` returns text, ``tidy()`` and ``glance()`` DataFrames (``glance()`` one row),
#: ``to_dict()`` JSON types that survive a round trip, ``plot()`` a matplotlib Figure it does not show, and
#: ``_repr_html_()`` escapes all text that came from data.
RESULT_CONTRACT = {
    "hipkit.models.results.LmmResult": ("summary", "tidy", "glance", "to_dict", "plot", "_repr_html_"),
    "hipkit.models.marginal_means.EmmeansResult": ("summary", "tidy", "glance", "to_dict", "plot", "_repr_html_"),
    "hipkit.models.parametric_bootstrap.BootstrapResult": (
        "summary",
        "tidy",
        "glance",
        "to_dict",
        "plot",
        "_repr_html_",
    ),
    "hipkit.models.mmrm_result.MmrmResult": ("summary", "tidy", "glance", "to_dict", "plot", "_repr_html_"),
    "hipkit.cleaning.pipeline.CleanResult": ("summary", "tidy", "glance", "to_dict", "plot", "_repr_html_"),
    "hipkit.cleaning.outofcore.OutOfCoreResult": ("summary", "glance", "to_dict", "plot", "_repr_html_"),
}

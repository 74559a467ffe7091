"""The analyses behind a clinic's programme-outcomes report (``hipkit report``), privacy-safe.

Every function takes the clean long table (one row per participant, visit and side; see
:func:`hipkit.clean`) and returns a small aggregate :class:`pandas.DataFrame` (or a figure) that can
be shared: no participant ids, no row-level values, no dates (visits are weeks from baseline), and
every count of people below ``min_cell`` hidden by the report's disclosure ledger
(:mod:`hipkit.report.disclosure`). The report template (``templates/clinic_report.py`` beside this
package's modules) calls them in order; each can also be used on its own in a notebook.

What cannot be estimated (one visit, too few patients, no strength measure) is returned as a
:class:`Note` with its reason, so the report says why a section is empty instead of failing.

The package, one concern per module:

- :mod:`~hipkit.report.clinic.data`: loading (raw export or clean table), :class:`ClinicData`, patient codes;
- :mod:`~hipkit.report.clinic.analyses`: estimates, as thin calls into :mod:`hipkit.stats` and :mod:`hipkit.models`;
- :mod:`~hipkit.report.clinic.tables`: participant flow, Table 1, data quality, and :func:`register_report`;
- :mod:`~hipkit.report.clinic.ledger`: disclosure control of these tables (:func:`publish`);
- :mod:`~hipkit.report.clinic.summary`: the key-findings sentences and the references;
- :mod:`~hipkit.report.clinic.figures`: the report's figures;
- :mod:`~hipkit.report.clinic.report`: :func:`clinic_report`, the public entry (``hipkit report``).

Numbers become text in :mod:`hipkit.report.format` only; its table helpers are re-exported here
(``with_ci``, ``p_cell``, ``html_table``, ``short_label``, ``display_means``, ``display_change``,
``plain_sentence``) for notebooks that use them as ``clinic.X``.
"""

from ..disclosure import suppress
from ..format import display_change, display_means, html_table, p_cell, plain_sentence, short_label, with_ci
from .analyses import (
    _ordered_interval,  # noqa: F401 - private, imported here for its tests
    change_from_baseline,
    responder_rates,
    strength_gains_vs_mdc,
    visit_means,
    within_person_relation,
)
from .data import (
    ALL_PATIENTS,
    FUNCTION_MEASURES,
    GROUP,
    PAIN_MEASURES,
    STRENGTH,
    SUBJECT,
    TIME,
    ClinicData,
    Note,
    _per_visit,  # noqa: F401 - private, imported here for its tests
    check_reportable,
    coded,
    load_clinic_data,
    load_prepared,
    outcome_measures,
    patient_codes,
    save_prepared,
)
from .ledger import (
    HIDE_WITH,
    _hide_proportion,  # noqa: F401 - private, imported here for its tests
    cleaning_counts,
    publish,
    quarantine_counts,
)
from .report import ReportRun, clinic_report
from .summary import headline, references
from .tables import data_quality, participant_flow, register_report, table_one

__all__ = [
    "clinic_report",
    "ReportRun",
    "ClinicData",
    "Note",
    "STRENGTH",
    "PAIN_MEASURES",
    "FUNCTION_MEASURES",
    "SUBJECT",
    "GROUP",
    "TIME",
    "ALL_PATIENTS",
    "HIDE_WITH",
    "load_clinic_data",
    "check_reportable",
    "coded",
    "patient_codes",
    "register_report",
    "publish",
    "save_prepared",
    "load_prepared",
    "suppress",
    "participant_flow",
    "outcome_measures",
    "visit_means",
    "change_from_baseline",
    "responder_rates",
    "strength_gains_vs_mdc",
    "within_person_relation",
    "data_quality",
    "cleaning_counts",
    "quarantine_counts",
    "headline",
    "references",
    "table_one",
    "html_table",
    "short_label",
    "with_ci",
    "display_means",
    "display_change",
    "p_cell",
    "plain_sentence",
]

"""Classical analyses of hip-abductor programmes: tidy DataFrames in, tidy DataFrames out.

Every function takes a long pandas DataFrame (the canonical table of :func:`hipkit.clean`) and
returns a DataFrame with a fixed, documented column order in the package vocabulary (``term,
estimate, std_error, df, statistic, p_value, conf_low, conf_high``, ...). Numbers come from
pingouin (or statsmodels for Wilson intervals) unchanged and unrounded. Nothing is dropped
silently: every exclusion is counted in an ``n_dropped...`` column and warned about with a
:class:`hipkit.errors.DataQualityWarning`.

- Correlation: :func:`rm_corr`, :func:`per_visit_correlation`
- Group x time: :func:`mixed_anova`, :func:`pairwise_tests`
- Change from baseline: :func:`change_scores`, :func:`paired_change`, :func:`signed_rank_test`
- Reliability: :func:`test_retest` (ICC, SEM, MDC95)
- Responders: :func:`responders`, :func:`responder_comparison`, :func:`strength_vs_mdc`
- Description: :func:`describe`, :func:`table1`
- Simulated example data: :func:`simulate_trial`, :func:`simulate_test_retest`
"""

from .anova import MIXED_ANOVA_COLUMNS, PAIRWISE_TESTS_COLUMNS, mixed_anova, pairwise_tests
from .change import CHANGE_SCORE_COLUMNS, PAIRED_CHANGE_COLUMNS, change_scores, paired_change
from .correlation import PER_VISIT_CORRELATION_COLUMNS, RM_CORR_COLUMNS, per_visit_correlation, rm_corr
from .descriptive import DESCRIBE_COLUMNS, describe, table1
from .mdc import STRENGTH_VS_MDC_COLUMNS, strength_vs_mdc
from .reliability import ICC_TYPES, TEST_RETEST_COLUMNS, test_retest
from .responder import (
    RESPONDER_COMPARISON_COLUMNS,
    RESPONDERS_COLUMNS,
    responder_comparison,
    responders,
)
from .simulate import simulate_test_retest, simulate_trial
from .wilcoxon import SIGNED_RANK_COLUMNS, signed_rank_test

__all__ = [
    "rm_corr",
    "per_visit_correlation",
    "mixed_anova",
    "pairwise_tests",
    "change_scores",
    "paired_change",
    "signed_rank_test",
    "test_retest",
    "responders",
    "responder_comparison",
    "strength_vs_mdc",
    "describe",
    "table1",
    "simulate_trial",
    "simulate_test_retest",
    "ICC_TYPES",
    "RM_CORR_COLUMNS",
    "PER_VISIT_CORRELATION_COLUMNS",
    "MIXED_ANOVA_COLUMNS",
    "PAIRWISE_TESTS_COLUMNS",
    "PAIRED_CHANGE_COLUMNS",
    "CHANGE_SCORE_COLUMNS",
    "TEST_RETEST_COLUMNS",
    "RESPONDERS_COLUMNS",
    "RESPONDER_COMPARISON_COLUMNS",
    "STRENGTH_VS_MDC_COLUMNS",
    "DESCRIBE_COLUMNS",
    "SIGNED_RANK_COLUMNS",
]

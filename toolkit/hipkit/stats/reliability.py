"""Test-retest reliability: ICC, standard error of measurement and minimal detectable change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._arguments import checked, renamed, text
from ..errors import InputError
from ._common import pingouin_unrounded, require_columns, require_numeric, warn_dropped

__all__ = ["test_retest", "ICC_TYPES", "TEST_RETEST_COLUMNS"]

#: Columns of :func:`test_retest`, in order.
TEST_RETEST_COLUMNS = [
    "icc_type",
    "estimate",
    "conf_low",
    "conf_high",
    "statistic",
    "num_df",
    "den_df",
    "p_value",
    "sd_pooled",
    "sem",
    "mdc95",
    "n_subjects",
    "n_sessions",
    "n_dropped_subjects",
]

#: ICC types (McGraw & Wong 1996 notation, as pingouin prints them) and the accepted aliases
#: (Shrout & Fleiss 1979 notation).
ICC_TYPES = {
    "ICC(1,1)": ("ICC1", "ICC1,1", "ICC(1)"),
    "ICC(A,1)": ("ICC2", "ICC2,1", "ICC(2,1)", "ICC(2)"),
    "ICC(C,1)": ("ICC3", "ICC3,1", "ICC(3,1)", "ICC(3)"),
    "ICC(1,k)": ("ICC1k", "ICC1,k", "ICC(1,K)"),
    "ICC(A,k)": ("ICC2k", "ICC2,k", "ICC(2,k)"),
    "ICC(C,k)": ("ICC3k", "ICC3,k", "ICC(3,k)"),
}

# Weir 2005: MDC95 = 1.96 * sqrt(2) * SEM (the literal 1.96, as in the registry's derived MDC).
_Z95 = 1.96


def _icc_name(icc_type: str) -> str:
    key = str(icc_type).replace(" ", "")
    for name, aliases in ICC_TYPES.items():
        if key.lower() in {name.lower(), *(a.lower() for a in aliases)}:
            return name
    raise InputError(
        f"test_retest: unknown icc_type {icc_type!r}; use 'all' or one of {list(ICC_TYPES)} "
        f"(aliases: {', '.join(a for al in ICC_TYPES.values() for a in al)})"
    )


@renamed(measure="outcome")
@checked(icc_type=text)
def test_retest(
    data: pd.DataFrame,
    outcome: str,
    subject: str = "participant_id",
    session: str = "session",
    icc_type: str = "ICC(A,1)",
) -> pd.DataFrame:
    """Test-retest reliability: ICC with its 95 % CI, SEM and MDC95.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per participant x session.
    outcome : str
        Numeric measurement column.
    subject : str, default "participant_id"
        Participant identifier (the targets).
    session : str, default "session"
        Session (or rater) column.
    icc_type : str, default "ICC(A,1)"
        ``"ICC(A,1)"`` (= Shrout & Fleiss ICC(2,1): two-way random effects, absolute agreement,
        single measurement), another type of :data:`ICC_TYPES` or an alias (``"ICC2,1"``,
        ``"ICC3"``, ...), or ``"all"`` for the six types.

    Returns
    -------
    pandas.DataFrame
        One row (six with ``"all"``): ``icc_type, estimate, conf_low, conf_high`` (95 %),
        ``statistic`` (F), ``num_df, den_df, p_value, sd_pooled, sem, mdc95, n_subjects,
        n_sessions, n_dropped_subjects``.

    Raises
    ------
    InputError
        A column is missing or not numeric, a participant has two rows for one session, fewer
        than 2 sessions or 2 complete participants, or an unknown ``icc_type``.

    Warns
    -----
    DataQualityWarning
        When participants without a value at every session were left out.

    Notes
    -----
    ICC, F, df, p and the 95 % CI are :func:`pingouin.intraclass_corr` (``nan_policy="omit"``;
    pingouin gives 95 % intervals only). Participants without a value at every session are
    left out and counted in ``n_dropped_subjects``.

    ``sd_pooled`` is the SD of all analysed scores pooled over sessions,
    ``sqrt(SS_total / (N - 1))``; ``sem = sd_pooled * sqrt(1 - ICC)`` and
    ``mdc95 = 1.96 * sqrt(2) * sem`` (Weir 2005). SEM and MDC describe a single measurement, so
    use them with a single-measurement type (``ICC(.,1)``).

    References
    ----------
    Weir JP (2005). Quantifying test-retest reliability using the intraclass correlation
    coefficient and the SEM. Journal of Strength and Conditioning Research 19(1):231-240.
    doi:10.1519/15184.1

    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation coefficients.
    Psychological Methods 1(1):30-46. doi:10.1037/1082-989X.1.1.30

    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability.
    Psychological Bulletin 86(2):420-428. doi:10.1037/0033-2909.86.2.420

    Examples
    --------
    >>> from hipkit.stats import simulate_test_retest, test_retest
    >>> res = test_retest(simulate_test_retest(seed=7), "hip_abd_strength_n")
    >>> res[["icc_type", "estimate", "sem", "mdc95", "n_subjects"]].round(3)
       icc_type  estimate     sem   mdc95  n_subjects
    0  ICC(A,1)     0.744  16.368  45.368          20
    """
    import pingouin as pg

    func = "test_retest"
    names = list(ICC_TYPES) if str(icc_type).lower() == "all" else [_icc_name(icc_type)]
    require_columns(data, [outcome, subject, session], func)
    require_numeric(data, [outcome], func)
    usable = data.loc[data[subject].notna() & data[session].notna(), [subject, session, outcome]]
    if usable.duplicated([subject, session]).any():
        raise InputError(
            f"{func}: some participants have more than one row for one {session!r} (e.g. left and right "
            "sides); keep one side, or build a unit id such as participant_id + '_' + side"
        )
    wide = usable.pivot(index=subject, columns=session, values=outcome)
    complete = wide.dropna()
    n_all = int(data[subject].dropna().nunique())
    n_sessions = int(complete.shape[1])
    if n_sessions < 2 or len(complete) < 2:
        raise InputError(
            f"{func}: need 2 or more sessions and 2 or more participants with a value at every session; "
            f"found {n_sessions} session(s) and {len(complete)} complete participant(s)"
        )
    warn_dropped(func, "participant(s)", n_all - len(complete), f"no {outcome} at every {session}")
    long = complete.reset_index().melt(id_vars=subject, var_name=session, value_name=outcome)
    with pingouin_unrounded():
        icc = pg.intraclass_corr(data=long, targets=subject, raters=session, ratings=outcome, nan_policy="omit")
    icc = icc.set_index("Type").loc[names]
    scores = complete.to_numpy(dtype=float).ravel()
    sd_pooled = float(np.std(scores, ddof=1))
    estimate = icc["ICC"].to_numpy(dtype=float)
    sem = sd_pooled * np.sqrt(1.0 - estimate)
    ci = np.vstack([np.asarray(v, dtype=float) for v in icc["CI95"]])
    out = pd.DataFrame(
        {
            "icc_type": names,
            "estimate": estimate,
            "conf_low": ci[:, 0],
            "conf_high": ci[:, 1],
            "statistic": icc["F"].to_numpy(dtype=float),
            "num_df": icc["df1"].to_numpy(),
            "den_df": icc["df2"].to_numpy(),
            "p_value": icc["pval"].to_numpy(dtype=float),
            "sd_pooled": sd_pooled,
            "sem": sem,
            "mdc95": _Z95 * np.sqrt(2.0) * sem,
            "n_subjects": len(complete),
            "n_sessions": n_sessions,
            "n_dropped_subjects": n_all - len(complete),
        }
    )
    return out[TEST_RETEST_COLUMNS]


# The name starts with "test": tell pytest that this is not a test when a test module imports it.
test_retest.__test__ = False  # type: ignore[attr-defined]

"""Time-varying predictors done the way a methodologist would: within vs between, change, lag.

A participant's strength varies around their own mean (within-person) and that mean differs between
participants (between-person). The two carry different questions: "when *this* person gets stronger,
does *their* pain fall?" versus "are stronger people in less pain?". A model with the raw predictor
blends them; person-mean centring separates them (Curran & Bauer 2011, Annu Rev Psychol 62:583,
doi:10.1146/annurev.psych.093008.100356; Enders & Tofighi 2007, Psychol Methods 12(2):121,
doi:10.1037/1082-989X.12.2.121).
"""

from __future__ import annotations

import warnings

import pandas as pd

from .._arguments import checked, report_infinite
from ..errors import DataQualityWarning, ModelSpecError
from .fit import lmm

__all__ = ["split_within_between", "add_change", "add_lag", "within_between", "change_model", "lagged_model"]


def _check(data: pd.DataFrame, cols: list[str], func: str = "", finite: tuple[str, ...] = ()) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ModelSpecError(f"column(s) {missing} not in the data (columns: {', '.join(map(str, data.columns))})")
    for c in finite:  # before any derived column (change, lag, split) copies an infinity
        if pd.api.types.is_numeric_dtype(data[c]):
            report_infinite(data[c], func)


def _one_row_per_visit(data: pd.DataFrame, subject: str, time: str, cols: list[str]) -> pd.DataFrame:
    """Average repeated rows of a visit (left and right sides) so that each visit counts once.

    A visit whose value is missing on one of its rows is left missing rather than averaged from the
    remaining side (an injured and an uninjured leg are not interchangeable); such visits are
    counted in a :class:`~hipkit.errors.DataQualityWarning`.
    """
    if not data.duplicated([subject, time]).any():
        return data
    grouped = data.groupby([subject, time], sort=True)[cols]
    mean = grouped.mean(numeric_only=True)
    complete = grouped.count() == grouped.size().to_numpy()[:, None]
    partial = (~complete & grouped.count().gt(0)).sum()
    for col, k in partial.items():
        if k:
            warnings.warn(
                f"{int(k)} participant-visits have {col} on only one of their rows (e.g. one side): left missing, "
                "not averaged from one side",
                DataQualityWarning,
                stacklevel=3,
            )
    return mean.where(complete).reset_index()


@checked()
def split_within_between(data: pd.DataFrame, column: str, subject: str = "participant_id") -> pd.DataFrame:
    """Add ``<column>_between`` (the participant's mean) and ``<column>_within`` (deviation from it).

    Missing values are ignored in the mean; the within part is missing where the value is.

    Returns
    -------
    DataFrame
        A copy of ``data`` with the two columns added.

    Examples
    --------
    >>> df = pd.DataFrame({"participant_id": [1, 1, 2, 2], "x": [1.0, 3.0, 10.0, 12.0]})
    >>> split_within_between(df, "x")[["x_between", "x_within"]].values.tolist()
    [[2.0, -1.0], [2.0, 1.0], [11.0, -1.0], [11.0, 1.0]]
    """
    _check(data, [column, subject])
    out = data.copy()
    mean = out.groupby(subject)[column].transform("mean")
    out[f"{column}_between"] = mean
    out[f"{column}_within"] = out[column] - mean
    return out


def add_change(
    data: pd.DataFrame, columns, subject: str = "participant_id", time: str = "visit_week", baseline: float = 0
) -> pd.DataFrame:
    """Add ``<column>_change`` (value minus the participant's value at ``baseline``) for each column.

    Rows of participants without a baseline value get a missing change.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    _check(data, columns + [subject, time])
    out = data.copy()
    keys = [subject] + (["side"] if "side" in out.columns and out["side"].notna().any() else [])
    base = out.loc[out[time] == baseline, keys + columns].drop_duplicates(keys)
    merged = out[keys].merge(base, on=keys, how="left", suffixes=("", "_base"))
    for c in columns:
        out[f"{c}_change"] = out[c].to_numpy() - merged[c].to_numpy()
    return out


def add_lag(
    data: pd.DataFrame, column: str, subject: str = "participant_id", time: str = "visit_week", periods: int = 1
) -> pd.DataFrame:
    """Add ``<column>_lag<periods>``: the participant's value at their previous visit(s) (missing at the first)."""
    _check(data, [column, subject, time])
    keys = [subject] + (["side"] if "side" in data.columns and data["side"].notna().any() else [])
    out = data.sort_values(keys + [time], kind="stable").copy()
    out[f"{column}_lag{periods}"] = out.groupby(keys, sort=False)[column].shift(periods)
    return out.loc[data.index]


@checked()
def within_between(
    data: pd.DataFrame,
    outcome: str = "pain_vas",
    predictor: str = "hip_abd_strength_n",
    time: str = "visit_week",
    subject: str = "participant_id",
    random_slope: bool = False,
    covariates=(),
    reml: bool = True,
    **checks,
):
    """Fit ``outcome ~ time + predictor_between + predictor_within (+ covariates) + (1 | subject)``.

    The ``predictor_within`` coefficient is the within-person effect (change in outcome per unit
    change in the participant's own predictor); ``predictor_between`` the between-person one.
    Side-specific rows (left/right) are averaged to one row per participant and visit first.

    ``checks`` (``check_singular``, ``check_convergence``) are passed to :func:`hipkit.lmm`.

    Returns
    -------
    LmmResult

    Examples
    --------
    >>> fit = within_between(clean, "pain_vas", "hip_abd_strength_n")  # doctest: +SKIP
    >>> fit.tidy().query("term == 'hip_abd_strength_n_within'")  # doctest: +SKIP
    """
    covariates = list(covariates)
    _check(data, [outcome, predictor, time, subject] + covariates, "within_between", (outcome, predictor))
    cols = [outcome, predictor] + [c for c in covariates if pd.api.types.is_numeric_dtype(data[c])]
    frame = _one_row_per_visit(data, subject, time, cols)
    for c in covariates:
        if c not in frame.columns:
            frame = frame.merge(data[[subject, c]].drop_duplicates(subject), on=subject, how="left")
    # Rows missing the outcome or the predictor are left in: lmm drops and counts them (n_dropped).
    frame = split_within_between(frame, predictor, subject)
    rhs = [time, f"{predictor}_between", f"{predictor}_within", *covariates]
    re = f"(1 + {time} | {subject})" if random_slope else f"(1 | {subject})"
    return lmm(f"{outcome} ~ {' + '.join(rhs)} + {re}", frame, reml=reml, **checks)


@checked()
def change_model(
    data: pd.DataFrame,
    outcome: str = "pain_vas",
    predictor: str = "hip_abd_strength_n",
    time: str = "visit_week",
    subject: str = "participant_id",
    baseline: float = 0,
    reml: bool = True,
    **checks,
):
    """Change-score model: ``outcome_change ~ predictor_change + (1 | subject)`` over post-baseline visits.

    Returns
    -------
    LmmResult
    """
    _check(data, [outcome, predictor, time, subject], "change_model", (outcome, predictor))
    frame = _one_row_per_visit(data, subject, time, [outcome, predictor])
    frame = add_change(frame, [outcome, predictor], subject, time, baseline)
    frame = frame[frame[time] != baseline].dropna(subset=[f"{outcome}_change", f"{predictor}_change"])
    return lmm(f"{outcome}_change ~ {predictor}_change + (1 | {subject})", frame, reml=reml, **checks)


@checked()
def lagged_model(
    data: pd.DataFrame,
    outcome: str = "pain_vas",
    predictor: str = "hip_abd_strength_n",
    time: str = "visit_week",
    subject: str = "participant_id",
    reml: bool = True,
    **checks,
):
    """Lagged model: the outcome at visit t on the predictor at visit t-1 (and time).

    ``outcome ~ time + predictor_lag1 + (1 | subject)``; the first visit of each participant has no
    lagged value and is not used.

    Returns
    -------
    LmmResult
    """
    _check(data, [outcome, predictor, time, subject], "lagged_model", (outcome, predictor))
    frame = _one_row_per_visit(data, subject, time, [outcome, predictor])
    frame = add_lag(frame, predictor, subject, time).dropna(subset=[outcome, f"{predictor}_lag1"])
    return lmm(f"{outcome} ~ {time} + {predictor}_lag1 + (1 | {subject})", frame, reml=reml, **checks)

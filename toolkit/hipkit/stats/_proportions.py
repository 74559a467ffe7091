"""Proportions: Wilson intervals, Newcombe's risk-difference interval and the NNT (private helpers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TOL", "wilson", "newcombe", "nnt", "group_rows"]

# Same tolerance as the cleaner's ``<measure>_responder`` flags (floating-point rounding of changes).
TOL = 1e-9


def wilson(count: int, n: int, conf_level: float) -> tuple[float, float]:
    """Wilson score interval (statsmodels ``proportion_confint(method="wilson")``); NaN when n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (np.nan, np.nan)
    alpha = round(1.0 - conf_level, 12)  # 0.05 exactly for conf_level 0.95, not 0.050000000000000044
    low, high = proportion_confint(count, n, alpha=alpha, method="wilson")
    return (float(low), float(high))


def newcombe(x_a: int, n_a: int, x_b: int, n_b: int, conf_level: float) -> tuple[float, float, float]:
    """Risk difference p_a - p_b with Newcombe's hybrid score interval (1998, method 10)."""
    if n_a == 0 or n_b == 0:
        return (np.nan, np.nan, np.nan)
    p_a, p_b = x_a / n_a, x_b / n_b
    l_a, u_a = wilson(x_a, n_a, conf_level)
    l_b, u_b = wilson(x_b, n_b, conf_level)
    rd = p_a - p_b
    low = rd - np.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2)
    high = rd + np.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)
    return (float(rd), float(low), float(high))


def _inv(value: float) -> float:
    return np.inf if value == 0 else 1.0 / abs(value)


def nnt(rd: float, low: float, high: float) -> tuple[float, str | float, float, float, str | float]:
    """NNT, its type and its CI from a risk difference and its CI (Altman 1998).

    Returns ``(nnt, nnt_type, nnt_conf_low, nnt_conf_high, nnt_conf_text)``; see
    :func:`hipkit.stats.responder_comparison`.
    """
    if not np.isfinite(rd):
        return (np.nan, np.nan, np.nan, np.nan, np.nan)
    kind = "NNT (benefit)" if rd >= 0 else "NNT (harm)"
    value = _inv(rd)
    if low > 0:  # benefit, the RD CI excludes 0: NNTB from 1/high to 1/low
        return (value, kind, _inv(high), _inv(low), f"NNTB {_inv(high):.1f} to {_inv(low):.1f}")
    if high < 0:  # harm, the RD CI excludes 0: NNTH from 1/|low| to 1/|high|
        return (value, kind, _inv(low), _inv(high), f"NNTH {_inv(low):.1f} to {_inv(high):.1f}")
    # The CI of the RD includes 0: the CI of the NNT runs through infinity.
    near = _inv(high) if rd >= 0 else _inv(low)
    text = f"NNTB {_inv(high):.1f} to \u221e to NNTH {_inv(low):.1f}"
    return (value, kind, near, np.inf, text)


def group_rows(cs: pd.DataFrame, flag: pd.Series, conf_level: float) -> list[dict]:
    """Per group of a change-score table: units with a change, units flagged, Wilson CI, units excluded."""
    rows = []
    for level, part in cs.groupby("group", sort=True, dropna=False):
        ok = part["excluded"].isna()
        n, hits = int(ok.sum()), int(flag.loc[part.index][ok].sum())
        low, high = wilson(hits, n, conf_level)
        rows.append(
            {
                "group": level,
                "n": n,
                "hits": hits,
                "proportion": hits / n if n else np.nan,
                "conf_low": low,
                "conf_high": high,
                "n_dropped": int((~ok).sum()),
            }
        )
    return rows

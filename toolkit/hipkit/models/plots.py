"""Diagnostic figures for mixed models (matplotlib/seaborn figures, returned and never shown)."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["diagnostics"]


def diagnostics(res):
    """Residuals vs fitted, a residual QQ plot, and a QQ plot of each random effect.

    Returns
    -------
    matplotlib.figure.Figure
    """
    # A Figure made without pyplot: nothing is shown, pyplot's figure list does not grow, and the
    # backend is left as the caller had it (switching it to Agg stopped later plots in a notebook showing).
    import seaborn as sns
    from matplotlib.figure import Figure

    aug = res.augment()
    re = res.ranef
    ncol = 2 + re.shape[1]
    fig = Figure(figsize=(4.0 * ncol, 3.6), layout="constrained")
    axes = fig.subplots(1, ncol, squeeze=False)[0]
    ax = axes[0]
    sns.scatterplot(x=aug["fitted"], y=aug["resid"], ax=ax, s=14, alpha=0.6, edgecolor=None)
    ax.axhline(0, color="grey", lw=1)
    ax.set(xlabel="fitted", ylabel="residual", title="Residuals vs fitted")
    _qq(axes[1], aug["resid"].to_numpy(), "Residuals (normal QQ)")
    for k, col in enumerate(re.columns):
        _qq(axes[2 + k], re[col].to_numpy(), f"Random effect: {col}")
    fig.suptitle(res.formula, fontsize=9)
    return fig


def _qq(ax, values, title):
    values = np.sort(values[np.isfinite(values)])
    n = len(values)
    theo = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    ax.scatter(theo, values, s=12, alpha=0.7)
    if n > 1 and np.std(values) > 0:
        q1, q3 = np.percentile(values, [25, 75])
        t1, t3 = stats.norm.ppf([0.25, 0.75])
        slope = (q3 - q1) / (t3 - t1)
        ax.plot(theo, q1 + slope * (theo - t1), color="grey", lw=1)
    ax.set(xlabel="normal quantile", ylabel="sample quantile", title=title)

r"""The clinic report's figures: participant flow, trajectories, change from week 0, responders.

Each function takes the aggregate tables of :mod:`hipkit.report.clinic` and returns a matplotlib
Figure (never shown). Labels come from the data, so every one goes through
:func:`hipkit.report.markup.plot_label` (control and direction-override characters removed, long
labels shortened) and every figure is drawn with matplotlib's mathtext off (``text.parse_math``):
a group called ``$\alpha$`` is shown as written, never parsed as maths (or failing to parse).
Error bars are drawn from intervals ordered around their estimate, so a bound that rounding put a
hair past its estimate (a Wilson bound at 100%) cannot make a negative bar.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ...registry import load_registry
from .. import format as fmt
from ..markup import plot_label
from . import data as C

__all__ = ["plot_flow", "plot_trajectories", "plot_change", "plot_responders", "error_bars", "PLAIN_TEXT"]

#: matplotlib settings for text that comes from data: no mathtext.
PLAIN_TEXT = {"text.parse_math": False}


def _plain_text(func):
    """Run a figure function with mathtext off, and turn it off on every text the figure holds."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib.pyplot as plt
        from matplotlib.text import Text

        with plt.rc_context(PLAIN_TEXT):
            fig = func(*args, **kwargs)
        for text in fig.findobj(Text):
            text.set_parse_math(False)
        return fig

    return wrapper


def _colours(groups) -> dict:
    """One colour per group (tab10, repeated after ten groups)."""
    import matplotlib.pyplot as plt

    palette = plt.get_cmap("tab10").colors
    return {g: palette[i % len(palette)] for i, g in enumerate(groups)}


def _labels(values, max_chars: int = 40) -> list[str]:
    """Figure labels for ``values``, made unique again if shortening made two the same."""
    out, seen = [], {}
    for v in values:
        label = plot_label(v, max_chars)
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def error_bars(estimate, low, high) -> np.ndarray:
    """Error-bar lengths ``[below, above]`` for matplotlib: never negative, zero where unknown.

    Parameters
    ----------
    estimate, low, high : array-like of float

    Returns
    -------
    numpy.ndarray
        Shape ``(2, n)``.

    Examples
    --------
    >>> error_bars([1.0, 0.5], [0.7, float("nan")], [0.9999999999999999, 0.6]).round(3).tolist()
    [[0.3, 0.0], [0.0, 0.1]]
    """
    est = np.asarray(estimate, dtype=float)
    below = np.clip(est - np.asarray(low, dtype=float), 0, None)
    above = np.clip(np.asarray(high, dtype=float) - est, 0, None)
    return np.nan_to_num(np.vstack([below, above]))


@_plain_text
def plot_flow(flow: pd.DataFrame, group: str = "all"):
    """Draw the participant flow (CONSORT-style boxes) for one group (default: everyone).

    Parameters
    ----------
    flow : pandas.DataFrame
        From :func:`hipkit.report.clinic.participant_flow`.
    group : str, default "all"

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    f = flow.loc[flow["group"] == group]
    seen = f.loc[f["stage"] == "seen"]
    enrolled = f.loc[f["stage"] == "enrolled", "n"].iloc[0]
    completed = f.loc[f["stage"] == "completed"].iloc[0]
    lost = f.loc[f["stage"] == "lost"]
    boxes = [(f"Enrolled\nn = {enrolled}", None)]
    for _, r in seen.iterrows():
        boxes.append((f"Seen at week {fmt.week(r['week'])}\nn = {r['n']}", r["week"]))
    boxes.append((f"Completed (seen at week {fmt.week(completed['week'])})\nn = {completed['n']}", None))
    height = 1.05 * len(boxes)
    fig, ax = plt.subplots(figsize=(8.5, max(3.0, height)))
    ax.set_xlim(0, 10)
    ax.set_ylim(-len(boxes) + 0.4, 0.6)
    ax.axis("off")
    style = {"boxstyle": "round,pad=0.4", "facecolor": "#eef3f8", "edgecolor": "#3b6a99"}
    side = {"boxstyle": "round,pad=0.35", "facecolor": "#fbf1e6", "edgecolor": "#b06d1f"}
    for i, (text, week) in enumerate(boxes):
        ax.text(3, -i, text, ha="center", va="center", fontsize=10, bbox=style)
        if i:
            ax.annotate("", xy=(3, -i + 0.28), xytext=(3, -i + 0.72), arrowprops={"arrowstyle": "->", "color": "#555"})
        if week is not None:
            here = lost.loc[lost["week"] == week]
            if len(here):
                lines = [f"{plot_label(r['reason'])}: {r['n']}" for _, r in here.iterrows()]
                ax.annotate(
                    "", xy=(6.1, -i - 0.5), xytext=(3, -i - 0.5), arrowprops={"arrowstyle": "->", "color": "#b06d1f"}
                )
                ax.text(
                    6.2,
                    -i - 0.5,
                    f"Last seen at week {fmt.week(week)}\n" + "\n".join(lines),
                    ha="left",
                    va="center",
                    fontsize=9,
                    bbox=side,
                )
    no_visit = lost.loc[lost["week"].isna()]
    if len(no_visit):
        ax.text(6.2, 0, "No outcome recorded: " + ", ".join(str(x) for x in no_visit["n"]), fontsize=9, bbox=side)
    title = "Participant flow" + ("" if group == "all" else f": {plot_label(group)}")
    ax.set_title(title, loc="left", fontsize=12)
    fig.tight_layout()
    return fig


@_plain_text
def plot_trajectories(cd: C.ClinicData, means: pd.DataFrame, min_cell: int = 5, spaghetti: int = 20, seed: int = 2024):
    """Per measure: group means with 95% CIs, and a spaghetti panel of a random sample of patients.

    The spaghetti panel draws at most ``spaghetti`` patients per group (a seeded random sample), with no
    labels, behind the group mean; a group with fewer than ``min_cell`` patients is not drawn.

    Parameters
    ----------
    cd : ClinicData
    means : pandas.DataFrame
        From :func:`hipkit.report.clinic.visit_means`.
    min_cell : int, default 5
    spaghetti : int, default 20
        Patients drawn per group.
    seed : int, default 2024

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    measures = list(dict.fromkeys(means["measure"]))
    groups = sorted(cd.data[C.GROUP].unique())
    colours = _colours(groups)
    names = dict(zip(groups, _labels(groups)))
    pv = C._per_visit(cd.data.loc[cd.data[C.TIME].isin(cd.programme_weeks)], measures)
    fig, axes = plt.subplots(max(len(measures), 1), 2, figsize=(11, 3.3 * max(len(measures), 1)), squeeze=False)
    rng = np.random.default_rng(seed)
    offsets = np.linspace(-0.12, 0.12, len(groups)) if len(groups) > 1 else [0.0]
    for row, m in enumerate(measures):
        left, right = axes[row]
        for off, g in zip(offsets, groups):
            part = means.loc[(means["measure"] == m) & (means["group"] == g)].dropna(subset=["mean"])
            if len(part):
                left.errorbar(
                    part["week"] + off,
                    part["mean"],
                    yerr=error_bars(part["mean"], part["conf_low"], part["conf_high"]),
                    fmt="o-",
                    capsize=3,
                    color=colours[g],
                    label=names[g],
                )
            people = pv.loc[(pv[C.GROUP] == g) & pv[m].notna(), C.SUBJECT].unique()
            if len(people) >= min_cell:
                chosen = rng.choice(np.sort(people), size=min(spaghetti, len(people)), replace=False)
                sample = pv.loc[pv[C.SUBJECT].isin(chosen)].sort_values([C.SUBJECT, C.TIME])
                for _, one in sample.groupby(C.SUBJECT, sort=False):
                    right.plot(one[C.TIME], one[m], color=colours[g], alpha=0.35, linewidth=0.9)
                if len(part):
                    right.plot(part["week"], part["mean"], color=colours[g], linewidth=2.5, label=f"{names[g]} mean")
        label = plot_label(fmt.short_label(m), 60)
        left.set(title=f"{label}: mean and 95% CI", xlabel="Week", xticks=cd.programme_weeks)
        right.set(title=f"{label}: {spaghetti} patients per group", xlabel="Week", xticks=cd.programme_weeks)
        for ax in (left, right):
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


@_plain_text
def plot_change(cd: C.ClinicData, change: pd.DataFrame, measures):
    """Mean change from week 0 with its 95% CI, per measure (one panel each), group and later week.

    Parameters
    ----------
    cd : ClinicData
    change : pandas.DataFrame
        From :func:`hipkit.report.clinic.change_from_baseline`.
    measures : sequence of str
        One panel per measure, in this order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    reg = load_registry()
    measures = list(measures)
    fig, axes = plt.subplots(1, max(len(measures), 1), figsize=(4.2 * max(len(measures), 1), 3.4), squeeze=False)
    groups = sorted(cd.data[C.GROUP].unique())
    names = dict(zip(groups, _labels(groups)))
    colours = _colours(groups)
    offsets = np.linspace(-0.15, 0.15, len(groups)) if len(groups) > 1 else [0.0]
    for ax, m in zip(axes[0], measures):
        part = change.loc[change["measure"] == m]
        for off, g in zip(offsets, groups):
            p = part.loc[part["group"] == g].dropna(subset=["mean_change"])
            if p.empty:
                continue
            ax.errorbar(
                p["week"].astype(float) + off,
                p["mean_change"].astype(float),
                yerr=error_bars(p["mean_change"], p["conf_low"], p["conf_high"]),
                fmt="o-",
                capsize=3,
                color=colours[g],
                label=names[g],
            )
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(
            title=plot_label(fmt.short_label(m), 60),
            xlabel="Week",
            ylabel=plot_label(f"Change from week 0 ({reg[m].unit})", 60),
            xticks=cd.programme_weeks[1:],
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@_plain_text
def plot_responders(resp: pd.DataFrame):
    """Share of patients reaching each measure's MCID (percent, Wilson 95% CI), one row per measure and group.

    Rows whose rate is suppressed (missing) keep their place, unmarked.

    Parameters
    ----------
    resp : pandas.DataFrame
        From :func:`hipkit.report.clinic.responder_rates`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(resp), 1)))
    labels = _labels(
        (f"{fmt.short_label(m, unit=False)}, {g}" for m, g in zip(resp["measure"], resp["group"])), max_chars=60
    )
    y = np.arange(len(resp))[::-1]
    ok = resp["proportion"].notna().to_numpy()
    share, low, high = (resp[c].astype(float).to_numpy() for c in ("proportion", "conf_low", "conf_high"))
    ax.errorbar(
        share[ok] * 100,
        y[ok],
        xerr=error_bars(share[ok], low[ok], high[ok]) * 100,
        fmt="o",
        capsize=3,
    )
    ax.set_yticks(y, labels=labels)
    ax.set(xlim=(0, 100), ylim=(-0.6, len(resp) - 0.4), xlabel="Patients reaching the MCID (%, 95% CI)")
    fig.tight_layout()
    return fig

"""Estimated marginal means and their contrasts, as R's emmeans (Lenth; Searle, Speed & Milliken 1980).

The reference grid crosses every level of each categorical predictor with each numeric predictor
at its mean (or at the values given in ``at``). A numeric predictor with at most ``cov_keep``
distinct values in the fitted rows (default 2, emmeans' ``cov.keep = "2"``: a 0/1 indicator, or
time with two visits) is instead kept at each of its sorted distinct values, like a factor's levels,
and averaged over. A marginal mean is the prediction averaged with
equal weights over the grid rows of its cell, so it is a linear function ``l'beta``; its standard
error is ``sqrt(l'Cl)`` and its degrees of freedom are Satterthwaite's (default) or Kenward-Roger's
(``ddf="kenward-roger"``: C is then the adjusted covariance, as emmeans' ``lmer.df = "kenward-roger"``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .contrasts import adjust_pvalues

__all__ = ["emmeans", "EmmeansResult"]


def _as_list(x) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _cov_keep_rule(cov_keep) -> tuple[int, set[str]]:
    """emmeans' ``cov.keep``: (threshold on the number of distinct values, names always kept).

    Integers set the threshold (the largest given, at least 1, as ``ref_grid``'s
    ``max(c(1, as.integer(cov.keep)))``); strings that are not integers name covariates to keep.
    """
    items = [cov_keep] if isinstance(cov_keep, (int, str, np.integer)) else list(cov_keep or [])
    thresh, names = 1, set()
    for item in items:
        if isinstance(item, bool):
            raise TypeError("cov_keep takes integers (a threshold) or covariate names, not True/False")
        if isinstance(item, (int, np.integer)):
            thresh = max(thresh, int(item))
        elif isinstance(item, str) and re.fullmatch(r"\s*[+-]?\d+\s*", item):
            thresh = max(thresh, int(item))
        elif isinstance(item, str):
            names.add(item)
        else:
            raise TypeError(f"cov_keep items must be integers or covariate names, got {item!r}")
    return thresh, names


def _predictors(res, cov_keep=2) -> dict[str, dict]:
    """Data columns behind the fixed part: name -> {"kind", "levels", "kept"}.

    ``kind`` is "categorical" or "numeric"; a numeric predictor's ``levels`` are its mean, or its
    sorted distinct values when it has at most the ``cov_keep`` threshold of them or is named in
    ``cov_keep`` (``kept`` is then True).
    """
    info = res.design.x_design_info
    data = res.data.loc[res.design.rows_used]
    thresh, keep_names = _cov_keep_rule(cov_keep)
    out: dict[str, dict] = {}
    for factor, fi in info.factor_infos.items():
        code = factor.code
        cols = [
            c for c in data.columns if re.search(r"(?<![A-Za-z0-9_.])" + re.escape(str(c)) + r"(?![A-Za-z0-9_.])", code)
        ]
        for col in cols:
            if fi.type == "categorical":
                out[col] = {"kind": "categorical", "levels": list(fi.categories), "kept": False}
            elif col not in out:
                values = np.sort(pd.unique(data[col].to_numpy(dtype=float)))
                if len(values) <= thresh or col in keep_names:
                    out[col] = {"kind": "numeric", "levels": [float(v) for v in values], "kept": True}
                else:
                    out[col] = {"kind": "numeric", "levels": [float(data[col].mean())], "kept": False}
    unknown = keep_names - {k for k, v in out.items() if v["kind"] == "numeric"}
    if unknown:
        raise ValueError(f"cov_keep names {sorted(unknown)} that are not numeric predictors of the fixed part")
    return out


@dataclass
class EmmeansResult:
    """Marginal means (``.tidy()``) and their contrasts (``.contrast()``)."""

    table: pd.DataFrame
    L: np.ndarray
    specs: list
    by: list
    fit: object
    conf_level: float
    ddf: str = "satterthwaite"
    #: Grid variables (neither in ``specs`` nor ``by``) with more than one level, which each mean averages
    #: over with equal weights (emmeans' ``misc$avgd.over``): factors and kept covariates.
    averaged_over: tuple = ()
    #: The reference grid: every predictor of the fixed part -> its levels (a covariate's mean, its kept
    #: distinct values, or the ``at`` values), as emmeans' ``ref_grid(...)@levels``.
    grid_levels: dict = field(default_factory=dict)
    #: Numeric predictors kept at their distinct values by the ``cov_keep`` rule (not given in ``at``).
    kept_covariates: tuple = ()

    def tidy(self) -> pd.DataFrame:
        """One row per mean: the spec and by variables, estimate, std_error, df, conf_low, conf_high."""
        return self.table.copy()

    def __repr__(self) -> str:
        return self.table.to_string(index=False)

    def contrast(self, method: str = "pairwise", adjust: str = "holm", ref: int = 0) -> pd.DataFrame:
        """Contrasts among the means within each ``by`` group.

        Parameters
        ----------
        method : {"pairwise", "revpairwise", "trt.vs.ctrl"}
            All pairs (``a - b`` for a before b), the reverse, or each level against the
            reference level ``ref`` (index, default the first: the baseline visit).
        adjust : {"holm", "bonferroni", "tukey", "none"}
            Multiplicity adjustment within each family (``tukey`` only for pairwise).

        Returns
        -------
        DataFrame
            contrast, by variables, estimate, std_error, df, statistic, p_value, conf_low,
            conf_high (intervals adjusted as emmeans: Bonferroni for holm/bonferroni, studentized
            range for tukey).
        """
        if adjust == "tukey" and method == "trt.vs.ctrl":
            raise ValueError("Tukey's adjustment is defined for all pairwise comparisons; use holm or bonferroni")
        tab = self.table
        groups = [((), tab.index.to_numpy())] if not self.by else list(tab.groupby(self.by, sort=False).indices.items())
        rows, Ls, fam = [], [], []
        for key, idx in groups:
            labels = [" ".join(_label(tab.loc[i, s], s, self.fit) for s in self.specs) for i in idx]
            if method in ("pairwise", "revpairwise"):
                pairs = list(itertools.combinations(range(len(idx)), 2))
                if method == "revpairwise":
                    pairs = [(b, a) for a, b in pairs]
            elif method == "trt.vs.ctrl":
                pairs = [(i, ref) for i in range(len(idx)) if i != ref]
            else:
                raise ValueError(f"unknown contrast method {method!r}")
            start = len(Ls)
            for a, b in pairs:
                Ls.append(self.L[idx[a]] - self.L[idx[b]])
                row = {"contrast": f"{labels[a]} - {labels[b]}"}
                key_t = key if isinstance(key, tuple) else (key,)
                row.update(dict(zip(self.by, key_t)))
                rows.append(row)
            fam.append((start, len(Ls), len(idx)))
        L = np.array(Ls)
        out = pd.DataFrame(rows)
        ct = self.fit.contrast(L, conf_level=self.conf_level, ddf=self.ddf)
        for col in ["estimate", "std_error", "df", "statistic", "p_value"]:
            out[col] = ct[col].to_numpy()
        p_adj = np.empty(len(out))
        lo, hi = np.empty(len(out)), np.empty(len(out))
        alpha = 1.0 - self.conf_level
        for s, e, k in fam:
            sl = slice(s, e)
            m = e - s
            p_adj[sl] = adjust_pvalues(
                out["p_value"].to_numpy()[sl],
                adjust,
                t=out["statistic"].to_numpy()[sl],
                df=out["df"].to_numpy()[sl],
                n_means=k,
            )
            df = out["df"].to_numpy()[sl]
            if adjust == "tukey":
                crit = stats.studentized_range.ppf(self.conf_level, k, df) / np.sqrt(2.0)
            elif adjust in ("holm", "bonferroni"):
                crit = stats.t.ppf(1.0 - alpha / (2.0 * m), df)
            else:
                crit = stats.t.ppf(1.0 - alpha / 2.0, df)
            est, se = out["estimate"].to_numpy()[sl], out["std_error"].to_numpy()[sl]
            lo[sl], hi[sl] = est - crit * se, est + crit * se
        out["p_value"] = p_adj
        out["conf_low"], out["conf_high"] = lo, hi
        out["adjust"] = adjust
        return out


def _label(value, var, fit) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return f"{value}"


def emmeans(
    res,
    specs,
    by=None,
    at: dict | None = None,
    conf_level: float = 0.95,
    ddf: str = "satterthwaite",
    cov_keep=2,
) -> EmmeansResult:
    """Estimated marginal means of ``specs`` (within each level of ``by``) from a fitted model.

    Parameters
    ----------
    res : LmmResult
    specs : str or list of str
        Predictor(s) whose means are wanted (e.g. ``"visit"`` or ``"group"``).
    by : str or list of str, optional
        Predictor(s) to condition on (means of ``specs`` separately for each level).
    at : dict, optional
        Values for numeric predictors (default: their mean), e.g. ``{"visit_week": [0, 2, 4, 6]}``.
    conf_level : float, default 0.95
    ddf : {"satterthwaite", "kenward-roger"}
        df method of the means and of their contrasts (Kenward-Roger: adjusted covariance too).
    cov_keep : int, str or list, default 2
        emmeans' ``cov.keep``. A numeric predictor with at most this many distinct values in the
        fitted rows enters the grid at each of its sorted values (like a factor) and the means
        average over them with equal weights, instead of setting it at its mean. Names in a list
        keep those covariates whatever their number of values; integers (or strings of digits,
        as emmeans' default ``"2"``) set the threshold, the largest one given and at least 1, so
        ``cov_keep=0`` (or 1) sets every non-constant covariate at its mean. ``at`` overrides it.

    Returns
    -------
    EmmeansResult
        ``.tidy()`` gives the means (estimate, std_error, df, conf_low, conf_high) and
        ``.contrast(method, adjust)`` their pairwise or against-reference contrasts;
        ``.averaged_over`` names the grid variables averaged over and ``.grid_levels`` holds the
        reference grid.

    Examples
    --------
    >>> emm = fit.emmeans("visit", by="group")  # doctest: +SKIP
    >>> emm.contrast("trt.vs.ctrl", adjust="bonferroni")  # doctest: +SKIP
    """
    import patsy

    specs, by = _as_list(specs), _as_list(by)
    at = dict(at or {})
    preds = _predictors(res, cov_keep)
    for v in specs + by + list(at):
        if v not in preds:
            raise ValueError(f"{v!r} is not a predictor of the fixed part ({', '.join(preds)})")
    grid_vars = {}
    for name, info in preds.items():
        if name not in at:
            grid_vars[name] = info["levels"]
        elif info["kind"] == "numeric":
            grid_vars[name] = [float(x) for x in np.atleast_1d(at[name])]
        else:
            grid_vars[name] = list(np.atleast_1d(at[name]))
    averaged_over = tuple(n for n in grid_vars if n not in specs + by and len(grid_vars[n]) > 1)
    kept = tuple(n for n, info in preds.items() if info["kept"] and n not in at)
    names = list(grid_vars)
    combos = list(itertools.product(*[grid_vars[n] for n in names]))
    grid = pd.DataFrame(combos, columns=names)
    for name, info in preds.items():
        if info["kind"] == "categorical":
            src = res.data[name]
            if isinstance(src.dtype, pd.CategoricalDtype):
                grid[name] = pd.Categorical(grid[name], categories=src.cat.categories)
    Xg = np.asarray(patsy.build_design_matrices([res.design.x_design_info], grid)[0], dtype=float)
    keys = by + specs
    cells = grid.groupby(keys, sort=False).indices
    ordered = sorted(
        cells.items(),
        key=lambda kv: [_order(grid_vars[k], v) for k, v in zip(keys, kv[0] if isinstance(kv[0], tuple) else (kv[0],))],
    )
    L = np.array([Xg[idx].mean(axis=0) for _, idx in ordered])
    ct = res.contrast(L, conf_level=conf_level, ddf=ddf)
    rows = []
    for (key, _), r in zip(ordered, ct.itertuples()):
        key_t = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key_t))
        row.update(estimate=r.estimate, std_error=r.std_error, df=r.df, conf_low=r.conf_low, conf_high=r.conf_high)
        rows.append(row)
    table = pd.DataFrame(rows)[specs + by + ["estimate", "std_error", "df", "conf_low", "conf_high"]]
    # order like emmeans: specs vary fastest within by groups
    return EmmeansResult(
        table=table,
        L=L,
        specs=specs,
        by=by,
        fit=res,
        conf_level=conf_level,
        ddf=ddf,
        averaged_over=averaged_over,
        grid_levels={n: list(v) for n, v in grid_vars.items()},
        kept_covariates=kept,
    )


def _order(levels, value):
    try:
        return list(levels).index(value)
    except ValueError:
        return 0

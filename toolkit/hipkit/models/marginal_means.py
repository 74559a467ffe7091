"""Estimated marginal means and their contrasts, as R's emmeans (Lenth; Searle, Speed & Milliken 1980).

The reference grid crosses every level of each categorical predictor with each numeric predictor
at its mean (or at the values given in ``at``). A numeric predictor with at most ``cov_keep``
distinct values in the fitted rows (default 2, emmeans' ``cov.keep = "2"``: a 0/1 indicator, or
time with two visits) is instead kept at each of its sorted distinct values, like a factor's levels,
and averaged over. A marginal mean is the prediction averaged with equal weights over the grid rows
of its cell (where a variable averaged over is nested in another, as emmeans detects from the data,
only its levels seen within each level of the other), so it is a linear function ``l'beta``; its standard
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

from .. import _arguments as arg
from .._display import SummaryText, html_result, json_safe, records
from ..errors import ArgumentError, NotSupportedError
from .contrasts import adjust_pvalues
from .matrices import design_rows

__all__ = ["emmeans", "EmmeansResult"]


def _as_list(x) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _finite_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and bool(np.isfinite(x))


def _cov_keep_rule(cov_keep) -> tuple[int, set[str]]:
    """The ``cov.keep`` rule of emmeans: (threshold on the number of distinct values, names always kept).

    Integers set the threshold (the largest given, at least 1, as ``ref_grid``'s
    ``max(c(1, as.integer(cov.keep)))``); strings that are not integers name covariates to keep.
    """
    if cov_keep is None:
        items = []
    elif isinstance(cov_keep, (int, str, np.integer)):
        items = [cov_keep]
    elif isinstance(cov_keep, (list, tuple, set)):
        items = list(cov_keep)
    else:  # a float, a dict, ...: not emmeans' vocabulary (review: 3.0 gave "'float' object is not iterable")
        raise ArgumentError(
            f"emmeans: cov_keep must be an integer (a threshold), a covariate name or a list of them, got {cov_keep!r}"
        )
    thresh, names = 1, set()
    for item in items:
        if isinstance(item, bool):
            raise ArgumentError("cov_keep takes integers (a threshold) or covariate names, not True/False")
        if isinstance(item, (int, np.integer)):
            thresh = max(thresh, int(item))
        elif isinstance(item, str) and re.fullmatch(r"\s*[+-]?\d+\s*", item):
            thresh = max(thresh, int(item))
        elif isinstance(item, str):
            names.add(item)
        else:
            raise ArgumentError(f"cov_keep items must be integers or covariate names, got {item!r}")
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
        raise ArgumentError(f"cov_keep names {sorted(unknown)}, which are not numeric predictors of the fixed part")
    return out


@dataclass(frozen=True, eq=False)
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
    #: Nesting found in the data (``nesting="auto"``): variable -> the variables it is nested in.
    nesting: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """One row per mean: the spec and by variables, estimate, std_error, df, conf_low, conf_high."""
        return self.table.copy()

    def glance(self) -> pd.DataFrame:
        """One row: ``n_means, specs, by, averaged_over, ddf, conf_level``."""
        return pd.DataFrame(
            [
                {
                    "n_means": len(self.table),
                    "specs": ", ".join(self.specs),
                    "by": ", ".join(self.by),
                    "averaged_over": ", ".join(self.averaged_over),
                    "ddf": self.ddf,
                    "conf_level": float(self.conf_level),
                }
            ]
        )

    def _title(self) -> str:
        method = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}.get(self.ddf, self.ddf)
        by = f" by {', '.join(self.by)}" if self.by else ""
        return f"Estimated marginal means of {', '.join(self.specs)}{by}; df: {method}; {self.conf_level:.0%} CIs"

    def _notes(self) -> list[str]:
        out = []
        if self.averaged_over:
            out.append(f"Averaged over the levels of: {', '.join(self.averaged_over)} (equal weights)")
        if self.kept_covariates:
            out.append(f"Kept at their distinct values (cov_keep): {', '.join(self.kept_covariates)}")
        return out

    def summary(self) -> SummaryText:
        """The means as text, with the df method, the level and what the means average over."""
        body = self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return SummaryText("\n".join([self._title(), body, *self._notes()]))

    def __repr__(self) -> str:
        return self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        return html_result(self._title(), self.table, self._notes())

    def to_dict(self) -> dict:
        """JSON-safe form: the means table, specs, by, df method, level and the reference grid."""
        return {
            "means": records(self.table),
            "specs": list(self.specs),
            "by": list(self.by),
            "ddf": self.ddf,
            "conf_level": float(self.conf_level),
            "averaged_over": list(self.averaged_over),
            "kept_covariates": list(self.kept_covariates),
            "grid_levels": json_safe(self.grid_levels),
            "nesting": json_safe(self.nesting),
        }

    def plot(self):
        """Each mean with its confidence interval (one panel per ``by`` group); returned, not shown."""
        from matplotlib.figure import Figure

        groups = [((), self.table)] if not self.by else list(self.table.groupby(self.by, sort=False))
        fig = Figure(figsize=(min(4.0 * len(groups), 12.0), 3.2), layout="constrained")
        axes = fig.subplots(1, len(groups), squeeze=False, sharey=True)[0]
        for ax, (key, part) in zip(axes, groups):
            labels = [" ".join(_label(r[s], s, self.fit) for s in self.specs) for _, r in part.iterrows()]
            x = np.arange(len(part))
            est = part["estimate"].to_numpy(float)
            err = np.vstack([est - part["conf_low"].to_numpy(float), part["conf_high"].to_numpy(float) - est])
            ax.errorbar(x, est, yerr=err, fmt="o", color="#1f4e79", capsize=3)
            ax.set_xticks(x, labels, rotation=30 if len(part) > 4 else 0)
            if self.by:
                key_t = key if isinstance(key, tuple) else (key,)
                ax.set_title(", ".join(f"{b} = {k}" for b, k in zip(self.by, key_t)), fontsize=9)
            ax.set_xlabel(", ".join(self.specs))
        axes[0].set_ylabel(f"estimated mean ({self.conf_level:.0%} CI)")
        return fig

    @arg.renamed(adjust="p_adjust")
    def contrast(self, method: str = "pairwise", p_adjust: str = "holm", ref: int = 0) -> pd.DataFrame:
        """Contrasts among the means within each ``by`` group.

        Parameters
        ----------
        method : {"pairwise", "revpairwise", "trt.vs.ctrl"}
            All pairs (``a - b`` for a before b), the reverse, or each level against the
            reference level ``ref`` (index, default the first: the baseline visit).
        p_adjust : {"holm", "bonferroni", "tukey", "none"}
            Multiplicity adjustment within each family (``tukey`` only for pairwise).

        Returns
        -------
        DataFrame
            contrast, by variables, estimate, std_error, df, statistic, p_value, conf_low,
            conf_high (intervals adjusted as emmeans: Bonferroni for holm/bonferroni, studentized
            range for tukey).
        """
        methods, adjusts = ("pairwise", "revpairwise", "trt.vs.ctrl"), ("holm", "bonferroni", "tukey", "none")
        if method not in methods:
            raise ArgumentError(f"contrast: method must be one of {', '.join(map(repr, methods))}, got {method!r}")
        if p_adjust not in adjusts:
            raise ArgumentError(f"contrast: p_adjust must be one of {', '.join(map(repr, adjusts))}, got {p_adjust!r}")
        if p_adjust == "tukey" and method == "trt.vs.ctrl":
            raise ArgumentError(
                "contrast: p_adjust='tukey' is defined for all pairwise comparisons; use holm or bonferroni"
            )
        n_levels = len(self.table) if not self.by else int(self.table.groupby(self.by, sort=False).size().min())
        if n_levels < 2:
            numeric = [s for s in self.specs if pd.api.types.is_numeric_dtype(self.table[s])]
            hint = (
                f"; {', '.join(map(repr, numeric))} is numeric, so the grid holds one value (its mean): write "
                f"C({numeric[0]}) in the formula to compare its levels, or give at={{{numeric[0]!r}: [...]}}"
                if numeric
                else ""
            )
            raise ArgumentError(f"contrast: there is only one mean to compare within each group{hint}")
        if method == "trt.vs.ctrl" and (
            not isinstance(ref, (int, np.integer)) or isinstance(ref, bool) or not 0 <= int(ref) < n_levels
        ):
            raise ArgumentError(f"contrast: ref must be the index of a level, 0 to {n_levels - 1}, got {ref!r}")
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
                raise ArgumentError(f"unknown contrast method {method!r}")
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
                p_adjust,
                t=out["statistic"].to_numpy()[sl],
                df=out["df"].to_numpy()[sl],
                n_means=k,
            )
            df = out["df"].to_numpy()[sl]
            if p_adjust == "tukey":
                crit = stats.studentized_range.ppf(self.conf_level, k, df) / np.sqrt(2.0)
            elif p_adjust in ("holm", "bonferroni"):
                crit = stats.t.ppf(1.0 - alpha / (2.0 * m), df)
            else:
                crit = stats.t.ppf(1.0 - alpha / 2.0, df)
            est, se = out["estimate"].to_numpy()[sl], out["std_error"].to_numpy()[sl]
            lo[sl], hi[sl] = est - crit * se, est + crit * se
        out["p_value"] = p_adj
        out["conf_low"], out["conf_high"] = lo, hi
        out["adjust"] = p_adjust
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
    nesting: str | None = "auto",
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
    nesting : {"auto", None}, default "auto"
        ``"auto"`` detects nesting in the data as emmeans does: a factor or kept covariate of the
        grid whose every level occurs with one level only of another (a covariate constant within
        participants, kept by name, is nested in the group). Averaging over a nested variable
        then uses, within each level of the variables it is nested in, only the levels seen
        there, and averages over those variables afterwards. ``None`` ignores nesting (emmeans'
        ``nesting = NULL``). Means *of* a nested variable are not supported.

    Returns
    -------
    EmmeansResult
        ``.tidy()`` gives the means (estimate, std_error, df, conf_low, conf_high) and
        ``.contrast(method, p_adjust)`` their pairwise or against-reference contrasts;
        ``.averaged_over`` names the grid variables averaged over and ``.grid_levels`` holds the
        reference grid.

    Examples
    --------
    >>> emm = fit.emmeans("visit", by="group")  # doctest: +SKIP
    >>> emm.contrast("trt.vs.ctrl", p_adjust="bonferroni")  # doctest: +SKIP
    """
    specs, by = _as_list(specs), _as_list(by)
    arg.probability("emmeans", "conf_level", conf_level, {})
    if at is not None and not isinstance(at, dict):
        raise ArgumentError(f"emmeans: at must be a dict of predictor -> value(s), got {at!r}")
    at = dict(at or {})
    if nesting not in ("auto", None):
        raise ArgumentError(f"nesting must be 'auto' or None, got {nesting!r}")
    preds = _predictors(res, cov_keep)
    for v in specs + by + list(at):
        if v not in preds:
            raise ArgumentError(f"emmeans: {v!r} is not a predictor of the fixed part ({', '.join(preds)})")
    grid_vars = {}
    for name, info in preds.items():
        if name not in at:
            grid_vars[name] = info["levels"]
        elif info["kind"] == "numeric":
            values = np.atleast_1d(at[name])
            if values.size == 0 or not all(_finite_number(x) for x in values):
                raise ArgumentError(f"emmeans: at[{name!r}] must be one or more finite numbers, got {at[name]!r}")
            grid_vars[name] = [float(x) for x in values]
        else:
            grid_vars[name] = list(np.atleast_1d(at[name]))
            levels = set(info["levels"])
            unknown = [x for x in grid_vars[name] if x not in levels]
            if unknown or not grid_vars[name]:
                raise ArgumentError(
                    f"emmeans: at[{name!r}] must hold levels of {name!r} ({', '.join(map(str, info['levels']))}), "
                    f"got {at[name]!r}"
                )
    kept = tuple(n for n, info in preds.items() if info["kept"] and n not in at)
    names = list(grid_vars)
    combos = list(itertools.product(*[grid_vars[n] for n in names]))
    grid = pd.DataFrame(combos, columns=names)
    for name, info in preds.items():
        if info["kind"] == "categorical":
            src = res.data[name]
            if isinstance(src.dtype, pd.CategoricalDtype):
                grid[name] = pd.Categorical(grid[name], categories=src.cat.categories)
    Xg = design_rows(res.design.x_design_info, grid)
    # Grid rows whose combination of factors and kept covariates occurs in the data (emmeans' .wgt. > 0).
    weight_vars = [n for n, info in preds.items() if info["kind"] == "categorical" or n in kept]
    observed = _observed_rows(grid, res.data.loc[res.design.rows_used], weight_vars)
    nests = _find_nests(grid, grid_vars, observed) if nesting == "auto" else {}
    keys = by + specs
    L, ordered, averaged_over = _marginal_rows(grid, Xg, grid_vars, keys, nests, observed)
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
        nesting=nests,
    )


def _plain(values) -> list:
    """Grid or data values as comparable Python scalars (numbers as float, anything else as str)."""
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            out.append(str(v))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            out.append(float(v))
        else:
            out.append(str(v))
    return out


def _observed_rows(grid: pd.DataFrame, data: pd.DataFrame, weight_vars: list[str]) -> np.ndarray:
    """Whether each grid row's combination of ``weight_vars`` occurs in the data rows."""
    if not weight_vars:
        return np.ones(len(grid), dtype=bool)
    seen = set(zip(*[_plain(data[v].to_numpy()) for v in weight_vars]))
    rows = zip(*[_plain(grid[v].to_numpy(dtype=object)) for v in weight_vars])
    return np.array([r in seen for r in rows], dtype=bool)


def _find_nests(grid: pd.DataFrame, grid_vars: dict, observed: np.ndarray) -> dict[str, list[str]]:
    """Nesting detected from the data as emmeans does (``.find_nests``): variable -> variables it is nested in.

    A grid variable with more than one level is nested in another when each of its levels occurs
    (in the observed grid rows) with a single level of the other. Hand-written because no Python
    library reproduces emmeans' reference-grid rules; the term-structure part of emmeans' rule
    (a factor that enters only through an interaction, ``a:b`` without ``b``) is not reproduced.
    """
    names = [n for n, v in grid_vars.items() if len(v) > 1]
    result: dict[str, list[str]] = {}
    if len(names) < 2:
        return result
    g = pd.DataFrame({n: _plain(grid.loc[observed, n].to_numpy(dtype=object)) for n in names})
    for nm in names:
        excluded = {other for other, inside in result.items() if nm in inside}
        nested_in = []
        for other in names:
            if other == nm or other in excluded:
                continue
            per_level = g.groupby(nm)[other].nunique()
            if len(per_level) and per_level.max() == 1:
                nested_in.append(other)
        if nested_in:
            result[nm] = nested_in
    for nm in list(result):  # one step of transitivity, in order, as emmeans
        inner = [x for k in result[nm] for x in result.get(k, [])]
        result[nm] = list(dict.fromkeys(inner + result[nm]))
    return {nm: inside for nm, inside in result.items() if nm not in inside}


def _cells(grid: pd.DataFrame, rows: np.ndarray, keys: list[str], grid_vars: dict) -> list[tuple[tuple, np.ndarray]]:
    """Grid rows (indices among ``rows``) of each combination of ``keys``, in emmeans' order (last key fastest)."""
    sub = grid.iloc[rows]
    if not keys:
        return [((), rows)]
    cells = sub.groupby(keys, sort=False, observed=True).indices
    out = [((k if isinstance(k, tuple) else (k,)), rows[idx]) for k, idx in cells.items()]
    return sorted(out, key=lambda kv: [_order(grid_vars[k], v) for k, v in zip(keys, kv[0])])


def _marginal_rows(grid, Xg, grid_vars, keys, nests, observed):
    """The rows ``l'`` of the means of each combination of ``keys``, with their keys and what they average over.

    Without nesting among the averaged-over variables each mean averages the grid rows of its cell
    with equal weights. With one averaged-over variable ``a`` nested in ``G`` (emmeans'
    ``.nested_emm``): within each level of ``G``, only the levels of ``a`` observed there enter the
    average, and the means are then averaged over ``G`` (those of ``G`` not in ``keys``) with equal weights.
    """
    multi = {n for n, v in grid_vars.items() if len(v) > 1}
    nested_keys = [k for k in keys if k in nests]
    if nested_keys:
        raise NotSupportedError(
            f"means of {nested_keys}, nested in {[nests[k] for k in nested_keys]}, are not supported; "
            "pass nesting=None to treat the grid as crossed"
        )
    nested_avg = [n for n in nests if n not in keys]
    all_rows = np.arange(len(grid))
    if not nested_avg:
        cells = _cells(grid, all_rows, keys, grid_vars)
        averaged = tuple(n for n in grid_vars if n not in keys and n in multi)
        return np.array([Xg[idx].mean(axis=0) for _, idx in cells]), cells, averaged
    if len(nested_avg) > 1:
        raise NotSupportedError(
            f"averaging over several nested variables ({nested_avg}) is not supported; pass nesting=None "
            "to treat the grid as crossed, or give them in specs, by or at"
        )
    a = nested_avg[0]
    groups = nests[a]
    gkeys = list(dict.fromkeys(keys + groups))
    plain_a = np.array(_plain(grid[a].to_numpy(dtype=object)), dtype=object)
    group_id = list(zip(*[_plain(grid[g].to_numpy(dtype=object)) for g in groups]))
    seen = {}
    for i in np.flatnonzero(observed):
        seen.setdefault(group_id[i], set()).add(plain_a[i])
    keep = np.array([plain_a[i] in seen.get(group_id[i], set()) for i in range(len(grid))])
    stage1 = {key: Xg[idx].mean(axis=0) for key, idx in _cells(grid, np.flatnonzero(keep), gkeys, grid_vars)}
    averaged = [n for n in grid_vars if n not in gkeys and n in multi]
    outer = [g for g in groups if g not in keys]
    cells = _cells(grid, all_rows, keys, grid_vars)
    L = []
    for key, _ in cells:
        parts = []
        for combo in itertools.product(*[grid_vars[g] for g in outer]):
            full = dict(zip(keys, key)) | dict(zip(outer, combo))
            gk = tuple(full[k] for k in gkeys)
            if gk not in stage1:
                raise NotSupportedError(
                    f"no data in the cell {dict(zip(gkeys, gk))} of the variables {a!r} is nested in; "
                    "pass nesting=None to treat the grid as crossed"
                )
            parts.append(stage1[gk])
        L.append(np.mean(parts, axis=0))
    # emmeans lists what the first stage averaged over, then the nesting variables averaged over after it.
    return np.array(L), cells, tuple(averaged + [g for g in outer if g in multi])


def _order(levels, value):
    try:
        return list(levels).index(value)
    except ValueError:
        return 0

"""Refit one model design to many responses: the replicate engine of power curves and the bootstrap.

A power curve or a parametric bootstrap fits the same model to a thousand responses on one design.
Through :func:`hipkit.lmm` every replicate would rebuild the design (pandas, patsy) and every
cross-product from its table. :class:`PreparedDesign` builds the design once; a refit then computes
only what involves the response (``Z_i'y_i``, ``X'y``, ``y'y``), reuses the response-free
cross-products (``Z_i'Z_i``, ``Z_i'X_i``, ``X'X``) and the grouping of participants by visit
pattern, and starts the optimiser from the original fit's theta (a warm start: the replicates'
optima lie near it).

A refit is the :func:`hipkit.lmm` pipeline after the design: the same blocks, bit for bit, the same
deviance, the same optimiser (called in one place, :func:`hipkit.models.fit.fit_blocks`) and the same
:class:`~hipkit.models.results.LmmResult`, so every estimate, standard error, Satterthwaite df and
p value agrees with ``lmm()`` on the same response to the optimiser's precision (and exactly when
both start from the same theta). A subset of the rows (visits missing after a dropout) is a
boolean mask over the prepared design's rows: its cross-products are recomputed from the arrays,
with no table.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import numpy as np

from ..errors import ArgumentError, InputError, ModelSpecError
from .design import Design, DesignRows
from .engine import Blocks, group_patterns, make_blocks, sum_patterns
from .fit import fit_blocks

__all__ = ["PreparedDesign"]

_CACHE_SIZE = 64  # row subsets whose response-free cross-products are kept (dropout patterns repeat)


class _Fixed:
    """The response-free part of the blocks for one set of rows (computed once per row set)."""

    def __init__(self, X: np.ndarray, Z: np.ndarray, group: np.ndarray, labels: np.ndarray):
        seen = np.unique(group)
        if len(seen) < len(labels):  # participants without a row: recode as lmm() on those rows would
            group, labels = np.searchsorted(seen, group), labels[seen]
        self.X, self.Z, self.group, self.labels, self.n_groups = X, Z, group, labels, len(labels)
        self.blocks = make_blocks(np.zeros(len(X)), X, Z, group, self.n_groups)
        self.grouping = group_patterns(self.blocks.ZtZ)

    def with_response(self, y: np.ndarray) -> Blocks:
        """The blocks of response ``y`` on these rows, equal to ``make_blocks(y, X, Z, ...)``."""
        b, Z, group, G = self.blocks, self.Z, self.group, self.n_groups
        Zty = np.empty((G, Z.shape[1]))
        for a in range(Z.shape[1]):
            Zty[:, a] = np.bincount(group, weights=Z[:, a] * y, minlength=G)
        out = Blocks(
            ZtZ=b.ZtZ, ZtX=b.ZtX, Zty=Zty, XtX=b.XtX, Xty=self.X.T @ y, yty=float(y @ y), n=len(y), Xsum=b.Xsum
        )
        if self.grouping is None:
            out._patterns = None
        else:
            sum_patterns(out, self.grouping)
        return out


class PreparedDesign:
    """A model's design prepared once for refitting many responses.

    Parameters
    ----------
    design : Design
        The arrays of the model (from :func:`hipkit.models.design.build_design`, or ``fit.design``).
    reml : bool, default True
        REML (True) or ML refits.
    theta_start : array-like, optional
        Where every refit's optimiser starts; default lme4's start (identity Lambda), as
        :func:`hipkit.lmm`. :meth:`from_fit` starts from the fit's optimum.

    Examples
    --------
    >>> import pandas as pd, hipkit
    >>> from hipkit.models.refit import PreparedDesign
    >>> sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    >>> fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    >>> again = PreparedDesign.from_fit(fit).refit(fit.design.y)
    >>> bool(abs(again.beta[1] - fit.beta[1]) < 1e-6)
    True
    """

    def __init__(self, design: Design, reml: bool = True, theta_start=None):
        self.rows = design.require_rows(
            "refits need the model's rows: build the design from a pandas DataFrame", InputError
        )
        self.design = design
        self.reml = bool(reml)
        start = design.theta_start() if theta_start is None else np.asarray(theta_start, dtype=float)
        if start.shape != (len(design.pattern),):
            raise ArgumentError(f"theta_start has {start.size} values; the model has {len(design.pattern)}")
        self.theta_start = start.copy()
        self.lower = design.theta_lower_bounds()
        self._all = None
        self._subsets: OrderedDict = OrderedDict()

    @classmethod
    def from_fit(cls, fit) -> "PreparedDesign":
        """Prepare ``fit``'s design, with its REML/ML choice, refits starting at its theta."""
        return cls(fit.design, reml=fit.reml, theta_start=fit.theta)

    def _fixed(self, rows) -> _Fixed:
        d, r = self.design, self.rows
        if rows is None:
            if self._all is None:
                self._all = _Fixed(r.X, r.Z, r.group, d.group_labels)
            return self._all
        key = rows.tobytes()
        hit = self._subsets.get(key)
        if hit is None:
            hit = _Fixed(r.X[rows], r.Z[rows], r.group[rows], d.group_labels)
            self._subsets[key] = hit
            if len(self._subsets) > _CACHE_SIZE:
                self._subsets.popitem(last=False)
        else:
            self._subsets.move_to_end(key)
        return hit

    def refit(self, y, rows=None, check_singular: str = "ignore", check_convergence: str = "ignore"):
        """Fit the model to a new response on the prepared design.

        Parameters
        ----------
        y : array-like
            The response, one value per row of the design (or per selected row with ``rows``).
        rows : array-like of bool, optional
            Which of the design's rows are observed (e.g. visits before a dropout); default all.
        check_singular, check_convergence : {"ignore", "warn", "error"}
            As in :func:`hipkit.lmm`; replicates default to ``"ignore"`` (the findings are kept on
            the result: ``converged``, ``singular``).

        Returns
        -------
        LmmResult
            The fit, without the data rows (``augment()`` and ``plot()`` need them).

        Raises
        ------
        IdentifiabilityError
            The response or the rows cannot identify the model (as :func:`hipkit.lmm`).
        ValueError
            ``y`` does not match the rows.
        """
        d = self.design
        if rows is not None:
            rows = np.asarray(rows, dtype=bool)
            if rows.shape != (d.n,):
                raise ArgumentError(f"rows must be {d.n} booleans, one per row of the design (got shape {rows.shape})")
            if rows.all():
                rows = None
        fixed = self._fixed(rows)
        y = np.asarray(y, dtype=float)
        if y.shape != (len(fixed.X),):
            raise ArgumentError(f"y has shape {y.shape}; the rows refitted are {len(fixed.X)}")
        if not np.all(np.isfinite(y)):
            raise ModelSpecError("the response holds missing or infinite values; pass the observed rows with rows=")
        blocks = fixed.with_response(y)
        if rows is None:
            design = replace(d, rows=replace(self.rows, y=y))
        else:
            used = None if self.rows.rows_used is None else self.rows.rows_used[rows]
            design = replace(
                d,
                rows=DesignRows(y=y, X=fixed.X, Z=fixed.Z, group=fixed.group, rows_used=used),
                group_labels=fixed.labels,
                n_obs=len(y),
            )
        return fit_blocks(
            design,
            blocks,
            None,
            self.reml,
            check_singular,
            check_convergence,
            theta_start=self.theta_start,
        )

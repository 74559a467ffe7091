"""Parametric bootstrap of a fitted mixed model (as lme4's ``bootMer``), replicates on Dask.

Each replicate draws new random effects b_i ~ N(0, Sigma) and residuals e ~ N(0, sigma^2) from the
fitted model, forms y* = X beta + Z b + e on the same design, refits, and records the statistic.
Only the response changes, so the refit reuses the design and every cross-product that does not
involve y, and starts the optimiser at the original fit's theta (:mod:`hipkit.models.refit`).
Replicate ``r`` uses the seed ``SeedSequence(seed, spawn_key=(r,))``, so the result is the same on
any number of workers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import _arguments as arg
from .._display import SummaryText, html_result, json_safe, records
from ..errors import ArgumentError, HipkitError, InputError
from ..parallel import run_replicates
from .refit import PreparedDesign

__all__ = ["bootstrap", "BootstrapResult", "default_statistic"]


def default_statistic(fit) -> dict:
    """Fixed effects, random-effect SDs and correlations, and sigma of a fit, by name.

    Parameters
    ----------
    fit : LmmResult

    Returns
    -------
    dict
        ``{term: estimate, "sd__<effect>": ..., "cor__<a>.<b>": ..., "sd__Observation": sigma}``: the
        random-effect terms are spelled as in ``fit.tidy(effects="ran_pars")`` (broom.mixed's names).
    """
    out = dict(zip(fit.design.x_names, map(float, fit.beta)))
    cov = fit.random_cov
    sd = np.sqrt(np.diag(cov))
    names = fit.design.z_names
    for i, name in enumerate(names):
        out[f"sd__{name}"] = float(sd[i])
    for start, size, correlated in fit.design.term_blocks:
        if correlated:
            for i in range(start, start + size):
                for j in range(start, i):
                    out[f"cor__{names[j]}.{names[i]}"] = float(cov[i, j] / (sd[i] * sd[j])) if sd[i] * sd[j] else np.nan
    out["sd__Observation"] = float(fit.sigma)
    return out


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(cov)
    return v * np.sqrt(np.clip(w, 0.0, None))


def _one_replicate(payload, rep: int):
    """Simulate a response from the fitted model, refit it, and return the statistic (None if it fails).

    The refit runs on the design prepared once (:class:`~hipkit.models.refit.PreparedDesign`: no
    table or formula per replicate, the response-free cross-products reused, the optimiser started
    at the original fit's theta). Returns ``(statistic or None, converged)``.
    """
    prepared, beta, root, sigma, statistic, seed = payload
    design, rows = prepared.design, prepared.rows
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rep,)))
    b = rng.standard_normal((design.n_groups, root.shape[0])) @ root.T
    y = rows.X @ beta + np.einsum("ij,ij->i", rows.Z, b[rows.group]) + rng.normal(0.0, sigma, design.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = prepared.refit(y)
            return dict(statistic(fit)), bool(fit.converged)
        except (HipkitError, np.linalg.LinAlgError, ValueError, ArithmeticError):
            return None, False


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Replicates of a parametric bootstrap and their percentile intervals.

    Attributes
    ----------
    original : pandas.Series
        The statistic on the fitted model.
    replicates : pandas.DataFrame
        One row per replicate (NaN rows where a refit failed).
    conf_level : float
    n_failed : int
        Replicates whose refit failed.
    n_not_converged : int
        Replicates whose optimiser reported no convergence (kept in ``replicates``, counted here and
        in the summary).
    """

    original: pd.Series
    replicates: pd.DataFrame
    conf_level: float
    n_failed: int
    n_not_converged: int

    def tidy(self) -> pd.DataFrame:
        """Per quantity: ``term, estimate, std_error, conf_low, conf_high, bias, n_boot`` (percentile CIs)."""
        a = (1.0 - self.conf_level) / 2.0
        reps = self.replicates
        return pd.DataFrame(
            {
                "term": self.original.index,
                "estimate": self.original.to_numpy(),
                "std_error": reps.std(ddof=1).reindex(self.original.index).to_numpy(),
                "conf_low": reps.quantile(a).reindex(self.original.index).to_numpy(),
                "conf_high": reps.quantile(1.0 - a).reindex(self.original.index).to_numpy(),
                "bias": (reps.mean() - self.original).reindex(self.original.index).to_numpy(),
                "n_boot": reps.notna().sum().reindex(self.original.index).to_numpy(),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``nsim, n_failed, n_not_converged, conf_level``."""
        return pd.DataFrame(
            [
                {
                    "nsim": len(self.replicates),
                    "n_failed": self.n_failed,
                    "n_not_converged": self.n_not_converged,
                    "conf_level": self.conf_level,
                }
            ]
        )

    def _title(self) -> str:
        return (
            f"Parametric bootstrap: {len(self.replicates)} replicates ({self.n_failed} failed, "
            f"{self.n_not_converged} not converged); {self.conf_level:.0%} percentile intervals"
        )

    def summary(self) -> SummaryText:
        """The tidy table as text, with the replicate counts."""
        return SummaryText(self._title() + "\n" + self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4g}"))

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html_result(self._title(), self.tidy())

    def to_dict(self) -> dict:
        """JSON-safe form: the intervals, the counts, the level and every replicate (column -> values)."""
        return {
            "intervals": records(self.tidy()),
            "glance": records(self.glance())[0],
            "original": json_safe(self.original.to_dict()),
            "replicates": {str(c): json_safe(self.replicates[c].to_numpy()) for c in self.replicates.columns},
        }

    def plot(self, terms=None):
        """Histograms of the replicates with the estimate and the interval marked (returned, not shown)."""
        from matplotlib.figure import Figure

        terms = list(terms) if terms is not None else list(self.original.index)
        cols = min(3, len(terms))
        rows = -(-len(terms) // cols)
        fig = Figure(figsize=(4 * cols, 2.8 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        tidy = self.tidy().set_index("term")
        for ax, term in zip(axes.ravel(), terms):
            ax.hist(self.replicates[term].dropna(), bins=30, color="#9ab")
            ax.axvline(tidy.loc[term, "estimate"], color="k")
            for k in ("conf_low", "conf_high"):
                ax.axvline(tidy.loc[term, k], color="k", linestyle="--")
            ax.set_title(term, fontsize=9)
        for ax in axes.ravel()[len(terms) :]:
            ax.axis("off")
        fig.tight_layout()
        return fig


def _fitted_model(func: str, name: str, value, args) -> None:
    if not hasattr(value, "design") or not hasattr(value, "beta"):
        raise ArgumentError(f"{func}: {name} must be a model fitted by hipkit.lmm, not {type(value).__name__}")


@arg.checked(fit=_fitted_model, statistic=arg.function, scheduler=None)
def bootstrap(
    fit,
    statistic=None,
    nsim: int = 1000,
    seed: int = 0,
    scheduler=None,
    progress: bool = True,
    conf_level: float = 0.95,
) -> BootstrapResult:
    """Parametric bootstrap CIs for any quantity of a fitted mixed model.

    Parameters
    ----------
    fit : LmmResult
        A model fitted by :func:`hipkit.lmm` on a pandas DataFrame.
    statistic : callable, optional
        ``statistic(refit) -> dict`` of named numbers (default :func:`default_statistic`: fixed
        effects, random-effect SDs and correlations, sigma). Sent to the workers, so it must be
        picklable by cloudpickle (a lambda is fine). The refits carry no patsy design information,
        so the statistic can use estimates, ``tidy()``, ``glance()`` and variance components but
        not ``anova()`` or ``emmeans()``.
    nsim : int, default 1000
    seed : int, default 0
    scheduler : None, "serial", str or distributed.Client, default None
        Where the refits run (see :func:`hipkit.parallel.run_replicates`): a LocalCluster by default.
    progress : bool, default True
    conf_level : float, default 0.95

    Returns
    -------
    BootstrapResult
        ``.tidy()`` gives percentile intervals; ``.replicates`` every replicate.

    References
    ----------
    Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application, ch. 2 and 5. Cambridge
    University Press. lme4's ``bootMer`` (Bates et al. 2015) does the same for lme4 fits.

    Examples
    --------
    >>> import pandas as pd, hipkit
    >>> sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    >>> fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    >>> boot = hipkit.bootstrap(fit, nsim=50, scheduler="serial", progress=False)
    >>> bool(boot.tidy().set_index("term").loc["Days", "conf_low"] > 5)
    True
    """
    fit.design.require_rows("the bootstrap needs the data rows: fit the model on a pandas DataFrame", InputError)
    if int(nsim) < 2:
        raise InputError(f"nsim must be at least 2 (got {nsim})")
    if not 0.0 < float(conf_level) < 1.0:
        raise InputError(f"conf_level must be between 0 and 1 (got {conf_level})")
    statistic = statistic or default_statistic
    original = pd.Series(statistic(fit), dtype=float)

    # patsy's design info cannot be pickled; refits do not need it
    prepared = PreparedDesign(replace(fit.design, x_design_info=None), reml=fit.reml, theta_start=fit.theta)
    payload = (
        prepared,
        np.asarray(fit.beta, dtype=float),
        _sqrt_psd(fit.random_cov),
        float(fit.sigma),
        statistic,
        int(seed),
    )
    out = run_replicates(
        _one_replicate,
        [(r,) for r in range(int(nsim))],
        scheduler=scheduler,
        progress=progress,
        desc="bootstrap",
        shared=(payload,),
    )
    rows = [r if r is not None else {} for r, _ in out]
    reps = pd.DataFrame(rows, columns=original.index, dtype=float)
    failed = sum(r is None for r, _ in out)
    not_converged = sum((r is not None) and not ok for r, ok in out)
    return BootstrapResult(original, reps, float(conf_level), int(failed), int(not_converged))

"""``hipkit.lmm``: fit a linear mixed model by profiled REML or ML."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._arguments import checked
from ..errors import (
    ArgumentError,
    ConvergenceError,
    ConvergenceWarning,
    HipkitError,
    IdentifiabilityError,
    SingularFitWarning,
)
from .design import build_design
from .distributed import dask_design_blocks, is_dask_collection
from .engine import deviance_at, evaluate, make_blocks
from .optimise import optimise_theta, theta_scale
from .results import LmmResult

__all__ = ["lmm", "SINGULAR_TOL"]

#: A diagonal element of Lambda below this is a variance at its boundary (lme4's isSingular tol).
SINGULAR_TOL = 1e-4
_ACTIONS = ("ignore", "warn", "error")


def _act(level: str, message: str, category, error=HipkitError) -> str | None:
    if level not in _ACTIONS:
        raise ArgumentError(f"check level must be one of {_ACTIONS}, got {level!r}")
    if level == "error":
        raise error(message)
    if level == "warn":
        warnings.warn(message, category, stacklevel=4)
    return message if level != "ignore" else None


@checked(data=None)  # data: a pandas or a Dask DataFrame, checked by the fit itself
def lmm(
    formula: str,
    data: pd.DataFrame,
    reml: bool = True,
    check_singular: str = "warn",
    check_convergence: str = "warn",
    control: dict | None = None,
):
    """Fit a linear mixed model written in lme4 syntax, by profiled REML (default) or ML.

    Parameters
    ----------
    formula : str
        ``response ~ fixed part + (random terms | group)``, e.g.
        ``"pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"``. The fixed part takes
        patsy/R syntax (``*``, ``:``, ``C(x)``, ``C(x, Treatment('b'))``, transformations); random
        terms ``(1 | g)``, ``(1 + x | g)`` (correlated) and ``(x || g)`` (uncorrelated), all on one
        grouping factor.
    data : DataFrame or dask.dataframe.DataFrame
        Long-format data (one row per observation). Rows with a missing value in any model
        variable are dropped and counted (``glance()["n_dropped"]``, and in the summary). A Dask
        DataFrame (e.g. ``dask.dataframe.read_parquet("registry/*.parquet")``) is reduced to the
        per-participant cross-products partition by partition on its scheduler and only those come
        back (see :mod:`hipkit.models.distributed`); the estimates equal the in-memory fit's to the
        optimiser's precision (about 1e-6 relative, as for the same rows in another order).
        ``augment()``, ``emmeans()`` and ``plot()`` need the rows and are then not available.
    reml : bool, default True
        Restricted maximum likelihood; False for maximum likelihood (needed to compare models
        with different fixed parts; :func:`hipkit.lrt` refits with ML for you).
    check_singular, check_convergence : {"warn", "ignore", "error"}
        What to do when the fit is singular (a variance at zero, a correlation at +/-1) or the
        optimiser did not converge; the finding is always stored on the result and in its summary.
        Convergence is judged by lme4-like checks on the optimum (scaled gradient, Hessian,
        boundary), recorded in ``fit.optimizer`` (:mod:`hipkit.models.optimise`).
    control : dict, optional
        Optimiser settings (as lme4's ``lmerControl``): ``max_evaluations`` (int, a limit on the
        deviance evaluations; default none) and ``restarts`` (bool, default True: restart from
        interior points when the optimum is on a boundary or a check fails).

    Returns
    -------
    LmmResult
        With ``summary()``, ``tidy()``, ``glance()``, ``variance_components()``, ``anova()``,
        ``emmeans()``, ``augment()``, ``plot()`` and ``to_dict()``.

    Raises
    ------
    ModelSpecError
        The formula or data cannot make a model (unknown column, non-numeric response).
    NotSupportedError
        More than one grouping factor (nested or crossed random effects).
    IdentifiabilityError
        The data cannot identify the model (e.g. a random slope with one visit per participant).
    ConvergenceError
        Under ``check_convergence="error"``, when a convergence check fails.

    Notes
    -----
    The profiled deviance is evaluated on per-participant blocks of cross-products, following
    the penalised least-squares formulation of lme4 (Bates et al. 2015, J Stat Softw 67(1),
    doi:10.18637/jss.v067.i01). Degrees of freedom of t and F tests use Satterthwaite's method
    as lmerTest does (Kuznetsova et al. 2017, J Stat Softw 82(13), doi:10.18637/jss.v082.i13).
    Validated against lme4 1.1-31 / lmerTest 3.1-3 / emmeans 1.8.4 in ``tests/reference/``.

    Examples
    --------
    >>> import pandas as pd, hipkit
    >>> sleep = pd.read_csv("tests/reference/sleepstudy/data.csv")
    >>> fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    >>> round(float(fit.glance()["reml_criterion"].iloc[0]), 1)
    1743.6
    >>> fit.tidy()[["term", "estimate"]].round(3).values.tolist()
    [['(Intercept)', 251.405], ['Days', 10.467]]
    """
    if is_dask_collection(data):
        design, blocks, data = dask_design_blocks(formula, data)
    else:
        design = build_design(formula, data)
        rows = design.rows
        blocks = make_blocks(rows.y, rows.X, rows.Z, rows.group, design.n_groups)

    return fit_blocks(design, blocks, data, reml, check_singular, check_convergence, control=control)


def fit_blocks(
    design,
    blocks,
    data,
    reml: bool,
    check_singular: str = "warn",
    check_convergence: str = "warn",
    theta_start=None,
    control: dict | None = None,
):
    """Optimise the profiled deviance on prepared blocks and return the :class:`LmmResult`.

    The part of :func:`lmm` after the data have been reduced to blocks (shared with the replicate
    refits of :mod:`hipkit.models.refit`, which change only the response and start the optimiser at
    ``theta_start``; default ``design.theta_start()``, lme4's start). The only call of the optimiser.
    """
    def f(theta):
        return deviance_at(theta, blocks, design.pattern, reml)

    control = dict(control or {})
    unknown = set(control) - {"max_evaluations", "restarts"}
    if unknown:
        raise ArgumentError(f"unknown control settings {sorted(unknown)}; known: 'max_evaluations', 'restarts'")
    try:
        scale = theta_scale(blocks, design.pattern)
        start = design.theta_start() if theta_start is None else np.asarray(theta_start, dtype=float)
        record = optimise_theta(
            f,
            start / scale,  # lme4's identity start (or the caller's warm start), in the scale-free parameters
            design.theta_lower_bounds(),
            scale=scale,
            max_evaluations=control.get("max_evaluations"),
            restarts=bool(control.get("restarts", True)),
        )
        theta, dev, converged = record.theta, record.criterion, record.converged
        message = "; ".join(record.failures())
        ev = evaluate(theta, blocks, design.pattern)
    except (np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError) as exc:
        raise IdentifiabilityError(
            f"the model cannot be estimated from these data ({type(exc).__name__}: {exc}); the fixed effects may "
            "be collinear or a random effect may have too few participants: simplify the model"
        ) from None
    notes = []
    diag = np.array([theta[i] for i, (r, c) in enumerate(design.pattern) if r == c])
    singular = bool(np.any(diag < SINGULAR_TOL))
    if not converged:
        m = _act(
            check_convergence,
            f"model failed to converge: {message}; try simplifying the random part",
            ConvergenceWarning,
            ConvergenceError,
        )
        if m:
            notes.append(m)
    if singular:
        names = [design.z_names[r] for i, (r, c) in enumerate(design.pattern) if r == c and theta[i] < SINGULAR_TOL]
        m = _act(
            check_singular,
            "boundary (singular) fit: the random-effect variance of "
            f"{', '.join(repr(n) for n in names)} is estimated at zero (or a correlation at +/-1); "
            "the data do not support this random effect: consider removing it from the random part",
            SingularFitWarning,
        )
        if m:
            notes.append(m)
    return LmmResult(
        design=design,
        blocks=blocks,
        evaluation=ev,
        reml=reml,
        deviance=dev,
        converged=converged,
        singular=singular,
        notes=notes,
        data=data,
        optimizer=record,
    )

"""``hipkit.lmm``: fit a linear mixed model by profiled REML or ML."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import ConvergenceWarning, HipkitError, SingularFitWarning
from .design import build_design
from .engine import deviance_at, evaluate, make_blocks
from .numdiff import gradient, hessian

__all__ = ["lmm", "optimise_theta", "SINGULAR_TOL"]

#: A diagonal element of Lambda below this is a variance at its boundary (lme4's isSingular tol).
SINGULAR_TOL = 1e-4
_ACTIONS = ("ignore", "warn", "error")


def _nelder_mead(f, theta0: np.ndarray, bounds) -> tuple[np.ndarray, float]:
    k = len(theta0)
    res = optimize.minimize(
        f,
        theta0,
        method="Nelder-Mead",
        bounds=bounds,
        options=dict(xatol=1e-6, fatol=1e-8, maxfev=2000 * k, adaptive=k > 2),
    )
    return np.asarray(res.x, dtype=float), float(res.fun)


def optimise_theta(f, theta0: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, float, bool, str]:
    """Minimise the profiled deviance ``f`` over theta; return theta, deviance, converged, message.

    The deviance is even in each diagonal element of Lambda, so its derivative with respect to a
    variance parameter at zero is exactly zero and gradient methods stall on the boundary. As lme4
    uses derivative-free BOBYQA, hipkit uses bounded Nelder-Mead, restarts from the interior when a
    variance lands on its boundary, then polishes the free parameters with Newton steps on
    Richardson-extrapolated derivatives.
    """
    bounds = [(0.0, None) if np.isfinite(lb) else (None, None) for lb in lower]
    theta, dev = _nelder_mead(f, np.asarray(theta0, dtype=float), bounds)
    diag = np.isfinite(lower)
    if np.any(diag & (theta < 1e-6)):
        # A variance on its boundary: make sure the interior holds nothing better.
        start = theta.copy()
        start[diag & (theta < 1e-6)] = max(0.5, float(np.max(np.abs(theta))) * 0.5)
        t2, d2 = _nelder_mead(f, start, bounds)
        if d2 < dev - 1e-10:
            theta, dev = t2, d2
    if not np.isfinite(dev):
        return theta, dev, False, "the deviance is not finite at the optimiser's solution"
    at_bound = np.isfinite(lower) & (theta <= 1e-8)
    theta[at_bound] = 0.0
    dev = f(theta)
    message = "ok"
    converged = False
    for _ in range(8):
        free = ~(np.isfinite(lower) & (theta <= 0.0))
        if not free.any():
            converged = True
            break

        def f_free(z, theta=theta, free=free):
            t = theta.copy()
            t[free] = z
            return f(t)

        g = gradient(f_free, theta[free])
        H = hessian(f_free, theta[free])
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if np.max(np.abs(step)) < 1e-9 * max(1.0, np.max(np.abs(theta))):
            converged = True
            break
        lam = 1.0
        improved = False
        for _ls in range(30):
            cand = theta.copy()
            cand[free] = theta[free] - lam * step
            cand = np.where(np.isfinite(lower), np.maximum(cand, 0.0), cand)
            fc = f(cand)
            if fc < dev:
                theta, improved, gain = cand, True, dev - fc
                dev = fc
                break
            lam /= 2.0
        if not improved:
            # No step lowers the deviance: converged if the gradient is flat at this precision.
            converged = bool(np.max(np.abs(g)) < 1e-4 * max(1.0, abs(dev)))
            break
        if gain < 1e-10 * max(1.0, abs(dev)):
            converged = True
            break
    if not converged:
        message = "the optimiser stopped before the gradient vanished (relative change above 1e-10)"
        grad = gradient(f, theta)
        scaled = np.max(np.abs(grad[~(np.isfinite(lower) & (theta <= 0.0))]), initial=0.0)
        converged = scaled < 2e-3  # lme4's tolerance on the gradient
        if converged:
            message = "ok"
    return theta, dev, converged, message


def _act(level: str, message: str, category) -> str | None:
    if level not in _ACTIONS:
        raise ValueError(f"check level must be one of {_ACTIONS}, got {level!r}")
    if level == "error":
        raise HipkitError(message)
    if level == "warn":
        warnings.warn(message, category, stacklevel=4)
    return message if level != "ignore" else None


def lmm(
    formula: str, data: pd.DataFrame, reml: bool = True, check_singular: str = "warn", check_convergence: str = "warn"
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
    from .distributed import dask_design_blocks, is_dask_collection

    if is_dask_collection(data):
        design, blocks, data = dask_design_blocks(formula, data)
    else:
        design = build_design(formula, data)
        blocks = make_blocks(design.y, design.X, design.Z, design.group, design.n_groups)

    return fit_blocks(design, blocks, data, reml, check_singular, check_convergence)


def fit_blocks(
    design,
    blocks,
    data,
    reml: bool,
    check_singular: str = "warn",
    check_convergence: str = "warn",
    theta_start=None,
):
    """Optimise the profiled deviance on prepared blocks and return the :class:`LmmResult`.

    The part of :func:`lmm` after the data have been reduced to blocks (shared with the replicate
    refits of :mod:`hipkit.models.refit`, which change only the response and start the optimiser at
    ``theta_start``; default ``design.theta_start()``, lme4's start). The only call of the optimiser.
    """
    from .results import LmmResult

    def f(theta):
        return deviance_at(theta, blocks, design.pattern, reml)

    try:
        start = design.theta_start() if theta_start is None else np.asarray(theta_start, dtype=float)
        theta, dev, converged, message = optimise_theta(f, start, design.theta_lower_bounds())
        ev = evaluate(theta, blocks, design.pattern)
    except (np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError) as exc:
        from ..errors import IdentifiabilityError

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
            f"model failed to converge: {message}; try rescaling predictors "
            "(e.g. weeks rather than days) or simplifying the random part",
            ConvergenceWarning,
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
    )

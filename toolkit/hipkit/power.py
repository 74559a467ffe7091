"""Simulation-based power for replications of the hip-abductor studies (all data SIMULATED).

For each cell of a grid (participants per group x number of visits) and each replicate, a cohort
is drawn from a calibrated design of :mod:`hipkit.simulate`, the analysis model is fitted, and
the replicate counts as a detection when the tested term's p value is below ``alpha``. Power is
the detection rate, with a Wilson interval for its Monte Carlo error.

Replicates are independent pure calls, ``_one_replicate(cell, rep_seed) -> (p, estimate)``,
with ``rep_seed`` derived from ``(seed, effect, n_per_group, n_visits, replicate)`` by numpy's
:class:`~numpy.random.SeedSequence`, so results do not depend on the order in which replicates
run or on how many Dask workers run them (:func:`hipkit.parallel.run_replicates`). The same seeds
serve every effect size of a cell (common random numbers), so a curve over effect sizes is smooth.

The group x time interaction of a design with two or more groups has the same model rows in every
replicate of a cell (only the response and, after dropouts, which visits are observed change), so
by default the cell's design is built once (:class:`_Replicator`, :mod:`hipkit.models.refit`) and
each replicate draws its arrays (:func:`hipkit.simulate.draw_groups`, no table) and refits them:
the same responses, rows, blocks and optimiser as ``lmm()`` on the replicate's table, so the same
p values and decisions. ``power_curve(..., refit=False)`` fits every table through ``lmm()``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import _arguments as arg
from .errors import ArgumentError, HipkitError, InputError
from .models import lmm, within_between
from .models.contrasts import type3_contrasts
from .models.design import build_design
from .models.refit import PreparedDesign
from .parallel import run_replicates
from .registry import load_registry
from .simulate import DESIGNS, Design, P, draw_groups, simulate

__all__ = ["POWER_CURVE_COLUMNS", "N_FOR_POWER_COLUMNS", "EFFECTS", "power_curve", "n_for_power"]

#: Columns of :func:`power_curve`, in order.
POWER_CURVE_COLUMNS = [
    "n_per_group",
    "n_visits",
    "effect",
    "effect_size",
    "reps",
    "power",
    "conf_low",
    "conf_high",
    "mean_estimate",
    "n_failed",
    "n_not_converged",
]
#: Columns of :func:`n_for_power`, in order.
N_FOR_POWER_COLUMNS = ["effect", "n_visits", "n_per_group", "power", "target"]
#: The effects :func:`power_curve` can test, with their (fixed) codes in the seed derivation.
EFFECTS = {"within": 0, "interaction": 1}
_PER_SIDE = ("hip_abd_strength_n", "hip_abd_strength_nkg")


@dataclass(frozen=True, eq=False)
class _Cell:
    """One grid cell: the design already resized and rescheduled, and what to test."""

    design: Design
    effect: str
    n_per_group: int
    n_visits: int
    outcome: str
    predictor: str = "hip_abd_strength_n"
    effect_size: float = 1.0

    @property
    def key(self) -> tuple[int, int, int]:
        """The cell's part of the seed derivation (independent of the grid's order)."""
        return (EFFECTS[self.effect], int(self.n_per_group), int(self.n_visits))


def _treated_group(design: Design) -> int:
    gains = [g.strength_gain_total.value for g in design.groups]
    return int(np.argmax(gains))


def _scaled(design: Design, effect: str, size: float) -> Design:
    """The design with its tested effect multiplied by ``size`` (1: as calibrated)."""
    if size == 1.0:
        return design
    why = f"calibrated value x {size:g} (power_curve effect_size)"
    if effect == "within":
        share = min(1.0, design.within_share.value * size)
        return replace(design, within_share=P(share, why))
    gains = [g.strength_gain_total.value for g in design.groups]
    base = min(gains)
    groups = tuple(
        replace(g, strength_gain_total=P(base + size * (gain - base), why)) if gain > base else g
        for g, gain in zip(design.groups, gains)
    )
    return replace(design, groups=groups)


def _make_cell(
    design: Design, effect: str, n: int, visits: int, outcome: str | None, effect_size: float = 1.0
) -> _Cell:
    weeks = tuple(float(w) for w in np.linspace(0.0, float(design.weeks[-1]), int(visits)))
    design = _scaled(design, effect, float(effect_size))
    if effect == "within":
        groups = (replace(design.groups[_treated_group(design)], n=int(n)),)
        outcome = outcome or "pain_vas"
    else:
        groups = tuple(replace(g, n=int(n)) for g in design.groups)
        outcome = outcome or "hip_abd_strength_n"
        if len(groups) < 2 and not design.sides:
            raise InputError(
                f"design {design.name!r} has one group and one measurement per visit: there is no "
                "group x time (or limb x time) interaction to test; use effect='within'"
            )
        if len(groups) < 2 and outcome not in _PER_SIDE:
            raise InputError(
                f"design {design.name!r} has one group, so the interaction tested is limb x time, which needs a "
                f"per-side outcome ({', '.join(_PER_SIDE)}); got outcome={outcome!r}"
            )
    return _Cell(
        replace(design, groups=groups, weeks=weeks),
        effect,
        int(n),
        int(visits),
        outcome,
        effect_size=float(effect_size),
    )


def _rep_seed(seed: int, cell: _Cell, rep: int) -> int:
    """The seed of replicate ``rep`` of ``cell``: a pure function of (seed, cell key, rep)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(*cell.key, int(rep)))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def _fit_within(cell: _Cell, data: pd.DataFrame) -> tuple[float, float, bool]:
    fit = within_between(data, outcome=cell.outcome, predictor=cell.predictor)
    row = fit.tidy().set_index("term").loc[f"{cell.predictor}_within"]
    return float(row["p_value"]), float(row["estimate"]), bool(fit.converged)


def _interaction_factor(cell: _Cell) -> str:
    return "group" if len(cell.design.groups) >= 2 else "limb"


def _interaction_formula(cell: _Cell) -> str:
    return f"{cell.outcome} ~ visit_week * {_interaction_factor(cell)} + (1 | participant_id)"


def _fit_interaction(cell: _Cell, data: pd.DataFrame) -> tuple[float, float, bool]:
    factor = _interaction_factor(cell)
    if factor == "group" and cell.design.sides:  # one row per participant and visit: average the two sides
        data = data.groupby(["participant_id", "group", "visit_week"], as_index=False, sort=True)[cell.outcome].mean()
    fit = lmm(_interaction_formula(cell), data, check_singular="ignore", check_convergence="ignore")
    tidy = fit.tidy()
    rows = tidy[tidy["term"].str.startswith(f"visit_week:{factor}")]
    if len(rows) == 1:
        return float(rows["p_value"].iloc[0]), float(rows["estimate"].iloc[0]), bool(fit.converged)
    table = fit.anova()  # more than two groups: the F test of the whole interaction
    p = table.loc[table["term"] == f"visit_week:{factor}", "p_value"]
    return float(p.iloc[0]), float("nan"), bool(fit.converged)


_FAILURES = (HipkitError, ValueError, ArithmeticError, np.linalg.LinAlgError, KeyError)


def _one_replicate(cell: _Cell, rep_seed: int) -> tuple[float, float, bool]:
    """Simulate one cohort for ``cell`` with ``rep_seed``, fit the model; return (p value, estimate, converged).

    The reference path: the cohort's table through ``lmm()`` (or ``within_between``). Pure (no
    state, no output), so replicates can run in any order or on any worker. Warnings are silenced
    inside the replicate (warnings filters are per process, not per thread). A fit that fails
    returns ``(nan, nan, False)``; :func:`power_curve` counts it as a non-detection and in
    ``n_failed``. A fit whose optimiser did not converge keeps its p value and is counted in
    ``n_not_converged``.
    """
    data = simulate(cell.design, seed=rep_seed).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if cell.effect == "within":
                return _fit_within(cell, data)
            return _fit_interaction(cell, data)
        except _FAILURES:
            return float("nan"), float("nan"), False


def _outcome_arrays(cell: _Cell, draws, masses) -> list[np.ndarray] | None:
    """Per visit, the outcome of every participant (generation order), as ``simulate`` rounds it.

    None for an outcome the array path does not produce (the table path is used instead).
    """
    d, out = cell.design, []
    for k in range(len(d.weeks)):
        if cell.outcome in _PER_SIDE:
            # simulate rounds each side's strength; the analysis averages the two sides per visit
            s = np.concatenate([np.maximum(g.strength[k], 1).round(1) for g in draws], axis=-1)
            if cell.outcome == "hip_abd_strength_nkg":
                s = (s / masses).round(4)
            out.append((s[0] + s[1]) / 2.0 if d.sides else s)
        elif cell.outcome == "pain_vas":
            out.append(np.concatenate([np.clip(g.pain[k], 0, 10).round(1) for g in draws]))
        elif cell.outcome == d.function_measure:
            lo, hi = load_registry()[d.function_measure].range
            out.append(np.concatenate([np.clip(g.function[k], lo, hi).round(0) for g in draws]))
        else:
            return None
    return out


class _Replicator:
    """One grid cell's replicates: the model's design built once, each replicate refitted on it.

    Applies to the group x time interaction of a design with two or more groups (whose model rows
    are the same in every replicate; a limb x time or within-person model has predictors that
    are drawn anew, and goes through the table path, :func:`_one_replicate`). The design is built
    lazily in each process (patsy's design information is not sent to Dask workers).
    """

    def __init__(self, cell: _Cell, refit: bool = True):
        self.cell = cell
        self.fast = bool(refit) and cell.effect == "interaction" and len(cell.design.groups) >= 2
        if cell.outcome not in (*_PER_SIDE, "pain_vas", cell.design.function_measure):
            self.fast = False  # an outcome _outcome_arrays does not produce
        self._prepared = None

    def __getstate__(self):
        return {"cell": self.cell, "fast": self.fast, "_prepared": None}

    def _prepare(self):
        d = self.cell.design
        sizes = [g.n for g in d.groups]
        ids = np.array([f"S{i + 1:04d}" for i in range(sum(sizes))])
        order = np.argsort(ids, kind="stable")  # simulate sorts its table by participant_id
        n_visits = len(d.weeks)
        template = pd.DataFrame(
            {
                "participant_id": np.repeat(ids[order], n_visits),
                "group": np.repeat(np.repeat([g.name for g in d.groups], sizes)[order], n_visits),
                "visit_week": np.tile(np.asarray(d.weeks, dtype=float), len(ids)),
                self.cell.outcome: 0.0,
            }
        )
        design = build_design(_interaction_formula(self.cell), template)
        names = [n for n in design.x_names if n.startswith("visit_week:group")]
        if len(names) == 1:
            L = np.zeros((1, design.p))
            L[0, design.x_names.index(names[0])] = 1.0
        else:  # more than two groups: the Type III F test of the interaction, as anova()
            L = type3_contrasts(design, template)["visit_week:group"]
        self._prepared = (PreparedDesign(design, reml=True), order, L)
        return self._prepared

    def response(self, rep_seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The model's response on the observed rows and which template rows are observed, for one replicate.

        The rows of the analysed table of :func:`_one_replicate` (participant by participant, visits in
        order, visits after a dropout missing), with the same values bit for bit.
        """
        _, order, _ = self._prepared or self._prepare()
        d = self.cell.design
        draws = draw_groups(d, np.random.default_rng(rep_seed))
        masses = np.concatenate([g.mass for g in draws])
        y = np.stack(_outcome_arrays(self.cell, draws, masses))[:, order].T.ravel()
        last = np.concatenate([g.last for g in draws])[order]
        present = (np.arange(len(d.weeks))[None, :] <= last[:, None]).ravel()
        return y[present], present

    def __call__(self, rep_seed: int) -> tuple[float, float, bool]:
        """(p value, estimate, converged) of one replicate (as :func:`_one_replicate`)."""
        if not self.fast:
            return _one_replicate(self.cell, rep_seed)
        prepared, _, L = self._prepared or self._prepare()
        y, present = self.response(rep_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = prepared.refit(y, rows=present)
                if L.shape[0] == 1:
                    est, _, _, _, p = fit.satterthwaite.t_test(L, fit.beta)
                    return float(p[0]), float(est[0]), bool(fit.converged)
                _, _, _, p = fit.satterthwaite.f_test(L, fit.beta)
                return float(p), float("nan"), bool(fit.converged)
            except _FAILURES:
                return float("nan"), float("nan"), False


def _run_replicate(replicators: tuple, k: int, rep_seed: int) -> tuple[float, float, bool]:
    return replicators[k](rep_seed)


def _as_tuple(x, whole: bool = True) -> tuple:
    """A grid argument (one value or a sequence, already checked) as a tuple."""
    values = (x,) if np.isscalar(x) else tuple(np.asarray(x).ravel().tolist())
    return tuple(int(v) for v in values) if whole else values


def _design_argument(func: str, name: str, value, args) -> None:
    if not isinstance(value, (str, Design)):
        raise ArgumentError(f"{func}: {name} must be a design name or a hipkit.simulate.Design, not {value!r}")


@arg.checked(
    design=_design_argument,
    effect=arg.texts,
    n_per_group=arg.whole_numbers(2),
    n_visits=arg.whole_numbers(2),
    outcome=arg.optional_text,
    effect_size=arg.finite_numbers,
    scheduler=None,
    refit=arg.boolean,
)
def power_curve(
    design: str | Design = "ferber2011",
    effect: str | tuple[str, ...] = "within",
    n_per_group=(10, 15, 20, 30, 40),
    n_visits=(2, 3, 4),
    reps: int = 100,
    alpha: float = 0.05,
    seed: int = 0,
    progress: bool = True,
    outcome: str | None = None,
    conf_level: float = 0.95,
    effect_size=(1.0,),
    scheduler=None,
    refit: bool = True,
) -> pd.DataFrame:
    """Simulation-based power over a grid of group sizes, visit counts and effect sizes.

    For every grid cell and replicate a cohort is simulated from ``design`` (each group resized to
    ``n_per_group``; ``n_visits`` visits spread evenly from week 0 to the end of the programme),
    the analysis model is fitted, and the replicate is a detection when ``p < alpha``.

    Parameters
    ----------
    design : str or Design, default "ferber2011"
        A design name of :func:`hipkit.simulate.simulate` or a :class:`hipkit.simulate.Design`
        (e.g. ``dataclasses.replace(DESIGNS["ferber2011"](), within_share=P(0.8, "assumption"))``).
    effect : {"within", "interaction"} or a sequence of them
        ``"within"``: the within-person link of ``outcome`` (default ``pain_vas``) with strength,
        tested by the ``hip_abd_strength_n_within`` term of :func:`hipkit.within_between` fitted
        to the treated group (the group with the largest strength gain) alone.
        ``"interaction"``: the ``visit_week:group`` term of
        ``outcome ~ visit_week * group + (1 | participant_id)`` (``outcome`` default
        ``hip_abd_strength_n``; sides averaged per visit), Satterthwaite t test. A one-group
        design measured on both sides (``beers2008``) tests ``visit_week:limb`` instead: does
        the involved side catch up with the uninvolved one?
    n_per_group : int or sequence of int, default (10, 15, 20, 30, 40)
        Participants per group.
    n_visits : int or sequence of int, default (2, 3, 4)
        Visits per participant (at least 2), including baseline.
    reps : int, default 100
        Simulated cohorts per cell. The Monte Carlo SE of a power estimate is
        ``sqrt(power (1 - power) / reps)``, at most 0.05 for 100 replicates.
    alpha : float, default 0.05
        Significance level of each test.
    seed : int, default 0
        Master seed. Each replicate's seed is derived from (seed, effect, n_per_group, n_visits,
        replicate) by :class:`numpy.random.SeedSequence`, so a cell gives the same numbers
        whatever else is in the grid and in whatever order replicates run.
    progress : bool, default True
        Show a tqdm progress bar over all replicates (on standard error).
    outcome : str, optional
        Outcome column; the defaults are given under ``effect``.
    conf_level : float, default 0.95
        Level of the Wilson interval of each power estimate.
    effect_size : float or sequence of float, default (1.0,)
        Multipliers of the tested effect: for ``within`` the share of each person's pain change
        that follows their own strength gain (``within_share``, capped at 1); for ``interaction``
        the extra strength gain of the group(s) gaining more than the least-gaining group.
        1 is the calibrated design; 0 gives the type I error rate.
    scheduler : None, "serial", str or distributed.Client, default None
        Where replicates run: None on a Dask ``LocalCluster`` started for the run (one worker
        process per core); a scheduler address or a Client to use a cluster; ``"serial"`` in this
        process (:func:`hipkit.parallel.run_replicates`). The result is the same either way.
    refit : bool, default True
        For the group x time interaction of a design with two or more groups, build the model's
        design once per cell and refit each replicate's simulated response on it (no table, no
        formula per replicate; :mod:`hipkit.models.refit`). The replicates' responses, rows and
        fits are those of the table path, so the p values and the power are the same; False
        fits every simulated table through :func:`hipkit.lmm` (the reference path).

    Returns
    -------
    pandas.DataFrame
        One row per (effect, effect_size, n_visits, n_per_group), in that order, with the columns
        ``n_per_group``, ``n_visits``, ``effect``, ``effect_size``, ``reps``, ``power`` (share of replicates with
        ``p < alpha``), ``conf_low`` and ``conf_high`` (Wilson interval of the power, via
        :func:`statsmodels.stats.proportion.proportion_confint`), ``mean_estimate`` (mean of the
        tested coefficient over replicates: cm VAS per N for ``within``; difference in weekly
        slopes, N per week, second group minus the first in alphabetical order, for
        ``interaction``), ``n_failed`` (replicates whose fit failed; counted as
        non-detections) and ``n_not_converged`` (replicates whose optimiser did not report
        convergence; their p values are used, so check this count before trusting the power).

    Raises
    ------
    InputError
        Unknown effect, fewer than 2 visits or participants, ``reps < 1``, ``alpha`` or
        ``conf_level`` outside (0, 1), or an interaction the design cannot have.

    See Also
    --------
    n_for_power : the smallest group size reaching a target power.
    hipkit.simulate.simulate : the data-generating process and its calibration.

    Notes
    -----
    Power by simulation (Arnold et al. 2011; Green & MacLeod 2016): simulate from the assumed
    data-generating process, analyse each data set exactly as the real study would be analysed,
    and count detections. It answers "how often would this analysis detect the effect if the
    calibration were true", so it inherits every assumption of the design (see
    ``simulate(...).calibration()``). Fits use ``check_singular="ignore"`` where the API allows
    and every warning is silenced inside a replicate; a singular fit still gives a p value.

    References
    ----------
    Arnold BF, Hogan DR, Colford JM, Hubbard AE (2011). Simulation methods to estimate design
    power: an overview for applied research. BMC Medical Research Methodology 11:94.
    doi:10.1186/1471-2288-11-94

    Green P, MacLeod CJ (2016). SIMR: an R package for power analysis of generalized linear
    mixed models by simulation. Methods in Ecology and Evolution 7(4):493-498.
    doi:10.1111/2041-210X.12504

    Examples
    --------
    Ten simulated replications of the 2011 design with 10 runners per group and two visits
    (far too few replicates for a real answer: the Wilson interval spans 0.31 to 0.83):

    >>> from hipkit.power import power_curve
    >>> curve = power_curve(
    ...     "ferber2011", "interaction", n_per_group=10, n_visits=2, reps=10, progress=False, scheduler="serial"
    ... )
    >>> curve[["n_per_group", "n_visits", "reps", "power"]].to_dict("records")
    [{'n_per_group': 10, 'n_visits': 2, 'reps': 10, 'power': 0.6}]
    >>> curve[["conf_low", "conf_high"]].round(2).values.tolist()
    [[0.31, 0.83]]
    """
    from statsmodels.stats.proportion import proportion_confint

    if isinstance(design, str):
        if design not in DESIGNS:
            raise InputError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)} or pass a Design")
        design = DESIGNS[design]()
    effects = (effect,) if isinstance(effect, str) else tuple(effect)
    unknown = [e for e in effects if e not in EFFECTS]
    if unknown or not effects:
        raise InputError(f"effect must be one or more of {', '.join(EFFECTS)}; got {effect!r}")
    # Types, ranges and minimums (2 participants, 2 visits: baseline and one follow-up; reps >= 1; alpha
    # and conf_level in (0, 1); finite non-negative effect sizes) are checked by @arg.checked above.
    ns = _as_tuple(n_per_group)
    visits = _as_tuple(n_visits)
    reps = int(reps)
    sizes = tuple(float(x) for x in _as_tuple(effect_size, whole=False))
    if outcome is not None:
        table = simulate(design, seed=0).data
        numeric = [str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        if outcome not in numeric:
            raise InputError(
                f"power_curve: outcome={outcome!r} is not a numeric column of the simulated data "
                f"(numeric columns: {', '.join(numeric)})"
            )
    cells = [_make_cell(design, e, n, v, outcome, m) for e in effects for m in sizes for v in visits for n in ns]
    replicators = tuple(_Replicator(cell, refit=refit) for cell in cells)
    tasks = [(k, _rep_seed(seed, cell, rep)) for k, cell in enumerate(cells) for rep in range(reps)]
    results = run_replicates(
        _run_replicate, tasks, scheduler=scheduler, progress=progress, desc="power", shared=(replicators,)
    )
    rows = []
    for k, cell in enumerate(cells):
        chunk = results[k * reps : (k + 1) * reps]
        p = np.array([r[0] for r in chunk], dtype=float)
        est = np.array([r[1] for r in chunk], dtype=float)
        hits = int(np.sum(p < alpha))  # NaN (failed fit) compares False: a non-detection
        low, high = proportion_confint(hits, reps, alpha=1.0 - conf_level, method="wilson")
        rows.append(
            {
                "n_per_group": cell.n_per_group,
                "n_visits": cell.n_visits,
                "effect": cell.effect,
                "effect_size": cell.effect_size,
                "reps": reps,
                "power": hits / reps,
                "conf_low": float(low),
                "conf_high": float(high),
                "mean_estimate": float(np.nanmean(est)) if np.isfinite(est).any() else float("nan"),
                "n_failed": int(np.sum(~np.isfinite(p))),
                "n_not_converged": int(sum(np.isfinite(r[0]) and not r[2] for r in chunk)),
            }
        )
    return pd.DataFrame(rows, columns=POWER_CURVE_COLUMNS)


@arg.checked(curve=arg.frame)
def n_for_power(curve: pd.DataFrame, target: float = 0.8) -> pd.DataFrame:
    """The smallest group size whose estimated power reaches ``target``, per (effect, n_visits).

    Parameters
    ----------
    curve : pandas.DataFrame
        The result of :func:`power_curve`.
    target : float, default 0.8
        Power wanted.

    Returns
    -------
    pandas.DataFrame
        One row per (effect, n_visits) with the columns ``effect``, ``n_visits``, ``n_per_group``
        (smallest grid value with ``power >= target``; NaN when no grid value reaches it),
        ``power`` (the estimate there; NaN when not reached) and ``target``.

    Raises
    ------
    InputError
        If ``curve`` lacks a column of :func:`power_curve` or ``target`` is outside (0, 1].

    Notes
    -----
    The answer is read off the grid, so it is only as fine as the grid and carries the Monte
    Carlo error of the power estimates: a cell just above the target may be below it in truth.
    Check ``conf_low`` in the curve around the answer.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"n_per_group": [10, 20, 10, 20], "n_visits": [2, 2, 4, 4],
    ...                       "effect": "within", "power": [0.5, 0.85, 0.6, 0.7]})
    >>> n_for_power(curve)[["n_visits", "n_per_group"]].to_dict("records")
    [{'n_visits': 2, 'n_per_group': 20.0}, {'n_visits': 4, 'n_per_group': nan}]
    """
    missing = [c for c in ("n_per_group", "n_visits", "effect", "power") if c not in curve.columns]
    if missing:
        raise InputError(f"curve lacks column(s) {missing}; pass the result of hipkit.power.power_curve")
    if not 0.0 < float(target) <= 1.0:
        raise InputError(f"target must be in (0, 1] (got {target})")
    rows = []
    if "effect_size" in curve.columns and curve["effect_size"].nunique() > 1:
        raise InputError("the curve has several effect sizes; pass one at a time, e.g. curve[curve.effect_size == 1]")
    for (eff, visits), part in curve.groupby(["effect", "n_visits"], sort=False):
        ok = part[part["power"] >= target].sort_values("n_per_group")
        rows.append(
            {
                "effect": eff,
                "n_visits": visits,
                "n_per_group": float(ok["n_per_group"].iloc[0]) if len(ok) else float("nan"),
                "power": float(ok["power"].iloc[0]) if len(ok) else float("nan"),
                "target": float(target),
            }
        )
    return pd.DataFrame(rows, columns=N_FOR_POWER_COLUMNS)

"""Benchmark (run by hand, not a test): replicate throughput of power curves, against lme4 refits.

1,000 replicates of a 60-patient, 4-visit cohort (``ferber2011``, group x time interaction, 30 per
group; the cell ``power_curve("ferber2011", "interaction", n_per_group=30, n_visits=4, seed=1)``
runs), each fitted with ``hip_abd_strength_n ~ visit_week * group + (1 | participant_id)`` and
tested by the Satterthwaite t test of ``visit_week:group``, in one process, serially:

- new path: the design built once per cell, each replicate's response drawn as arrays and refitted
  (``hipkit.models.refit``; what ``power_curve(..., refit=True)``, the default, runs);
- old path: each replicate simulated as a table and fitted by ``hipkit.lmm`` (``refit=False``);
- lme4 through ``Rscript`` (when R with lme4 and lmerTest is installed), on the same 1,000
  responses: ``refit(m, newresp = y)`` in a loop (what simr's ``powerSim`` does), and
  ``lmerTest::lmer`` + ``summary`` per replicate (the Satterthwaite p value hipkit computes), timed
  inside R.

Printed: wall and CPU seconds, per-fit milliseconds, ratios, the power of each path and whether
every replicate's decision (p < 0.05) is the same, and the largest p-value difference from lmerTest.
Then a parametric bootstrap (``hipkit.bootstrap``, 200 refits of lme4's sleepstudy random-slope
model) against the previous per-replicate path (all blocks rebuilt, optimiser from lme4's start).
The machine's load average is printed too: on a shared machine wall times vary with it.

    python benchmarks/bench_replicates.py                # everything (about 2 minutes)
    python benchmarks/bench_replicates.py --reps 200 --skip-r
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolkit"))

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$group <- factor(d$group, levels = c("control", "pfps"))
Y <- as.matrix(read.csv(args[2], header = FALSE))
present <- as.matrix(read.csv(args[3], header = FALSE)) == 1
R <- ncol(Y)
term <- "visit_week:grouppfps"
f <- y ~ visit_week * group + (1 | participant_id)
full <- all(present)
d$y <- Y[, 1]
m <- lme4::lmer(f, d[present[, 1], ], REML = TRUE)
est <- numeric(R); p <- numeric(R)
# lme4: refit() of the first fit with each new response (simr's doFit); a new lmer() where rows differ
t_lme4 <- system.time(for (r in seq_len(R)) {
  mr <- if (full) refit(m, newresp = Y[, r]) else { d$y <- Y[, r]; lme4::lmer(f, d[present[, r], ], REML = TRUE) }
  est[r] <- fixef(mr)[[term]]
})[["elapsed"]]
# lmerTest: each replicate fitted and tested (Satterthwaite), what hipkit computes per replicate
t_lmertest <- system.time(for (r in seq_len(R)) {
  d$y <- Y[, r]
  mt <- lmerTest::lmer(f, d[present[, r], ], REML = TRUE)
  p[r] <- summary(mt)$coefficients[term, "Pr(>|t|)"]
})[["elapsed"]]
cat(toJSON(list(t_lme4 = t_lme4, t_lmertest = t_lmertest, est = est, p = p,
                versions = list(lme4 = as.character(packageVersion("lme4")),
                                lmerTest = as.character(packageVersion("lmerTest")))),
           digits = NA, auto_unbox = TRUE))
"""


def _timed(fn, seeds):
    t0, c0 = time.perf_counter(), time.process_time()
    out = [fn(s) for s in seeds]
    return np.array(out, dtype=float), time.perf_counter() - t0, time.process_time() - c0


def _responses(cell, seeds):
    """Each replicate's model response (all rows) and observed rows, as the new path builds them."""
    from hipkit.power import _Replicator

    rep = _Replicator(cell)
    ys, masks = [], []
    for s in seeds:
        y, present = rep.response(s)
        full = np.zeros(len(present))  # unobserved rows: never read (R subsets by the mask)
        full[present] = y
        ys.append(full)
        masks.append(present)
    return rep, np.column_stack(ys), np.column_stack(masks)


def run_r(cell, seeds, template: pd.DataFrame):
    if shutil.which("Rscript") is None:
        return None
    _, Y, M = _responses(cell, seeds)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, n) for n in ("design.csv", "y.csv", "present.csv", "bench.R")]
        template.to_csv(paths[0], index=False)
        np.savetxt(paths[1], Y, delimiter=",", fmt="%.17g")
        np.savetxt(paths[2], M.astype(int), delimiter=",", fmt="%d")
        Path(paths[3]).write_text(R_SCRIPT)
        res = subprocess.run(["Rscript", paths[3], *paths[:3]], capture_output=True, text=True)
    if res.returncode != 0:
        print("R failed:", res.stderr[-2000:])
        return None
    return json.loads(res.stdout)


def bench_bootstrap(nsim: int) -> None:
    """Parametric bootstrap of lme4's sleepstudy random-slope model: refits against the previous per-replicate path."""
    from dataclasses import replace

    import hipkit
    from hipkit.models.engine import make_blocks
    from hipkit.models.fit import fit_blocks

    root = Path(__file__).resolve().parents[1]
    sleep = pd.read_csv(root / "tests" / "reference" / "sleepstudy" / "data.csv")
    fit = hipkit.lmm("Reaction ~ Days + (Days | Subject)", sleep)
    t0, c0 = time.perf_counter(), time.process_time()
    boot = hipkit.bootstrap(fit, nsim=nsim, seed=1, scheduler="serial", progress=False)
    t_new, c_new = time.perf_counter() - t0, time.process_time() - c0
    from hipkit.models.parametric_bootstrap import _sqrt_psd, default_statistic

    d, root_cov = replace(fit.design, x_design_info=None), _sqrt_psd(fit.random_cov)
    t0, c0 = time.perf_counter(), time.process_time()
    old = []
    for r in range(nsim):  # the previous bootstrap replicate: all blocks rebuilt, optimiser from lme4's start
        rng = np.random.default_rng(np.random.SeedSequence(1, spawn_key=(r,)))
        b = rng.standard_normal((d.n_groups, root_cov.shape[0])) @ root_cov.T
        y = d.X @ fit.beta + np.einsum("ij,ij->i", d.Z, b[d.group]) + rng.normal(0.0, fit.sigma, d.n)
        blocks = make_blocks(y, d.X, d.Z, d.group, d.n_groups)
        refit = fit_blocks(replace(d, rows=replace(d.rows, y=y)), blocks, sleep, True,
                           "ignore", "ignore")  # fmt: skip
        old.append(default_statistic(refit))
    t_old, c_old = time.perf_counter() - t0, time.process_time() - c0
    old = pd.DataFrame(old)[boot.replicates.columns]
    worst = float(np.max(np.abs(old.to_numpy() / boot.replicates.to_numpy() - 1)))
    print(f"\nParametric bootstrap, {nsim} refits of sleepstudy Reaction ~ Days + (Days | Subject), serial:")
    print(f"  refits on the prepared design, warm start: {t_new:.2f} s wall, {c_new:.2f} s CPU "
          f"({1e3 * t_new / nsim:.1f} ms/refit); previous path (blocks rebuilt, lme4's start): {t_old:.2f} s wall, "
          f"{c_old:.2f} s CPU; ratio {t_old / t_new:.2f}; largest relative difference of any replicate statistic "
          f"{worst:.1e}; not converged {boot.n_not_converged}, failed {boot.n_failed}")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--skip-old", action="store_true")
    ap.add_argument("--boot", type=int, default=200, help="bootstrap refits (0: skip)")
    args = ap.parse_args(argv)

    from hipkit.power import _make_cell, _one_replicate, _rep_seed, _Replicator, power_curve
    from hipkit.simulate import DESIGNS

    warnings.simplefilter("ignore")
    cell = _make_cell(DESIGNS["ferber2011"](), "interaction", 30, 4, None)
    seeds = [_rep_seed(1, cell, r) for r in range(args.reps)]
    load0 = os.getloadavg()[0]

    # New path; the first call builds the design (patsy, once), and is timed with the rest.
    fast = _Replicator(cell, refit=True)
    new, t_new, c_new = _timed(fast, seeds)
    old = None
    if not args.skip_old:
        old, t_old, c_old = _timed(lambda s: _one_replicate(cell, s), seeds)
    curve = power_curve(
        "ferber2011", "interaction", n_per_group=30, n_visits=4, reps=args.reps, seed=1, progress=False,
        scheduler="serial",
    )  # fmt: skip
    rr = None if args.skip_r else run_r(cell, seeds, _template(cell, fast))
    load1 = os.getloadavg()[0]

    n = args.reps
    print(f"\n{n:,} replicate fits of a 60-patient, 4-visit cohort (ferber2011 interaction, 30 per group, seed 1),")
    print("hip_abd_strength_n ~ visit_week * group + (1 | participant_id), Satterthwaite t test of visit_week:group;")
    print(f"serial, one process; load average {load0:.1f} at the start, {load1:.1f} at the end (2 cores)\n")
    print(f"{'path':<46} {'wall s':>8} {'CPU s':>8} {'ms/fit':>8} {'ratio':>8}")
    print(f"{'hipkit new (design once, refit arrays)':<46} {t_new:8.2f} {c_new:8.2f} {1e3 * t_new / n:8.2f} {1.0:8.2f}")
    if old is not None:
        print(f"{'hipkit old (simulate table + lmm())':<46} {t_old:8.2f} {c_old:8.2f} {1e3 * t_old / n:8.2f} "
              f"{t_old / t_new:8.2f}")  # fmt: skip
    if rr is not None:
        labels = (("t_lme4", "lme4 refit() loop (simr's doFit)"), ("t_lmertest", "lmerTest lmer() + Satterthwaite p"))
        for key, label in labels:
            print(f"{label:<46} {rr[key]:8.2f} {'-':>8} {1e3 * rr[key] / n:8.2f} {rr[key] / t_new:8.2f}")
    print("ratio = path's wall time / new path's wall time (R times are measured inside R, data reading excluded)\n")

    power_new = float(np.mean(new[:, 0] < 0.05))
    print(f"power, new path: {power_new:.3f}; power_curve() (default, refit=True): {curve['power'].item():.3f}; "
          f"failed {int(curve['n_failed'].item())}, not converged {int(curve['n_not_converged'].item())}")  # fmt: skip
    if old is not None:
        same = bool(np.array_equal(new[:, 0] < 0.05, old[:, 0] < 0.05))
        print(f"power, old path: {float(np.mean(old[:, 0] < 0.05)):.3f}; every decision the same: {same}; "
              f"max |dp| {np.nanmax(np.abs(new[:, 0] - old[:, 0])):.1e}; "
              f"max |d estimate| {np.nanmax(np.abs(new[:, 1] - old[:, 1])):.1e}")  # fmt: skip
    if rr is not None:
        p_r, est_r = np.asarray(rr["p"]), np.asarray(rr["est"])
        rel_p = np.max(np.abs(new[:, 0] - p_r) / p_r)
        same_r = bool(np.array_equal(new[:, 0] < 0.05, p_r < 0.05))
        rel_est = np.max(np.abs(new[:, 1] / est_r - 1))
        print(f"lmerTest {rr['versions']['lmerTest']} (lme4 {rr['versions']['lme4']}) on the same responses: power "
              f"{float(np.mean(p_r < 0.05)):.3f}; decisions the same: {same_r}; "
              f"max rel |dp| {rel_p:.1e}; max rel |d estimate| {rel_est:.1e}")  # fmt: skip
    if args.boot:
        bench_bootstrap(args.boot)
    return 0


def _template(cell, rep) -> pd.DataFrame:
    """The model's rows (participant, group, week) in the order of the responses given to R."""
    d = rep._prepared[0].design
    ids = np.asarray(d.group_labels)[d.group]
    sizes = [g.n for g in cell.design.groups]
    names = np.repeat([g.name for g in cell.design.groups], sizes)
    all_ids = np.array([f"S{i + 1:04d}" for i in range(sum(sizes))])
    groups = dict(zip(all_ids, names))
    return pd.DataFrame(
        {"participant_id": ids, "group": [groups[i] for i in ids], "visit_week": d.X[:, d.x_names.index("visit_week")]}
    )


if __name__ == "__main__":
    raise SystemExit(main())

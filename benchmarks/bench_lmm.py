"""Benchmark (run by hand, not a test): hipkit.lmm against lme4 and statsmodels, in one run, at scale.

SIMULATED cohorts (random intercept and slope, 4 visits at weeks 0/2/4/6, two groups, about 5% of
visits missing) are fitted with ``pain_vas ~ visit_week * group + (1 + visit_week | participant_id)``:

- hipkit: the fit, and the fit plus the Satterthwaite t table (``tidy()``); best of 5;
- lme4 through ``Rscript`` (when R with lme4 and lmerTest is installed): ``lmer`` alone, and
  lmerTest's ``lmer`` + Satterthwaite ``summary``; timed inside R, data reading excluded; best of 3
  below 300,000 rows, one fit above;
- statsmodels MixedLM (REML, method="lbfgs", which reaches the REML optimum), stopped after
  ``--sm-cap`` seconds.

Each engine runs in its own process, so "peak MB" is that process's peak RSS (data included).
statsmodels is timed once (it takes minutes at the larger sizes).
Then: 1,000 replicate fits of a 60-patient, 4-visit cohort for a power curve on a 2-worker Dask
LocalCluster (and serially, for the ratio), and a 10,000,000-row parquet registry written to a
temporary folder and fitted through Dask, with its time and peak memory.

    python benchmarks/bench_lmm.py                       # everything (about 10 minutes)
    python benchmarks/bench_lmm.py --sizes 200 2000 --skip-registry --skip-power
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA = "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"
SM_FORMULA = "pain_vas ~ visit_week * group"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$group <- factor(d$group)
f <- pain_vas ~ visit_week * group + (1 + visit_week | participant_id)
reps <- if (nrow(d) < 300000) 3 else 1  # best of 3 below 300,000 rows
t_plain <- Inf; t_satt <- Inf
for (i in seq_len(reps)) {
  t_plain <- min(t_plain, system.time(m <- lme4::lmer(f, d, REML = TRUE))[["elapsed"]])
  t_satt <- min(t_satt, system.time({m2 <- lmerTest::lmer(f, d, REML = TRUE); s <- summary(m2)})[["elapsed"]])
}
cat(toJSON(list(t_plain = t_plain, t_satt = t_satt, beta = as.list(fixef(m)), df = as.list(s$coefficients[, "df"])),
           digits = NA, auto_unbox = TRUE))
"""


def cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """SIMULATED cohort: VAS pain falling ~0.4 cm/week, person-varying intercepts and slopes, 5% visits missing."""
    rng = np.random.default_rng(seed)
    weeks = np.array([0.0, 2.0, 4.0, 6.0])
    pid = np.repeat(np.arange(n), 4)
    week = np.tile(weeks, n)
    group = np.where(np.repeat(rng.random(n) < 0.5, 4), "HIP", "KNEE")
    u0 = np.repeat(rng.normal(0, 1.5, n), 4)
    u1 = np.repeat(rng.normal(0, 0.15, n), 4)
    slope = -0.4 - 0.1 * (group == "HIP")
    y = 6.0 + u0 + (slope + u1) * week + rng.normal(0, 0.8, 4 * n)
    d = pd.DataFrame({"participant_id": pid, "visit_week": week, "group": group, "pain_vas": y})
    return d.loc[rng.random(len(d)) >= 0.05].reset_index(drop=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _hipkit_job(n: int, queue) -> None:
    import hipkit

    hipkit.lmm(FORMULA, cohort(50))  # warm-up: imports, patsy
    d = cohort(n)
    t_fit = t_all = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):  # best of 5: the machine is shared
            t0 = time.perf_counter()
            fit = hipkit.lmm(FORMULA, d)
            t1 = time.perf_counter()
            tidy = fit.tidy()
            t2 = time.perf_counter()
            t_fit, t_all = min(t_fit, t1 - t0), min(t_all, t2 - t0)
    queue.put({"t_fit": t_fit, "t_satt": t_all, "beta": dict(zip(fit.design.x_names, fit.beta.tolist())),
               "df": dict(zip(tidy["term"], tidy["df"])), "mb": _peak_mb()})


def _statsmodels_job(n: int, queue) -> None:
    import statsmodels.formula.api as smf

    d = cohort(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = smf.mixedlm(SM_FORMULA, d, groups=d["participant_id"], re_formula="~visit_week").fit(
            reml=True, method="lbfgs"
        )
        t = time.perf_counter() - t0
    queue.put({"t": t, "beta": np.asarray(res.fe_params).tolist(), "converged": bool(res.converged),
               "mb": _peak_mb()})


def _in_process(target, n: int, cap: float):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(n, q))
    p.start()
    p.join(cap)
    if p.is_alive():
        p.terminate()
        p.join()
        return None
    return q.get() if not q.empty() else None


def _lme4(n: int, workdir: Path, cap: float):
    if shutil.which("Rscript") is None:
        return None
    csv = workdir / f"cohort_{n}.csv"
    cohort(n).to_csv(csv, index=False)
    script = workdir / "fit.R"
    script.write_text(R_SCRIPT)
    cmd = ["/usr/bin/time", "-f", "%M", "Rscript", str(script), str(csv)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=cap, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  lme4 failed at {n}: {exc}", file=sys.stderr)
        return None
    res = json.loads(out.stdout)
    res["mb"] = float(out.stderr.strip().splitlines()[-1]) / 1024.0  # includes reading the CSV
    return res


def bench_sizes(sizes, sm_cap: float) -> None:
    print(f"Random intercept-and-slope model, 4 visits, 5% missing; times in seconds (peak MB per process)\n")
    head = (f"{'patients':>9} {'rows':>8} | {'hipkit':>7} {'+Satt':>7} {'MB':>5} | {'lme4':>7} {'+Satt':>7} {'MB':>5}"
            f" | {'statsm.':>8} {'MB':>5} | {'lme4/hk':>7} {'sm/hk':>7} | {'max|dB| lme4':>12} {'max|ddf|':>8}")
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            hk = _in_process(_hipkit_job, n, 600)
            r = _lme4(n, Path(tmp), 1200)
            sm = _in_process(_statsmodels_job, n, sm_cap)
            rows = len(cohort(n))
            lme = f"{r['t_plain']:7.2f} {r['t_satt']:7.2f} {r['mb']:5.0f}" if r else f"{'-':>7} {'-':>7} {'-':>5}"
            if sm:
                smt = f"{sm['t']:8.2f}{'' if sm['converged'] else '*'} {sm['mb']:5.0f}"
                sm_ratio = f"{sm['t'] / hk['t_fit']:6.0f}x"
            else:
                smt, sm_ratio = f"{'>' + str(int(sm_cap)):>8} {'-':>5}", f">{sm_cap / hk['t_fit']:5.0f}x"
            ratio = f"{r['t_plain'] / hk['t_fit']:6.1f}x" if r else f"{'-':>7}"
            if r:
                db = f"{max(abs(r['beta'][k] - hk['beta'][k]) for k in r['beta']):12.1e}"
                ddf = f"{max(abs(r['df'][k] - hk['df'][k]) / r['df'][k] for k in r['df']):8.1e}"
            else:
                db, ddf = f"{'-':>12}", f"{'-':>8}"
            print(f"{n:>9,} {rows:>8,} | {hk['t_fit']:7.3f} {hk['t_satt']:7.3f} {hk['mb']:5.0f} | {lme} | {smt} | "
                  f"{ratio} {sm_ratio} | {db} {ddf}")
    print("lme4/hk = lme4 plain fit time / hipkit fit time; sm/hk likewise for statsmodels; * = not converged;")
    print("max|ddf| = largest relative difference of the Satterthwaite df from lmerTest's.")


def _power_job(scheduler, queue) -> None:
    from hipkit.parallel import dask_client
    from hipkit.power import power_curve

    kw = dict(n_per_group=30, n_visits=4, reps=1000, seed=1, progress=False)
    t0 = time.perf_counter()
    if scheduler == "serial":
        curve = power_curve("ferber2011", "interaction", scheduler="serial", **kw)
        queue.put({"t": time.perf_counter() - t0, "power": float(curve["power"].iloc[0])})
        return
    with dask_client() as client:
        t1 = time.perf_counter()
        curve = power_curve("ferber2011", "interaction", scheduler=client, **kw)
        t2 = time.perf_counter()
    queue.put({"t": t2 - t0, "t_no_startup": t2 - t1, "power": float(curve["power"].iloc[0]),
               "workers": os.cpu_count()})


def bench_power() -> None:
    ctx = mp.get_context("spawn")
    out = {}
    for mode in ("dask", "serial"):
        q = ctx.Queue()
        p = ctx.Process(target=_power_job, args=(mode, q))
        p.start()
        p.join()
        out[mode] = q.get()
    d, s = out["dask"], out["serial"]
    print(f"\nPower curve, 1,000 replicate fits of a 60-patient, 4-visit cohort (ferber2011 interaction, 30 per group):")
    print(f"  LocalCluster ({d['workers']} workers): {d['t']:.1f} s including cluster start-up "
          f"({d['t_no_startup']:.1f} s without); serial: {s['t']:.1f} s; ratio {s['t'] / d['t']:.2f}x; "
          f"power {d['power']:.3f} (serial {s['power']:.3f}: {'same' if d['power'] == s['power'] else 'DIFFERENT'})")


def _write_registry(folder: str, n_patients: int, files: int) -> None:
    per = n_patients // files
    for k in range(files):
        d = cohort(per, seed=100 + k)
        d["participant_id"] = d["participant_id"] + k * per
        d.to_parquet(Path(folder) / f"part{k:03d}.parquet", index=False)


def _registry_job(folder: str, queue) -> None:
    import dask
    import dask.dataframe as dd

    import hipkit

    dask.config.set(scheduler="threads", num_workers=os.cpu_count())
    t0 = time.perf_counter()
    ddf = dd.read_parquet(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hipkit.lmm(FORMULA, ddf)
        fit.tidy()
    queue.put({"t": time.perf_counter() - t0, "mb": _peak_mb(), "nobs": int(fit.design.n),
               "ngroups": int(fit.design.n_groups), "beta": fit.beta.tolist()})


def bench_registry(rows: int) -> None:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        n_patients = int(rows / (4 * 0.95))
        t0 = time.perf_counter()
        p = ctx.Process(target=_write_registry, args=(tmp, n_patients, 40))
        p.start()
        p.join()
        t_write = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(tmp).glob("*.parquet")) / 2**20
        q = ctx.Queue()
        p = ctx.Process(target=_registry_job, args=(tmp, q))
        p.start()
        p.join()
        r = q.get()
    print(f"\nParquet registry through Dask (local threads, 40 files, {size:.0f} MB on disk, written in {t_write:.0f} s):")
    print(f"  {r['nobs']:,} rows, {r['ngroups']:,} patients: fit + Satterthwaite {r['t']:.1f} s, "
          f"peak memory {r['mb']:.0f} MB ({r['mb'] / 1024:.2f} GB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000, 100000])
    ap.add_argument("--sm-cap", type=float, default=300.0, help="seconds before statsmodels is stopped (300)")
    ap.add_argument("--registry-rows", type=int, default=10_000_000)
    ap.add_argument("--skip-power", action="store_true")
    ap.add_argument("--skip-registry", action="store_true")
    args = ap.parse_args()
    print(f"hipkit benchmark, {os.cpu_count()} cores\n")
    bench_sizes(args.sizes, args.sm_cap)
    if not args.skip_power:
        bench_power()
    if not args.skip_registry:
        bench_registry(args.registry_rows)


if __name__ == "__main__":
    main()

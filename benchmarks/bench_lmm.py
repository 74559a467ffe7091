"""Benchmark (run by hand, not a test): hipkit.lmm against statsmodels MixedLM in one run.

A SIMULATED cohort (random intercept and slope, 4 visits at weeks 0/2/4/6, two groups) is fitted
with ``pain_vas ~ visit_week * group + (1 + visit_week | participant_id)`` at each size. Printed:
wall time of hipkit (fit; fit plus Satterthwaite tidy table), of statsmodels MixedLM (REML, its
default optimiser; capped), their ratio, and the largest difference of fixed effects.

    python benchmarks/bench_lmm.py                 # 200, 2,000, 20,000 participants
    python benchmarks/bench_lmm.py --sizes 200 2000 --sm-cap 120
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import warnings

import numpy as np
import pandas as pd


def cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """SIMULATED cohort: VAS pain falling ~0.4 cm/week, person-varying intercepts and slopes."""
    rng = np.random.default_rng(seed)
    weeks = np.array([0.0, 2.0, 4.0, 6.0])
    pid = np.repeat(np.arange(n), 4)
    week = np.tile(weeks, n)
    group = np.where(np.repeat(rng.random(n) < 0.5, 4), "HIP", "KNEE")
    u0 = np.repeat(rng.normal(0, 1.5, n), 4)
    u1 = np.repeat(rng.normal(0, 0.15, n), 4)
    slope = -0.4 - 0.1 * (group == "HIP")
    y = 6.0 + u0 + (slope + u1) * week + rng.normal(0, 0.8, 4 * n)
    return pd.DataFrame({"participant_id": pid, "visit_week": week, "group": group, "pain_vas": y})


FORMULA = "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"


def run_statsmodels(data: pd.DataFrame, queue) -> None:
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = smf.mixedlm("pain_vas ~ visit_week * group", data, groups=data["participant_id"],
                            re_formula="~visit_week")
        res = model.fit(reml=True)
        queue.put((time.perf_counter() - t0, np.asarray(res.fe_params), bool(res.converged)))


def time_statsmodels(data: pd.DataFrame, cap: float):
    q = mp.Queue()
    p = mp.Process(target=run_statsmodels, args=(data, q))
    p.start()
    p.join(cap)
    if p.is_alive():
        p.terminate()
        p.join()
        return None
    return q.get()


def main() -> None:
    import hipkit

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    ap.add_argument("--sm-cap", type=float, default=300.0, help="seconds before statsmodels is stopped")
    args = ap.parse_args()
    hipkit.lmm(FORMULA, cohort(50))  # warm-up (imports, patsy)
    print(f"{'participants':>12} {'rows':>8} {'hipkit fit':>11} {'+ tidy':>9} {'statsmodels':>12} "
          f"{'ratio':>8} {'max |d beta|':>13}")
    for n in args.sizes:
        d = cohort(n)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = hipkit.lmm(FORMULA, d)
        t_fit = time.perf_counter() - t0
        fit.tidy()
        t_tidy = time.perf_counter() - t0
        sm = time_statsmodels(d, args.sm_cap)
        if sm is None:
            sm_txt, ratio, diff = f">{args.sm_cap:.0f} (cap)", f">{args.sm_cap / t_fit:.0f}x", "-"
        else:
            sm_t, sm_beta, sm_conv = sm
            sm_txt = f"{sm_t:.2f}{'' if sm_conv else '*'}"
            ratio = f"{sm_t / t_fit:.1f}x"
            diff = f"{np.max(np.abs(sm_beta - fit.beta)):.2e}"
        print(f"{n:>12,} {len(d):>8,} {t_fit:>10.3f}s {t_tidy:>8.3f}s {sm_txt:>12} {ratio:>8} {diff:>13}")
    print("ratio = statsmodels time / hipkit fit time; * = statsmodels reported non-convergence")


if __name__ == "__main__":
    main()

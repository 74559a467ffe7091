"""SIMULATED corpus of hip-abductor programme designs for differential testing against lme4.

Deterministic from one seed (``SEED``): ``python generate.py`` rewrites ``data/dNNN.csv`` (one file per
data set) and ``models.json`` (the models to fit: name, data set, lme4 formula, REML or ML, whether
Kenward-Roger and emmeans are recorded). ``Rscript fit_corpus.R`` then fits every model with lme4,
lmerTest, pbkrtest and emmeans and writes ``corpus.json``; ``tests/models/test_reference_corpus.py``
compares hipkit with it. No participant is real.

What the data sets cover (drawn per data set from the seeded generator):

- 8 to 500 participants (most under 100, a few of 200 to 500), 2 to 8 visits;
- regular visits (every 1, 2 or 3 weeks) or irregular ones (jittered by days, or at random days),
  time recorded both in ``days`` (0 to about 60) and in ``week`` (days / 7), and the protocol visit as a
  factor ``visit`` (``V1``, ``V2``, ...);
- no dropout, monotone dropout, intermittent missed visits, or both; a few data sets with missing
  body mass (rows dropped by both programs);
- unbalanced allocation to 2 to 5 programme groups (``group``), and 2 to 5 sites (``site``) in some;
- covariates on very different scales: hip-abductor strength in N (about 150 to 350, time-varying),
  body mass in kg, age in years;
- responses ``hip_abd_strength_n`` (N), ``pain_vas`` (0 to 100 mm) or ``function_score`` (0 to 80);
- random intercepts, correlated ``(1 + t | participant_id)`` and uncorrelated ``(t || participant_id)``
  slopes with time in days or weeks, slope variances from large to zero (near-singular and singular
  designs), and a share of ML fits.

Factor levels are upper-case letters and digits (``CTRL``, ``HIP``, ``S1``, ``V3``), so that R's
``sort`` in any locale and Python's sort give the same level order (the first level is the reference).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261202
N_DATASETS = 80
HERE = Path(__file__).resolve().parent
GROUP_NAMES = ["CTRL", "HIP", "KNEE", "HOME", "GYM"]
ID = "participant_id"


def _n_participants(rng) -> int:
    u = rng.random()
    if u < 0.06:
        return int(rng.integers(200, 501))
    if u < 0.18:
        return int(rng.integers(100, 200))
    if u < 0.35:
        return int(rng.integers(8, 21))
    return int(rng.integers(21, 100))


def _schedule(rng, n_visits: int) -> tuple[str, np.ndarray]:
    """Protocol days of the visits, keeping the last one within about 60 days."""
    spacing = [s for s in (7, 14, 21) if s * (n_visits - 1) <= 63] or [7]
    step = int(rng.choice(spacing))
    if n_visits > 2 and rng.random() < 0.25:  # front-loaded: weekly, then wider
        days = np.cumsum([0] + [7] * 2 + [step] * (n_visits - 3))
        days = np.minimum(days, 63)
        days = np.unique(days)
        while len(days) < n_visits:
            days = np.append(days, days[-1] + 7)
        return "front-loaded", days.astype(float)
    return f"every {step // 7} week(s)", np.arange(n_visits, dtype=float) * step


def make_dataset(rng, index: int) -> tuple[pd.DataFrame, dict]:
    """One simulated cohort and a description of how it was drawn."""
    n = _n_participants(rng)
    n_visits = int(rng.integers(2, 9))
    schedule, proto_days = _schedule(rng, n_visits)
    timing = str(rng.choice(["regular", "jittered", "random"], p=[0.5, 0.35, 0.15]))
    dropout = str(rng.choice(["none", "monotone", "intermittent", "both"], p=[0.3, 0.3, 0.2, 0.2]))
    n_groups = int(rng.choice([1, 2, 2, 2, 3, 3, 4, 5]))
    if n < 12:
        n_groups = min(n_groups, 2)
    alloc = rng.dirichlet(np.full(n_groups, 3.0)) if n_groups > 1 else np.ones(1)
    groups = sorted(rng.choice(GROUP_NAMES, size=n_groups, replace=False).tolist())
    n_sites = int(rng.choice([0, 0, 0, 2, 3, 4, 5])) if n >= 30 else 0
    response = str(rng.choice(["hip_abd_strength_n", "pain_vas", "function_score"], p=[0.45, 0.3, 0.25]))
    # Random-effect truth on the response's scale: slope SD per week from zero to large.
    slope_kind = str(rng.choice(["large", "moderate", "tiny", "zero"], p=[0.3, 0.35, 0.2, 0.15]))
    scale = {"hip_abd_strength_n": 30.0, "pain_vas": 15.0, "function_score": 8.0}[response]
    sd_int = scale * rng.uniform(0.4, 1.2)
    sd_slope = scale * {"large": 0.12, "moderate": 0.04, "tiny": 0.004, "zero": 0.0}[slope_kind] * rng.uniform(0.5, 1.5)
    corr = rng.uniform(-0.7, 0.7)
    sd_res = scale * rng.uniform(0.2, 0.6)
    missing_mass = rng.random() < 0.12

    # Group allocation: exact counts from the (unbalanced) allocation probabilities, at least 2 each.
    counts = np.maximum(2, np.round(alloc * n).astype(int)) if n_groups > 1 else np.array([n])
    counts[-1] = max(2, n - counts[:-1].sum())
    n = int(counts.sum())
    group_of = np.repeat(groups, counts)
    rng.shuffle(group_of)
    group_slope = {g: rng.normal(0.0, 0.06 * scale) for g in groups}
    group_shift = {g: rng.normal(0.0, 0.3 * scale) for g in groups}
    sites = [f"S{k + 1}" for k in range(n_sites)]
    site_shift = {s: rng.normal(0.0, 0.2 * scale) for s in sites}
    site_p = rng.dirichlet(np.full(n_sites, 4.0)) if n_sites else None

    rows = []
    cov = np.array([[sd_int**2, corr * sd_int * sd_slope], [corr * sd_int * sd_slope, sd_slope**2]])
    for i in range(n):
        g = str(group_of[i])
        site = str(rng.choice(sites, p=site_p)) if n_sites else None
        u0, u1 = rng.multivariate_normal([0.0, 0.0], cov, method="eigh")
        age = float(np.clip(rng.normal(55.0, 14.0), 18.0, 85.0))
        mass = float(np.clip(rng.normal(78.0, 15.0), 45.0, 140.0))
        base_strength = float(np.clip(rng.normal(230.0, 40.0) + 1.2 * (mass - 78.0) - 0.8 * (age - 55.0), 150.0, 350.0))
        last = n_visits
        if dropout in ("monotone", "both") and n_visits > 2:
            hazard = rng.uniform(0.05, 0.2)
            for j in range(1, n_visits):
                if rng.random() < hazard:
                    last = j + 1 if j > 1 else 2  # keep baseline and one follow-up at least
                    break
        for j in range(last):
            if j > 0 and dropout in ("intermittent", "both") and rng.random() < 0.15:
                continue
            if timing == "regular" or j == 0:
                day = proto_days[j]
            elif timing == "jittered":
                day = max(1.0, proto_days[j] + rng.integers(-3, 4))
            else:
                day = float(rng.integers(1, int(proto_days[-1]) + 4)) if j else 0.0
            week = day / 7.0
            strength = base_strength + (4.0 + 0.5 * (g != groups[0])) * week + rng.normal(0.0, 8.0)
            mu = (
                {"hip_abd_strength_n": 0.0, "pain_vas": 55.0, "function_score": 45.0}[response]
                + group_shift[g]
                + (site_shift[site] if site else 0.0)
                + (-0.05 * scale) * week
                + group_slope[g] * week
                + 0.01 * scale * (age - 55.0) / 10.0
                + 0.02 * scale * (mass - 78.0) / 10.0
            )
            if response == "hip_abd_strength_n":
                y = strength + group_shift[g] + group_slope[g] * week + u0 + u1 * week + rng.normal(0.0, sd_res)
            else:
                y = mu - 0.03 * (strength - 230.0) + u0 + u1 * week + rng.normal(0.0, sd_res)
            rows.append(
                {
                    ID: f"P{index:03d}{i + 1:03d}",
                    "group": g,
                    "site": site,
                    "visit": f"V{j + 1}",
                    "days": int(day),
                    "week": round(week, 4),
                    "age_years": int(round(age)),
                    "body_mass_kg": round(mass, 1),
                    "hip_abd_strength_n": round(float(np.clip(strength, 100.0, 450.0)), 1),
                    response: round(float(y), 2),
                }
            )
    data = pd.DataFrame(rows)
    if n_sites == 0:
        data = data.drop(columns=["site"])
    if n_groups == 1:
        data = data.drop(columns=["group"])
    if missing_mass:
        miss = rng.random(len(data)) < 0.03
        data.loc[miss, "body_mass_kg"] = np.nan
    info = dict(
        participants=n,
        visits=n_visits,
        schedule=schedule,
        timing=timing,
        dropout=dropout,
        groups=groups if n_groups > 1 else [],
        group_sizes=counts.tolist() if n_groups > 1 else [],
        sites=sites,
        response=response,
        slope_variance=slope_kind,
        true_sd_intercept=round(sd_int, 4),
        true_sd_slope_per_week=round(sd_slope, 5),
        true_corr=round(corr, 3),
        true_sd_residual=round(sd_res, 4),
        missing_body_mass=bool(missing_mass),
        rows=len(data),
    )
    return data, info


def _formulas(rng, data: pd.DataFrame, info: dict) -> list[tuple[str, bool]]:
    """Several lme4 formulas hipkit accepts (one grouping factor) for one data set, each with REML or ML."""
    y = info["response"]
    has_group = bool(info["groups"])
    has_site = bool(info["sites"])
    n_obs_per = len(data) / info["participants"]
    # Random slopes need more observations than random effects (lme4 refuses otherwise) and some
    # participants with three or more visits.
    slopes_ok = info["visits"] >= 3 and n_obs_per >= 2.4
    cand = []
    for t in ("week", "days"):
        fixed_t = f"{t} * group" if has_group else t
        cand.append(f"{y} ~ {fixed_t} + (1 | {ID})")
        if slopes_ok:
            cand.append(f"{y} ~ {fixed_t} + (1 + {t} | {ID})")
            cand.append(f"{y} ~ {fixed_t} + ({t} || {ID})")
        covs = " + age_years + body_mass_kg"
        if y != "hip_abd_strength_n":
            covs += " + hip_abd_strength_n"
        extra = (" + group" if has_group else "") + (" + site" if has_site else "")
        re_part = f"(1 + {t} | {ID})" if slopes_ok else f"(1 | {ID})"
        cand.append(f"{y} ~ {t}{extra}{covs} + {re_part}")
        if has_site:
            cand.append(f"{y} ~ {fixed_t} + site + (1 | {ID})")
    visit_fixed = "visit * group" if has_group and info["participants"] >= 12 else "visit"
    cand.append(f"{y} ~ {visit_fixed} + (1 | {ID})")
    if slopes_ok:
        cand.append(f"{y} ~ {visit_fixed} + (1 + week | {ID})")
    if y == "pain_vas":
        cand.append(f"pain_vas ~ hip_abd_strength_n + week + (1 | {ID})")
    cand.append(f"{y} ~ 1 + (1 | {ID})")
    k = 3 if len(cand) > 3 else len(cand)
    if rng.random() < 0.2:
        k += 1
    picks = rng.choice(len(cand), size=min(k, len(cand)), replace=False)
    return [(cand[i], bool(rng.random() < 0.65)) for i in sorted(picks)]


def emmeans_factor(formula: str) -> str | None:
    """The factor whose marginal means are recorded: group, else site, else visit (None if none)."""
    fixed = formula.split("~", 1)[1].split("(")[0]
    terms = {p.strip() for part in fixed.split("+") for p in part.replace("*", ":").split(":")}
    for f in ("group", "site", "visit"):
        if f in terms:
            return f
    return None


def generate(seed: int = SEED, n_datasets: int = N_DATASETS) -> tuple[dict[str, pd.DataFrame], list[dict], dict]:
    """Every data set, the model list and the data sets' descriptions, from one seed.

    Examples
    --------
    >>> data, models, info = generate(n_datasets=2)
    >>> sorted(data) == sorted(info) and all(m["dataset"] in data for m in models)
    True
    """
    root = np.random.SeedSequence(seed)
    datasets, infos, models = {}, {}, []
    for k, child in enumerate(root.spawn(n_datasets), start=1):
        rng = np.random.default_rng(child)
        name = f"d{k:03d}"
        data, info = make_dataset(rng, k)
        datasets[name], infos[name] = data, info
        for j, (formula, reml) in enumerate(_formulas(rng, data, info), start=1):
            models.append(
                {
                    "name": f"{name}_m{j}_{'reml' if reml else 'ml'}",
                    "dataset": name,
                    "formula": formula,
                    "REML": reml,
                    "kenward_roger": bool(reml and info["participants"] <= 60),
                    "emmeans": emmeans_factor(formula),
                }
            )
    return datasets, models, infos


def main() -> None:
    """Write data/dNNN.csv and models.json next to this file."""
    datasets, models, infos = generate()
    out = HERE / "data"
    out.mkdir(exist_ok=True)
    for old in out.glob("d*.csv"):
        old.unlink()
    for name, data in datasets.items():
        data.to_csv(out / f"{name}.csv", index=False, na_rep="NA", lineterminator="\n")
    spec = {
        "seed": SEED,
        "generated_by": "tests/reference/corpus/generate.py",
        "simulated": True,
        "datasets": infos,
        "models": models,
    }
    (HERE / "models.json").write_text(json.dumps(spec, indent=1) + "\n")
    n_rows = sum(len(d) for d in datasets.values())
    print(f"{len(datasets)} data sets ({n_rows} rows), {len(models)} models")


if __name__ == "__main__":
    main()

"""SIMULATED data for the ``days_slope`` reference case (not real participants).

Two cohorts in one file (column ``cohort``), each 36 participants (18 HIP, 18 KNEE) seen at protocol
weeks 0, 2, 4, 6, 8 on irregular days (baseline day 0, later visits at 14 w +- 4 days), with about 10%
of follow-up visits missed. Outcome: hip-abductor strength in N, baseline mean 150 N, intercept SD 20 N,
improvement 1.2 N/day (HIP) and 0.9 N/day (KNEE), residual SD 8 N, rounded to 0.1 N.

- ``slope``: person-varying slopes on days, SD 0.25 N/day, intercept-slope correlation 0.3. With time
  in days as the random slope (``(1 + days_from_baseline | participant_id)``), hipkit's first optimiser
  stopped at a false boundary (slope SD 0, correlation +1) on such data (issue 11).
- ``singular``: no person-varying slopes (SD 0): lme4's fit of the random slope is singular, the case
  for profile intervals whose lower limit sits on the boundary.

``weeks_from_baseline`` = days / 7 fits the same model in other units (scale invariance).
Run ``python make_data.py`` to rewrite ``data.csv``; the committed ``data.csv`` is authoritative.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20261202
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6, 8)
SD_INTERCEPT, CORR, SD_RESID = 20.0, 0.3, 8.0
SD_SLOPE = {"slope": 0.25, "singular": 0.0}
SLOPE = {"HIP": 1.2, "KNEE": 0.9}


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for cohort, sd_slope in SD_SLOPE.items():
        cov = np.array(
            [[SD_INTERCEPT**2, CORR * SD_INTERCEPT * sd_slope], [CORR * SD_INTERCEPT * sd_slope, sd_slope**2]]
        )
        for i in range(36):
            pid = f"{cohort[:2].upper()}{i + 1:03d}"
            group = "HIP" if i < 18 else "KNEE"
            u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
            for w in WEEKS:
                day = 0 if w == 0 else int(7 * w + rng.integers(-4, 5))
                if w > 0 and rng.random() < 0.1:
                    continue
                y = 150.0 + u0 + (SLOPE[group] + u1) * day + rng.normal(0.0, SD_RESID)
                rows.append(
                    {
                        "cohort": cohort,
                        "participant_id": pid,
                        "group": group,
                        "visit_week": w,
                        "days_from_baseline": day,
                        "weeks_from_baseline": round(day / 7.0, 12),
                        "hip_abd_strength_n": round(float(y), 1),
                    }
                )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")

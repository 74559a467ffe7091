"""SIMULATED data for the ``kenward_roger`` reference case (not real participants).

Four cohorts in one file, told apart by the column ``cohort``:

- ``seed16``: 16 participants (8 HIP, 8 KNEE) at weeks 0, 2, 4, 6, about 8% of visits missing at
  random (intermittent); random intercept SD 1.4, slope SD 0.15 per week, correlation -0.3.
- ``seed25``: 25 participants (12 HIP, 13 KNEE) at weeks 0, 2, 4, 6, 12, with monotone dropout
  (about a fifth leave after week 4 or 6) and intermittent missing visits; two covariates on very
  different scales: baseline hip-abductor strength in N (about 150) and age in years.
- ``singular``: 20 participants (10, 10) at weeks 0, 2, 4, 6 with no slope variance, so that
  ``(1 + visit_week | participant_id)`` lands on the boundary (slope SD 0, correlation +/-1).
- ``irregular200``: 200 participants (90 HIP, 110 KNEE), 4 to 6 visits at irregular times
  (``visit_week`` continuous: protocol weeks jittered by up to +/-0.6 week), so that almost every
  participant has their own Z'Z (hipkit's per-participant path).

Columns: cohort, participant_id, group, visit_week (number), visit (the protocol week as a label;
read as a string), pain_vas, hip_abd_strength_n, age_years.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20250311
HERE = Path(__file__).resolve().parent


def _cohort(rng, name, n_hip, n_knee, weeks, sd_int, sd_slope, corr, sd_res, dropout=0.0, missing=0.0, jitter=0.0):
    rows = []
    cov = np.array([[sd_int**2, corr * sd_int * sd_slope], [corr * sd_int * sd_slope, sd_slope**2]])
    for i in range(n_hip + n_knee):
        group = "HIP" if i < n_hip else "KNEE"
        u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
        strength = rng.normal(150.0, 35.0)
        age = rng.normal(62.0, 9.0)
        last = len(weeks)
        if rng.random() < dropout:
            last = int(rng.integers(3, len(weeks)))
        for j, w in enumerate(weeks[:last]):
            if j > 0 and rng.random() < missing:
                continue
            t = w + (rng.uniform(-jitter, jitter) if jitter and j > 0 else 0.0)
            slope = -0.35 if group == "HIP" else -0.2
            mu = 6.0 + 0.3 * (group == "KNEE") + slope * t - 0.004 * (strength - 150.0) + 0.02 * (age - 62.0)
            pain = mu + u0 + u1 * t + rng.normal(0.0, sd_res)
            rows.append(
                {
                    "cohort": name,
                    "participant_id": f"{name[:3].upper()}{i + 1:03d}",
                    "group": group,
                    "visit_week": round(float(t), 3),
                    "visit": str(w),
                    "pain_vas": round(float(np.clip(pain, 0.0, 10.0)), 2),
                    "hip_abd_strength_n": round(float(strength), 1),
                    "age_years": round(float(age), 1),
                }
            )
    return rows


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = _cohort(rng, "seed16", 8, 8, (0, 2, 4, 6), 1.4, 0.15, -0.3, 0.8, missing=0.08)
    rows += _cohort(rng, "seed25", 12, 13, (0, 2, 4, 6, 12), 1.2, 0.12, 0.2, 0.9, dropout=0.2, missing=0.07)
    # its own stream, so that the boundary case does not move when the cohorts before it change
    rows += _cohort(np.random.default_rng(seed + 1), "singular", 10, 10, (0, 2, 4, 6), 1.0, 0.0, 0.0, 1.0)
    rows += _cohort(rng, "irregular200", 90, 110, (0, 2, 4, 6, 9, 12), 1.3, 0.1, -0.2, 0.9, dropout=0.3, jitter=0.6)
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")

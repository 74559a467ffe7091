"""SIMULATED data for the ``emmeans_covariates`` reference case (not real participants).

36 participants (20 HIP, 16 KNEE) planned at weeks 0, 3 and 6, with intermittent missed visits (week 3)
and dropout (week 6), so that the visit weeks are unbalanced. ``sex_male`` is a 0/1 number (a numeric
predictor with two distinct values), ``age_years`` a continuous covariate (one decimal). Pain VAS
(0-10 cm): 6.2 - 0.30 week (HIP) or 6.0 - 0.12 week (KNEE), + 0.5 sex_male + 0.03 (age - 55),
random-intercept SD 1.2, residual SD 0.8; clipped to 0-10, rounded to 0.01 cm.

Columns: participant_id, group, sex_male, age_years, visit_week, pain_vas.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20261202
HERE = Path(__file__).resolve().parent
WEEKS = (0, 3, 6)
SLOPE = {"HIP": (6.2, -0.30), "KNEE": (6.0, -0.12)}


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(36):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i < 20 else "KNEE"
        sex_male = int(rng.random() < 0.45)
        age = round(float(rng.normal(55.0, 9.0)), 1)
        u0 = rng.normal(0.0, 1.2)
        missed_3 = rng.random() < 0.15
        dropped = rng.random() < 0.2
        a, b = SLOPE[group]
        for w in WEEKS:
            if (w == 3 and missed_3) or (w == 6 and dropped):
                continue
            pain = a + b * w + 0.5 * sex_male + 0.03 * (age - 55.0) + u0 + rng.normal(0.0, 0.8)
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            rows.append(
                {
                    "participant_id": pid,
                    "group": group,
                    "sex_male": sex_male,
                    "age_years": age,
                    "visit_week": w,
                    "pain_vas": pain,
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

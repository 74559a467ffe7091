"""SIMULATED data for the ``random_slope`` reference case (not real participants).

60 participants (30 HIP, 30 KNEE) x 4 visits (weeks 0, 2, 4, 6). Pain VAS (0-10 cm): baseline mean 6,
between-participant intercept SD 1.5, slope -0.5 cm/week (HIP) and -0.3 cm/week (KNEE), person-varying
slopes SD 0.15 (intercept-slope correlation -0.3), residual SD 0.8; values clipped to 0-10 and rounded to
0.01 cm. The ``ml_and_lrt`` case reuses exactly this generator.

With only 4 visits a slope SD of 0.15 is estimated with a lot of noise (about 1 seed in 12 gives a
singular fit in lme4), so the seed was picked from a small scan as one whose lme4 estimate is close to
the true value (SD ~0.15, correlation ~-0.3) and clearly non-singular.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240302
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)
SD_INTERCEPT, SD_SLOPE, CORR = 1.5, 0.15, -0.3
SLOPE = {"HIP": -0.5, "KNEE": -0.3}


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    cov = np.array(
        [
            [SD_INTERCEPT**2, CORR * SD_INTERCEPT * SD_SLOPE],
            [CORR * SD_INTERCEPT * SD_SLOPE, SD_SLOPE**2],
        ]
    )
    rows = []
    for i in range(60):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i < 30 else "KNEE"
        u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
        for w in WEEKS:
            pain = 6.0 + u0 + (SLOPE[group] + u1) * w + rng.normal(0.0, 0.8)
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            rows.append({"participant_id": pid, "group": group, "visit_week": w, "pain_vas": pain})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")

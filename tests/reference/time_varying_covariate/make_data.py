"""SIMULATED data for the ``time_varying_covariate`` reference case (not real participants).

50 participants x 4 visits (weeks 0, 2, 4, 6). Hip-abductor strength (N): baseline mean 100 (SD 12
between participants), gaining 3 N/week (SD 1 N/week between participants), visit-to-visit noise SD 6;
rounded to 0.1 N. Pain VAS (0-10 cm): 6 - 0.3 cm/week, intercept SD 1.5, slope SD 0.15 (correlation
-0.3), a within-person strength-pain link of -0.05 cm per N above the participant's own mean strength
and a weaker between-person link of -0.015 cm per N of mean strength (centred at 110 N), residual SD
0.8; clipped to 0-10, rounded to 0.01 cm.

Person-mean centring columns are computed here from the rounded strength values:
strength_between = participant mean of hip_abd_strength_n; strength_within = hip_abd_strength_n -
strength_between (written with full double precision).

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240701
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)
SD_INTERCEPT, SD_SLOPE, CORR = 1.5, 0.15, -0.3
B_WITHIN, B_BETWEEN = -0.05, -0.015


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    cov = np.array(
        [
            [SD_INTERCEPT**2, CORR * SD_INTERCEPT * SD_SLOPE],
            [CORR * SD_INTERCEPT * SD_SLOPE, SD_SLOPE**2],
        ]
    )
    rows = []
    for i in range(50):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i % 2 == 0 else "KNEE"
        s0 = rng.normal(100.0, 12.0)
        gain = rng.normal(3.0, 1.0)
        strength = [round(float(np.clip(s0 + gain * w + rng.normal(0.0, 6.0), 40.0, 250.0)), 1) for w in WEEKS]
        s_mean = float(np.mean(strength))
        u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
        for w, s in zip(WEEKS, strength):
            pain = (
                6.0
                + u0
                + (-0.3 + u1) * w
                + B_BETWEEN * (s_mean - 110.0)
                + B_WITHIN * (s - s_mean)
                + rng.normal(0.0, 0.8)
            )
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            rows.append(
                {
                    "participant_id": pid,
                    "group": group,
                    "visit_week": w,
                    "hip_abd_strength_n": s,
                    "pain_vas": pain,
                }
            )
    # Person-mean centring from the values actually written.
    by_pid: dict[str, list[float]] = {}
    for r in rows:
        by_pid.setdefault(r["participant_id"], []).append(r["hip_abd_strength_n"])
    for r in rows:
        between = float(np.mean(by_pid[r["participant_id"]]))
        r["strength_between"] = between
        r["strength_within"] = r["hip_abd_strength_n"] - between
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")

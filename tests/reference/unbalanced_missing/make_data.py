"""SIMULATED data for the ``unbalanced_missing`` reference case (not real participants).

45 participants with planned visits at weeks 0, 2, 4, 6. Pain VAS (0-10 cm): baseline mean 6, intercept
SD 1.5, slope -0.4 cm/week, person-varying slope SD 0.25 (intercept-slope correlation -0.3), residual SD
0.8; clipped to 0-10, rounded to 0.01 cm. The slope SD is larger than in the balanced cases so that the
random slope stays clearly identifiable with the missing visits.

Missingness: 8 participants drop out (they attend only their first 1-3 visits; 4 of them only the
baseline visit), then about 20% of the remaining rows are deleted at random, always keeping at least one
visit per participant. Visit counts therefore vary from 1 to 4, with several single-visit participants.

Run ``python make_data.py`` to rewrite ``data.csv`` next to this file. The committed ``data.csv`` is
authoritative: R and Python both read it, so the reference values do not depend on numpy versions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20240501
HERE = Path(__file__).resolve().parent
WEEKS = (0, 2, 4, 6)
N = 45
SD_INTERCEPT, SD_SLOPE, CORR = 1.5, 0.25, -0.3
DROP_FRACTION = 0.20


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    cov = np.array(
        [
            [SD_INTERCEPT**2, CORR * SD_INTERCEPT * SD_SLOPE],
            [CORR * SD_INTERCEPT * SD_SLOPE, SD_SLOPE**2],
        ]
    )
    # Dropouts: 8 participants; the first 4 attend only the baseline visit.
    dropouts = rng.choice(N, size=8, replace=False)
    n_attended = np.full(N, len(WEEKS))
    n_attended[dropouts[:4]] = 1
    n_attended[dropouts[4:]] = rng.integers(2, 4, size=4)

    full = []
    for i in range(N):
        pid = f"P{i + 1:03d}"
        group = "HIP" if i % 2 == 0 else "KNEE"
        u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
        for w in WEEKS[: n_attended[i]]:
            pain = 6.0 + u0 + (-0.4 + u1) * w + rng.normal(0.0, 0.8)
            pain = round(float(np.clip(pain, 0.0, 10.0)), 2)
            full.append({"participant_id": pid, "group": group, "visit_week": w, "pain_vas": pain})

    # Random deletion of ~20% of rows, never removing a participant's last remaining row.
    keep = np.ones(len(full), dtype=bool)
    remaining = {}
    for r in full:
        remaining[r["participant_id"]] = remaining.get(r["participant_id"], 0) + 1
    n_drop = int(round(DROP_FRACTION * len(full)))
    for idx in rng.permutation(len(full)):
        if n_drop == 0:
            break
        pid = full[idx]["participant_id"]
        if remaining[pid] > 1:
            keep[idx] = False
            remaining[pid] -= 1
            n_drop -= 1
    return [r for r, k in zip(full, keep) if k]


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(simulate(), HERE / "data.csv")

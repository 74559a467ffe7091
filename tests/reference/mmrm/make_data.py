"""SIMULATED trials with dropout for the ``mmrm`` reference cases (not real participants).

Each design is a randomised trial: ``participant_id``, ``group`` (arm), ``visit_week`` (post-baseline
visits), ``baseline`` (the outcome before randomisation, a covariate) and ``y`` (the outcome; empty when
the visit was missed). Outcomes are multivariate normal within a patient with an unstructured
covariance (variances rising over visits, correlation falling with distance); arms diverge over time.
Missingness is either monotone dropout that depends on the last observed outcome (missing at random)
or intermittent missed visits (missing completely at random), or both.

Run ``python make_data.py`` to rewrite the ``<design>.csv`` files next to this file. The committed CSV
files are authoritative: R and Python both read them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20261202
HERE = Path(__file__).resolve().parent
ARMS = ("control", "exercise", "high_dose")

#: name: (arms, visit weeks, patients, monotone dropout, intermittent missing, covariate effect)
DESIGNS = {
    "two_arm_monotone": (2, (2, 4, 6, 8), 60, True, False, 0.5),
    "three_arm_intermittent": (3, (2, 4, 6, 8, 10), 90, False, True, 0.0),
    "small_three_visits": (2, (2, 4, 6), 16, True, True, 0.4),
    "six_visits_large": (2, (1, 2, 4, 6, 8, 12), 200, True, True, 0.6),
    "three_arm_covariate": (3, (2, 4, 6, 8), 45, True, False, 0.8),
    "complete_two_arm": (2, (2, 4, 6, 8), 30, False, False, 0.3),
}


def simulate(name: str, seed: int) -> list[dict]:
    n_arms, weeks, n, monotone, intermittent, slope = DESIGNS[name]
    rng = np.random.default_rng(seed)
    k = len(weeks)
    sd = np.linspace(1.0, 1.8, k)
    t = np.asarray(weeks, float)
    corr = 0.85 ** (np.abs(t[:, None] - t[None, :]) / 2.0)
    cov = corr * np.outer(sd, sd)
    rows = []
    for i in range(n):
        arm = ARMS[i % n_arms]
        base = rng.normal(5.0, 1.0)
        effect = {"control": 0.0, "exercise": -0.12, "high_dose": -0.2}[arm]
        mean = 5.0 - 0.1 * t + effect * t + slope * (base - 5.0)
        y = mean + rng.multivariate_normal(np.zeros(k), cov)
        observed = np.ones(k, bool)
        if monotone:
            for j in range(1, k):  # drop out after a high (bad) observed value: MAR
                p = 1.0 / (1.0 + np.exp(-(-3.0 + 0.8 * (y[j - 1] - mean[j - 1]))))
                if rng.random() < p:
                    observed[j:] = False
                    break
        if intermittent:
            observed &= rng.random(k) > 0.15
        for j, w in enumerate(weeks):
            rows.append(
                {
                    "participant_id": f"P{i + 1:03d}",
                    "group": arm,
                    "visit_week": w,
                    "baseline": round(float(base), 3),
                    "y": round(float(y[j]), 4) if observed[j] else "",
                }
            )
    return rows


def main() -> None:
    for offset, name in enumerate(DESIGNS):
        rows = simulate(name, SEED + offset)
        with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()

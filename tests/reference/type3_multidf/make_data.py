"""SIMULATED data for the ``type3_multidf`` and ``term_order`` reference cases (not real participants).

45 participants in three groups (HIP 20, KNEE 15, HOME 10: unbalanced), seen at weeks 0, 2, 4, 8
(``visit`` V0 to V8 as labels) at slightly irregular times (``week``, jittered by up to +/-0.4 week
after baseline), with about 10% of follow-up visits missing at random and a fifth of participants
dropping out after week 2 or 4; the treated side (``side``, L or R) and age in years (``age_years``)
per participant. The response ``pain_vas`` has a random intercept (SD 1.2) and slope (SD 0.12 per
week, correlation -0.3) and group-specific visit effects, so that every multi-df term is non-null.

Run ``python make_data.py`` to rewrite ``data.csv`` here and in ``../term_order/`` (the same file).
The committed ``data.csv`` is authoritative: R and Python both read it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20261202
HERE = Path(__file__).resolve().parent
GROUPS = (("HIP", 20), ("KNEE", 15), ("HOME", 10))
WEEKS = (0, 2, 4, 8)


def simulate(seed: int = SEED) -> list[dict]:
    rng = np.random.default_rng(seed)
    cov = np.array([[1.2**2, -0.3 * 1.2 * 0.12], [-0.3 * 1.2 * 0.12, 0.12**2]])
    effect = {"HIP": (0.0, -0.35), "KNEE": (0.4, -0.2), "HOME": (0.2, -0.1)}
    rows, i = [], 0
    for group, n in GROUPS:
        for _ in range(n):
            i += 1
            u0, u1 = rng.multivariate_normal([0.0, 0.0], cov)
            side = "L" if rng.random() < 0.45 else "R"
            age = rng.normal(60.0, 8.0)
            last = int(rng.integers(2, 4)) if rng.random() < 0.2 else len(WEEKS)
            for j, w in enumerate(WEEKS[:last]):
                if j > 0 and rng.random() < 0.1:
                    continue
                t = w + (rng.uniform(-0.4, 0.4) if j > 0 else 0.0)
                a, b = effect[group]
                bump = 0.5 if (group == "KNEE" and w == 4) else 0.0
                mu = 6.0 + a + b * t + bump + 0.3 * (side == "R") + 0.03 * (age - 60.0)
                rows.append(
                    {
                        "participant_id": f"P{i:03d}",
                        "group": group,
                        "side": side,
                        "visit": f"V{w}",
                        "week": round(float(t), 3),
                        "age_years": round(float(age), 1),
                        "pain_vas": round(float(mu + u0 + u1 * t + rng.normal(0.0, 0.8)), 2),
                    }
                )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    rows = simulate()
    for folder in (HERE, HERE.parent / "term_order"):
        write_csv(rows, folder / "data.csv")
    print(f"wrote {len(rows)} rows")

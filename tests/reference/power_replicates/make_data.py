"""SIMULATED data for the ``power_replicates`` reference case: power-curve replicates (not real participants).

Ten replicates of each of three ``hipkit.power_curve`` cells of the group x time interaction
(``hip_abd_strength_n ~ visit_week * group + (1 | participant_id)``), seed 5:

- ``ferber2011``, 8 per group, 3 visits (complete);
- ``ferber2015``, 8 per group, 7 weekly visits, 1.5% dropout per visit (row subsets);
- ``clinic_multisite``, 6 per group, 4 visits, 6% dropout per visit, both sides measured and
  averaged per visit.

Each replicate's rows and response are those the refit path builds from the simulator's arrays
(``hipkit.power._Replicator.response``); ``tests/models/test_replicates.py`` checks that they equal
the analysed table of the table path and that hipkit's refits match lmerTest's fits of them. Run
``python make_data.py`` (with hipkit importable) to rewrite ``data.csv``; the committed file is
authoritative.
"""

from __future__ import annotations

import csv
from pathlib import Path

SEED = 5
REPS = 10
CELLS = (("ferber2011", 8, 3), ("ferber2015", 8, 7), ("clinic_multisite", 6, 4))
HERE = Path(__file__).resolve().parent


def rows() -> list[dict]:
    import numpy as np

    from hipkit.power import _make_cell, _rep_seed, _Replicator
    from hipkit.simulate import DESIGNS

    out = []
    for name, n, visits in CELLS:
        cell = _make_cell(DESIGNS[name](), "interaction", n, visits, None)
        rep = _Replicator(cell)
        design = rep._prepare()[0].design
        pid = np.asarray(design.group_labels)[design.group]
        week = design.X[:, design.x_names.index("visit_week")]
        group_of = {}
        start = 0
        for g in cell.design.groups:
            for i in range(g.n):
                group_of[f"S{start + i + 1:04d}"] = g.name
            start += g.n
        for r in range(REPS):
            seed = _rep_seed(SEED, cell, r)
            y, present = rep.response(seed)
            for p_, w, v in zip(pid[present], week[present], y):
                out.append(
                    {
                        "cell": name,
                        "replicate": r,
                        "rep_seed": seed,
                        "participant_id": p_,
                        "group": group_of[p_],
                        "visit_week": repr(float(w)),
                        "hip_abd_strength_n": repr(float(v)),
                    }
                )
    return out


if __name__ == "__main__":
    data = rows()
    with open(HERE / "data.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    print(f"wrote {len(data)} rows to {HERE / 'data.csv'}")

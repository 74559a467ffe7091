"""Small seeded **simulated** data sets for the examples and tests of :mod:`hipkit.stats`.

The numbers are made up (numpy ``default_rng``); they only resemble a hip-abductor programme
(strength around 200 N, pain around 5 cm, LEFS around 55 points). Never report them as data.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["simulate_trial", "simulate_test_retest"]


def simulate_trial(
    n_per_group: int = 12,
    visits: Sequence[int] = (0, 2, 4, 6),
    seed: int = 2024,
    missing_visits: int = 0,
) -> pd.DataFrame:
    """Simulate a two-group programme in the canonical long layout (SIMULATED data).

    Parameters
    ----------
    n_per_group : int, default 12
        Participants in each of the groups ``"HIP"`` and ``"KNEE"``.
    visits : sequence of int, default (0, 2, 4, 6)
        Visit weeks; the first is the baseline.
    seed : int, default 2024
        Seed of the numpy generator.
    missing_visits : int, default 0
        How many participants (taken from the end of each group in turn) miss their last visit.

    Returns
    -------
    pandas.DataFrame
        One row per participant x visit x side with ``participant_id, group, visit_week, side,
        hip_abd_strength_n, pain_vas, akps, lefs``. Pain, AKPS and LEFS are participant-level and
        repeat on both side rows of a visit, as in the canonical table.

    Examples
    --------
    >>> from hipkit.stats import simulate_trial
    >>> df = simulate_trial(n_per_group=5, seed=1)
    >>> df.shape
    (80, 8)
    >>> df.groupby("group").participant_id.nunique().to_dict()
    {'HIP': 5, 'KNEE': 5}
    """
    rng = np.random.default_rng(seed)
    visits = list(visits)
    weeks = np.asarray(visits, dtype=float)
    rows = []
    for g_index, group in enumerate(("HIP", "KNEE")):
        gain = 6.0 if group == "HIP" else 2.5  # N per week
        relief = 0.45 if group == "HIP" else 0.25  # cm per week
        for i in range(n_per_group):
            pid = f"S{g_index + 1}{i + 1:02d}"
            base_strength = rng.normal(190, 30)
            side_offset = rng.normal(0, 10)
            base_pain = float(np.clip(rng.normal(5.5, 1.2), 1, 9.5))
            base_akps = float(np.clip(rng.normal(68, 8), 30, 95))
            base_lefs = float(np.clip(rng.normal(55, 7), 20, 75))
            my_gain = gain + rng.normal(0, 2.0)
            my_relief = relief + rng.normal(0, 0.15)
            for week in weeks:
                pain = float(np.clip(base_pain - my_relief * week + rng.normal(0, 0.6), 0, 10))
                akps = float(np.clip(base_akps + 1.8 * my_relief / relief * week + rng.normal(0, 3), 0, 100))
                lefs = float(np.clip(base_lefs + 0.12 * my_gain * week + rng.normal(0, 2.5), 0, 80))
                for side, offset in (("left", -side_offset / 2), ("right", side_offset / 2)):
                    strength = base_strength + offset + my_gain * week + rng.normal(0, 8)
                    rows.append(
                        {
                            "participant_id": pid,
                            "group": group,
                            "visit_week": int(week),
                            "side": side,
                            "hip_abd_strength_n": round(float(strength), 1),
                            "pain_vas": round(pain, 1),
                            "akps": round(akps),
                            "lefs": round(lefs),
                        }
                    )
    df = pd.DataFrame(rows)
    if missing_visits:
        ids = []
        for k in range(missing_visits):
            group_ids = df.loc[df["group"] == ("HIP", "KNEE")[k % 2], "participant_id"].unique()
            ids.append(group_ids[-(k // 2) - 1])
        drop = df["participant_id"].isin(ids) & (df["visit_week"] == visits[-1])
        df = df.loc[~drop].reset_index(drop=True)
    df["akps"] = df["akps"].astype(float)
    df["lefs"] = df["lefs"].astype(float)
    return df


def simulate_test_retest(n_subjects: int = 20, seed: int = 7, sessions: int = 2) -> pd.DataFrame:
    """Simulate a test-retest study of hip-abductor strength (SIMULATED data).

    Parameters
    ----------
    n_subjects : int, default 20
        Participants, each measured once per session.
    seed : int, default 7
        Seed of the numpy generator.
    sessions : int, default 2
        Number of sessions.

    Returns
    -------
    pandas.DataFrame
        ``participant_id, session, hip_abd_strength_n``: true scores with SD 40 N, a session
        shift of 5 N per session and measurement error with SD 15 N.

    Examples
    --------
    >>> from hipkit.stats import simulate_test_retest
    >>> simulate_test_retest(n_subjects=4).shape
    (8, 3)
    """
    rng = np.random.default_rng(seed)
    true = rng.normal(200, 40, n_subjects)
    rows = []
    for s in range(sessions):
        obs = true + 5.0 * s + rng.normal(0, 15, n_subjects)
        for i in range(n_subjects):
            rows.append({"participant_id": f"T{i + 1:02d}", "session": s + 1, "hip_abd_strength_n": float(obs[i])})
    return pd.DataFrame(rows)

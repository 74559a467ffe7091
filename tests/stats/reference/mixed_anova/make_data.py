"""Write data.csv for the mixed-ANOVA reference case (SIMULATED data, seeded).

Run ``python make_data.py`` from this folder, then ``Rscript fit.R`` to rewrite expected.json.
Two KNEE participants are removed so that the groups are unbalanced (10 HIP, 8 KNEE).
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def make():
    """Return the simulated long table, one row per participant x visit."""
    from hipkit.stats import simulate_trial

    df = simulate_trial(n_per_group=10, seed=11)
    df = df[~df["participant_id"].isin(["S209", "S210"])]
    return df.drop_duplicates(["participant_id", "visit_week"])[["participant_id", "group", "visit_week", "pain_vas"]]


if __name__ == "__main__":
    make().to_csv(HERE / "data.csv", index=False)

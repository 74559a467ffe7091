# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: clean, fit, tidy, plot
#
# From two messy clinic exports to one tidy table, a mixed model of pain on hip-abductor strength, and a plot of
# every participant's pain over the programme (bundled, made-up data).
#
# Each step has a short explanation; the code is folded under "Show code" in the rendered report.
# All data here are **simulated**: no real patient is in them.

# %%
# ruff: noqa: D100 - a notebook: its first markdown cell is its docstring
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import hipkit
from hipkit.report import record

pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)

# %% [markdown]
# ## 1. Clean the exports
#
# The clinic gave us two files: a wide spreadsheet (one column per visit and side, with units in the headers and in
# the cells) and a long follow-up export. `hipkit.clean` reads both, maps the columns to one canonical name each,
# converts every unit (kgf and lbf to newtons, mm to cm), and validates each value against the measure registry.
# Nothing is lost silently: every record ends up clean, quarantined, or counted as an exact duplicate, and the
# audit log keeps the count.

# %%
RAW = ["datasets/raw/clinic_export_messy.csv", "datasets/raw/clinic_followup_long.csv"]

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the summary below and the audit log (res.log["warnings"]) repeat them
    res = hipkit.clean(RAW, progress=False)

print(res.summary())

# %% [markdown]
# ## 2. Row accounting
#
# The log's row accounting is the first thing to check before any analysis: records in must equal clean plus
# quarantined plus duplicates removed. Quarantined records are listed with their source line and the reason;
# below we only count them by reason, so that no participant's raw values are printed.

# %%
rows = res.log["rows"]
accounting = pd.Series(
    {k: rows[k] for k in ["in", "clean", "quarantined", "duplicates_removed", "combined_into_other_rows", "out"]},
    name="records",
)
print(accounting.to_string())
print("invariant (in = clean + quarantined + duplicates) holds:", rows["invariant_holds"])

res.quarantine.groupby(["reason", "action"]).size().rename("n").reset_index()

# %% [markdown]
# ## 3. Describe pain and strength
#
# A Table 1 style summary, mean (SD) by group and scheduled visit, restricted to the protocol visits (weeks 0, 2, 4
# and 6). Pain is on a 0-10 cm visual analogue scale; strength is isometric hip-abductor strength in newtons from a
# hand-held dynamometer. One participant's group cell could not be trusted (it was quarantined), so they appear
# under "(missing)" rather than being guessed into a group.

# %%
data = res.data[res.data.visit_week.isin([0, 2, 4, 6])]
hipkit.table1(data, outcomes=["pain_vas", "hip_abd_strength_n"], by=["group", "visit_week"])

# %% [markdown]
# ## 4. Fit: does pain fall as a person's own strength rises?
#
# `hipkit.within_between` splits strength into each participant's average (the *between* effect: are stronger
# people in less pain?) and their visit-to-visit deviation from it (the *within* effect: when *this* person gets
# stronger, does their pain fall?). It fits a linear mixed model with a random intercept per participant and visit
# week as a covariate, with Satterthwaite degrees of freedom as in lmerTest. Any data-quality warning is printed
# above the table: strength measured on only one side at a visit is left missing rather than averaged.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fit = hipkit.within_between(data, "pain_vas", "hip_abd_strength_n")
for w in caught:
    print(f"{w.category.__name__}: {w.message}")
tidy = fit.tidy()
tidy[["term", "estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high"]]

# %% [markdown]
# ## 5. Read the tidy table
#
# Each row is one fixed effect with its 95% confidence interval. Pain falls by about half a centimetre per week of
# the programme, while neither strength term is distinguishable from zero once time is in the model: in these data
# strength and pain both improve with time, but weeks in which a participant gained more strength were not weeks
# with extra pain relief. `glance()` gives one row of fit statistics: how many visits were used and how many were
# dropped for missing values, whether the fit converged, and whether any variance component sits on its boundary.

# %%
fit.glance()[["nobs", "ngroups", "n_dropped", "sigma", "r2_marginal", "r2_conditional", "icc", "converged", "singular"]]

# %% [markdown]
# ## 6. Plot every participant's pain over the programme
#
# One thin line per participant (pain is measured once per visit, so left and right rows are combined first) and a
# thick line for each group's mean. This "spaghetti plot" shows whether the average hides participants who did not
# improve, which a table of means cannot.

# %%
per_visit = data.dropna(subset=["group"]).groupby(["participant_id", "group", "visit_week"], as_index=False)
pain = per_visit["pain_vas"].mean()

sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(7, 4.2))
sns.lineplot(
    data=pain,
    x="visit_week",
    y="pain_vas",
    hue="group",
    units="participant_id",
    estimator=None,
    linewidth=0.7,
    alpha=0.35,
    legend=False,
    ax=ax,
)
sns.lineplot(data=pain, x="visit_week", y="pain_vas", hue="group", errorbar=None, linewidth=3, marker="o", ax=ax)
ax.set(xlabel="Visit (weeks from baseline)", ylabel="Pain, VAS (cm)", xticks=[0, 2, 4, 6], ylim=(0, 10))
ax.legend(title="Group (mean)")
fig.tight_layout()

# %% [markdown]
# ## 7. Publish the key results
#
# `hipkit.report.record` stores a few numbers in `reports/00_quickstart.results.json` when the notebook runs under
# `hipkit demo`, so that the test suite can check them; run by hand, it just returns the value.

# %%
terms = tidy.set_index("term")
key_results = {
    "records_in": rows["in"],
    "rows_out": rows["out"],
    "invariant_holds": rows["invariant_holds"],
    "n_participants": fit.glance()["ngroups"].iloc[0],
    "visit_week_estimate": terms.loc["visit_week", "estimate"],
    "strength_within_estimate": terms.loc["hip_abd_strength_n_within", "estimate"],
    "strength_within_p": terms.loc["hip_abd_strength_n_within", "p_value"],
}
for name, value in key_results.items():
    record(name, value)
pd.Series(key_results, name="value").to_frame()

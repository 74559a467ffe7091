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
# # Learning mixed models with hip-abductor data
#
# Random intercepts and slopes, shrinkage, within- vs between-person correlation (Simpson's paradox) and dropout,
# each shown on a simulated cohort and followed by exercises with solutions.
#
# > **Every number in this notebook comes from SIMULATED data** made by `hipkit.simulate`. The cohorts are calibrated
# > to published studies (group sizes, schedules, typical effects), but no real participant is in them, and two of
# > them (the Simpson's-paradox and the dropout cohorts) were **constructed for teaching**: they show how methods
# > behave, not how patients do.
#
# **Who this is for.** You know what a regression line and a p value are, and you have data where each participant
# was measured several times. By the end you should be able to say what a random intercept and a random slope are,
# why a mixed model's per-person slopes differ from fitting each person alone, why "stronger people have less pain"
# and "when I get stronger my pain falls" are different questions, and why a mixed model handles dropout better than
# analysing only the people who finished.
#
# **Further reading.** Bates D et al. (2015) Fitting linear mixed-effects models using lme4, *J Stat Softw* 67(1),
# doi:10.18637/jss.v067.i01. Bakdash JZ, Marusich LR (2017) Repeated measures correlation, *Front Psychol* 8:456,
# doi:10.3389/fpsyg.2017.00456. Curran PJ, Bauer DJ (2011) The disaggregation of within-person and between-person
# effects in longitudinal models of change, *Annu Rev Psychol* 62:583, doi:10.1146/annurev.psych.093008.100356.
# Little RJA, Rubin DB (2019) *Statistical Analysis with Missing Data*, 3rd ed., Wiley.

# %%
# ruff: noqa: D100 - a notebook: its first markdown cell is its docstring
import warnings
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

import hipkit
from hipkit.report import record
from hipkit.simulate import DESIGNS, P, simulate

pd.set_option("display.precision", 4)
pd.set_option("display.width", 120)
sns.set_theme(style="whitegrid", context="notebook")

# %% [markdown]
# ## 1. Spaghetti plots: look at every person first
#
# We take 40 participants of the hip-strengthening (HIP) arm of a cohort simulated after the Ferber et al. 2015
# multicentre trial (pain on a 10 cm visual analogue scale (VAS) every week for 6 weeks; hip-abductor strength in
# newtons). A *spaghetti plot* draws one thin line per participant. Look for three things: people start at different
# levels (intercepts), they improve at different rates (slopes), and the points wobble around each person's own
# line (residual noise). Some lines stop early: those participants dropped out.

# %%
cohort = simulate("ferber2015", seed=2015)
hip = cohort.data[cohort.data["group"] == "HIP"]
first40 = hip["participant_id"].drop_duplicates().iloc[:40]
sub = hip[hip["participant_id"].isin(first40)].copy()
print(f"SIMULATED: {sub['participant_id'].nunique()} participants, {len(sub)} weekly visits ({cohort.call()})")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, (col, label) in zip(
    axes, [("pain_vas", "Pain (VAS, cm)"), ("hip_abd_strength_n", "Hip-abductor strength (N)")]
):
    sns.lineplot(
        data=sub, x="visit_week", y=col, units="participant_id", estimator=None, lw=0.8, alpha=0.5, color="C0", ax=ax
    )
    sns.lineplot(data=sub, x="visit_week", y=col, errorbar=None, lw=3, color="black", ax=ax, label="mean")
    ax.set(xlabel="Week", ylabel=label)
fig.suptitle("One line per participant (SIMULATED 2015-like cohort, HIP arm)")
fig.tight_layout()

# %% [markdown]
# ## 2. Random intercepts and random slopes
#
# A mixed model writes each person's pain trajectory as the *average* line plus that person's own deviation:
#
# ```
# pain[i, t] = (b0 + u0[i]) + (b1 + u1[i]) * week[t] + e[i, t]
#     (u0[i], u1[i]) ~ Normal(0, Sigma)      e[i, t] ~ Normal(0, sigma^2)
# ```
#
# - `b0` and `b1` are the **fixed effects**: the average starting pain and the average weekly change.
# - `u0[i]` is participant *i*'s **random intercept** (how much higher or lower than average they start) and
#   `u1[i]` their **random slope** (how much faster or slower than average they improve).
# - The model does not estimate 80 separate numbers freely: it estimates *how much* intercepts and slopes vary
#   (the standard deviations and correlation in `Sigma`), and then predicts each person's `u`'s from their data and
#   that spread.
#
# In lme4 syntax `(1 + visit_week | participant_id)` asks for a correlated random intercept and slope.

# %%
fit = hipkit.lmm("pain_vas ~ visit_week + (1 + visit_week | participant_id)", sub)
print(fit.summary())

# %%
fit.variance_components(method="wald")

# %% [markdown]
# `fit.ranef` holds the predicted deviations `u0[i]`, `u1[i]` (conditional modes, also called BLUPs). Adding them to
# the fixed effects gives each person's own line. Below: six participants, their data (dots), their mixed-model line
# (solid) and the average line (dashed).

# %%
fixed = fit.tidy().set_index("term")["estimate"]
person = fit.ranef.rename(columns={"(Intercept)": "u0", "visit_week": "u1"})
person["intercept"] = fixed["(Intercept)"] + person["u0"]
person["slope"] = fixed["visit_week"] + person["u1"]
print(person.head(6).round(3).to_string())

six = person.index[:6]
weeks = np.linspace(0, 6, 2)
fig, axes = plt.subplots(1, 6, figsize=(14, 2.8), sharey=True)
for ax, pid in zip(axes, six):
    d = sub[sub["participant_id"] == pid]
    ax.plot(d["visit_week"], d["pain_vas"], "o", color="C0", ms=4)
    ax.plot(weeks, person.loc[pid, "intercept"] + person.loc[pid, "slope"] * weeks, color="C0", label="this person")
    ax.plot(weeks, fixed["(Intercept)"] + fixed["visit_week"] * weeks, "--", color="gray", label="average")
    ax.set(title=pid, xlabel="Week")
axes[0].set_ylabel("Pain (VAS, cm)")
axes[0].legend(fontsize=8, loc="lower left")
fig.suptitle("Fixed effects + random effects = each person's line (SIMULATED)")
fig.tight_layout()

# %% [markdown]
# ## 3. Shrinkage: why a mixed model's slopes are less extreme
#
# Why not simply fit a separate regression line to each person (ordinary least squares, OLS)? With six or seven noisy
# points per person, some OLS slopes are steep or flat *by chance*. The mixed model combines each person's own data
# with what the whole group says about how much slopes vary. Where a person's own data are weak (few visits, much
# noise), their line is pulled ("shrunk") toward the average; where the data are strong, it stays close to their OLS
# line. This is **partial pooling**: between "everyone has the same line" (complete pooling) and "everyone for
# themselves" (no pooling).
#
# The arrows go from each person's OLS estimate (tail) to their mixed-model estimate (head); the black cross is the
# average. Participants who dropped out early (fewer points) tend to have longer arrows.


# %%
def ols_lines(data, y="pain_vas", x="visit_week"):
    """Per-participant OLS intercept and slope (participants with at least 2 visits)."""
    g = data.dropna(subset=[x, y]).groupby("participant_id")
    xm, ym = g[x].transform("mean"), g[y].transform("mean")
    d = data.assign(xc=data[x] - xm, yc=data[y] - ym)
    sxy = (d["xc"] * d["yc"]).groupby(d["participant_id"]).sum()
    sxx = (d["xc"] ** 2).groupby(d["participant_id"]).sum()
    slope = sxy / sxx.where(sxx > 0)
    out = pd.DataFrame({"slope": slope, "n_visits": g.size()})
    out["intercept"] = g[y].mean() - out["slope"] * g[x].mean()
    return out


ols = ols_lines(sub)
both = ols.join(person[["intercept", "slope"]].add_suffix("_mixed")).dropna()  # OLS needs 2+ visits
sd_ols, sd_mixed = both["slope"].std(), both["slope_mixed"].std()
print(f"SD of per-person slopes: OLS {sd_ols:.3f} cm/week, mixed model {sd_mixed:.3f} cm/week")
print(f"the model's estimate of the true SD of slopes: {np.sqrt(fit.random_cov[1, 1]):.3f} cm/week")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1.6, 1]})
ax = axes[0]
short = (both["n_visits"] < both["n_visits"].max()).to_numpy()
for mask, colour in ((~short, "C0"), (short, "C3")):
    b = both[mask]
    ax.quiver(
        b["intercept"],
        b["slope"],
        b["intercept_mixed"] - b["intercept"],
        b["slope_mixed"] - b["slope"],
        angles="xy",
        scale_units="xy",
        scale=1,
        width=0.004,
        color=colour,
        alpha=0.7,
    )
ax.plot(both["intercept"], both["slope"], "o", ms=3, color="gray", label="OLS (each person alone)")
ax.plot(fixed["(Intercept)"], fixed["visit_week"], "kX", ms=10, label="average (fixed effects)")
ax.plot([], [], color="C3", label="dropped out (fewer visits)")
ax.set(xlabel="Intercept: pain at week 0 (cm)", ylabel="Slope: change per week (cm)", title="OLS -> mixed model")
ax.legend(fontsize=8)
ax = axes[1]
for _, r in both.iterrows():
    ax.plot([0, 1], [r["slope"], r["slope_mixed"]], "-o", ms=3, color="C0", alpha=0.5)
ax.axhline(fixed["visit_week"], color="black", ls="--", lw=1)
ax.set(xticks=[0, 1], xticklabels=["OLS", "mixed model"], ylabel="Slope (cm/week)", title="Slopes pulled to the mean")
fig.suptitle("Shrinkage toward the average (SIMULATED)")
fig.tight_layout()

record("shrinkage_sd_slope_ols", sd_ols)
record("shrinkage_sd_slope_mixed", sd_mixed)

# %% [markdown]
# Shrinkage is not a flaw: across many people, the shrunken slopes are on average *closer to the true slopes* than the
# OLS ones (it is the same idea as Stein's estimator). But it means a mixed model's per-person lines should not be
# read as "measured" values for individuals, especially for those with few visits.

# %% [markdown]
# ## 4. Within-person vs between-person correlation: Simpson's paradox
#
# Two different questions hide in "is strength related to pain?":
#
# - **Between persons**: are people who are stronger (on average) in less pain (on average)?
# - **Within persons**: when a given person gets stronger, does *their* pain fall?
#
# The answers can have **opposite signs**. To see it, we construct a teaching cohort (SIMULATED, made for this point):
# the stronger runners at baseline are the ones who train more and hurt more (a positive between-person link: 10%
# stronger at baseline means 1 cm more pain), while each person's pain falls as their own strength rises over
# 6 weeks. We build it from the 2015-like design with `dataclasses.replace`, changing the stated assumptions only.

# %%
base = DESIGNS["ferber2015"]()
teaching = replace(
    base,
    name="simpson_teaching",
    title="Teaching cohort: positive between-person, negative within-person strength-pain link (SIMULATED)",
    groups=(replace(base.groups[0], n=30, strength_gain_total=P(0.30, "assumption: +30% over 6 weeks")),),
    weeks=(0.0, 2.0, 4.0, 6.0),
    dropout_per_visit=P(0.0, "assumption: no dropout"),
    within_share=P(1.0, "assumption for teaching: all of a person's pain change follows their strength gain"),
    pain_between_per_10pct=P(-1.0, "assumption for teaching: 10% stronger at baseline -> 1 cm MORE pain"),
)
simpson = simulate(teaching, seed=7).data

pooled_r, pooled_p = stats.pearsonr(simpson["hip_abd_strength_n"], simpson["pain_vas"])
means = simpson.groupby("participant_id")[["hip_abd_strength_n", "pain_vas"]].mean()
between_r = means.corr().iloc[0, 1]
rmc = hipkit.rm_corr(simpson, "hip_abd_strength_n", "pain_vas")
print(f"pooled Pearson r (all {len(simpson)} rows as if independent): {pooled_r:+.3f} (p = {pooled_p:.2g})")
print(f"between-person r (person means, n = {len(means)}): {between_r:+.3f}")
rmc  # noqa: B018 - shown by the notebook

# %%
# Within-person slope shared by everyone (what rm_corr fits): regression of centred pain on centred strength.
c = simpson.assign(
    xc=simpson["hip_abd_strength_n"] - simpson.groupby("participant_id")["hip_abd_strength_n"].transform("mean"),
    yc=simpson["pain_vas"] - simpson.groupby("participant_id")["pain_vas"].transform("mean"),
)
common_slope = (c["xc"] * c["yc"]).sum() / (c["xc"] ** 2).sum()
pooled_fit = np.polyfit(simpson["hip_abd_strength_n"], simpson["pain_vas"], 1)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
ax = axes[0]
ax.scatter(simpson["hip_abd_strength_n"], simpson["pain_vas"], s=12, color="gray")
xs = np.linspace(simpson["hip_abd_strength_n"].min(), simpson["hip_abd_strength_n"].max(), 2)
ax.plot(xs, np.polyval(pooled_fit, xs), color="C3", lw=2.5, label=f"pooled r = {pooled_r:+.2f}")
ax.set(xlabel="Hip-abductor strength (N)", ylabel="Pain (VAS, cm)", title="Pooled: stronger -> MORE pain?")
ax.legend()
ax = axes[1]
palette = sns.color_palette("husl", len(means))
for colour, (pid, d) in zip(palette, simpson.groupby("participant_id")):
    ax.scatter(d["hip_abd_strength_n"], d["pain_vas"], s=12, color=colour)
    x0, y0 = means.loc[pid]
    xr = np.array([d["hip_abd_strength_n"].min(), d["hip_abd_strength_n"].max()])
    ax.plot(xr, y0 + common_slope * (xr - x0), color=colour, lw=1.5)
ax.set(
    xlabel="Hip-abductor strength (N)",
    title=f"Within each person: stronger -> less pain (r_rm = {rmc['estimate'].item():+.2f})",
)
fig.suptitle("Simpson's paradox in a constructed teaching cohort (SIMULATED)")
fig.tight_layout()

record("simpson_pooled_r", pooled_r)
record("simpson_between_r", between_r)
record("simpson_rm_corr", rmc["estimate"].item())
record("simpson_rm_corr_p", rmc["p_value"].item())

# %% [markdown]
# The pooled correlation treats the 120 rows as 120 independent people and is dominated by the differences *between*
# people, which here run the other way. The repeated-measures correlation (`hipkit.rm_corr`) gives each participant
# their own intercept and asks only how strength and pain move *together within* a person. For a question about
# rehabilitation ("will this patient's pain fall if their strength rises?") the within-person association is the
# relevant one, and it needs repeated measurements to estimate. A mixed model can estimate both at once
# (`hipkit.within_between`; exercise 3).

# %% [markdown]
# ## 5. Dropout: completers vs a mixed model
#
# People who still hurt are more likely to stop coming. If we analyse only those who completed week 6
# (**complete-case analysis**), we average over the people who did well, and the programme looks better than it is.
#
# Here we simulate 150 HIP-arm participants at weeks 0, 2, 4 and 6 **without** dropout, so we know the true week-6
# mean pain of this sample. Then we remove visits: before each follow-up, a participant drops out with a probability
# that rises with the pain we *observed* at their previous visit. Because dropout depends only on observed values,
# the data are **missing at random (MAR)**, and a likelihood-based mixed model fitted to all available visits is
# unbiased (Little & Rubin 2019): the earlier visits of those who left tell the model where they were heading.

# %%
dropout_design = replace(
    base,
    groups=(replace(base.groups[0], n=150),),
    weeks=(0.0, 2.0, 4.0, 6.0),
    dropout_per_visit=P(0.0, "assumption: no dropout in the full data; dropout is added below"),
)
full = simulate(dropout_design, seed=606).data
true_w6 = full.loc[full["visit_week"] == 6, "pain_vas"].mean()


def add_dropout(data, seed, depends_on="previous", a=-2.0, b=1.2, centre=4.0):
    """Drop visits after a participant leaves; P(leave before visit k) = logistic(a + b (pain - centre)).

    ``depends_on="previous"`` uses the pain observed at the previous visit (MAR);
    ``"current"`` the pain at the visit that would be missed, which is never seen (MNAR).
    """
    rng = np.random.default_rng(seed)
    wide = data.pivot(index="participant_id", columns="visit_week", values="pain_vas")
    weeks = list(wide.columns)
    in_study = pd.Series(True, index=wide.index)
    last = pd.Series(0, index=wide.index)
    for k in range(1, len(weeks)):
        pain = wide[weeks[k - 1]] if depends_on == "previous" else wide[weeks[k]]
        p_leave = 1.0 / (1.0 + np.exp(-(a + b * (pain - centre))))
        in_study &= ~(rng.random(len(wide)) < p_leave)
        last[in_study] = k
    index_of = {w: i for i, w in enumerate(weeks)}
    keep = data["visit_week"].map(index_of) <= data["participant_id"].map(last)
    return data[keep].copy()


def week6_estimates(observed):
    """Complete-case mean at week 6 and the mixed model's estimated marginal mean at week 6."""
    cc = observed.loc[observed["visit_week"] == 6, "pain_vas"].mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular fit would still give the mean; the summary repeats warnings
        m = hipkit.lmm("pain_vas ~ C(visit_week) + (1 + visit_week | participant_id)", observed)
    emm = m.emmeans("visit_week").tidy()
    emm["visit_week"] = emm["visit_week"].astype(float)
    return cc, emm


observed = add_dropout(full, seed=1)
n_completers = int((observed["visit_week"] == 6).sum())
cc_w6, emm = week6_estimates(observed)
mm_w6 = emm.loc[emm["visit_week"] == 6, "estimate"].item()
print(f"participants: {full['participant_id'].nunique()}; still in the study at week 6: {n_completers}")
print(f"true week-6 mean pain (full simulated data): {true_w6:.2f} cm")
print(f"complete-case mean: {cc_w6:.2f} cm (bias {cc_w6 - true_w6:+.2f})")
print(f"mixed-model estimated marginal mean: {mm_w6:.2f} cm (bias {mm_w6 - true_w6:+.2f})")
emm  # noqa: B018 - shown by the notebook

# %%
truth = full.groupby("visit_week")["pain_vas"].mean()
available = observed.groupby("visit_week")["pain_vas"].mean()
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(truth.index, truth.values, "k-o", label="truth (no dropout)")
ax.plot(available.index, available.values, "C3-s", label="mean of those still attending")
ax.errorbar(
    emm["visit_week"] + 0.08,
    emm["estimate"],
    yerr=[emm["estimate"] - emm["conf_low"], emm["conf_high"] - emm["estimate"]],
    fmt="C0-^",
    capsize=3,
    label="mixed model (95% CI)",
)
ax.set(xlabel="Week", ylabel="Mean pain (VAS, cm)", title="Dropout related to earlier pain (MAR), SIMULATED")
ax.legend()
fig.tight_layout()

record("dropout_n_participants", full["participant_id"].nunique())
record("dropout_n_completers", n_completers)
record("dropout_true_mean_w6", true_w6)
record("dropout_complete_case_mean_w6", cc_w6)
record("dropout_mixed_mean_w6", mm_w6)
record("dropout_complete_case_bias", cc_w6 - true_w6)
record("dropout_mixed_bias", mm_w6 - true_w6)

# %% [markdown]
# The completers' mean is too optimistic. The mixed model uses every visit of every participant, including the week-2
# and week-4 visits of those who later left, and recovers the truth within its confidence interval. This works when
# dropout depends on what was observed (MAR) and the model for the trajectories is reasonable; it does not rescue
# data where dropout depends on what was *not* observed (exercise 4).

# %% [markdown]
# ## Exercises
#
# Try each one before opening its solution. In Jupyter, the solution code is collapsed: click the cell to show it.
#
# **Exercise 1.** Fit the random-intercept-only model `pain_vas ~ visit_week + (1 | participant_id)` to `sub`. Does
# the average slope change? Its standard error? Use `hipkit.lrt` to test whether the random slope is needed.

# %% [markdown] tags=["solution"]
# #### Solution 1
#
# The average slope hardly moves, but its standard error is smaller without the random slope: the intercept-only
# model assumes everyone improves at the same rate, so it is overconfident about the average rate when rates differ.
# The likelihood-ratio test compares the two (it is conservative here, because a variance cannot be negative).

# %% tags=["solution"] jupyter={"source_hidden": true}
fit_ri = hipkit.lmm("pain_vas ~ visit_week + (1 | participant_id)", sub)
compare = pd.concat(
    [
        fit_ri.tidy().assign(model="random intercept"),
        fit.tidy().assign(model="random intercept + slope"),
    ]
)
print(compare.query("term == 'visit_week'")[["model", "estimate", "std_error", "df", "p_value"]].to_string(index=False))
hipkit.lrt(fit_ri, fit)

# %% [markdown]
# **Exercise 2.** Shrinkage depends on how noisy each person's data are compared with how much people truly differ.
# Suppose pain were measured less precisely: add normal noise with SD 1 cm to every pain score in `sub`
# (`rng = np.random.default_rng(3)`), refit the random-slope model and compare the spread of the OLS and mixed-model
# slopes again. Is the pull toward the mean stronger or weaker?

# %% [markdown] tags=["solution"]
# #### Solution 2
#
# Stronger. The extra noise makes each OLS slope less trustworthy (their spread grows, although people's true slopes
# did not change), so the mixed model leans more on the group and pulls every slope harder toward the mean: the
# ratio of the spreads falls. In the extreme, when the data cannot tell slopes apart at all, the slope variance is
# estimated at zero (a singular fit) and every person gets the average slope: complete pooling.

# %% tags=["solution"] jupyter={"source_hidden": true}
rng = np.random.default_rng(3)
noisy = sub.assign(pain_vas=sub["pain_vas"] + rng.normal(0.0, 1.0, len(sub)))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # a singular fit is possible here, and is part of the answer
    fit_noisy = hipkit.lmm("pain_vas ~ visit_week + (1 + visit_week | participant_id)", noisy)
slopes_noisy = fit_noisy.tidy().set_index("term").loc["visit_week", "estimate"] + fit_noisy.ranef["visit_week"]
ols_noisy = ols_lines(noisy)["slope"].dropna()
print(f"as simulated:   OLS SD {sd_ols:.3f}, mixed SD {sd_mixed:.3f}, ratio {sd_mixed / sd_ols:.2f}")
print(
    f"noise SD +1 cm: OLS SD {ols_noisy.std():.3f}, mixed SD {slopes_noisy.std():.3f}, "
    f"ratio {slopes_noisy.std() / ols_noisy.std():.2f}"
)
print("singular fit:", bool(fit_noisy.glance()["singular"].item()))
record("shrinkage_ratio_noisy", slopes_noisy.std() / ols_noisy.std())

# %% [markdown]
# **Exercise 3.** Fit `hipkit.within_between(simpson, "pain_vas", "hip_abd_strength_n")` to the Simpson cohort.
# Which coefficient is positive and which negative? Then fit `pain_vas ~ visit_week + hip_abd_strength_n +
# (1 | participant_id)` with raw strength: what does its single strength coefficient mix together?

# %% [markdown] tags=["solution"]
# #### Solution 3
#
# `hip_abd_strength_n_between` (person means) is positive and `hip_abd_strength_n_within` (deviations from one's own
# mean) is negative, matching the pooled and repeated-measures correlations. The raw-strength coefficient is a
# weighted blend of the two, so it answers neither question (Curran & Bauer 2011).

# %% tags=["solution"] jupyter={"source_hidden": true}
wb = hipkit.within_between(simpson, "pain_vas", "hip_abd_strength_n")
raw = hipkit.lmm("pain_vas ~ visit_week + hip_abd_strength_n + (1 | participant_id)", simpson)
print(wb.tidy()[["term", "estimate", "std_error", "p_value"]].to_string(index=False))
print(raw.tidy()[["term", "estimate", "std_error", "p_value"]].to_string(index=False))

# %% [markdown]
# **Exercise 4.** Make the dropout *missing not at random* (MNAR): `add_dropout(full, seed, depends_on="current")`
# makes leaving depend on the pain at the visit that is then missed, which is never observed. One sample is noisy, so
# repeat both kinds of dropout with seeds 0 to 9 and compare the average bias of the complete-case and mixed-model
# week-6 means.

# %% [markdown] tags=["solution"]
# #### Solution 4
#
# Under MAR the mixed model's bias averages close to zero while the completers' mean is far too low. Under MNAR both
# are biased in the same direction: the mixed model still helps (earlier visits are correlated with the missing ones)
# but cannot correct for a reason to leave that it never sees. With possible MNAR dropout, report sensitivity
# analyses (e.g. pattern-mixture models or delta adjustment) rather than one number.

# %% tags=["solution"] jupyter={"source_hidden": true}
rows = []
for mechanism, depends_on in (("MAR", "previous"), ("MNAR", "current")):
    for s in range(10):
        cc, emm_s = week6_estimates(add_dropout(full, seed=s, depends_on=depends_on))
        mm = emm_s.loc[emm_s["visit_week"] == 6, "estimate"].item()
        rows.append({"dropout": mechanism, "seed": s, "complete_case_bias": cc - true_w6, "mixed_bias": mm - true_w6})
bias = pd.DataFrame(rows).groupby("dropout")[["complete_case_bias", "mixed_bias"]].agg(["mean", "std"])
print("bias of the week-6 mean pain (cm) over 10 dropout draws (SIMULATED)")
bias  # noqa: B018 - shown by the notebook

# %% tags=["solution"] jupyter={"source_hidden": true}
means_by = pd.DataFrame(rows).groupby("dropout")[["complete_case_bias", "mixed_bias"]].mean()
record("mar_mixed_bias_mean", means_by.loc["MAR", "mixed_bias"])
record("mnar_mixed_bias_mean", means_by.loc["MNAR", "mixed_bias"])
record("mnar_complete_case_bias_mean", means_by.loc["MNAR", "complete_case_bias"])

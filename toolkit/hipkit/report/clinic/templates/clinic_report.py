# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Parameters (``hipkit report`` fills these in; edit them to run this notebook by hand in JupyterLab).
inputs = ["datasets/raw/clinic_multisite_export.csv"]  # raw exports or clean tables from `hipkit clean`
title = "Programme outcomes report"
programme_weeks = [0, 2, 4, 6]
min_cell = 5  # counts of patients below this are shown as "<5"
deidentify = False  # must be True for inputs that carry direct identifiers
salt_file = None
prepared = None  # set by `hipkit report`: the table it already read and checked (not cleaned twice)

# %%
# ruff: noqa: D100, E402 (the parameters cell comes first, as papermill expects)
import warnings
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import display

import hipkit
from hipkit.registry import load_registry
from hipkit.report import clinic as C
from hipkit.report import format as fmt  # every number shown is turned into text here
from hipkit.report import markup as H  # every text shown goes through H (escaped); never HTML() or Markdown()
from hipkit.report.clinic import figures as F
from hipkit.report.disclosure import Disclosure
from hipkit.report.index import git_commit

warnings.filterwarnings("ignore")
plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "font.size": 9, **F.PLAIN_TEXT})
REG = load_registry()

if prepared and Path(prepared).is_file():  # gone when this notebook is reopened later
    cd = C.load_prepared(prepared)
else:
    cd = C.load_clinic_data(inputs, programme_weeks=programme_weeks, deidentify=deidentify, salt=salt_file)
cannot = C.check_reportable(cd, min_cell=min_cell)
first = [m for m in (*C.PAIN_MEASURES, *C.FUNCTION_MEASURES, C.STRENGTH) if m in C.outcome_measures(cd.data)]
measures = first + [m for m in C.outcome_measures(cd.data) if m not in first]
# Every count the report shows is registered in one disclosure ledger first; suppression is then
# decided over the whole report at once (primary, and complementary across all linked tables).
ledger = Disclosure(min_cell)
tables = C.register_report(cd, ledger, measures)
log_counts = C.cleaning_counts(cd, ledger)
quarantine_table = C.quarantine_counts(cd, ledger)
ledger.resolve()
published = C.publish(ledger, tables)
flow, means, change, resp, mdc = (published[k] for k in ("flow", "means", "change", "responders", "mdc"))
relation, relation_notes, model_warnings = (published[k] for k in ("relation", "relation_notes", "model_warnings"))
weeks_text = fmt.weeks(cd.programme_weeks)
commit = git_commit(".") or "not a git checkout"

display(H.heading(title, 1))
display(
    H.paragraph(
        f"Programme visits at weeks {weeks_text}. Made with hipkit {hipkit.__version__} (commit {commit[:10]}) "
        f"on {date.today().isoformat()} from {', '.join(cd.inputs)} (input SHA-256 {cd.input_hash}). "
        f'Counts of fewer than {min_cell} patients are shown as "<{min_cell}"; no patient is named or listed, '
        "and visits are given as weeks from the first visit, never as dates."
    )
)

# %% [markdown]
# ## Key findings

# %%
display(H.bullets([*C.headline(cd, flow, change, resp), *relation["sentence"]], css_class="hipkit-headline"))
for note in cannot:
    display(H.note(f"Not estimated: {note.section}.", f"{note.reason}."))

# %% [markdown]
# ## 1. Participant flow
#
# Enrolled patients are those with any record; a patient is *seen* at a visit when any outcome was
# recorded that week, and *completed* when seen at the last programme visit. Patients last seen before
# the end are shown beside the visit after which they stopped coming, with the reason where the export
# records one.

# %%
fig = F.plot_flow(flow)
plt.show()
flow_table = (
    flow.assign(week=flow["week"].map(fmt.week))
    .pivot_table(index=["stage", "week", "reason"], columns="group", values="n", aggfunc="first", sort=False)
    .reset_index()
)
display(fmt.html_table(flow_table.fillna("")))

# %% [markdown]
# ## 2. Patients at the first visit (Table 1)
#
# Mean (SD) at week 0 by programme, with the number of values in brackets; strength is per leg.

# %%
table1, sex = published["table1"], published["sex"]
if isinstance(table1, C.Note):
    display(H.note("Not shown.", f"{table1.reason}."))
else:
    display(fmt.html_table(table1))
    if sex is not None:
        display(H.paragraph("Patients by sex:"))
        display(fmt.html_table(sex))

# %% [markdown]
# ## 3. Outcomes at each visit
#
# Left: each programme's mean with its 95% confidence interval (t distribution; strength averaged over
# the two legs of a patient). Right: the lines of a random sample of patients (unlabelled) behind the
# programme's mean, to show how much patients differ.

# %%
fig = F.plot_trajectories(cd, means, min_cell=min_cell)
plt.show()
display(fmt.html_table(fmt.display_means(means)))

# %% [markdown]
# ## 4. Change from the first visit
#
# Each patient compared with themselves at week 0 (paired t test; Wilcoxon signed-rank p beside it),
# for patients seen at both visits.
# Hedges' g is the change in standard deviations of change: about 0.2 small, 0.5 medium, 0.8 large.

# %%
if change["mean_change"].notna().any():
    fig = F.plot_change(cd, change, measures)
    plt.show()
    display(fmt.html_table(fmt.display_change(change)))
else:
    display(
        H.paragraph(
            "Change from week 0 cannot be estimated: no group has at least "
            f"{min_cell} patients seen both at week 0 and at a later visit."
        )
    )

# %% [markdown]
# ## 5. Patients who improved by a clinically important amount
#
# A patient *responds* when their change from week 0 to their last visit reaches the measure's
# minimal clinically important difference (MCID, from the registry with its source). Intervals are
# Wilson 95% intervals. A rate is hidden when fewer than the minimum cell size responded or did not.

# %%
if len(resp) and resp["proportion"].notna().any():
    fig = F.plot_responders(resp)
    plt.show()
if len(resp):
    shown = resp.assign(measure=resp["measure"].map(fmt.short_label))
    display(fmt.html_table(shown.drop(columns=["mcid_source"]), digits=3))
    for src in resp["mcid_source"].unique():
        display(H.paragraph(f"MCID source: {src}"))
else:
    display(H.paragraph("No responder rates: no measure with a published MCID has a week-0 and a later value."))

# %% [markdown]
# ## 6. Strength gains larger than measurement error
#
# A hand-held dynamometer reading varies between tests even when nothing has changed. The minimal
# detectable change (MDC95 = 1.96 × √2 × SEM) is the smallest change that is probably real. Each leg is
# judged on its own, change from week 0 to the last visit.

# %%
if isinstance(mdc, C.Note):
    display(H.note("Not estimated.", f"{mdc.reason}."))
else:
    display(fmt.html_table(mdc, digits={"proportion": 3, "conf_low": 3, "conf_high": 3, "mdc": 1}))
    display(H.paragraph(f"MDC source: {REG[C.STRENGTH].mdc_source}"))

# %% [markdown]
# ## 7. Does getting stronger go with less pain and better function?
#
# A mixed model separates each patient's own strength changes (*within* a patient) from differences
# between patients, and allows for the general change over the weeks. Only the within-patient part
# answers "when a patient gets stronger, do they hurt less?". It is an association, not proof that the
# strength gain caused the change.

# %%
for s in relation["sentence"]:
    display(H.quote(s))
if len(relation):
    shown = relation.drop(columns=["sentence"]).assign(outcome=relation["outcome"].map(fmt.short_label))
    shown["p_value"] = shown["p_value"].map(fmt.p_cell)
    display(fmt.html_table(shown, digits=3))
for note in relation_notes:
    display(H.note(f"Not estimated: {note.section}.", f"{note.reason}."))

# %% [markdown]
# ## 8. Data quality

# %%
display(fmt.html_table(published["data_quality"]))
if model_warnings:
    display(H.paragraph(H.strong("Notes from the models:")))
    display(H.bullets(model_warnings))

# %% [markdown]
# ## Methods
#
# The export was cleaned with `hipkit clean` (units converted to the registry's, values outside each
# measure's valid range set aside, visit labels read as weeks; every record accounted for; see the
# appendix). Per-visit means use a t-based 95% CI. Change from week 0 is a paired t test per programme
# and visit, with Hedges' g; beside it, the Wilcoxon signed-rank test (no assumption of normally
# distributed changes), computed as R's `wilcox.test(paired = TRUE)`: with fewer than 50 patients whose
# change is nonzero and no tied changes, its exact p value; otherwise (and always with zero or tied
# changes, as R) the normal approximation with continuity and tie correction, which is accurate at
# these sizes and takes time proportional to n log n, so that a registry of any size can be reported.
# Responder rates use each measure's MCID and Wilson intervals. Strength gains are compared with the
# MDC95 derived from the dynamometer's standard error of measurement. The strength relation is a
# linear mixed model `outcome ~ week + strength_within + strength_between + (1 | patient)`
# (REML; Satterthwaite degrees of freedom), strength averaged over the two legs. Counts of 1 to
# min-cell − 1 patients are suppressed (shown "<5"), and so are rates and means that would reveal them.
# Every count in the report (tables, figures, sentences, appendix) passes through one disclosure ledger
# that knows which patients each count is about, so the report's tables are treated as linked tables:
# wherever a hidden count could be recovered by adding or subtracting published ones (a total minus the
# other groups, say), a further count is hidden too (shown "suppressed"). Patients are
# not assigned to programmes at random in a clinic, so differences between programmes describe this
# clinic, not the effect of a programme.
#
# ## References

# %%
display(H.bullets(C.references(measures), ordered=True))

# %% [markdown]
# ## Appendix: cleaning log

# %%
if cd.log is None:
    display(H.paragraph("The input was an already-clean table; its cleaning log was not given."))
else:
    display(
        H.paragraph(
            f"Cleaned with hipkit {cd.log['hipkit_version']}; settings: "
            + ", ".join(f"{k} = {v}" for k, v in cd.log["settings"].items() if k != "salt")
        )
    )
    lines = [
        f"{key.replace('_', ' ')}: " + "; ".join(f"{k}: {ledger.show(c)}" for k, c in items)
        for key, items in log_counts
    ]
    display(H.bullets(lines) if lines else H.paragraph("No conversions were needed."))
    if len(quarantine_table):
        q = ledger.publish(quarantine_table)
        display(H.paragraph("Quarantine (counts only; the quarantine file lists each record for the clinic to fix):"))
        display(fmt.html_table(q))

# Reference values for lmerTest's Type I and Type III F tests of multi-df terms (lmerTest 3.1-3,
# pbkrtest 0.5.2). SIMULATED data (make_data.py).
#
# For every model: lmerTest's hypothesis matrices for both types (lmerTest:::get_contrasts_type1 and
# :::get_contrasts_type3, with their column names, row for row), and anova(m, type = 1 | 3) with
# ddf = "Satterthwaite" and, for REML fits, ddf = "Kenward-Roger" (sum_sq, mean_sq, num_df, den_df,
# F, p). The Satterthwaite den df of a multi-df F depends on the hypothesis matrix's basis, not only
# on its row space, so the Python test compares the matrices themselves. One model uses sum-to-zero
# contrasts for group (lmerTest then maps its treatment-coded matrices to that coding), one has a
# single term (lmerTest then uses the Type I matrices for Type III as well); a three-way interaction and
# interactions with a numeric variable test SAS's containment (same numeric variables); one has KNEE as
# the reference level (group_knee, a copy of group).
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group)   # levels HIP, HOME, KNEE (alphabetical, as patsy sorts them)
d$visit <- factor(d$visit)   # V0, V2, V4, V8
d$side <- factor(d$side)
d$group_knee <- relevel(d$group, ref = "KNEE")  # hipkit: C(group_knee, Treatment('KNEE')) on a copy of group

matrix_rows <- function(L) lapply(seq_len(nrow(L)), function(i) I(unname(L[i, ])))
contrast_list <- function(Ls) lapply(names(Ls), function(term) {
  L <- Ls[[term]]
  list(term = term, columns = I(colnames(L)), L = matrix_rows(L))
})

record <- function(label, formula, hipkit_formula = formula, REML = TRUE, contrasts = NULL) {
  reset_log()
  m <- capture(paste(label, "fit"), lmerTest::lmer(as.formula(formula), data = d, REML = REML,
                                                   contrasts = contrasts, control = TIGHT_CONTROL))
  rec <- list(
    formula = formula, hipkit_formula = hipkit_formula, REML = REML,
    contrasts = if (is.null(contrasts)) NULL else lapply(contrasts, identity),
    nobs = nobs(m), criterion = if (REML) REMLcrit(m) else deviance(m),
    theta = I(unname(getME(m, "theta"))), sigma = sigma(m),
    fixef_names = I(names(fixef(m))), fixef = I(unname(fixef(m))),
    contrasts_type1 = contrast_list(lmerTest:::get_contrasts_type1(m)),
    contrasts_type3 = contrast_list(lmerTest:::get_contrasts_type3(m)),
    anova_type1 = anova_rows(capture(paste(label, "anova 1"), anova(m, type = 1, ddf = "Satterthwaite"))),
    anova_type3 = anova_rows(capture(paste(label, "anova 3"), anova(m, type = 3, ddf = "Satterthwaite")))
  )
  if (REML) {
    rec$anova_type1_kenward_roger <- anova_rows(capture(paste(label, "anova 1 KR"),
                                                        anova(m, type = 1, ddf = "Kenward-Roger")))
    rec$anova_type3_kenward_roger <- anova_rows(capture(paste(label, "anova 3 KR"),
                                                        anova(m, type = 3, ddf = "Kenward-Roger")))
  }
  rec$warnings <- I(dedupe(.log$warnings))
  rec$messages <- I(dedupe(.log$messages))
  rec
}

models <- list(
  visit_group_slope = record("visit_group_slope", "pain_vas ~ visit * group + (1 + week | participant_id)"),
  week_group_age = record("week_group_age", "pain_vas ~ week * group + age_years + (1 | participant_id)"),
  group_side_week = record("group_side_week", "pain_vas ~ group * side + week + (1 + week | participant_id)"),
  sum_coded = record("sum_coded", "pain_vas ~ visit * group + (1 | participant_id)",
                     hipkit_formula = "pain_vas ~ visit * C(group, Sum) + (1 | participant_id)",
                     contrasts = list(group = "contr.sum")),
  one_term = record("one_term", "pain_vas ~ visit + (1 | participant_id)"),
  numeric_only = record("numeric_only", "pain_vas ~ week + age_years + (1 | participant_id)"),
  visit_group_ml = record("visit_group_ml", "pain_vas ~ visit * group + (1 | participant_id)", REML = FALSE),
  three_way = record("three_way", "pain_vas ~ group * side * week + (1 | participant_id)"),
  week_slopes_by_group = record("week_slopes_by_group", "pain_vas ~ week + week:group + side + (1 | participant_id)"),
  visit_within_group = record("visit_within_group", "pain_vas ~ visit + visit:group + (1 | participant_id)"),
  numeric_interaction = record("numeric_interaction", "pain_vas ~ week * age_years + group + (1 | participant_id)"),
  relevelled = record("relevelled", "pain_vas ~ visit * group_knee + (1 + week | participant_id)",
                      hipkit_formula = "pain_vas ~ visit * C(group_knee, Treatment('KNEE')) + (1 + week | participant_id)")
)

write_expected(list(
  case = "type3_multidf", schema_version = SCHEMA_VERSION, simulated = TRUE,
  software = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  pbkrtest = as.character(packageVersion("pbkrtest"))),
  control = TIGHT_CONTROL_TEXT,
  models = models
), here)
# Not expected.json: these records are read by their own test, not the generic tests/models/test_reference.py.
invisible(file.rename(file.path(here, "expected.json"), file.path(here, "type3_multidf.json")))
cat("type3_multidf: wrote type3_multidf.json\n")

# Reference values for emmeans' treatment of numeric covariates (emmeans 1.8.4.1, lmerTest 3.1-3,
# pbkrtest 0.5.2). SIMULATED data.
#
# ref_grid keeps a numeric predictor with at most cov.keep distinct values (default "2") at each of
# its sorted values, like a factor, and the means average over them with equal weights; any other
# covariate is set at its mean, unless `at` gives its values. Two models:
#   two_visits:   weeks 0 and 6 only, so visit_week has two values (time with two visits);
#   three_visits: weeks 0, 3, 6 (unbalanced: missed visits and dropout), plus sex_male (0/1) and age.
# For each emmeans call: the reference grid's levels (ref_grid(m, ...)@levels), what the means were
# averaged over (emm@misc$avgd.over), the means (Satterthwaite, and Kenward-Roger where listed) and
# contrasts of them.
#
# Writes emmeans_covariates.json (not expected.json: it carries emmeans quantities and a lean model
# record; tests/models/test_emmeans_covariates.py reads it).
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))
emm_options(pbkrtest.limit = 1e5, lmerTest.limit = 1e5)

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group, levels = c("HIP", "KNEE"))
d2 <- d[d$visit_week != 3, ]
d2$participant_id <- factor(d2$participant_id)

model_record <- function(m, formula) {
  list(
    formula = formula, REML = isREML(m), nobs = nobs(m), ngroups = as.list(ngrps(m)),
    reml_criterion = if (isREML(m)) REMLcrit(m) else NULL, deviance = if (isREML(m)) NULL else deviance(m),
    theta = I(unname(getME(m, "theta"))), sigma = sigma(m), is_singular = isSingular(m),
    fixed = coef_rows(coef(summary(m, ddf = "Satterthwaite")))
  )
}

grid_levels <- function(levs) lapply(levs, function(v) if (is.factor(v) || is.character(v)) I(as.character(v)) else I(v))

# One emmeans call: spec is a one-sided formula, args the extra ref_grid arguments (cov.keep, at),
# contrasts a named list of list(method, adjust, ...) applied with contrast().
emm_record <- function(m, label, spec, args = list(), lmer_df = c("satterthwaite", "kenward-roger"),
                       contrasts = list()) {
  rg <- capture(paste(label, "ref_grid"), do.call(ref_grid, c(list(m), args[names(args) != "nesting"])))
  out <- list(
    spec = paste(deparse(spec), collapse = ""),
    cov_keep = if (!is.null(args$cov.keep)) I(args$cov.keep) else NULL,
    nesting = if ("nesting" %in% names(args)) "none" else "auto",
    at = if (!is.null(args$at)) lapply(args$at, I) else NULL,
    call = paste0("emmeans(m, ", paste(deparse(spec), collapse = ""),
                  paste0(vapply(names(args), function(a) paste0(", ", a, " = ", paste(deparse(args[[a]]), collapse = "")), ""),
                         collapse = ""), ", lmer.df = ...)"),
    grid_levels = grid_levels(rg@levels)
  )
  for (ddf in lmer_df) {
    e <- capture(paste(label, "emmeans", ddf), do.call(emmeans, c(list(m, spec), args, list(lmer.df = ddf))))
    key <- if (ddf == "satterthwaite") "satterthwaite" else "kenward_roger"
    res <- list(averaged_over = I(as.character(e@misc$avgd.over)),
                nesting_detected = if (is.null(rg@model.info$nesting)) NULL else lapply(rg@model.info$nesting, I),
                emmeans = emm_rows(e))
    for (cn in names(contrasts)) {
      ca <- contrasts[[cn]]
      res[[cn]] <- contrast_rows(capture(paste(label, cn, ddf), do.call(contrast, c(list(e), ca))))
    }
    out[[key]] <- res
  }
  if (length(contrasts)) out$contrast_calls <- lapply(contrasts, function(ca) paste(deparse(ca), collapse = ""))
  out
}

reset_log()
f2 <- "pain_vas ~ visit_week * group + age_years + (1 | participant_id)"
m2 <- capture("two_visits fit", lmerTest::lmer(as.formula(f2), data = d2, REML = TRUE, control = TIGHT_CONTROL))
pw <- list(pairwise_holm = list(method = "pairwise", adjust = "holm"))
two <- model_record(m2, f2)
two$emmeans <- list(
  group_default = emm_record(m2, "two_visits group", ~ group, contrasts = pw),
  group_cov_keep_0 = emm_record(m2, "two_visits group cov.keep=0", ~ group, list(cov.keep = 0), contrasts = pw),
  week_by_group = emm_record(m2, "two_visits week|group", ~ visit_week | group, contrasts = pw),
  group_at_week = emm_record(m2, "two_visits group at", ~ group, list(at = list(visit_week = c(0, 6, 12))),
                             lmer_df = "satterthwaite")
)
two$warnings <- I(dedupe(.log$warnings))

reset_log()
f3 <- "pain_vas ~ visit_week * group + sex_male + age_years + (1 | participant_id)"
m3 <- capture("three_visits fit", lmerTest::lmer(as.formula(f3), data = d, REML = TRUE, control = TIGHT_CONTROL))
pw_tvc <- list(pairwise_holm = list(method = "pairwise", adjust = "holm"),
               trt_vs_ctrl_bonferroni = list(method = "trt.vs.ctrl", ref = 1, adjust = "bonferroni"))
three <- model_record(m3, f3)
three$emmeans <- list(
  group_default = emm_record(m3, "three group", ~ group, contrasts = pw),
  group_cov_keep_0 = emm_record(m3, "three group cov.keep=0", ~ group, list(cov.keep = 0),
                                lmer_df = "satterthwaite", contrasts = pw),
  group_cov_keep_3 = emm_record(m3, "three group cov.keep=3", ~ group, list(cov.keep = 3), contrasts = pw),
  # age_years kept by name: constant within participants, so emmeans finds it nested in group.
  group_cov_keep_name = emm_record(m3, "three group cov.keep=age", ~ group, list(cov.keep = "age_years"),
                                   lmer_df = "satterthwaite"),
  group_cov_keep_name_no_nesting = emm_record(m3, "three group cov.keep=age nesting=NULL", ~ group,
                                              list(cov.keep = "age_years", nesting = NULL),
                                              lmer_df = "satterthwaite"),
  # ... and with sex_male kept too, nested in group and sex_male, both averaged over.
  week_cov_keep_3_and_name = emm_record(m3, "three week cov.keep=3,age", ~ visit_week,
                                        list(cov.keep = c("3", "age_years")), contrasts = pw),
  group_by_week_at = emm_record(m3, "three group|week at", ~ group | visit_week,
                                list(at = list(visit_week = c(0, 6))), contrasts = pw),
  sex_by_group = emm_record(m3, "three sex|group", ~ sex_male | group, lmer_df = "satterthwaite", contrasts = pw),
  week_by_group_cov_keep_3 = emm_record(m3, "three week|group cov.keep=3", ~ visit_week | group,
                                        list(cov.keep = 3), contrasts = pw_tvc)
)
three$warnings <- I(dedupe(.log$warnings))

res <- c(
  header("emmeans_covariates", TRUE, paste(
    "SIMULATED: 36 participants (20 HIP, 16 KNEE) at weeks 0, 3, 6 with missed visits and dropout;",
    "sex_male 0/1, age_years continuous. emmeans' cov.keep rule for numeric predictors.")),
  list(models = list(two_visits = two, three_visits = three))
)
res$settings$emmeans_lmer_df <- "satterthwaite and kenward-roger (per call)"
res$settings$emmeans_cov_keep_default <- get_emm_option("cov.keep")
res$settings$confint_profile_note <- NULL
path <- file.path(here, "emmeans_covariates.json")
write_json(jsonable(res), path, digits = NA, auto_unbox = TRUE, pretty = TRUE,
           json_verbatim = TRUE, na = "null", null = "null")
for (nm in names(res$models)) {
  r <- res$models[[nm]]
  cat(sprintf("%-14s nobs=%-4d singular=%-5s warnings=%d  %s\n", nm, r$nobs, r$is_singular, length(r$warnings), r$formula))
}

# Reference values for Kenward-Roger (lmerTest 3.1-3 calling pbkrtest 0.5.2; emmeans 1.8.4.1). SIMULATED data.
#
# For each REML model: the unadjusted and the Kenward-Roger adjusted covariance (pbkrtest::vcovAdj),
# lmerTest's summary(m, ddf = "Kenward-Roger") and anova(m, type = 3, ddf = "Kenward-Roger"), and for
# every Type III term lmerTest's hypothesis matrix (lmerTest:::get_contrasts_type3) with pbkrtest's
# KRmodcomp on it (F, its scale, the unscaled F, ddf, p), so that the Python test can use lmerTest's
# L whatever basis hipkit's own Type III matrices are in. emmeans with lmer.df = "kenward-roger"
# where a model has a factor or a time grid to average over. An ML fit records lmerTest's refusal.
#
# Writes kenward_roger.json (not expected.json: these records carry only Kenward-Roger quantities,
# and tests/models/test_kenward_roger.py reads them).
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))
emm_options(pbkrtest.limit = 1e5)

d <- read.csv(file.path(here, "data.csv"), colClasses = c(visit = "character"))
d$group <- factor(d$group, levels = c("HIP", "KNEE"))
cohort <- function(name) {
  x <- d[d$cohort == name, ]
  x$participant_id <- factor(x$participant_id)
  x$visit <- factor(x$visit, levels = as.character(sort(unique(as.numeric(x$visit)))))
  x
}

matrix_rows <- function(L) lapply(seq_len(nrow(L)), function(i) I(unname(L[i, ])))

kr_record <- function(formula, data, label, emm = NULL) {
  reset_log()
  m <- capture(paste(label, "fit"), lmerTest::lmer(as.formula(formula), data = data, REML = TRUE,
                                                   control = TIGHT_CONTROL))
  V <- as.matrix(vcov(m))
  Vadj <- as.matrix(capture(paste(label, "vcovAdj"), pbkrtest::vcovAdj(m)))
  skr <- capture(paste(label, "summary KR"), summary(m, ddf = "Kenward-Roger"))
  ssat <- summary(m, ddf = "Satterthwaite")
  akr <- capture(paste(label, "anova KR"), anova(m, type = 3, ddf = "Kenward-Roger"))
  Ls <- lmerTest:::get_contrasts_type3(m)
  tests <- lapply(names(Ls), function(term) {
    L <- Ls[[term]]
    x <- capture(paste(label, "KRmodcomp", term), pbkrtest::KRmodcomp(m, L))$test
    list(term = term, L_columns = I(colnames(L)), L = matrix_rows(L),
         F = x["Ftest", "stat"], F_unscaled = x["FtestU", "stat"], F_scaling = x["Ftest", "F.scaling"],
         num_df = x["Ftest", "ndf"], den_df = x["Ftest", "ddf"], p_value = x["Ftest", "p.value"])
  })
  rec <- list(
    formula = formula, REML = TRUE, cohort = as.character(data$cohort[1]),
    nobs = nobs(m), ngroups = as.list(ngrps(m)),
    theta = I(unname(getME(m, "theta"))), reml_criterion = REMLcrit(m), sigma = sigma(m),
    is_singular = isSingular(m),
    vcov_terms = I(colnames(V)), vcov = unname(V), vcov_adjusted = unname(Vadj),
    fixed_kenward_roger = coef_rows(coef(skr)), fixed_satterthwaite = coef_rows(coef(ssat)),
    anova_type3_kenward_roger = anova_rows(akr), type3_tests = tests
  )
  if (!is.null(emm)) {
    e <- capture(paste(label, "emmeans KR"),
                 do.call(emmeans, c(list(m), emm, list(lmer.df = "kenward-roger"))))
    rec$emmeans_call <- paste0("emmeans(m, ", deparse(emm[[1]]),
                               if (!is.null(emm$at)) paste0(", at = ", deparse(emm$at)) else "",
                               ", lmer.df = 'kenward-roger')")
    rec$emmeans <- emm_rows(e)
    rec$pairwise_tukey <- contrast_rows(capture(paste(label, "pairs KR"), pairs(e, adjust = "tukey")))
  }
  rec$warnings <- I(dedupe(.log$warnings))
  rec$messages <- I(dedupe(.log$messages))
  rec
}

s16 <- cohort("seed16")
s25 <- cohort("seed25")
sing <- cohort("singular")
irr <- cohort("irregular200")

models <- list(
  seed16_intercept = kr_record("pain_vas ~ visit_week * group + (1 | participant_id)", s16, "seed16_intercept"),
  seed16_factor = kr_record("pain_vas ~ visit * group + (1 | participant_id)", s16, "seed16_factor",
                            emm = list(~ visit | group)),
  seed16_slope = kr_record("pain_vas ~ visit_week * group + (1 + visit_week | participant_id)", s16,
                           "seed16_slope", emm = list(~ group | visit_week, at = list(visit_week = c(0, 6)))),
  seed25_slope = kr_record("pain_vas ~ visit_week * group + (1 + visit_week | participant_id)", s25,
                           "seed25_slope"),
  seed25_uncorrelated = kr_record("pain_vas ~ visit_week * group + (visit_week || participant_id)", s25,
                                  "seed25_uncorrelated"),
  seed25_factor_slope = kr_record("pain_vas ~ visit * group + (1 + visit_week | participant_id)", s25,
                                  "seed25_factor_slope", emm = list(~ visit | group)),
  seed25_covariates = kr_record(
    "pain_vas ~ visit_week * group + hip_abd_strength_n + age_years + (1 + visit_week | participant_id)",
    s25, "seed25_covariates"),
  singular_slope = kr_record("pain_vas ~ visit_week * group + (1 + visit_week | participant_id)", sing,
                             "singular_slope"),
  irregular200_slope = kr_record("pain_vas ~ visit_week * group + (1 + visit_week | participant_id)", irr,
                                 "irregular200_slope",
                                 emm = list(~ group | visit_week, at = list(visit_week = c(0, 12))))
)

# ML: lmerTest refuses Kenward-Roger (pbkrtest::vcovAdj would silently refit by REML).
ml <- lmerTest::lmer(pain_vas ~ visit_week * group + (1 + visit_week | participant_id), data = s25,
                     REML = FALSE, control = TIGHT_CONTROL)
ml_refusal <- tryCatch({
  summary(ml, ddf = "Kenward-Roger")
  NA_character_
}, error = function(e) conditionMessage(e))

res <- c(
  header("kenward_roger", TRUE, paste(
    "SIMULATED: Kenward-Roger references on four cohorts (16 and 25 participants with missing visits",
    "and dropout, a singular fit, 200 participants at irregular times).")),
  list(models = models,
       ml = list(formula = "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)",
                 cohort = "seed25", REML = FALSE, lmerTest_kenward_roger_error = ml_refusal))
)
res$settings$ddf_fixed <- "Kenward-Roger (lmerTest calling pbkrtest)"
res$settings$emmeans_lmer_df <- "kenward-roger"
res$settings$confint_profile_note <- NULL
res$generated_by <- "tests/reference/kenward_roger/fit.R"
path <- file.path(here, "kenward_roger.json")
write_json(jsonable(res), path, digits = NA, auto_unbox = TRUE, pretty = TRUE,
           json_verbatim = TRUE, na = "null", null = "null")
for (nm in names(models)) {
  r <- models[[nm]]
  cat(sprintf("%-22s nobs=%-5d singular=%-5s warnings=%d  %s\n", nm, r$nobs, r$is_singular,
              length(r$warnings), r$formula))
}
cat("ML:", ml_refusal, "\n")

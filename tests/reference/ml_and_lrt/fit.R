# Reference fits: maximum likelihood and a likelihood-ratio test. SIMULATED data (same as random_slope).
#   m1: pain_vas ~ visit_week * group + (1 + visit_week | participant_id)
#   m0: pain_vas ~ visit_week + (1 + visit_week | participant_id)
# Both are recorded fitted with REML = FALSE ("m1_ml", "m0_ml"); the LRT is anova(m0, m1) on the REML
# fits, which anova() refits with ML (refit = TRUE), as users usually call it.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group, levels = c("HIP", "KNEE"))

f1 <- "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"
f0 <- "pain_vas ~ visit_week + (1 + visit_week | participant_id)"
fit1 <- fit_and_record(f1, d, REML = FALSE, label = "m1_ml")
fit0 <- fit_and_record(f0, d, REML = FALSE, label = "m0_ml")

reset_log()
m1_reml <- capture("m1 REML fit", lmerTest::lmer(as.formula(f1), data = d, REML = TRUE, control = TIGHT_CONTROL))
m0_reml <- capture("m0 REML fit", lmerTest::lmer(as.formula(f0), data = d, REML = TRUE, control = TIGHT_CONTROL))
a <- capture("anova", anova(m0_reml, m1_reml))
a_ml <- capture("anova ML fits", anova(fit0$model, fit1$model))
stopifnot(isTRUE(all.equal(a$Chisq, a_ml$Chisq, tolerance = 1e-6)))
rows <- lapply(seq_len(nrow(a)), function(i) list(
  model = c("m0", "m1")[i],
  formula = c(f0, f1)[i],
  npar = a$npar[i],
  AIC = a$AIC[i],
  BIC = a$BIC[i],
  logLik = a$logLik[i],
  deviance = a$deviance[i]
))
lrt <- list(
  call = "anova(m0, m1) with m0, m1 fitted by REML; anova refits both with ML (refit = TRUE)",
  models = rows,
  Chisq = a$Chisq[2],
  Df = a$Df[2],
  p_value = a[["Pr(>Chisq)"]][2],
  warnings = I(.log$warnings),
  messages = I(.log$messages)
)

res <- c(
  header("ml_and_lrt", TRUE,
         "SIMULATED (same data as random_slope): ML fits and likelihood-ratio test for the group terms."),
  list(formula = f1, primary_model = "m1_ml",
       models = list(m1_ml = fit1$record, m0_ml = fit0$record),
       lrt = lrt)
)
write_expected(res, here)
short_summary("ml_and_lrt", res)

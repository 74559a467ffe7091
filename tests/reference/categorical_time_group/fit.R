# Reference fit: categorical time x group with a random intercept, REML. SIMULATED data.
# In R the week is the factor column visit (levels "0", "2", "4", "6"), i.e. factor(visit_week).
# Adds emmeans (Satterthwaite df), pairwise contrasts (Holm, Tukey) and treatment-vs-baseline
# contrasts (Bonferroni), all within group.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"), colClasses = c(visit = "character"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group, levels = c("HIP", "KNEE"))
d$visit <- factor(d$visit, levels = c("0", "2", "4", "6"))

formula <- "pain_vas ~ visit * group + (1 | participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE)
m <- fit$model
rec <- fit$record

reset_log()
emm <- capture("emmeans", emmeans(m, ~ visit | group, lmer.df = "satterthwaite"))
rec$emmeans <- emm_rows(emm)
rec$pairwise_holm <- contrast_rows(capture("pairs holm", pairs(emm, adjust = "holm")))
rec$pairwise_tukey <- contrast_rows(capture("pairs tukey", pairs(emm, adjust = "tukey")))
rec$vs_baseline_bonferroni <- contrast_rows(
  capture("trt.vs.ctrl", contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "bonferroni"))
)
rec$emmeans_calls <- list(
  emmeans = "emm <- emmeans(m, ~ visit | group, lmer.df = 'satterthwaite')",
  pairwise_holm = "pairs(emm, adjust = 'holm')",
  pairwise_tukey = "pairs(emm, adjust = 'tukey')",
  vs_baseline_bonferroni = "contrast(emm, 'trt.vs.ctrl', ref = 1, adjust = 'bonferroni')"
)
rec$warnings <- I(c(rec$warnings, .log$warnings))
rec$messages <- I(c(rec$messages, .log$messages))

res <- c(
  header("categorical_time_group", TRUE,
         "SIMULATED: 60 participants (30 HIP, 30 KNEE) x 4 visits; visit as a factor, random intercept."),
  list(formula = formula,
       formula_equivalent = "pain_vas ~ factor(visit_week) * group + (1 | participant_id)",
       factor_levels = list(visit = I(levels(d$visit)), group = I(levels(d$group))),
       primary_model = "main", models = list(main = rec))
)
write_expected(res, here)
short_summary("categorical_time_group", res)

# Reference fit: uncorrelated random intercept and slope (double-bar syntax), REML. SIMULATED data.
# lme4 expands (visit_week || participant_id) into (1 | participant_id) + (0 + visit_week | participant_id);
# VarCorr then names the second block "participant_id.1" (see "group" vs "factor" in expected.json).
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)

formula <- "pain_vas ~ visit_week + (visit_week || participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE)

res <- c(
  header("uncorrelated_slope", TRUE,
         "SIMULATED: 50 participants x 4 visits; independent random intercept and slope."),
  list(formula = formula,
       formula_expanded = "pain_vas ~ visit_week + (1 | participant_id) + (0 + visit_week | participant_id)",
       primary_model = "main", models = list(main = fit$record))
)
write_expected(res, here)
short_summary("uncorrelated_slope", res)

# Reference fit: random intercept, pain_vas ~ visit_week + (1 | participant_id), REML. SIMULATED data.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)

formula <- "pain_vas ~ visit_week + (1 | participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE)

res <- c(
  header("random_intercept", TRUE,
         "SIMULATED: 40 participants x 4 visits (weeks 0, 2, 4, 6); random intercept only."),
  list(formula = formula, primary_model = "main", models = list(main = fit$record))
)
write_expected(res, here)
short_summary("random_intercept", res)

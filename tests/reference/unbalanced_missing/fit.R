# Reference fit: correlated random intercept and slope on unbalanced data (1-4 visits per participant,
# dropouts and random missing visits), REML. SIMULATED data.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)

formula <- "pain_vas ~ visit_week + (1 + visit_week | participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE)
counts <- table(table(d$participant_id))

res <- c(
  header("unbalanced_missing", TRUE,
         "SIMULATED: 45 participants, 1-4 visits each (dropouts + ~20% rows missing at random)."),
  list(formula = formula, primary_model = "main",
       visits_per_participant = as.list(setNames(as.integer(counts), names(counts))),
       models = list(main = fit$record))
)
write_expected(res, here)
short_summary("unbalanced_missing", res)

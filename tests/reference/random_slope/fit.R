# Reference fit: correlated random intercept and slope with a group x time interaction, REML.
# SIMULATED data.  Adds emmeans of group at weeks 0, 2, 4, 6.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)
d$group <- factor(d$group, levels = c("HIP", "KNEE"))

formula <- "pain_vas ~ visit_week * group + (1 + visit_week | participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE)
m <- fit$model
rec <- fit$record

reset_log()
emm <- capture("emmeans_at", emmeans(m, ~ group | visit_week, at = list(visit_week = c(0, 2, 4, 6)),
                                     lmer.df = "satterthwaite"))
rec$emmeans_at <- emm_rows(emm)
rec$emmeans_call <- paste("emmeans(m, ~ group | visit_week, at = list(visit_week = c(0, 2, 4, 6)),",
                          "lmer.df = 'satterthwaite')")
rec$warnings <- I(c(rec$warnings, .log$warnings))
rec$messages <- I(c(rec$messages, .log$messages))

res <- c(
  header("random_slope", TRUE,
         "SIMULATED: 60 participants (30 HIP, 30 KNEE) x 4 visits; correlated random intercept and slope."),
  list(formula = formula, primary_model = "main", models = list(main = rec))
)
write_expected(res, here)
short_summary("random_slope", res)

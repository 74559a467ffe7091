# Reference fits: time-varying covariate (hip-abductor strength), REML. SIMULATED data.
#   main:     pain_vas ~ visit_week + hip_abd_strength_n + (1 + visit_week | participant_id)
#   centred:  pain_vas ~ visit_week + strength_between + strength_within + (1 | participant_id)
# strength_between / strength_within (person-mean centring) are computed in make_data.py.
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  dirname(normalizePath(sub("^--file=", "", a[grep("^--file=", a)])))
})
source(file.path(here, "..", "_common.R"))

d <- read.csv(file.path(here, "data.csv"))
d$participant_id <- factor(d$participant_id)

formula <- "pain_vas ~ visit_week + hip_abd_strength_n + (1 + visit_week | participant_id)"
formula_centred <- "pain_vas ~ visit_week + strength_between + strength_within + (1 | participant_id)"
fit <- fit_and_record(formula, d, REML = TRUE, label = "main")
fit_c <- fit_and_record(formula_centred, d, REML = TRUE, label = "centred")

res <- c(
  header("time_varying_covariate", TRUE,
         paste("SIMULATED: 50 participants x 4 visits; strength (N) varies within person and is linked",
               "to pain within person (-0.05 cm/N) more strongly than between persons (-0.015 cm/N).")),
  list(formula = formula, primary_model = "main",
       models = list(main = fit$record, centred = fit_c$record))
)
write_expected(res, here)
short_summary("time_varying_covariate", res)
